//! The client's own identity: a static registration (id and secret, or a public client) or
//! one obtained by dynamic registration, and how it authenticates at the token endpoint.

use crate::client_auth::{
    ClientAuth, ClientSecretBasic, ClientSecretJwt, ClientSecretPost, PrivateKeyJwt, PublicClient,
};
use crate::error::{ConfigError, Error, Result};
use crate::secret::Secret;
use openidconnect::core::CoreClientAuthMethod;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How the client authenticates at the token, introspection and revocation endpoints
/// (OIDC Core §9, RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    /// HTTP Basic with the form-encoded id and secret.
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A public client: `client_id` in the body, no secret; PKCE protects the code.
    None,
    /// A JWT assertion MAC'd with the client secret (OIDC Core §9, RFC 7523).
    ClientSecretJwt,
    /// A JWT assertion signed with the client's private key (OIDC Core §9, RFC 7523).
    PrivateKeyJwt,
    /// Mutual TLS with a certificate from a PKI the provider trusts (RFC 8705 §2.1).
    TlsClientAuth,
    /// Mutual TLS with a self-signed certificate the client registered (RFC 8705 §2.2).
    SelfSignedTlsClientAuth,
}

impl TokenAuthMethod {
    /// The registered name.
    pub fn name(self) -> &'static str {
        match self {
            TokenAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenAuthMethod::ClientSecretPost => "client_secret_post",
            TokenAuthMethod::None => "none",
            TokenAuthMethod::ClientSecretJwt => "client_secret_jwt",
            TokenAuthMethod::PrivateKeyJwt => "private_key_jwt",
            TokenAuthMethod::TlsClientAuth => "tls_client_auth",
            TokenAuthMethod::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        }
    }

    /// Parse a registered name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "client_secret_basic" => TokenAuthMethod::ClientSecretBasic,
            "client_secret_post" => TokenAuthMethod::ClientSecretPost,
            "none" => TokenAuthMethod::None,
            "client_secret_jwt" => TokenAuthMethod::ClientSecretJwt,
            "private_key_jwt" => TokenAuthMethod::PrivateKeyJwt,
            "tls_client_auth" => TokenAuthMethod::TlsClientAuth,
            "self_signed_tls_client_auth" => TokenAuthMethod::SelfSignedTlsClientAuth,
            _ => return None,
        })
    }
}

/// A client registration as the RP knows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClientConfig {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`, absent for public clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    /// The registered `token_endpoint_auth_method`; chosen from the secret and the provider's
    /// metadata when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<TokenAuthMethod>,
    /// The registered `id_token_signed_response_alg` (OIDC Dynamic Registration §2). When set,
    /// ID tokens signed with anything else are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
    /// The registered `userinfo_signed_response_alg`: userinfo must then be a signed JWT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<String>,
    /// Registered redirect URIs (informational for static clients).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    /// RFC 7592 management token, from dynamic registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_access_token: Option<Secret>,
    /// RFC 7592 management URL, from dynamic registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_client_uri: Option<String>,
    /// The client's private key, for `private_key_jwt` and signed request objects (not
    /// serialised: keep the key file, not a copy of it).
    #[serde(skip)]
    pub signing_key: Option<std::sync::Arc<crate::client_key::ClientKey>>,
    /// A client authentication of the caller's own, used instead of the registered method's
    /// (see [`ClientConfig::with_auth`]).
    #[serde(skip)]
    pub custom_auth: Option<Arc<dyn ClientAuth>>,
}

impl ClientConfig {
    /// A confidential client with a secret.
    ///
    /// ```
    /// let client = oidc_rp::ClientConfig::confidential("my-client", "my-secret");
    /// assert_eq!(client.client_id, "my-client");
    /// ```
    pub fn confidential(client_id: impl Into<String>, secret: impl Into<Secret>) -> Self {
        ClientConfig {
            client_secret: Some(secret.into()),
            ..ClientConfig::public(client_id)
        }
    }

    /// A public client (no secret; PKCE is always used).
    pub fn public(client_id: impl Into<String>) -> Self {
        ClientConfig {
            client_id: client_id.into(),
            client_secret: None,
            token_endpoint_auth_method: None,
            id_token_signed_response_alg: None,
            userinfo_signed_response_alg: None,
            redirect_uris: Vec::new(),
            registration_access_token: None,
            registration_client_uri: None,
            signing_key: None,
            custom_auth: None,
        }
    }

    /// Authenticate with `auth` at every endpoint instead of a built-in method.
    ///
    /// ```
    /// use oidc_rp::client_auth::ClientAuth;
    /// use oidc_rp::ClientConfig;
    /// use std::sync::Arc;
    ///
    /// /// A scheme the crate does not build in: a token from a local agent.
    /// #[derive(Debug)]
    /// struct AgentAuth;
    /// impl ClientAuth for AgentAuth {
    ///     fn method(&self) -> &str {
    ///         "private_key_jwt"
    ///     }
    ///     fn apply(
    ///         &self,
    ///         client_id: &str,
    ///         audience: &str,
    ///         _headers: &mut http::HeaderMap,
    ///         form: &mut Vec<(String, String)>,
    ///     ) -> oidc_rp::Result<()> {
    ///         let assertion = format!("signed-elsewhere-for-{client_id}-at-{audience}");
    ///         form.push(("client_assertion_type".into(),
    ///             "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
    ///         form.push(("client_assertion".into(), assertion));
    ///         Ok(())
    ///     }
    /// }
    /// let client = ClientConfig::public("app").with_auth(Arc::new(AgentAuth));
    /// # let _ = client;
    /// ```
    pub fn with_auth(mut self, auth: Arc<dyn ClientAuth>) -> Self {
        self.custom_auth = Some(auth);
        self
    }

