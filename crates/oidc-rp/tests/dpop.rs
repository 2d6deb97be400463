//! DPoP (RFC 9449) against the bundled provider over loopback: the nonce challenge answered
//! with one retry, tokens bound to the key, userinfo with the DPoP scheme, a stolen token
//! refused as Bearer, a public client's refresh token usable only with its key, and a
//! response that should have been DPoP refused on the token response check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oidc_rp::dpop::{Dpop, DpopKey};
use oidc_rp::{
    AccessToken, AuthorizationRequest, CheckId, ClientConfig, HttpClient, HttpConfig, Login,
    RelyingParty, RequestDecorator,
};
use oidc_rp_headless::{Browser, Credentials};
use std::sync::Arc;

const REDIRECT: &str = "http://127.0.0.1:9/callback";

async fn login(rp: &RelyingParty, http: &HttpClient, scopes: &[&str]) -> oidc_rp::Result<Login> {
    let (url, txn) = rp.authorization_url(
        &AuthorizationRequest {
            prompt: scopes
                .contains(&"offline_access")
                .then(|| "consent".to_string()),
            ..AuthorizationRequest::with_scopes(scopes.iter().copied())
        },
        REDIRECT,
    )?;
    let creds = Credentials {
        username: "alice".into(),
        password: "wonderland".into(),
    };
    oidc_rp_headless::complete(rp, &Browser::new(http)?, &url, &txn, Some(&creds)).await
}

async fn make_rp(
    issuer: &str,
    client: ClientConfig,
    key: Option<DpopKey>,
) -> (HttpClient, RelyingParty) {
    let http = HttpClient::new(HttpConfig::default());
    let mut rp = RelyingParty::discover(&http, issuer, client).await.unwrap();
    if let Some(key) = key {
        rp = rp.with_decorator(Arc::new(Dpop::new(key)));
    }
    (http, rp)
}

#[tokio::test]
async fn dpop_bound_tokens_work_with_their_key_and_only_with_it() {
    let op = rp_provider::start(Default::default()).await.unwrap();
    let (http, rp) = make_rp(
        op.issuer(),
        ClientConfig::confidential("rp-demo", "rp-demo-secret"),
        Some(DpopKey::generate_es256().unwrap()),
    )
    .await;
    // The provider demands a nonce: the first token request is challenged and retried.
    let login = login(&rp, &http, &["openid", "email"])
        .await
        .expect("login");
    assert_eq!(login.tokens.token_type.as_str(), "DPoP");
    let check = login
        .report
        .checks()
        .iter()
        .find(|c| c.id == CheckId::TokenResponse)
        .unwrap();
    assert!(check.detail.contains("DPoP"), "{check:?}");
    let info = rp
        .userinfo(&login.tokens.access_token(), &login.id_token)
        .await
        .expect("userinfo with the DPoP scheme and a proof");
    assert_eq!(info.claims["email"], "alice@wonderland.example");

    // Stolen: presented as a Bearer token, or with another key, it is refused.
    let (_, plain) = rp_plain(op.issuer()).await;
    let stolen = AccessToken::bearer(login.tokens.access_token().expose().to_string());
    let err = plain
        .userinfo(&stolen, &login.id_token)
        .await
        .expect_err("bearer");
    assert!(err.to_string().contains("DPoP-bound"), "{err}");
    let (_, thief) = make_rp(
        op.issuer(),
        ClientConfig::confidential("rp-demo", "rp-demo-secret"),
        Some(DpopKey::generate_es256().unwrap()),
    )
    .await;
    let err = thief
        .userinfo(&login.tokens.access_token(), &login.id_token)
        .await
        .expect_err("another key");
    assert!(err.to_string().contains("bound to"), "{err}");
}

async fn rp_plain(issuer: &str) -> (HttpClient, RelyingParty) {
    make_rp(
        issuer,
        ClientConfig::confidential("rp-demo", "rp-demo-secret"),
        None,
    )
    .await
}

