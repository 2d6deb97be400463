//! `rp decode`: header and claims with times as dates; the signature checked only with
//! --issuer, and said so otherwise; a forged token refused.
#![allow(clippy::unwrap_used)]

use rp_tests::*;
use std::io::Write;
use std::process::Stdio;

async fn logged_in() -> (rp_provider::RunningProvider, tempfile::TempDir, String) {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    cmd.args(["--username", "alice", "--password", "wonderland"]);
    output_ok(cmd).await;
    let mut cmd = rp(dir.path());
    cmd.args(["token", "--id-token"]);
    let id = String::from_utf8(output_ok(cmd).await.stdout).unwrap();
    (op, dir, id.trim().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn claims_and_dates_without_a_signature_check_say_so() {
    let (_op, dir, id) = logged_in().await;
    let mut cmd = rp(dir.path());
    cmd.args(["decode", &id]);
    let text = String::from_utf8(output_ok(cmd).await.stdout).unwrap();
    assert!(text.contains("alg: RS256"), "{text}");
    assert!(text.contains("sub: 248289761001"), "{text}");
    assert!(
        text.contains("Z, in 9 min)") || text.contains("Z, in 10 min)"),
        "{text}"
    );
    assert!(text.contains("Signature: NOT checked"), "{text}");

    // From stdin, as JSON.
    let mut cmd = rp(dir.path());
    cmd.args(["decode", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(id.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["signature"]["checked"], false);
    assert_eq!(v["claims"]["sub"], "248289761001");
    assert!(
        v["times"]["exp"]["date"].as_str().unwrap().ends_with('Z'),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_issuer_verifies_the_signature_and_a_forgery_fails() {
    let (op, dir, id) = logged_in().await;
    let mut cmd = rp(dir.path());
    cmd.args(["decode", "--issuer", op.issuer(), &id]);
    let text = String::from_utf8(output_ok(cmd).await.stdout).unwrap();
    assert!(
        text.contains("Signature: valid RS256 signature by"),
        "{text}"
    );
    assert!(text.contains("claims NOT validated"), "{text}");

    // Another subject under the same signature: refused, exit 5.
    let parts: Vec<&str> = id.split('.').collect();
    let mut claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, parts[1])
            .unwrap(),
    )
    .unwrap();
    claims["sub"] = "root".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            claims.to_string()
        ),
        parts[2]
    );
    let (code, stderr) =
        run_failing(dir.path(), &["decode", "--issuer", op.issuer(), &forged]).await;
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("signature"), "{stderr}");
}

#[tokio::test]
async fn garbage_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = run_failing(dir.path(), &["decode", "not-a-token"]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a JWT"), "{stderr}");
}
