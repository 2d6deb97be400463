//! `rp token`: the token alone for scripts, refreshed when it expires soon, and kubectl's
//! ExecCredential; with the bad cases (no refresh token, a revoked grant).
#![allow(clippy::unwrap_used)]

use rp_tests::*;
use std::path::Path;

async fn login(cache: &Path, issuer: &str, profile: &str, scope: &str) {
    let mut cmd = rp_login(cache, issuer, ("rp-demo", "rp-demo-secret"));
    cmd.args(["--username", "alice", "--password", "wonderland"])
        .args(["--profile", profile, "--scope", scope]);
    output_ok(cmd).await;
}

async fn token(cache: &Path, args: &[&str]) -> String {
    let mut cmd = rp(cache);
    cmd.arg("token").args(args);
    let out = output_ok(cmd).await;
    String::from_utf8(out.stdout).unwrap()
}

fn profile_json(cache: &Path) -> serde_json::Value {
    let dir = cache.join("profiles");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "json"))
        .unwrap()
        .path();
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

/// A valid cached token is printed alone, with the provider gone (no network on that path).
#[tokio::test(flavor = "multi_thread")]
async fn a_valid_token_is_printed_alone_without_the_provider() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    login(dir.path(), op.issuer(), "work", "openid profile").await;
    let cached = profile_json(dir.path());
    op.stop().await;
    let access = token(dir.path(), &["--profile", "work"]).await;
    assert_eq!(
        access,
        format!("{}\n", cached["tokens"]["access_token"].as_str().unwrap())
    );
    let id = token(dir.path(), &["--id-token"]).await;
    assert_eq!(
        id,
        format!("{}\n", cached["tokens"]["id_token"].as_str().unwrap())
    );
    let json = run_json(dir.path(), &["token"]).await;
    assert_eq!(json["kind"], "access token");
    assert_eq!(json["token_type"], "Bearer");
    assert!(json["expires_at"].as_i64().unwrap() > 0, "{json}");
}

/// A token that expires within --min-ttl is refreshed first, under the lock; the profile
/// then holds the new tokens.
#[tokio::test(flavor = "multi_thread")]
async fn an_expiring_token_is_refreshed_first() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    login(dir.path(), op.issuer(), "work", "openid offline_access").await;
    let before = profile_json(dir.path());
    // Every token of the bundled provider lives less than a day.
    let mut cmd = rp(dir.path());
    cmd.args(["token", "--min-ttl", "86400"]);
    let out = output_ok(cmd).await;
    let printed = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let after = profile_json(dir.path());
    assert_ne!(
        printed.trim(),
        before["tokens"]["access_token"].as_str().unwrap()
    );
    assert_eq!(
        printed.trim(),
        after["tokens"]["access_token"].as_str().unwrap()
    );
    assert_ne!(
        after["tokens"]["refresh_token"],
        before["tokens"]["refresh_token"]
    );
    assert!(stderr.contains("refreshing"), "{stderr}");
    // Without a margin the new token is simply printed.
    assert_eq!(token(dir.path(), &[]).await, printed);
}

/// kubectl's exec plugin protocol: one ExecCredential on stdout, the ID token by default,
/// with its expiry in RFC 3339.
#[tokio::test(flavor = "multi_thread")]
async fn the_exec_credential_is_what_kubectl_reads() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    login(dir.path(), op.issuer(), "k8s", "openid offline_access").await;
    let cached = profile_json(dir.path());
    let mut cmd = rp(dir.path());
    cmd.args(["token", "--exec-credential", "--profile", "k8s"]).env(
        "KUBERNETES_EXEC_INFO",
        r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}"#,
    );
    let cred = output_json(cmd).await;
    assert_eq!(cred["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(cred["kind"], "ExecCredential");
    assert_eq!(cred["status"]["token"], cached["tokens"]["id_token"]);
    let exp = cred["status"]["expirationTimestamp"].as_str().unwrap();
    assert!(
        exp.len() == 20 && exp.ends_with('Z') && exp.as_bytes()[10] == b'T',
        "{exp}"
    );
    let mut cmd = rp(dir.path());
    cmd.args([
        "token",
        "--exec-credential",
        "--access-token",
        "--profile",
        "k8s",
    ]);
    let cred = output_json(cmd).await;
    assert_eq!(cred["status"]["token"], cached["tokens"]["access_token"]);
}

/// The bad cases: an expiring token without a refresh token, and a revoked grant, both exit
/// 11 (log in again) with the reason; nothing but the error is printed.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_usable_grant_it_says_to_log_in_again() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    login(dir.path(), op.issuer(), "short", "openid").await;
    let mut cmd = rp(dir.path());
    cmd.args(["token", "--min-ttl", "86400"]);
    let out = output(cmd).await;
    let (code, stderr) = failure(&out);
    assert_eq!(code, 11, "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("no refresh token") && stderr.contains("rp login --profile short"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    login(dir.path(), op.issuer(), "gone", "openid offline_access").await;
    let rt = token(dir.path(), &["--refresh-token"]).await;
    let mut revoke = rp(dir.path());
    revoke.args([
        "revoke",
        "--token",
        rt.trim(),
        "--token-type-hint",
        "refresh_token",
    ]);
    output_ok(revoke).await;
    let mut cmd = rp(dir.path());
    cmd.args(["token", "--min-ttl", "86400"]);
    let out = output(cmd).await;
    let (code, stderr) = failure(&out);
    assert_eq!(code, 11, "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("invalid_grant"), "{stderr}");
}

/// kubectl with a person at the terminal (`spec.interactive`): no usable token, so rp logs in
/// again, with everything the login prints on stderr, and stdout holds the credential alone.
#[tokio::test(flavor = "multi_thread")]
async fn kubectl_with_a_person_there_gets_a_new_login() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    login(dir.path(), op.issuer(), "short", "openid").await;
    let before = profile_json(dir.path())["tokens"]["id_token"].clone();
    let exec_info = |interactive: bool| {
        format!(
            r#"{{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{{"interactive":{interactive}}}}}"#
        )
    };
    // Nobody there: exit 11, as before.
    let mut cmd = rp(dir.path());
    cmd.args([
        "token",
        "--exec-credential",
        "--profile",
        "short",
        "--min-ttl",
        "86400",
    ])
    .env("KUBERNETES_EXEC_INFO", exec_info(false));
    assert_eq!(output(cmd).await.status.code(), Some(11));
    // Someone there (credentials from the environment stand in for the prompt).
    let mut cmd = rp(dir.path());
    cmd.args([
        "token",
        "--exec-credential",
        "--profile",
        "short",
        "--min-ttl",
        "86400",
    ])
    .env("KUBERNETES_EXEC_INFO", exec_info(true))
    .env("RP_USERNAME", "alice")
    .env("RP_PASSWORD", "wonderland");
    let out = output_ok(cmd).await;
    let cred = json(&out);
    assert_eq!(cred["apiVersion"], "client.authentication.k8s.io/v1beta1");
    let token = cred["status"]["token"].as_str().unwrap();
    assert_ne!(
        serde_json::json!(token),
        before,
        "the old ID token was sent"
    );
    assert_eq!(profile_json(dir.path())["tokens"]["id_token"], token);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("every check passed"), "{stderr}");
}
