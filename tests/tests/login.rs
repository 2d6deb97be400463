//! `rp login` end to end: the built binary against the bundled provider over loopback HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rp_tests::*;
use serde_json::Value;

fn cache() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn check_names(v: &Value) -> Vec<String> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn headless_login_with_a_static_client() {
    let op = provider().await;
    let dir = cache();
    let mut cmd = rp(dir.path());
    cmd.args(["login", "--issuer", op.issuer(), "--client-id", "rp-demo"])
        .args([
            "--client-secret",
            "rp-demo-secret",
            "--username",
            "alice",
            "--password",
            "wonderland",
            "--json",
        ]);
    let v = output_json(cmd).await;
    assert_eq!(v["issuer"], op.issuer());
    assert_eq!(v["client_id"], "rp-demo");
    all_checks_passed(&v);
    let names = check_names(&v);
    for expected in [
        "state",
        "iss parameter",
        "signature",
        "iss",
        "aud",
        "exp",
        "iat",
        "nonce",
        "at_hash",
        "userinfo sub",
    ] {
        assert!(
            names.contains(&expected.to_string()),
            "missing check {expected}: {names:?}"
        );
    }
    assert_eq!(v["id_token_claims"]["sub"], "248289761001");
    assert_eq!(v["id_token_claims"]["aud"], "rp-demo");
    assert_eq!(v["userinfo"]["email"], "alice@wonderland.example");
    assert_eq!(v["userinfo"]["name"], "Alice Liddell");
    assert!(v["token_response"]["access_token"].as_str().unwrap().len() > 20);
    assert_eq!(v["token_response"]["token_type"], "Bearer");

    // The tokens are cached, privately, under the profile named after the issuer.
    let file = std::path::PathBuf::from(v["cache_file"].as_str().unwrap());
    assert!(file.starts_with(dir.path()));
    let cached: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(cached["issuer"], op.issuer());
    assert_eq!(
        cached["tokens"]["access_token"],
        v["token_response"]["access_token"]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".profile-"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files are left behind");
}

#[tokio::test(flavor = "multi_thread")]
async fn headless_login_with_dynamic_registration() {
    let op = provider().await;
    let dir = cache();
    let mut cmd = rp(dir.path());
    cmd.args([
        "login",
        "--issuer",
        op.issuer(),
        "--register",
        "--username",
        "bob",
        "--password",
        "builder",
    ])
    .args([
        "--scope",
        "openid profile email phone",
        "--json",
        "--profile",
        "bob",
    ]);
    let out = output_ok(cmd).await;
    let v = json(&out);
    let client_id = v["client_id"].as_str().unwrap();
    assert!(!client_id.is_empty() && client_id != "rp-demo");
    assert_eq!(v["id_token_claims"]["aud"], client_id);
    assert_eq!(v["id_token_claims"]["sub"], "248289761002");
    assert_eq!(v["userinfo"]["phone_number"], "+49 30 0000002");
    assert!(
        v["userinfo"].get("address").is_none(),
        "address was not asked for"
    );
    assert_eq!(v["profile"], "bob");
    all_checks_passed(&v);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("registered client"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn public_client_form_post_consent_and_signed_userinfo() {
    let op = provider().await;
    let dir = cache();

    // Public client: no secret, PKCE only, auth method none.
    let mut cmd = rp(dir.path());
    cmd.args([
        "login",
        "--issuer",
        op.issuer(),
        "--client-id",
        "rp-public",
        "--username",
        "alice",
    ])
    .args([
        "--password",
        "wonderland",
        "--json",
        "--no-cache",
        "--form-post",
        "--max-age",
        "300",
    ]);
    let v = output_json(cmd).await;
    all_checks_passed(&v);
    assert!(v["cache_file"].is_null());
    let auth_time = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "auth_time")
        .unwrap();
    assert!(
        auth_time["detail"].as_str().unwrap().contains("max_age"),
        "{auth_time}"
    );

    // Consent form, ES256 ID token, EdDSA-signed userinfo; the password from RP_PASSWORD.
    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-es256", "rp-es256-secret"));
    cmd.args(["--username", "alice", "--json", "--no-cache"])
        .env("RP_PASSWORD", "wonderland");
    let v = output_json(cmd).await;
    let alg = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "alg")
        .unwrap();
    assert!(alg["detail"].as_str().unwrap().starts_with("ES256"));
    assert_eq!(v["userinfo"]["email"], "alice@wonderland.example");

    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-consent", "rp-consent-secret"));
    cmd.args([
        "--username",
        "alice",
        "--password",
        "wonderland",
        "--json",
        "--no-cache",
    ]);
    output_ok(cmd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn human_output_shows_the_report() {
    let op = provider().await;
    let dir = cache();
    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-post", "rp-post-secret"));
    cmd.args([
        "--token-auth-method",
        "client_secret_post",
        "--username",
        "alice",
        "--password",
        "wonderland",
    ]);
    let out = output_ok(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("every check passed"), "{stdout}");
    assert!(stdout.contains("✓ signature"), "{stdout}");
    assert!(stdout.contains("Alice Liddell"), "{stdout}");
    assert!(stdout.contains("Cached in profile"), "{stdout}");
    assert!(
        !stdout.contains("wonderland\n"),
        "the password is never printed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_provider_needs_no_input() {
    let dir = cache();
    let mut cmd = rp(dir.path());
    cmd.args(["login", "--json"]);
    let v = output_json(cmd).await;
    assert!(
        v["issuer"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert_eq!(v["id_token_claims"]["sub"], "248289761001");
    all_checks_passed(&v);
}

#[tokio::test(flavor = "multi_thread")]
async fn https_provider_with_and_without_its_ca() {
    let dir = cache();
    let ca = dir.path().join("ca.pem");
    let op = rp_provider::start(rp_provider::ProviderConfig {
        tls: true,
        ca_file: Some(ca.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(op.issuer().starts_with("https://127.0.0.1:"));

    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    cmd.args([
        "--username",
        "alice",
        "--password",
        "wonderland",
        "--json",
        "--no-cache",
    ])
    .arg("--ca-file")
    .arg(&ca);
    output_ok(cmd).await;

    // Without trusting the CA: a TLS failure, exit 3, with the hint.
    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    cmd.args(["--username", "alice", "--password", "wonderland"]);
    let (code, stderr) = failure(&output(cmd).await);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("TLS") && stderr.contains("--ca-file"),
        "{stderr}"
    );
}

/// `--redirect-uri` sends and listens on exactly that loopback URI: a registered one logs in,
/// a path the client did not register is refused by the provider with the URI named.
#[tokio::test(flavor = "multi_thread")]
async fn redirect_uri_is_sent_and_served_exactly() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let fixed = format!("http://[::1]:{port}/oauth2/cb");
    let mut cmd = rp(dir.path());
    cmd.args(["login", "--issuer", op.issuer(), "--register", "--json"])
        .args(["--username", "alice", "--password", "wonderland"])
        .args(["--redirect-uri", &fixed]);
    let v = output_json(cmd).await;
    assert_eq!(v["id_token_claims"]["sub"], "248289761001", "{v}");

    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    cmd.args(["--username", "alice", "--password", "wonderland"])
        .args(["--redirect-uri", "http://127.0.0.1/not-registered"]);
    let (code, stderr) = failure(&output(cmd).await);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("/not-registered`"), "{stderr}");

    let (code, stderr) = run_failing(
        dir.path(),
        &["login", "--redirect-uri", "https://app.example.com/cb"],
    )
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("loopback"), "{stderr}");
}
