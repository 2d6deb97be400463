//! `rp login --response-type`: the implicit and hybrid flows (OIDC Core §3.2, §3.3) from the
//! command line against the bundled provider, headless and through the loopback listener's
//! fragment relay (what a browser does with a response in the fragment).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rp_tests::*;

const HYBRID: (&str, &str) = ("rp-hybrid", "rp-hybrid-secret");

#[tokio::test(flavor = "multi_thread")]
async fn every_response_type_headless_in_the_fragment_and_in_a_form_post() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    for kind in [
        "id_token",
        "id_token token",
        "code id_token",
        "code token",
        "code id_token token",
    ] {
        for form_post in [false, true] {
            let mut cmd = rp_login(dir.path(), op.issuer(), HYBRID);
            cmd.args(["--response-type", kind, "--no-cache"]).args([
                "--username",
                "alice",
                "--password",
                "wonderland",
                "--json",
            ]);
            if form_post {
                cmd.arg("--form-post");
            }
            let out = output_ok(cmd).await;
            let v = json(&out);
            all_checks_passed(&v);
            assert_eq!(v["subject"], "248289761001", "{kind}");
            let has = |id: &str| {
                v["checks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["id"] == id && c["passed"] == true)
            };
            if kind.contains("code") && kind.contains("id_token") {
                assert!(has("c_hash"), "{kind}: {v}");
            }
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                stderr.contains("implicit flow"),
                !kind.contains("code"),
                "the implicit types are warned about: {stderr}"
            );
        }
    }
}

/// With a browser, the fragment never reaches the listener: a bare GET of the callback gets
/// a page that posts the fragment back, and the post completes the login.
#[tokio::test(flavor = "multi_thread")]
async fn the_listener_relays_a_fragment_response() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp_login(dir.path(), op.issuer(), HYBRID);
    cmd.args(["--response-type", "code id_token", "--no-cache"])
        .args(["--no-browser", "--timeout", "60", "--json"]);
    let mut rp = Watched::spawn(cmd);
    let url = url::Url::parse(&rp.line(|l| l.starts_with("http://")).await).unwrap();
    let redirect = query_param(&url, "redirect_uri");
    let http = oidc_rp::HttpClient::new(oidc_rp::HttpConfig::default());
    let arrival = oidc_rp_headless::walk(
        &oidc_rp_headless::Browser::new(&http).unwrap(),
        &url,
        &redirect,
        Some(&oidc_rp_headless::Credentials {
            username: "alice".into(),
            password: "wonderland".into(),
        }),
    )
    .await
    .unwrap();
    let fragment = arrival.url.fragment().unwrap().to_string();
    assert!(fragment.contains("id_token=") && fragment.contains("code="));
    let client = reqwest::Client::new();
    let page = client
        .get(&redirect)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("location.hash"), "{page}");
    let posted = client
        .post(&redirect)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(fragment)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    let (code, stdout, stderr) = rp.finish().await;
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    all_checks_passed(&v);
}
