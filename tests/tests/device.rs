//! `rp login --device` (RFC 8628) end to end over loopback: the code shown, the approval on
//! the bundled provider's verification page (by rp itself with --username, or by another
//! "device" here), a denial, and the tokens cached for `rp token`.
#![allow(clippy::unwrap_used)]

use rp_tests::*;
use std::time::Duration;

async fn provider_polling_fast() -> rp_provider::RunningProvider {
    rp_provider::start(rp_provider::ProviderConfig {
        device_interval: 0,
        ..Default::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_login_approved_by_rp_is_cached_and_gives_tokens() {
    let op = provider_polling_fast().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    cmd.args([
        "--device",
        "--username",
        "alice",
        "--password",
        "wonderland",
        "--profile",
        "tv",
        "--json",
    ]);
    let out = output_json(cmd).await;
    assert_eq!(out["subject"], "248289761001");
    all_checks_passed(&out);
    assert!(
        out["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "device_grant"),
        "{out}"
    );
    let mut token = rp(dir.path());
    token.args(["token", "--profile", "tv"]);
    let printed = output_ok(token).await;
    assert!(!String::from_utf8_lossy(&printed.stdout).trim().is_empty());
}

/// Run `rp login --device` without credentials, read the code it shows, and answer on the
/// verification page as a person on another device would.
async fn answered_elsewhere(decision: oidc_rp_headless::DeviceDecision) -> (i32, String, String) {
    let op = provider_polling_fast().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    cmd.args(["--device", "--no-userinfo", "--profile", "tv"]);
    let mut rp = Watched::spawn(cmd);
    let line = rp.line(|l| l.contains("enter the code")).await;
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = |w: &str| words.iter().position(|x| *x == w).unwrap();
    let uri = words[at("open") + 1].to_string();
    let code = words[at("code") + 1].to_string();
    let http = oidc_rp::HttpClient::default();
    let browser = oidc_rp_headless::Browser::new(&http).unwrap();
    let auth = oidc_rp::DeviceAuthorization {
        device_code: "unknown to the other device".into(),
        user_code: code,
        verification_uri: uri,
        verification_uri_complete: None,
        expires_in: Duration::from_secs(600),
        interval: Duration::from_secs(1),
        issued_at: 0,
        nonce: "n".into(),
        issuer: op.issuer().into(),
        client_id: "rp-demo".into(),
        acr_values: Vec::new(),
    };
    let creds = oidc_rp_headless::Credentials {
        username: "alice".into(),
        password: "wonderland".into(),
    };
    oidc_rp_headless::approve_device(&browser, &auth, Some(&creds), decision)
        .await
        .unwrap();
    rp.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_login_approved_on_another_device_completes() {
    let (code, stdout, stderr) =
        answered_elsewhere(oidc_rp_headless::DeviceDecision::Approve).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("every check passed"), "{stdout}");
    assert!(stdout.contains("device grant"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_device_login_says_so_and_caches_nothing() {
    let (code, stdout, stderr) = answered_elsewhere(oidc_rp_headless::DeviceDecision::Deny).await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("access_denied"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_without_a_device_endpoint_is_unsupported() {
    let docs = StaticServer::start(vec![(
        "/.well-known/openid-configuration",
        (
            200,
            "application/json",
            r#"{"issuer":"{base}","authorization_endpoint":"{base}/a","token_endpoint":"{base}/t",
            "jwks_uri":"{base}/jwks","response_types_supported":["code"],
            "subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}"#
                .into(),
        ),
    )])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp_login(dir.path(), &docs.base, ("c", "s"));
    cmd.arg("--device");
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(10), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("RFC 8628"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_browser_rp_points_to_device_and_paste() {
    let op = provider_polling_fast().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    // A browser that cannot be started, and nobody to finish the login.
    cmd.args(["--timeout", "1"])
        .env("BROWSER", "/nonexistent/browser")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(6), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rp login --device"), "{stderr}");
    assert!(stderr.contains("use --device or --paste"), "{stderr}");
}
