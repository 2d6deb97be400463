//! OIDC Core §3.1.3.3: a token response whose `token_type` is not Bearer is refused, at login
//! and at refresh, before its ID token is looked at; so is one with an empty `access_token`
//! (RFC 6749 §5.1). A loopback server answers every request
//! with the same (otherwise valid-looking) token response.
#![allow(clippy::unwrap_used)]

mod common;

use common::{CLIENT, JwksServer};
use oidc_rp::{
    AuthorizationRequest, CheckId, ClientConfig, Error, HttpClient, ProviderMetadata, RelyingParty,
    Secret,
};
use serde_json::json;
use std::sync::Arc;

/// A relying party whose provider's every endpoint is `server`, answering `body`.
async fn rp_answered_with(body: serde_json::Value) -> (RelyingParty, JwksServer) {
    let server = JwksServer::start(Vec::new()).await;
    server.set_json(body);
    let base = server.url.as_str();
    let metadata: ProviderMetadata = serde_json::from_value(json!({
        "issuer": base,
        "authorization_endpoint": base,
        "token_endpoint": base,
        "jwks_uri": base,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .unwrap();
    let rp = RelyingParty::new(
        HttpClient::default(),
        Arc::new(metadata),
        ClientConfig::confidential(CLIENT, "secret"),
    )
    .unwrap();
    (rp, server)
}

fn not_bearer() -> serde_json::Value {
    json!({
        "access_token": "at-1",
        "token_type": "mac",
        "refresh_token": "rt-2",
        "id_token": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
    })
}

fn empty_access_token() -> serde_json::Value {
    json!({
        "access_token": "",
        "token_type": "Bearer",
        "refresh_token": "rt-2",
        "id_token": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
    })
}

fn assert_refused(result: Result<impl std::fmt::Debug, Error>, why: &str) {
    match result.as_ref().map_err(Error::validation) {
        Err(Some(v)) => {
            assert_eq!(v.check, CheckId::TokenResponse, "{v:?}");
            assert!(v.detail.contains(why), "{}", v.detail);
        }
        _ => panic!("the token response must be refused ({why}): {result:?}"),
    }
}

async fn login_with(body: serde_json::Value) -> Result<oidc_rp::Login, Error> {
    let (rp, _server) = rp_answered_with(body).await;
    let (_, txn) = rp
        .authorization_url(
            &AuthorizationRequest::with_scopes(["openid"]),
            "http://127.0.0.1:9/callback",
        )
        .unwrap();
    let callback = format!("code=c-1&state={}", txn.state.expose());
    let callback = oidc_rp::CallbackParams::parse(callback.as_bytes()).unwrap();
    rp.complete(&txn, &callback).await
}

#[tokio::test]
async fn login_refuses_a_token_type_other_than_bearer() {
    assert_refused(login_with(not_bearer()).await, "not Bearer");
}

#[tokio::test]
async fn refresh_refuses_a_token_type_other_than_bearer() {
    let (rp, _server) = rp_answered_with(not_bearer()).await;
    assert_refused(
        rp.refresh(&Secret::new("rt-1"), None, None).await,
        "not Bearer",
    );
}

#[tokio::test]
async fn login_refuses_an_empty_access_token() {
    assert_refused(
        login_with(empty_access_token()).await,
        "access_token is empty",
    );
}

#[tokio::test]
async fn refresh_refuses_an_empty_access_token() {
    let (rp, _server) = rp_answered_with(empty_access_token()).await;
    let result = rp.refresh(&Secret::new("rt-1"), None, None).await;
    // The refused response rotated the refresh token: it is handed back with the failure.
    let rotated = result.as_ref().err().and_then(Error::rotated_refresh_token);
    assert_eq!(rotated.map(Secret::expose), Some("rt-2"));
    assert_refused(result, "access_token is empty");
}
