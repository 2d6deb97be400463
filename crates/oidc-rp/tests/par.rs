//! Pushed authorization requests (RFC 9126) against the bundled provider over loopback: the
//! parameters pushed with client authentication (as a form, or as a signed request object),
//! the browser carrying only client_id and request_uri, one use per request_uri, and a client
//! that must push.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oidc_rp::registration::{self, RegistrationRequest};
use oidc_rp::{
    AuthorizationRequest, ClientConfig, ClientKey, Delivery, Error, HttpClient, HttpConfig,
    RelyingParty,
};
use oidc_rp_headless::{Browser, Credentials};
use std::sync::Arc;

const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn alice() -> Credentials {
    Credentials {
        username: "alice".into(),
        password: "wonderland".into(),
    }
}

async fn provider(fixtures: rp_provider::Fixtures) -> rp_provider::RunningProvider {
    rp_provider::start(rp_provider::ProviderConfig {
        fixtures,
        ..Default::default()
    })
    .await
    .expect("provider")
}

async fn demo(issuer: &str) -> (HttpClient, RelyingParty) {
    let http = HttpClient::new(HttpConfig::default());
    let rp = RelyingParty::discover(
        &http,
        issuer,
        ClientConfig::confidential("rp-demo", "rp-demo-secret"),
    )
    .await
    .unwrap();
    (http, rp)
}

