//! Mutual TLS (RFC 8705) against the bundled provider over loopback HTTPS: the client
//! authenticates with a self-signed certificate it registered (`self_signed_tls_client_auth`),
//! and the access token is bound to that certificate, so it works only on a connection that
//! presents it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use oidc_rp::{
    AuthorizationRequest, ClientConfig, HttpClient, HttpConfig, RelyingParty, Secret,
    TokenAuthMethod,
};
use oidc_rp_headless::{Browser, Credentials};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

struct Cert {
    pem: String,
    der: Vec<u8>,
}

fn client_certificate() -> Cert {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["mtls-client.rp.test".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    Cert {
        pem: format!("{}{}", cert.pem(), key.serialize_pem()),
        der: cert.der().to_vec(),
    }
}

async fn provider(registered: &Cert) -> rp_provider::RunningProvider {
    let mut fixtures = rp_provider::Fixtures::embedded();
    let x5c = base64::engine::general_purpose::STANDARD.encode(&registered.der);
    fixtures.clients.push(
        serde_json::from_value(serde_json::json!({
            "client_id": "mtls",
            "redirect_uris": ["http://127.0.0.1/callback"],
            "token_endpoint_auth_method": "self_signed_tls_client_auth",
            "grant_types": ["authorization_code", "refresh_token"],
            "application_type": "native",
            "jwks": {"keys": [{"kty": "EC", "x5c": [x5c]}]},
        }))
        .unwrap(),
    );
    // The CA certificate goes to a fresh private directory of the provider's.
    rp_provider::start(rp_provider::ProviderConfig {
        tls: true,
        fixtures,
        ..Default::default()
    })
    .await
    .unwrap()
}

fn http(op: &rp_provider::RunningProvider, identity: Option<&Cert>) -> HttpClient {
    let mut config = HttpConfig::default();
    config.add_ca_file(op.ca_file().unwrap()).unwrap();
    config.client_identity_pem = identity.map(|c| Secret::new(c.pem.clone()));
    HttpClient::new(config)
}

async fn rp(issuer: &str, http: &HttpClient) -> RelyingParty {
    let mut client = ClientConfig::public("mtls");
    client.token_endpoint_auth_method = Some(TokenAuthMethod::SelfSignedTlsClientAuth);
    RelyingParty::discover(http, issuer, client).await.unwrap()
}

#[tokio::test]
async fn a_certificate_authenticates_the_client_and_binds_its_token() {
    let cert = client_certificate();
    let op = provider(&cert).await;
    let with_cert = http(&op, Some(&cert));
    let rp = rp(op.issuer(), &with_cert).await;
    let (url, txn) = rp
        .authorization_url(&AuthorizationRequest::with_scopes(["openid"]), REDIRECT)
        .unwrap();
    let creds = Credentials {
        username: "alice".into(),
        password: "wonderland".into(),
    };
    let login = oidc_rp_headless::complete(
        &rp,
        &Browser::new(&with_cert).unwrap(),
        &url,
        &txn,
        Some(&creds),
    )
    .await
    .expect("login with the certificate");
    rp.userinfo(&login.tokens.access_token(), &login.id_token)
        .await
        .expect("userinfo on a connection with the certificate");

    // The token without the certificate: refused (RFC 8705 §3).
    let without = http(&op, None);
    let plain = rp_plain(op.issuer(), &without).await;
    let err = plain
        .userinfo(&login.tokens.access_token(), &login.id_token)
        .await
        .expect_err("no certificate");
    assert!(err.to_string().contains("client certificate"), "{err}");
}

async fn rp_plain(issuer: &str, http: &HttpClient) -> RelyingParty {
    RelyingParty::discover(http, issuer, ClientConfig::public("mtls"))
        .await
        .unwrap()
}

#[tokio::test]
async fn another_certificate_is_not_the_client() {
    let registered = client_certificate();
    let op = provider(&registered).await;
    let intruder = client_certificate();
    let http = http(&op, Some(&intruder));
    let rp = rp(op.issuer(), &http).await;
    let (url, txn) = rp
        .authorization_url(&AuthorizationRequest::with_scopes(["openid"]), REDIRECT)
        .unwrap();
    let creds = Credentials {
        username: "alice".into(),
        password: "wonderland".into(),
    };
    let err =
        oidc_rp_headless::complete(&rp, &Browser::new(&http).unwrap(), &url, &txn, Some(&creds))
            .await
            .expect_err("an unregistered certificate");
    assert!(err.to_string().contains("invalid_client"), "{err}");
}

/// The header that carries the connection's certificate to the provider's handlers cannot be
/// sent by a client: a forged one is stripped, so it authenticates nobody.
#[tokio::test]
async fn a_forged_certificate_header_authenticates_nobody() {
    let registered = client_certificate();
    let mut fixtures = rp_provider::Fixtures::embedded();
    let x5c = base64::engine::general_purpose::STANDARD.encode(&registered.der);
    fixtures.clients.push(
        serde_json::from_value(serde_json::json!({
            "client_id": "mtls",
            "redirect_uris": ["http://127.0.0.1/callback"],
            "token_endpoint_auth_method": "self_signed_tls_client_auth",
            "jwks": {"keys": [{"kty": "EC", "x5c": [x5c.clone()]}]},
        }))
        .unwrap(),
    );
    let op = rp_provider::start(rp_provider::ProviderConfig {
        fixtures,
        ..Default::default()
    })
    .await
    .unwrap();
    let answer = reqwest::Client::new()
        .post(format!("{}/token", op.issuer()))
        .header(rp_provider::server::PEER_CERTIFICATE, x5c)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("client_id", "mtls"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 401);
    let body = answer.text().await.unwrap();
    assert!(
        body.contains("invalid_client") && body.contains("certificate"),
        "{body}"
    );
}
