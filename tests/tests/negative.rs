//! `rp login` failures, end to end: each asserts the specific error and exit status.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rp_tests::*;

fn base(op: &rp_provider::RunningProvider, dir: &std::path::Path) -> std::process::Command {
    let mut cmd = rp(dir);
    cmd.args(["login", "--issuer", op.issuer(), "--client-id", "rp-demo"]);
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_reports_the_failed_login() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = base(&op, dir.path());
    cmd.args([
        "--client-secret",
        "rp-demo-secret",
        "--username",
        "alice",
        "--password",
        "not-wonderland",
    ]);
    let (code, stderr) = failure(&output(cmd).await);
    assert_eq!(code, 7, "{stderr}");
    assert!(stderr.contains("login failed"), "{stderr}");
    assert!(stderr.contains("Invalid username or password"), "{stderr}");
    assert!(
        !stderr.contains("not-wonderland"),
        "the password is never echoed"
    );
    assert!(
        std::fs::read_dir(dir.path())
            .map(|d| d.count())
            .unwrap_or(0)
            == 0,
        "nothing cached"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_client_secret() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = base(&op, dir.path());
    cmd.args([
        "--client-secret",
        "guessed",
        "--username",
        "alice",
        "--password",
        "wonderland",
    ]);
    let (code, stderr) = failure(&output(cmd).await);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("invalid_client") && stderr.contains("wrong client secret"),
        "{stderr}"
    );
    assert!(
        stderr.contains("check the client id and secret"),
        "{stderr}"
    );
    assert!(!stderr.contains("guessed"), "the secret is never echoed");
}

#[tokio::test(flavor = "multi_thread")]
async fn issuer_mismatch_in_discovery() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    // The same server, asked for with a trailing slash: the document's issuer differs.
    let asked = format!("{}/", op.issuer());
    let mut cmd = rp_login(dir.path(), &asked, ("rp-demo", "rp-demo-secret"));
    cmd.args(["--username", "alice", "--password", "wonderland"]);
    let (code, stderr) = failure(&output(cmd).await);
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("issuer mismatch"), "{stderr}");
    assert!(
        stderr.contains(&asked) && stderr.contains(&format!("`{}`", op.issuer())),
        "both values shown: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn authorization_error_response_is_surfaced() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = base(&op, dir.path());
    cmd.args([
        "--client-secret",
        "rp-demo-secret",
        "--username",
        "alice",
        "--password",
        "wonderland",
    ])
    .args(["--prompt", "none"]);
    let (code, stderr) = failure(&output(cmd).await);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("refused the authorization: login_required"),
        "{stderr}"
    );
    assert!(
        stderr.contains("prompt=none"),
        "the description is shown: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_callback_with_a_wrong_state_never_completes_the_login() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = base(&op, dir.path());
    cmd.args([
        "--client-secret",
        "rp-demo-secret",
        "--no-browser",
        "--timeout",
        "2",
    ]);
    let mut rp = Watched::spawn(cmd);
    let url = rp.line(|l| l.starts_with("http://")).await;
    let url = url::Url::parse(&url).unwrap();
    let redirect = query_param(&url, "redirect_uri");

    // Another local client sends a forged callback: refused, and the login is not completed.
    let forged = reqwest::get(format!("{redirect}?code=stolen&state=forged"))
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert!(forged.text().await.unwrap().contains("state mismatch"));
    let no_state = reqwest::get(format!("{redirect}?code=stolen"))
        .await
        .unwrap();
    assert_eq!(no_state.status(), 400);

    let (code, _, stderr) = rp.finish().await;
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("state mismatch") && stderr.contains("2 callback(s)"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_genuine_callback_still_works_after_a_forged_one() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = base(&op, dir.path());
    cmd.args([
        "--client-secret",
        "rp-demo-secret",
        "--no-browser",
        "--timeout",
        "30",
        "--json",
    ]);
    let mut rp = Watched::spawn(cmd);
    let url = url::Url::parse(&rp.line(|l| l.starts_with("http://")).await).unwrap();
    let redirect = query_param(&url, "redirect_uri");
    let forged = reqwest::get(format!("{redirect}?code=stolen&state=forged"))
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);

    // Now the user logs in for real (driven here like a browser would).
    let outcome = drive_as_alice(&url, &redirect).await;
    assert_eq!(outcome.status, 200, "{}", outcome.body);
    assert!(outcome.body.contains("Login complete"));
    let (code, stdout, stderr) = rp.finish().await;
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["id_token_claims"]["sub"], "248289761001");
}

/// A failed login with --json is still one JSON object on stdout: the error (message, exit
/// status, failed check) and every check made up to the failure; in text mode the checks go
/// to stderr before the error line.
#[tokio::test(flavor = "multi_thread")]
async fn a_failure_reports_its_checks_in_json_and_text() {
    let op = rp_provider::start(rp_provider::ProviderConfig {
        conformance: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let issuer = format!("{}/oidcc-client-test-nonce-invalid", op.issuer());
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "login",
        "--issuer",
        issuer.as_str(),
        "--register",
        "--username",
        "alice",
        "--password",
        "wonderland",
    ];
    let mut cmd = rp(dir.path());
    cmd.args(args).arg("--json");
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(5));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["exit_code"], 5);
    assert_eq!(v["error"]["check"], "nonce");
    let checks = v["checks"].as_array().unwrap();
    assert!(checks.len() > 5, "{v}");
    assert_eq!(checks.last().unwrap()["name"], "nonce");
    assert_eq!(checks.last().unwrap()["passed"], false);
    assert!(
        checks[..checks.len() - 1]
            .iter()
            .all(|c| c["passed"] == true)
    );

    let (code, stderr) = run_failing(dir.path(), &args).await;
    assert_eq!(code, 5);
    let checks_at = stderr.find("Checks:").unwrap();
    let error_at = stderr.find("rp: error:").unwrap();
    assert!(checks_at < error_at, "{stderr}");
    assert!(stderr.contains("✗ nonce"), "{stderr}");
}
