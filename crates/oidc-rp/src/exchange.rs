//! OAuth 2.0 Token Exchange (RFC 8693), typed.

use crate::endpoint::Call;
use crate::error::Result;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};

/// The grant type (RFC 8693 §2.1).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// Token type identifiers (RFC 8693 §3).
pub mod token_types {
    /// An OAuth access token.
    pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
    /// An OAuth refresh token.
    pub const REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
    /// An OpenID Connect ID token.
    pub const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
    /// A JWT.
    pub const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
    /// A base64url-encoded SAML 1.1 assertion.
    pub const SAML1: &str = "urn:ietf:params:oauth:token-type:saml1";
    /// A base64url-encoded SAML 2.0 assertion.
    pub const SAML2: &str = "urn:ietf:params:oauth:token-type:saml2";
}

/// Map a short name (`access_token`, `refresh_token`, `id_token`, `jwt`, `saml1`, `saml2`) to
/// its URN; a URN is returned as is.
pub fn token_type(name: &str) -> Option<&str> {
    Some(match name {
        "access_token" => token_types::ACCESS_TOKEN,
        "refresh_token" => token_types::REFRESH_TOKEN,
        "id_token" => token_types::ID_TOKEN,
        "jwt" => token_types::JWT,
        "saml1" => token_types::SAML1,
        "saml2" => token_types::SAML2,
        urn if urn.starts_with("urn:") => urn,
        _ => return None,
    })
}

/// A token exchange request (RFC 8693 §2.1).
#[derive(Debug, Clone, Default)]
pub struct TokenExchangeRequest {
    /// The token representing the party on whose behalf the request is made.
    pub subject_token: Secret,
    /// Its type URN.
    pub subject_token_type: String,
    /// The token of the acting party (delegation).
    pub actor_token: Option<Secret>,
    /// Its type URN (required with `actor_token`).
    pub actor_token_type: Option<String>,
    /// The type of token wanted; the provider chooses when absent.
    pub requested_token_type: Option<String>,
    /// Logical names of the target services (`audience`, repeatable).
    pub audience: Vec<String>,
    /// URIs of the target resources (`resource`, repeatable, RFC 8707).
    pub resource: Vec<String>,
    /// Scope wanted.
    pub scope: Option<String>,
}

/// A token exchange response (RFC 8693 §2.2.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenExchangeResponse {
    /// The issued token (whatever its type; the member keeps its OAuth name).
    pub access_token: Secret,
    /// The type of the issued token.
    pub issued_token_type: String,
    /// How to use it: `Bearer`, or `N_A` for tokens that are not access tokens.
    pub token_type: String,
    /// Lifetime in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// Scope of the issued token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// A refresh token, when the provider issues one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
}

pub(crate) async fn exchange(
    call: Call<'_>,
    request: &TokenExchangeRequest,
) -> Result<TokenExchangeResponse> {
    let mut params: Vec<(&str, &str)> = vec![
        ("grant_type", GRANT_TYPE),
        ("subject_token", request.subject_token.expose()),
        ("subject_token_type", &request.subject_token_type),
    ];
    if let Some(actor) = &request.actor_token {
        params.push(("actor_token", actor.expose()));
    }
    if let Some(t) = &request.actor_token_type {
        params.push(("actor_token_type", t));
    }
    if let Some(t) = &request.requested_token_type {
        params.push(("requested_token_type", t));
    }
    for a in &request.audience {
        params.push(("audience", a));
    }
    for r in &request.resource {
        params.push(("resource", r));
    }
    if let Some(s) = &request.scope {
        params.push(("scope", s));
    }
    call.json("token exchange response", &params).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_map_to_urns() {
        assert_eq!(token_type("access_token"), Some(token_types::ACCESS_TOKEN));
        assert_eq!(token_type("jwt"), Some(token_types::JWT));
        assert_eq!(token_type("urn:x:y"), Some("urn:x:y"));
        assert_eq!(token_type("bogus"), None);
        let r: TokenExchangeResponse = serde_json::from_str(
            r#"{"access_token":"t","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":60}"#,
        )
        .unwrap();
        assert!(!format!("{r:?}").contains("\"t\""));
        let missing: std::result::Result<TokenExchangeResponse, _> =
            serde_json::from_str(r#"{"access_token":"t","token_type":"Bearer"}"#);
        assert!(missing.is_err(), "issued_token_type is required");
    }
}