    /// The authentication to use with an endpoint that supports `supported` (see
    /// [`ClientConfig::auth_method`]).
    pub fn authenticator(
        &self,
        supported: Option<&[CoreClientAuthMethod]>,
    ) -> Result<Arc<dyn ClientAuth>> {
        if let Some(custom) = &self.custom_auth {
            return Ok(custom.clone());
        }
        self.built_in(self.auth_method(supported)?)
    }

    /// The built-in authentication for `method`.
    pub fn built_in(&self, method: TokenAuthMethod) -> Result<Arc<dyn ClientAuth>> {
        let secret = || {
            self.client_secret
                .clone()
                .ok_or_else(|| missing(method, "a client secret"))
        };
        Ok(match method {
            TokenAuthMethod::ClientSecretBasic => Arc::new(ClientSecretBasic::new(secret()?)),
            TokenAuthMethod::ClientSecretPost => Arc::new(ClientSecretPost::new(secret()?)),
            TokenAuthMethod::None => Arc::new(PublicClient),
            TokenAuthMethod::TlsClientAuth | TokenAuthMethod::SelfSignedTlsClientAuth => {
                Arc::new(crate::client_auth::MutualTls(method))
            }
            TokenAuthMethod::ClientSecretJwt => Arc::new(ClientSecretJwt::new(secret()?)),
            TokenAuthMethod::PrivateKeyJwt => {
                let key = self
                    .signing_key
                    .clone()
                    .ok_or_else(|| missing(method, "the client's private key"))?;
                Arc::new(PrivateKeyJwt::new(key))
            }
        })
    }

    /// The authentication method to use with an endpoint that supports `supported`
    /// (`None`: the endpoint's metadata says nothing, so its default, `client_secret_basic`,
    /// applies: OpenID Connect Discovery 1.0 §3).
    pub fn auth_method(
        &self,
        supported: Option<&[CoreClientAuthMethod]>,
    ) -> Result<TokenAuthMethod> {
        if let Some(method) = self.token_endpoint_auth_method {
            if method == TokenAuthMethod::PrivateKeyJwt {
                if self.signing_key.is_none() {
                    return Err(missing(method, "the client's private key"));
                }
                return Ok(method);
            }
            if matches!(
                method,
                TokenAuthMethod::TlsClientAuth | TokenAuthMethod::SelfSignedTlsClientAuth
            ) {
                return Ok(method);
            }
            if method != TokenAuthMethod::None && self.client_secret.is_none() {
                return Err(missing(method, "a client secret"));
            }
            return Ok(method);
        }
        if self.client_secret.is_none() {
            return Ok(TokenAuthMethod::None);
        }
        let supports = |m: &CoreClientAuthMethod| supported.is_none_or(|list| list.contains(m));
        if supports(&CoreClientAuthMethod::ClientSecretBasic) {
            Ok(TokenAuthMethod::ClientSecretBasic)
        } else if supports(&CoreClientAuthMethod::ClientSecretPost) {
            Ok(TokenAuthMethod::ClientSecretPost)
        } else {
            Err(Error::Config(ConfigError::NoUsableAuthMethod {
                endpoint: "token",
                has: "a client secret: client_secret_basic or client_secret_post",
            }))
        }
    }
}

fn missing(method: TokenAuthMethod, what: &'static str) -> Error {
    Error::Config(ConfigError::MissingCredential {
        method: method.name().into(),
        what,
    })
}

/// The same choice for endpoints whose supported methods are listed as strings
/// (introspection, revocation: RFC 8414 §2).
pub(crate) fn auth_from_names(
    client: &ClientConfig,
    names: Option<&[String]>,
) -> Result<Arc<dyn ClientAuth>> {
    let parsed: Option<Vec<CoreClientAuthMethod>> = names.map(|list| {
        list.iter()
            .filter_map(|n| serde_json::from_value(serde_json::Value::String(n.clone())).ok())
            .collect()
    });
    client.authenticator(parsed.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_follows_registration_then_metadata() {
        let c = ClientConfig::confidential("c", "s");
        assert_eq!(
            c.auth_method(None).unwrap(),
            TokenAuthMethod::ClientSecretBasic
        );
        assert_eq!(
            c.auth_method(Some(&[CoreClientAuthMethod::ClientSecretPost]))
                .unwrap(),
            TokenAuthMethod::ClientSecretPost
        );
        assert!(
            c.auth_method(Some(&[CoreClientAuthMethod::PrivateKeyJwt]))
                .is_err()
        );
        assert_eq!(
            ClientConfig::public("p").auth_method(None).unwrap(),
            TokenAuthMethod::None
        );
        let mut registered = ClientConfig::public("p");
        registered.token_endpoint_auth_method = Some(TokenAuthMethod::ClientSecretPost);
        assert!(registered.auth_method(None).is_err());
    }

    #[test]
    fn debug_hides_the_secret() {
        let c = ClientConfig::confidential("c", "very-secret");
        assert!(!format!("{c:?}").contains("very-secret"));
    }
}