#[tokio::test]
async fn a_public_clients_refresh_token_needs_its_dpop_key() {
    let op = rp_provider::start(Default::default()).await.unwrap();
    let key = DpopKey::generate_eddsa().unwrap();
    let kept = key.to_pkcs8_b64().expose().to_string();
    let (http, rp) = make_rp(op.issuer(), ClientConfig::public("rp-public"), Some(key)).await;
    let login = login(&rp, &http, &["openid", "offline_access"])
        .await
        .expect("login");
    let refresh_token = login
        .tokens
        .refresh_token()
        .cloned()
        .expect("a refresh token");

    // Another key: refused, and the token is not burnt by the attempt.
    let (_, thief) = rp_public(op.issuer(), DpopKey::generate_es256().unwrap()).await;
    let err = thief
        .refresh(&refresh_token, None, None)
        .await
        .expect_err("another key");
    assert!(err.to_string().contains("DPoP-bound"), "{err}");
    // The same key (reloaded from storage, as the CLI does): refreshed, DPoP again.
    let (_, owner) = rp_public(op.issuer(), DpopKey::from_pkcs8_b64(&kept).unwrap()).await;
    let refreshed = owner
        .refresh(&refresh_token, Some(&login.id_token.to_stored()), None)
        .await
        .expect("refresh with the key");
    assert_eq!(refreshed.tokens.token_type.as_str(), "DPoP");
}

async fn rp_public(issuer: &str, key: DpopKey) -> (HttpClient, RelyingParty) {
    make_rp(issuer, ClientConfig::public("rp-public"), Some(key)).await
}

/// A decorator that promises DPoP but sends no proof: the provider answers Bearer, and the
/// library refuses a token that is not bound where it expected binding.
#[derive(Debug)]
struct Promise;

impl RequestDecorator for Promise {
    fn token_type(&self) -> Option<&str> {
        Some("DPoP")
    }
}

#[tokio::test]
async fn an_unbound_token_where_dpop_was_used_is_refused() {
    let op = rp_provider::start(Default::default()).await.unwrap();
    let http = HttpClient::new(HttpConfig::default());
    let rp = RelyingParty::discover(
        &http,
        op.issuer(),
        ClientConfig::confidential("rp-demo", "rp-demo-secret"),
    )
    .await
    .unwrap()
    .with_decorator(Arc::new(Promise));
    let err = login(&rp, &http, &["openid"]).await.expect_err("Bearer");
    assert_eq!(err.check(), Some(CheckId::TokenResponse), "{err}");
    assert!(err.to_string().contains("RFC 9449"), "{err}");
}

/// RFC 9449 §10: the library sends `dpop_jkt` with the authorization request, and the code
/// it binds is refused to a proof of another key (a stolen code is useless elsewhere).
#[tokio::test]
async fn the_code_is_bound_to_the_dpop_key() {
    let op = rp_provider::start(Default::default()).await.unwrap();
    let key = DpopKey::generate_es256().unwrap();
    let jkt = key.thumbprint().to_string();
    let (http, rp) = make_rp(
        op.issuer(),
        ClientConfig::confidential("rp-demo", "rp-demo-secret"),
        Some(key),
    )
    .await;
    let (url, txn) = rp
        .authorization_url(&AuthorizationRequest::with_scopes(["openid"]), REDIRECT)
        .unwrap();
    assert!(
        url.query_pairs().any(|(k, v)| k == "dpop_jkt" && v == jkt),
        "{url}"
    );
    let arrival = oidc_rp_headless::walk(
        &Browser::new(&http).unwrap(),
        &url,
        REDIRECT,
        Some(&Credentials {
            username: "alice".into(),
            password: "wonderland".into(),
        }),
    )
    .await
    .unwrap();
    let params = oidc_rp::CallbackParams::parse(&arrival.params()).unwrap();
    // The same client, another key.
    let (_, thief) = make_rp(
        op.issuer(),
        ClientConfig::confidential("rp-demo", "rp-demo-secret"),
        Some(DpopKey::generate_es256().unwrap()),
    )
    .await;
    let err = thief.complete(&txn, &params).await.unwrap_err();
    assert!(err.to_string().contains("dpop_jkt"), "{err}");
}
