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
