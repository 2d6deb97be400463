//! Client authentication at the token, introspection, revocation (and later pushed
//! authorization) endpoints: RFC 6749 §2.3, OIDC Core §9, RFC 7523.
//!
//! An open trait, [`ClientAuth`]: the five methods of OIDC Core are built in
//! ([`ClientSecretBasic`], [`ClientSecretPost`], [`PublicClient`], [`ClientSecretJwt`],
//! [`PrivateKeyJwt`]), chosen from a [`crate::ClientConfig`]; a deployment with another
//! scheme (a hardware key, `tls_client_auth`) implements the trait and sets it with
//! [`crate::ClientConfig::with_auth`].

use crate::error::{ConfigError, Error, Result};
use crate::secret::Secret;
use http::HeaderMap;
use http::header::AUTHORIZATION;
use std::sync::Arc;
use url::form_urlencoded::byte_serialize;

/// One way for a client to authenticate a request.
///
/// ```
/// use oidc_rp::client_auth::{ClientAuth, ClientSecretPost};
/// let auth = ClientSecretPost::new("s3cret");
/// let (mut headers, mut form) = (http::HeaderMap::new(), Vec::new());
/// auth.apply("app", "https://op.example/token", &mut headers, &mut form)?;
/// assert_eq!(form, vec![("client_id".to_string(), "app".to_string()),
///                       ("client_secret".to_string(), "s3cret".to_string())]);
/// # Ok::<(), oidc_rp::Error>(())
/// ```
pub trait ClientAuth: Send + Sync + std::fmt::Debug {
    /// The registered name (`token_endpoint_auth_method`).
    fn method(&self) -> &str;

    /// Authenticate a request to the endpoint `audience`: add headers and/or form
    /// parameters. Called for every request (assertions are single-use).
    fn apply(
        &self,
        client_id: &str,
        audience: &str,
        headers: &mut HeaderMap,
        form: &mut Vec<(String, String)>,
    ) -> Result<()>;
}

/// `client_secret_basic`: HTTP Basic with the id and secret form-encoded first (RFC 6749
/// §2.3.1: not plain Basic, a colon or a non-ASCII byte in either must be encoded).
#[derive(Debug, Clone)]
pub struct ClientSecretBasic(Secret);

impl ClientSecretBasic {
    /// With this secret.
    pub fn new(secret: impl Into<Secret>) -> Self {
        ClientSecretBasic(secret.into())
    }
}

impl ClientAuth for ClientSecretBasic {
    fn method(&self) -> &str {
        "client_secret_basic"
    }

    fn apply(
        &self,
        client_id: &str,
        _: &str,
        headers: &mut HeaderMap,
        _: &mut Vec<(String, String)>,
    ) -> Result<()> {
        let id: String = byte_serialize(client_id.as_bytes()).collect();
        let pw: String = byte_serialize(self.0.expose().as_bytes()).collect();
        let credential = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{id}:{pw}"),
        );
        let value = http::HeaderValue::from_str(&format!("Basic {credential}")).map_err(|_| {
            Error::Config(ConfigError::ClientKey(
                "credentials cannot be sent in a header".into(),
            ))
        })?;
        headers.insert(AUTHORIZATION, value);
        Ok(())
    }
}

/// `client_secret_post`: `client_id` and `client_secret` in the form body.
#[derive(Debug, Clone)]
pub struct ClientSecretPost(Secret);

impl ClientSecretPost {
    /// With this secret.
    pub fn new(secret: impl Into<Secret>) -> Self {
        ClientSecretPost(secret.into())
    }
}

impl ClientAuth for ClientSecretPost {
    fn method(&self) -> &str {
        "client_secret_post"
    }

    fn apply(
        &self,
        client_id: &str,
        _: &str,
        _: &mut HeaderMap,
        form: &mut Vec<(String, String)>,
    ) -> Result<()> {
        form.push(("client_id".into(), client_id.into()));
        form.push(("client_secret".into(), self.0.expose().into()));
        Ok(())
    }
}

/// `none`: a public client names itself; PKCE protects its code.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicClient;

impl ClientAuth for PublicClient {
    fn method(&self) -> &str {
        "none"
    }

