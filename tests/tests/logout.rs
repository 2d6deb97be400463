//! Logout end to end: RP-initiated logout, back-channel logout to another profile of the same
//! provider session, the front-channel iframe page, logout token rejections, post-logout state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rp_tests::*;
use serde_json::{Value, json};
use std::path::Path;

async fn login(
    op: &rp_provider::RunningProvider,
    cache: &Path,
    jar: &Path,
    profile: &str,
    listener: bool,
) -> Value {
    let mut cmd = rp(cache);
    cmd.args([
        "login",
        "--issuer",
        op.issuer(),
        "--register",
        "--username",
        "alice",
        "--password",
        "wonderland",
    ])
    .args(["--profile", profile, "--json"])
    .arg("--cookie-jar")
    .arg(jar);
    if listener {
        cmd.arg("--logout-listener");
    }
    output_json(cmd).await
}

fn profile(cache: &Path, name: &str) -> Option<Value> {
    std::fs::read_dir(cache.join("profiles"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| serde_json::from_slice::<Value>(&std::fs::read(p).unwrap()).ok())
        .find(|v| v["name"] == name)
}

#[tokio::test(flavor = "multi_thread")]
async fn rp_logout_ends_the_session_and_back_channel_reaches_the_other_client() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let (c, jar) = (dir.path(), dir.path().join("jar.json"));
    let a = login(&op, c, &jar, "a", false).await;
    let b = login(&op, c, &jar, "b", true).await;
    // One provider session: both ID tokens carry the same sid.
    assert_eq!(a["id_token_claims"]["sid"], b["id_token_claims"]["sid"]);
    let b_client = b["client_id"].as_str().unwrap().to_string();

    let listener = listen_logout_once(c, "b").await;

    let mut cmd = rp(c);
    cmd.args([
        "logout",
        "--profile",
        "a",
        "--headless",
        "--timeout",
        "30",
        "--json",
    ]);
    let v = output_json(cmd).await;
    assert_eq!(v["cache_deleted"], true);
    all_checks_passed(&v);
    assert!(profile(c, "a").is_none(), "a's tokens are deleted");

    // b's listener received a valid logout token, answered 200 and dropped b's tokens.
    let (code, stdout, stderr) = listener.finish().await;
    assert_eq!(code, 0, "{stderr}");
    let event: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(event["channel"], "back");
    assert_eq!(event["accepted"], true);
    assert_eq!(event["dropped"], true);
    assert_eq!(event["sid"], b["id_token_claims"]["sid"]);
    assert!(profile(c, "b").is_none(), "b's tokens are dropped");
    let deliveries = op.op().deliveries();
    assert!(
        deliveries
            .iter()
            .any(|d| d.client_id == b_client && d.status == Some(200)),
        "{deliveries:?}"
    );

    // The session is over: a new authorization needs the login form again.
    let mut cmd = rp(c);
    cmd.args([
        "login",
        "--issuer",
        op.issuer(),
        "--client-id",
        "rp-demo",
        "--client-secret",
        "rp-demo-secret",
        "--prompt",
        "none",
        "--headless",
    ])
    .arg("--cookie-jar")
    .arg(&jar);
    let (code, stderr) = failure(&output(cmd).await);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("login_required"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_front_channel_page_lists_the_registered_iframe() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let (c, jar) = (dir.path(), dir.path().join("jar.json"));
    let with_fc = login(&op, c, &jar, "fc", true).await;
    let plain = login(&op, c, &jar, "plain", false).await;
    let sid = with_fc["id_token_claims"]["sid"]
        .as_str()
        .unwrap()
        .to_string();
    let fc_port = profile(c, "fc").unwrap()["logout_listener_port"]
        .as_u64()
        .unwrap();

    // End the session with plain's ID token; look at the page before following it.
    let hint = plain["token_response"]["id_token"].as_str().unwrap();
    let url = format!("{}/end_session?id_token_hint={hint}", op.issuer());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let expected = format!(
        "http://127.0.0.1:{fc_port}/frontchannel-logout?iss={}&amp;sid={sid}",
        url::form_urlencoded::byte_serialize(op.issuer().as_bytes()).collect::<String>()
    );
    assert!(html.contains("<iframe"), "{html}");
    assert!(html.contains(&expected), "{expected} not in {html}");
    assert_eq!(
        html.matches("<iframe").count(),
        1,
        "only the client that registered one"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_tokens_are_validated_by_the_listener() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let (c, jar) = (dir.path(), dir.path().join("jar.json"));
    let b = login(&op, c, &jar, "b", true).await;
    let client_id = b["client_id"].as_str().unwrap().to_string();
    let sid = b["id_token_claims"]["sid"].as_str().unwrap().to_string();
    let sub = b["id_token_claims"]["sub"].as_str().unwrap().to_string();
    let port = profile(c, "b").unwrap()["logout_listener_port"]
        .as_u64()
        .unwrap();

    let mut cmd = rp(c);
    cmd.args([
        "listen-logout",
        "--profile",
        "b",
        "--once",
        "--timeout",
        "30",
    ]);
    let mut listener = Watched::spawn(cmd);
    listener
        .line(|l| l.contains("listening for logout requests"))
        .await;

    let keys = op.op().keys();
    let now = oidc_rp::time::unix_now();
    let event = json!({ "http://schemas.openid.net/event/backchannel-logout": {} });
    let claims = |f: &dyn Fn(&mut Value)| {
        let mut c = json!({
            "iss": op.issuer(), "aud": client_id, "iat": now, "exp": now + 120,
            "jti": format!("jti-{}", rand_suffix()), "events": event, "sid": "another-session", "sub": sub,
        });
        f(&mut c);
        c
    };
    let rs256 = |c: &Value| keys.sign_typed("RS256", "logout+jwt", c).unwrap();
    let none = |c: &Value| keys.sign("none", c, None).unwrap();
    let es256 = |c: &Value| keys.sign_typed("ES256", "logout+jwt", c).unwrap();
    let post = |token: String| {
        let client = reqwest::Client::new();
        async move {
            let r = client
                .post(format!("http://127.0.0.1:{port}/backchannel-logout"))
                .form(&[("logout_token", token)])
                .send()
                .await
                .unwrap();
            assert_eq!(r.headers()["cache-control"], "no-cache, no-store");
            let status = r.status().as_u16();
            (
                status,
                serde_json::from_str::<Value>(&r.text().await.unwrap()).unwrap(),
            )
        }
    };
    let cases: Vec<(&str, String, &str)> = vec![
        ("alg none", none(&claims(&|_| {})), "alg"),
        (
            "no events",
            rs256(&claims(&|c| {
                c.as_object_mut().unwrap().remove("events");
            })),
            "events is missing",
        ),
        (
            "wrong event",
            rs256(&claims(&|c| {
                c["events"] = json!({"http://schemas.openid.net/event/foobar": {}})
            })),
            "events must hold exactly",
        ),
        (
            "nonce",
            rs256(&claims(&|c| {
                c["nonce"] = json!("logout_tokens_must_not_contain_a_nonce")
            })),
            "must not contain a nonce",
        ),
        ("wrong alg", es256(&claims(&|_| {})), "alg is `ES256`"),
        (
            "wrong aud",
            rs256(&claims(&|c| {
                c["aud"] = json!(format!("{client_id}INVALID"))
            })),
            "aud does not name this client",
        ),
        (
            "wrong iss",
            rs256(&claims(&|c| {
                c["iss"] = json!(format!("{}INVALID", op.issuer()))
            })),
            "iss is",
        ),
        (
            "neither sid nor sub",
            rs256(&claims(&|c| {
                let o = c.as_object_mut().unwrap();
                o.remove("sid");
                o.remove("sub");
            })),
            "neither sid nor sub",
        ),
        (
            "foreign typ",
            keys.sign_typed("RS256", "JWT", &claims(&|_| {})).unwrap(),
            "typ is `JWT`",
        ),
    ];
    for (name, token, reason) in cases {
        let (status, body) = post(token).await;
        assert_eq!(status, 400, "{name}: {body}");
        let description = body["error_description"].as_str().unwrap();
        assert!(description.contains(reason), "{name}: {description}");
    }
    // A valid token for another session: 200, nothing dropped; replayed: 400.
    let other = rs256(&claims(&|_| {}));
    assert_eq!(post(other.clone()).await.0, 200);
    let (status, body) = post(other).await;
    assert_eq!(status, 400);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("seen before"),
        "{body}"
    );
    assert!(profile(c, "b").is_some(), "nothing dropped yet");

    // The real one: 200, and b's tokens are dropped.
    let real = rs256(&claims(&|c| c["sid"] = json!(sid)));
    assert_eq!(post(real).await.0, 200);
    let (code, stdout, stderr) = listener.finish().await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.matches("rejected (400)").count(), 10, "{stdout}");
    assert!(stdout.contains("dropped the cached tokens"), "{stdout}");
    assert!(profile(c, "b").is_none());
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_logout_redirect_with_another_or_no_state_is_an_error() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let (c, jar) = (dir.path(), dir.path().join("jar.json"));
    login(&op, c, &jar, "a", false).await;
    for (query, expected) in [("state=forged", "another state"), ("", "no state")] {
        let mut cmd = rp(c);
        cmd.args([
            "logout",
            "--profile",
            "a",
            "--no-browser",
            "--timeout",
            "30",
        ]);
        let mut run = Watched::spawn(cmd);
        let url = url::Url::parse(&run.line(|l| l.starts_with("http://")).await).unwrap();
        let back = query_param(&url, "post_logout_redirect_uri");
        let r = reqwest::get(format!("{back}?{query}")).await.unwrap();
        assert_eq!(r.status(), 400);
        let (code, _, stderr) = run.finish().await;
        assert_eq!(code, 5, "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(
            profile(c, "a").is_some(),
            "an unconfirmed logout keeps the cached tokens"
        );
    }
}
