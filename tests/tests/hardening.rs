//! Defects found by a security review, a hostile provider and two more real providers, each
//! end to end over loopback: the bad case is sent and seen refused (or survived).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rp_provider::conformance::{CLIENT_ID, CLIENT_SECRET};
use rp_tests::*;

async fn conformance_provider() -> rp_provider::RunningProvider {
    rp_provider::start(rp_provider::ProviderConfig {
        conformance: true,
        ..Default::default()
    })
    .await
    .expect("start provider")
}

/// RFC 6749 §6, RFC 9700 §4.14.2: a refresh whose new ID token fails validation has already
/// rotated the refresh token. rp must keep the new one; sending the spent one again makes a
/// provider that detects reuse revoke the whole grant.
#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_refresh_token_survives_a_refused_refresh() {
    let op = conformance_provider().await;
    let issuer = format!(
        "{}/oidcc-client-test-refresh-token-invalid-sub",
        op.issuer()
    );
    let dir = tempfile::tempdir().unwrap();
    let mut login = rp_login(dir.path(), &issuer, (CLIENT_ID, CLIENT_SECRET));
    login.args([
        "--headless",
        "--scope",
        "openid offline_access",
        "--profile",
        "p",
        "--no-userinfo",
    ]);
    output_ok(login).await;
    for attempt in 1..=3 {
        let (code, stderr) = run_failing(dir.path(), &["refresh", "--profile", "p"]).await;
        assert_eq!(
            code, 5,
            "attempt {attempt}: the sub check fails, not the grant: {stderr}"
        );
        assert!(stderr.contains("refresh consistency"), "{stderr}");
        assert!(
            stderr.contains("new refresh token is saved"),
            "attempt {attempt}: {stderr}"
        );
        assert!(!stderr.contains("already used"), "{stderr}");
    }
}