    fn apply(
        &self,
        client_id: &str,
        _: &str,
        _: &mut HeaderMap,
        form: &mut Vec<(String, String)>,
    ) -> Result<()> {
        form.push(("client_id".into(), client_id.into()));
        Ok(())
    }
}

/// Mutual TLS (RFC 8705 §2): the client's certificate, presented by the HTTP client (see
/// [`crate::HttpConfig::client_identity_pem`]), is the credential; the form names the client.
#[derive(Debug, Clone, Copy)]
pub struct MutualTls(pub crate::client::TokenAuthMethod);

impl ClientAuth for MutualTls {
    fn method(&self) -> &str {
        self.0.name()
    }

    fn apply(
        &self,
        client_id: &str,
        audience: &str,
        headers: &mut HeaderMap,
        form: &mut Vec<(String, String)>,
    ) -> Result<()> {
        // On the wire as a public client: the credential is the TLS connection's.
        PublicClient.apply(client_id, audience, headers, form)
    }
}

/// The RFC 7523 §3 claims of a client assertion: `iss` = `sub` = the client, `aud` = the
/// endpoint, a fresh `jti`, and a one-minute lifetime.
fn assertion_claims(client_id: &str, audience: &str) -> serde_json::Value {
    let now = crate::time::unix_now();
    serde_json::json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": oauth2::CsrfToken::new_random_len(16).secret(),
        "iat": now,
        "exp": now + 60,
    })
}

fn push_assertion(client_id: &str, assertion: String, form: &mut Vec<(String, String)>) {
    form.push(("client_id".into(), client_id.into()));
    form.push((
        "client_assertion_type".into(),
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
    ));
    form.push(("client_assertion".into(), assertion));
}

/// `client_secret_jwt`: an assertion MAC'd with the client secret (HS256).
#[derive(Debug, Clone)]
pub struct ClientSecretJwt(Secret);

impl ClientSecretJwt {
    /// With this secret.
    pub fn new(secret: impl Into<Secret>) -> Self {
        ClientSecretJwt(secret.into())
    }
}

impl ClientAuth for ClientSecretJwt {
    fn method(&self) -> &str {
        "client_secret_jwt"
    }

    fn apply(
        &self,
        client_id: &str,
        audience: &str,
        _: &mut HeaderMap,
        form: &mut Vec<(String, String)>,
    ) -> Result<()> {
        let assertion = crate::client_key::sign_hs256(
            self.0.expose(),
            "JWT",
            &assertion_claims(client_id, audience),
        )?;
        push_assertion(client_id, assertion, form);
        Ok(())
    }
}

/// `private_key_jwt`: an assertion signed with the client's private key.
#[derive(Debug, Clone)]
pub struct PrivateKeyJwt(Arc<dyn rp_jose::Signer>, Option<String>);

impl PrivateKeyJwt {
    /// With this key (a [`crate::ClientKey`], or any other signer); the assertion's `aud` is
    /// the endpoint it is sent to (RFC 7523 §3).
    pub fn new(key: Arc<dyn rp_jose::Signer>) -> Self {
        PrivateKeyJwt(key, None)
    }

    /// With `aud` always the issuer identifier, as FAPI 2.0 requires (it closes the
    /// audience injection of assertions meant for one endpoint replayed at another).
    pub fn for_issuer(key: Arc<dyn rp_jose::Signer>, issuer: impl Into<String>) -> Self {
        PrivateKeyJwt(key, Some(issuer.into()))
    }
}

impl ClientAuth for PrivateKeyJwt {
    fn method(&self) -> &str {
        "private_key_jwt"
    }

    fn apply(
        &self,
        client_id: &str,
        audience: &str,
        _: &mut HeaderMap,
        form: &mut Vec<(String, String)>,
    ) -> Result<()> {
        let assertion = rp_jose::encode(
            self.0.as_ref(),
            Some("JWT"),
            &assertion_claims(client_id, self.1.as_deref().unwrap_or(audience)),
        )
        .map_err(|e| ConfigError::ClientKey(format!("could not sign: {e}")))?;
        push_assertion(client_id, assertion, form);
        Ok(())
    }
}
