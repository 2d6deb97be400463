//! Users, clients and signing keys. The repository's `fixtures/` directory is compiled in, so
//! the provider runs anywhere with no files; `--fixtures DIR` reads another set.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::Path;

/// A user of the login form.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct User {
    /// Login name.
    pub username: String,
    /// Password (test fixtures: stored in clear, compared in constant time).
    pub password: String,
    /// Subject identifier.
    pub sub: String,
    /// Standard claims (OIDC Core §5.1), released by scope.
    #[serde(default)]
    pub claims: Map<String, Value>,
}

/// A client registration.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Client {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`, absent for public clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// `client_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// Registered redirect URIs. Loopback ones match any port (RFC 8252 §7.3).
    pub redirect_uris: Vec<String>,
    /// `token_endpoint_auth_method`.
    #[serde(default = "default_auth_method")]
    pub token_endpoint_auth_method: String,
    /// `grant_types`.
    #[serde(default = "default_grants")]
    pub grant_types: Vec<String>,
    /// `response_types`.
    #[serde(default = "default_response_types")]
    pub response_types: Vec<String>,
    /// `application_type`.
    #[serde(default = "default_app_type")]
    pub application_type: String,
    /// `id_token_signed_response_alg`.
    #[serde(default = "default_alg")]
    pub id_token_signed_response_alg: String,
    /// `userinfo_signed_response_alg`: userinfo is then a signed JWT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<String>,
    /// Ask the user for consent on every authorization.
    #[serde(default)]
    pub require_consent: bool,
    /// Whether authorization requests must carry a PKCE S256 challenge: always, unless a
    /// client (a conformance instance's, an audit flaw's) says otherwise (RFC 9700 §2.1.1).
    #[serde(default = "yes")]
    pub require_pkce: bool,
    /// `opaque` (random strings looked up at introspection) or `jwt` (RFC 9068).
    #[serde(default = "default_at_format")]
    pub access_token_format: String,
    /// RP-Initiated Logout 1.0 §3.1: where the user may be sent after logout.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Front-Channel Logout 1.0 §2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// Front-Channel Logout 1.0 §2: add `iss` and `sid` to the URI.
    #[serde(default)]
    pub frontchannel_logout_session_required: bool,
    /// Back-Channel Logout 1.0 §2.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Back-Channel Logout 1.0 §2.2: put `sid` in the logout token.
    #[serde(default)]
    pub backchannel_logout_session_required: bool,
    /// RFC 7591 §2 `scope`: what the client may ask for with `client_credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Resource servers (`resource`, RFC 8707, or `audience`) a `client_credentials` token
    /// may be issued for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// RFC 9126 §6: authorization requests of this client must be pushed.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// RFC 9449 §5.2: this client's access tokens are always DPoP-bound.
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
    /// What this client may do with RFC 8693 token exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_exchange: Option<ExchangePolicy>,
    /// Other registered metadata, echoed back by registration.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A client's token exchange policy (RFC 8693).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ExchangePolicy {
    /// Accepted `subject_token_type` URNs.
    pub subject_token_types: Vec<String>,
    /// Token types that may be requested.
    pub requested_token_types: Vec<String>,
    /// Audiences and resources tokens may be issued for.
    #[serde(default)]
    pub audiences: Vec<String>,
}

fn default_at_format() -> String {
    "opaque".into()
}

fn yes() -> bool {
    true
}

fn default_auth_method() -> String {
    "client_secret_basic".into()
}
fn default_grants() -> Vec<String> {
    vec!["authorization_code".into()]
}
fn default_response_types() -> Vec<String> {
    vec!["code".into()]
}
fn default_app_type() -> String {
    "web".into()
}
fn default_alg() -> String {
    "RS256".into()
}

impl Client {
    /// True when the client may use this grant.
    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }

    /// True for clients without a secret.
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == "none"
    }

    /// The name shown to the user: `client_name`, else the `client_id`.
    pub fn display_name(&self) -> &str {
        self.client_name.as_deref().unwrap_or(&self.client_id)
    }
}

