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