/// A client registered dynamically (RFC 7591) with `key` as its signing key.
async fn registered_with(issuer: &str, key: &Arc<ClientKey>) -> (HttpClient, RelyingParty) {
    let http = HttpClient::new(HttpConfig::default());
    let metadata = oidc_rp::discovery::discover(&http, issuer).await.unwrap();
    let client = registration::register(
        &http,
        &metadata,
        &RegistrationRequest {
            redirect_uris: vec![REDIRECT.into()],
            native: true,
            signing_key: Some(key.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let rp = RelyingParty::new(http.clone(), metadata, client).unwrap();
    (http, rp)
}

#[tokio::test]
async fn a_pushed_request_leaves_only_client_id_and_request_uri_in_the_browser() {
    let op = provider(rp_provider::Fixtures::embedded()).await;
    let (http, rp) = demo(op.issuer()).await;
    let (url, txn) = rp
        .push_authorization_request(&AuthorizationRequest::with_scopes(["openid"]), REDIRECT)
        .await
        .expect("pushed");
    let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(names, ["client_id", "request_uri"], "{url}");
    assert!(
        url.query_pairs()
            .any(|(k, v)| k == "request_uri" && v.starts_with("urn:ietf:params:oauth:request_uri:"))
    );
    let browser = Browser::new(&http).unwrap();
    let login = oidc_rp_headless::complete(&rp, &browser, &url, &txn, Some(&alice()))
        .await
        .expect("login");
    assert_eq!(login.id_token.subject, "248289761001");

    // RFC 9126 §4: one use only.
    let again = oidc_rp_headless::walk(&Browser::new(&http).unwrap(), &url, REDIRECT, None)
        .await
        .expect_err("a used request_uri");
    assert!(again.to_string().contains("request_uri"), "{again}");
}

#[tokio::test]
async fn a_signed_request_object_can_be_pushed() {
    let op = provider(rp_provider::Fixtures::embedded()).await;
    let key = Arc::new(
        ClientKey::from_pem(include_str!("../../../fixtures/keys/pool/rsa-4.pem")).unwrap(),
    );
    let (http, rp) = registered_with(op.issuer(), &key).await;
    let request = AuthorizationRequest {
        delivery: Delivery::Pushed {
            key: Some(key.clone()),
        },
        ..AuthorizationRequest::with_scopes(["openid", "email"])
    };
    let (url, txn) = rp
        .push_authorization_request(&request, REDIRECT)
        .await
        .unwrap();
    let login = oidc_rp_headless::complete(
        &rp,
        &Browser::new(&http).unwrap(),
        &url,
        &txn,
        Some(&alice()),
    )
    .await
    .expect("login");
    assert_eq!(login.id_token.subject, "248289761001");
}

#[tokio::test]
async fn a_client_that_must_push_is_refused_a_plain_request() {
    let mut fixtures = rp_provider::Fixtures::embedded();
    for c in &mut fixtures.clients {
        if c.client_id == "rp-demo" {
            c.require_pushed_authorization_requests = true;
        }
    }
    let op = provider(fixtures).await;
    let (http, rp) = demo(op.issuer()).await;
    let (url, txn) = rp
        .authorization_url(&AuthorizationRequest::with_scopes(["openid"]), REDIRECT)
        .unwrap();
    let err = oidc_rp_headless::complete(
        &rp,
        &Browser::new(&http).unwrap(),
        &url,
        &txn,
        Some(&alice()),
    )
    .await
    .expect_err("not pushed");
    assert!(
        matches!(&err, Error::Authorization(a) if a.error == "invalid_request"),
        "{err:?}"
    );
    let (url, txn) = rp
        .push_authorization_request(&AuthorizationRequest::with_scopes(["openid"]), REDIRECT)
        .await
        .unwrap();
    oidc_rp_headless::complete(
        &rp,
        &Browser::new(&http).unwrap(),
        &url,
        &txn,
        Some(&alice()),
    )
    .await
    .expect("pushed");
}

#[tokio::test]
async fn a_push_with_an_unregistered_redirect_uri_is_refused_at_once() {
    let op = provider(rp_provider::Fixtures::embedded()).await;
    let (_, rp) = demo(op.issuer()).await;
    let err = rp
        .push_authorization_request(
            &AuthorizationRequest::with_scopes(["openid"]),
            "https://attacker.example/callback",
        )
        .await
        .expect_err("unregistered");
    assert!(err.to_string().contains("invalid_redirect_uri"), "{err}");
}

#[tokio::test]
async fn a_public_client_pushes_without_repeating_its_client_id() {
    let op = provider(rp_provider::Fixtures::embedded()).await;
    let http = HttpClient::new(HttpConfig::default());
    let rp = RelyingParty::discover(&http, op.issuer(), ClientConfig::public("rp-public"))
        .await
        .unwrap();
    let (url, txn) = rp
        .push_authorization_request(&AuthorizationRequest::with_scopes(["openid"]), REDIRECT)
        .await
        .expect("a public client's push (client_id once, RFC 6749 §3.2)");
    oidc_rp_headless::complete(
        &rp,
        &Browser::new(&http).unwrap(),
        &url,
        &txn,
        Some(&alice()),
    )
    .await
    .expect("login");
}

#[tokio::test]
async fn a_signed_request_object_by_value_replaces_the_query() {
    let op = provider(rp_provider::Fixtures::embedded()).await;
    let key = Arc::new(
        ClientKey::from_pem(include_str!("../../../fixtures/client-keys/rp-fapi.pem")).unwrap(),
    );
    let (http, rp) = registered_with(op.issuer(), &key).await;
    let request = AuthorizationRequest {
        delivery: Delivery::ByValue {
            key: Some(key.clone()),
        },
        ..AuthorizationRequest::with_scopes(["openid"])
    };
    let (url, txn) = rp.authorization_url(&request, REDIRECT).unwrap();
    assert!(url.query_pairs().any(|(k, _)| k == "request"), "{url}");
    oidc_rp_headless::complete(
        &rp,
        &Browser::new(&http).unwrap(),
        &url,
        &txn,
        Some(&alice()),
    )
    .await
    .expect("a login from a signed request object");
    // Signed with another key: refused on the page, nothing redirected.
    let other = Arc::new(
        ClientKey::from_pem(include_str!("../../../fixtures/keys/pool/rsa-4.pem")).unwrap(),
    );
    let forged = AuthorizationRequest {
        delivery: Delivery::ByValue { key: Some(other) },
        ..AuthorizationRequest::with_scopes(["openid"])
    };
    let (url, _) = rp.authorization_url(&forged, REDIRECT).unwrap();
    let err = oidc_rp_headless::walk(
        &Browser::new(&http).unwrap(),
        &url,
        REDIRECT,
        Some(&alice()),
    )
    .await
    .expect_err("another key");
    assert!(err.to_string().contains("does not verify"), "{err}");
}