/// The private key of the fixture client `rp-fapi` (its public half is that client's `jwks`
/// in `clients.json`): a test client's key, public like every fixture.
pub const FAPI_CLIENT_KEY_PEM: &str = include_str!("../../../fixtures/client-keys/rp-fapi.pem");

/// The PEM private keys the provider signs with.
#[derive(Debug, Clone)]
pub struct KeyPems {
    /// RSA (RS256).
    pub rsa: String,
    /// P-256 (ES256).
    pub p256: String,
    /// Ed25519 (EdDSA).
    pub ed25519: String,
    /// Extra RSA keys for rotation and multi-key JWKS in conformance tests.
    pub rsa_pool: Vec<String>,
}

/// Everything the provider loads at start.
#[derive(Debug, Clone)]
pub struct Fixtures {
    /// Users.
    pub users: Vec<User>,
    /// Static clients.
    pub clients: Vec<Client>,
    /// Signing keys.
    pub keys: KeyPems,
}

impl Fixtures {
    /// The fixtures compiled into the binary (the repository's `fixtures/`).
    pub fn embedded() -> Fixtures {
        Fixtures::parse(
            include_str!("../../../fixtures/users.json"),
            include_str!("../../../fixtures/clients.json"),
            KeyPems {
                rsa: include_str!("../../../fixtures/keys/rs256.pem").into(),
                p256: include_str!("../../../fixtures/keys/es256.pem").into(),
                ed25519: include_str!("../../../fixtures/keys/ed25519.pem").into(),
                rsa_pool: vec![
                    include_str!("../../../fixtures/keys/pool/rsa-1.pem").into(),
                    include_str!("../../../fixtures/keys/pool/rsa-2.pem").into(),
                    include_str!("../../../fixtures/keys/pool/rsa-3.pem").into(),
                    include_str!("../../../fixtures/keys/pool/rsa-4.pem").into(),
                ],
            },
        )
        .unwrap_or_else(|e| panic!("the embedded fixtures are broken: {e}"))
    }

    /// Read `users.json`, `clients.json` and `keys/*.pem` from a directory.
    pub fn from_dir(dir: &Path) -> crate::error::Result<Fixtures> {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name)).map_err(|e| {
                crate::error::Error::Fixtures(format!(
                    "cannot read {}: {e}",
                    dir.join(name).display()
                ))
            })
        };
        Fixtures::parse(
            &read("users.json")?,
            &read("clients.json")?,
            KeyPems {
                rsa: read("keys/rs256.pem")?,
                p256: read("keys/es256.pem")?,
                ed25519: read("keys/ed25519.pem")?,
                rsa_pool: (1..=4)
                    .filter_map(|i| read(&format!("keys/pool/rsa-{i}.pem")).ok())
                    .collect(),
            },
        )
    }

    fn parse(users: &str, clients: &str, keys: KeyPems) -> crate::error::Result<Fixtures> {
        let users: Vec<User> = serde_json::from_str(users)
            .map_err(|e| crate::error::Error::Fixtures(format!("users.json: {e}")))?;
        let clients: Vec<Client> = serde_json::from_str(clients)
            .map_err(|e| crate::error::Error::Fixtures(format!("clients.json: {e}")))?;
        Ok(Fixtures {
            users,
            clients,
            keys,
        })
    }

    /// The default user of demos (`alice`).
    pub fn default_user(&self) -> &User {
        &self.users[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_fixtures_load() {
        let f = Fixtures::embedded();
        assert_eq!(f.default_user().username, "alice");
        assert_eq!(f.default_user().password, "wonderland");
        assert!(f.users.iter().any(|u| u.username == "bob"));
        let demo = f.clients.iter().find(|c| c.client_id == "rp-demo").unwrap();
        assert!(demo.allows_grant("refresh_token"));
        assert!(f.clients.iter().any(|c| c.is_public()));
    }
}