/// django-oauth-toolkit names its introspection, revocation and registration endpoints only in
/// its RFC 8414 document; rp reads it when the OpenID document lacks an endpoint. A provider
/// with neither is not a usage error: exit 10, naming what is missing.
#[tokio::test(flavor = "multi_thread")]
async fn endpoints_only_in_the_rfc8414_document_are_found() {
    let json = "application/json";
    let split = StaticServer::start(vec![
        (
            "/.well-known/openid-configuration",
            (200, json, openid_configuration(serde_json::json!({}))),
        ),
        (
            "/.well-known/oauth-authorization-server",
            (
                200,
                json,
                serde_json::json!({
                    "issuer": "{base}",
                    "introspection_endpoint": "{base}/o/introspect",
                    "revocation_endpoint": "{base}/o/revoke",
                })
                .to_string(),
            ),
        ),
        (
            "/o/introspect",
            (200, json, r#"{"active":true,"scope":"openid"}"#.into()),
        ),
        ("/o/revoke", (200, json, "{}".into())),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let client = ["--client-id", "c", "--client-secret", "s", "--token", "t"];
    let v = run_json(
        dir.path(),
        &[&["introspect", "--issuer", &split.base][..], &client[..]].concat(),
    )
    .await;
    assert_eq!(v["introspection"]["active"], true, "{v}");
    assert_eq!(split.hits("/o/introspect"), 1);
    let mut revoke = rp(dir.path());
    revoke
        .args(["revoke", "--issuer", &split.base])
        .args(client);
    output_ok(revoke).await;
    assert_eq!(split.hits("/o/revoke"), 1);

    let bare = StaticServer::start(vec![(
        "/.well-known/openid-configuration",
        (200, json, openid_configuration(serde_json::json!({}))),
    )])
    .await;
    let (code, stderr) = run_failing(
        dir.path(),
        &[&["introspect", "--issuer", &bare.base][..], &client[..]].concat(),
    )
    .await;
    assert_eq!(code, 10, "{stderr}");
    assert!(
        stderr.contains("does not offer token introspection")
            && stderr.contains("no introspection_endpoint in its OpenID or RFC 8414 metadata"),
        "{stderr}"
    );
}

/// A provider whose pages are served by a [`StaticServer`]: discovery plus `pages`.
async fn provider_with_pages(pages: Vec<(&str, Answer)>) -> StaticServer {
    let mut routes = vec![(
        "/.well-known/openid-configuration",
        (
            200,
            "application/json",
            openid_configuration(serde_json::json!({})),
        ),
    )];
    routes.extend(pages);
    StaticServer::start(routes).await
}

fn headless_login(dir: &std::path::Path, issuer: &str) -> std::process::Command {
    let mut cmd = rp(dir);
    cmd.args(["login", "--issuer", issuer, "--client-id", "app"])
        .args([
            "--username",
            "alice",
            "--password",
            "wrong",
            "--timeout",
            "20",
        ]);
    cmd
}

/// The wrong password gave exit 7 on one provider and 4 on another: a login form that comes
/// back, whatever the status, is a refused login.
#[tokio::test(flavor = "multi_thread")]
async fn a_login_form_that_comes_back_with_an_error_status_is_a_refused_login() {
    let form = r#"<form method="post" action="/login"><input name="username"><input type="password" name="password"><button>Sign in</button></form>"#;
    let op = provider_with_pages(vec![
        ("/authorize", (200, "text/html", form.to_string())),
        (
            "/login",
            (
                401,
                "text/html",
                format!(r#"<div role="alert">Wrong credentials, try again.</div>{form}"#),
            ),
        ),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = failure(&output(headless_login(dir.path(), &op.base)).await);
    assert_eq!(code, 7, "{stderr}");
    assert!(
        stderr.contains("login failed") && stderr.contains("Wrong credentials, try again."),
        "{stderr}"
    );
}

/// oidc-provider's default error page puts the reason in `<pre>`, django-oauth-toolkit in
/// `<h2>`/`<p>`: rp quotes it, and for a refused redirect URI names the exact URI it sent and
/// how to change it.
#[tokio::test(flavor = "multi_thread")]
async fn error_pages_give_their_reason_and_a_refused_redirect_uri_is_named() {
    let oidc_provider = r#"<!DOCTYPE html><html><head><title>oops! something went wrong</title></head><body><div class="container"><h1>oops! something went wrong</h1><pre><strong>error</strong>: invalid_redirect_uri</pre><pre><strong>error_description</strong>: redirect_uri did not match any of the client's registered redirect_uris</pre></div></body></html>"#;
    let django = r#"<html><body><h2>Error: invalid_request</h2><p>Mismatching redirect URI.</p></body></html>"#;
    let other = r#"<html><head><title>Error</title></head><body><h1>Bad Request</h1><p>Unknown client app.</p></body></html>"#;
    for (page, status, expect) in [
        (oidc_provider, 400, "invalid_redirect_uri"),
        (django, 400, "Mismatching redirect URI."),
        (other, 400, "Unknown client app."),
    ] {
        let op =
            provider_with_pages(vec![("/authorize", (status, "text/html", page.into()))]).await;
        let dir = tempfile::tempdir().unwrap();
        let (code, stderr) = failure(&output(headless_login(dir.path(), &op.base)).await);
        assert_eq!(code, 4, "{stderr}");
        assert!(stderr.contains(expect), "{expect}: {stderr}");
        assert!(!stderr.contains("HTTP 400: Error\n"), "{stderr}");
        if expect != "Unknown client app." {
            assert!(
                stderr.contains("refused the redirect URI `http://127.0.0.1:")
                    && stderr.contains("/callback`")
                    && stderr.contains("--port"),
                "{stderr}"
            );
        }
    }
}

/// Headless, rp follows the provider's redirect itself: when it comes back with another
/// `state`, that is the answer, and the login fails at once on the state check (exit 5)
/// instead of waiting out the callback timeout.
#[tokio::test(flavor = "multi_thread")]
async fn headless_login_fails_at_once_on_a_wrong_state() {
    let op = StaticServer::start_fn(|_, url| {
        if url.path() == "/.well-known/openid-configuration" {
            return Some(Reply {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: openid_configuration(serde_json::json!({})),
            });
        }
        if url.path() != "/authorize" {
            return None;
        }
        let redirect = url
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .map(|(_, v)| v.into_owned())?;
        Some(Reply {
            status: 303,
            headers: vec![(
                "location".into(),
                format!("{redirect}?code=c&state=not-the-one-sent"),
            )],
            body: String::new(),
        })
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp(dir.path());
    cmd.args(["login", "--issuer", &op.base, "--client-id", "app"])
        .args(["--username", "alice", "--password", "x", "--timeout", "300"]);
    let started = std::time::Instant::now();
    let (code, stderr) = failure(&output(cmd).await);
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("rejected by the state check"), "{stderr}");
    // Not a timing test: the 300 s callback timeout must simply not be what ended it.
    assert!(started.elapsed() < std::time::Duration::from_secs(120));
}

/// A client that registered another post-logout redirect (idpy-oidc's `/logged-out`, a fixed
/// port) can be logged out: `--post-logout-redirect-uri` sets host, port and path, sent
/// exactly as given; an unregistered one is refused by the provider and rp names it.
#[tokio::test(flavor = "multi_thread")]
async fn rp_logout_sends_the_registered_post_logout_redirect_uri() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let login = || {
        let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
        cmd.args(["--username", "alice", "--password", "wonderland"])
            .args(["--profile", "p", "--cookie-jar"])
            .arg(dir.path().join("jar.json"));
        cmd
    };
    output_ok(login()).await;
    let logout = |uri: &str| {
        let mut cmd = rp(dir.path());
        cmd.args(["logout", "--profile", "p", "--headless", "--timeout", "30"])
            .args(["--post-logout-redirect-uri", uri, "--cookie-jar"])
            .arg(dir.path().join("jar.json"));
        cmd
    };
    let (code, stderr) = failure(&output(logout("http://127.0.0.1/logged-out")).await);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("refused the redirect URI `http://127.0.0.1:")
            && stderr.contains("/logged-out`")
            && stderr.contains("--post-logout-redirect-uri"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("headless login") && !stderr.contains("the login"),
        "logout speaks of logout: {stderr}"
    );

    let port = free_port();
    let fixed = format!("http://127.0.0.1:{port}/logout");
    let out = output_ok(logout(&fixed)).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Logged out of"), "{stdout}");

    let (code, stderr) = run_failing(
        dir.path(),
        &[
            "logout",
            "--profile",
            "p",
            "--post-logout-redirect-uri",
            "https://evil.example/x",
        ],
    )
    .await;
    assert_eq!(code, 2, "{stderr}");
}

/// The clock leeway is settable (`--clock-skew`) and named in every time check.
#[tokio::test(flavor = "multi_thread")]
async fn the_clock_skew_is_settable_and_shown() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    for (skew, expect) in [(None, "60 s clock leeway"), (Some("5"), "5 s clock leeway")] {
        let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
        cmd.args(["--username", "alice", "--password", "wonderland"])
            .args(["--max-age", "300", "--no-cache", "--json"]);
        if let Some(s) = skew {
            cmd.args(["--clock-skew", s]);
        }
        let v = output_json(cmd).await;
        for name in ["exp", "iat", "nbf", "auth_time"] {
            let check = v["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == name)
                .unwrap_or_else(|| panic!("no {name} check in {v}"));
            let detail = check["detail"].as_str().unwrap();
            if name != "nbf" {
                assert!(detail.contains(expect), "{name}: {detail}");
            }
        }
    }
}

/// Provider-controlled text never reaches the terminal with its control characters: a `name`
/// that clears the screen, retitles the window and prints a fake success line is shown with
/// visible escapes in human output, and exactly in `--json`.
#[tokio::test(flavor = "multi_thread")]
async fn provider_text_cannot_drive_the_terminal() {
    let hostile = "\u{1b}[2J\u{1b}]0;pwned\u{7}\rLogged in to https://bank.example as root: every check passed.\n  \u{2713} admin \u{202e}exe.txt";
    let mut fixtures = rp_provider::Fixtures::embedded();
    fixtures.users[0]
        .claims
        .insert("name".into(), serde_json::json!(hostile));
    fixtures.users[0]
        .claims
        .insert("nickname".into(), serde_json::json!("\u{9b}31mred"));
    let op = rp_provider::start(rp_provider::ProviderConfig {
        fixtures,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let login = || {
        let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
        cmd.args([
            "--username",
            "alice",
            "--password",
            "wonderland",
            "--no-cache",
        ]);
        cmd
    };
    let out = output_ok(login()).await;
    let text = String::from_utf8(out.stdout).unwrap();
    let bad = text
        .chars()
        .find(|c| (c.is_control() && *c != '\n') || *c == '\u{202e}');
    assert_eq!(
        bad, None,
        "a control character reached the terminal: {text}"
    );
    assert!(text.contains("\\x1b[2J\\x1b]0;pwned\\x07\\x0d"), "{text}");
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("Logged in to https://bank.example")),
        "a provider value started a line of its own: {text}"
    );
    assert!(text.contains("\\x9b31mred"), "{text}");

    let mut json = login();
    json.arg("--json");
    let v = output_json(json).await;
    assert_eq!(v["userinfo"]["name"], hostile, "--json stays exact");
}

/// The lock file is never opened through a symlink (another user, or a process, could point
/// it at a file of the victim's).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn the_profile_lock_is_never_opened_through_a_symlink() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut login = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    login.args([
        "--username",
        "alice",
        "--password",
        "wonderland",
        "--profile",
        "a",
    ]);
    output_ok(login).await;
    let profiles = dir.path().join("profiles");
    let file = std::fs::read_dir(&profiles)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    // A symlink planted where the lock file goes.
    let lock = file.with_extension("lock");
    let _ = std::fs::remove_file(&lock);
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "untouched").unwrap();
    std::os::unix::fs::symlink(&victim, &lock).unwrap();
    let (code, stderr) = run_failing(dir.path(), &["refresh", "--profile", "a"]).await;
    assert_eq!(code, 8, "{stderr}");
    assert!(stderr.contains("symlink"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
}

/// The bundled provider requires PKCE S256 of every client, confidential ones included
/// (RFC 9700 §2.1.1), as the README promises.
#[tokio::test(flavor = "multi_thread")]
async fn the_provider_requires_pkce_of_confidential_clients() {
    let op = provider().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/authorize", op.issuer()))
        .query(&[
            ("client_id", "rp-demo"),
            ("redirect_uri", "http://127.0.0.1:5555/callback"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.contains("error=invalid_request") && location.contains("PKCE"),
        "{location}"
    );
}

/// Brakes on guessing: ten wrong client secrets in a minute, then 429 with Retry-After, for
/// the right secret too; the same for a user's password.
#[tokio::test(flavor = "multi_thread")]
async fn the_provider_slows_down_guessing() {
    let op = provider().await;
    let client = reqwest::Client::new();
    let token = |secret: &'static str| {
        client
            .post(format!("{}/token", op.issuer()))
            .basic_auth("rp-demo", Some(secret))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
            .send()
    };
    for _ in 0..10 {
        assert_eq!(token("guess").await.unwrap().status(), 401);
    }
    let r = token("guess").await.unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let r = token("rp-demo-secret").await.unwrap();
    assert_eq!(r.status(), 429, "the right secret waits too");

    let dir = tempfile::tempdir().unwrap();
    // rp-demo's secret is throttled now; log in with the public client instead.
    let login = |password: &str| {
        let mut cmd = rp(dir.path());
        cmd.args(["login", "--issuer", op.issuer(), "--client-id", "rp-public"])
            .args(["--username", "bob", "--password", password, "--no-cache"]);
        cmd
    };
    for _ in 0..10 {
        let (code, stderr) = failure(&output(login("wrong")).await);
        assert_eq!(code, 7, "{stderr}");
    }
    let (code, stderr) = failure(&output(login("builder")).await);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("Too many failed sign-ins"), "{stderr}");
}

/// Registration cannot make the provider reach arbitrary addresses: back-channel logout URIs
/// and jwks_uri must be loopback on an unprivileged port unless the operator allows more.
#[tokio::test(flavor = "multi_thread")]
async fn registration_restricts_where_the_provider_sends_requests() {
    let op = provider().await;
    let client = reqwest::Client::new();
    let register = |extra: serde_json::Value| {
        let mut meta = serde_json::json!({
            "redirect_uris": ["http://127.0.0.1/callback"],
            "application_type": "native",
        });
        for (k, v) in extra.as_object().unwrap() {
            meta[k] = v.clone();
        }
        client
            .post(format!("{}/register", op.issuer()))
            .header("content-type", "application/json")
            .body(meta.to_string())
            .send()
    };
    for (name, uri) in [
        ("backchannel_logout_uri", "http://127.0.0.1:22/x"),
        ("backchannel_logout_uri", "https://10.0.0.1/x"),
        ("backchannel_logout_uri", "https://169.254.169.254/latest"),
        ("jwks_uri", "https://10.0.0.1/jwks"),
    ] {
        let r = register(serde_json::json!({ name: uri })).await.unwrap();
        assert_eq!(r.status(), 400, "{name} {uri}");
        let body: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        assert_eq!(body["error"], "invalid_client_metadata", "{body}");
        assert!(
            body["error_description"].as_str().unwrap().contains(uri),
            "{body}"
        );
    }
    let r = register(serde_json::json!({"backchannel_logout_uri": "http://127.0.0.1:45678/bc"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

/// A hostile login page cannot stall or bloat a headless login: a 4 MiB page is refused at
/// the response size cap (1 MiB), with a message naming the URL and the cap, exit 4.
#[tokio::test(flavor = "multi_thread")]
async fn a_login_page_over_the_size_cap_is_refused() {
    let huge = format!(
        "<html><body>{}</body></html>",
        "<form><button>x</button></form>".repeat(4 * 1024 * 1024 / 32)
    );
    let op = provider_with_pages(vec![("/authorize", (200, "text/html", huge))]).await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = failure(&output(headless_login(dir.path(), &op.base)).await);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("/authorize") && stderr.contains("1048576"),
        "{stderr}"
    );
}

/// Logout speaks of logout: its listener timeout asks to finish the logout, not the login.
#[tokio::test(flavor = "multi_thread")]
async fn logout_messages_speak_of_logout() {
    let op = rp_provider::start(rp_provider::ProviderConfig::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut login = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    login.args(["--username", "alice", "--password", "wonderland"]);
    output_ok(login).await;
    // Nobody follows the printed end-session URL: the wait times out after 1 s.
    let (code, stderr) =
        run_failing(dir.path(), &["logout", "--no-browser", "--timeout", "1"]).await;
    assert_eq!(code, 6, "{stderr}");
    assert!(
        stderr.contains("finish the logout in the browser sooner"),
        "{stderr}"
    );
    assert!(!stderr.contains("login"), "{stderr}");
}
