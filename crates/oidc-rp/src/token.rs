//! Token endpoint grants and what they return: [`TokenResponse`] (RFC 6749 §5.1 with the
//! members OpenID Connect and RFC 8693 add), and [`AccessToken`], an access token together
//! with how it must be presented (`Bearer`, RFC 6750; `DPoP`, RFC 9449).

use crate::endpoint::Call;
use crate::error::Result;
use crate::secret::Secret;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::time::Duration;

/// How an access token is presented (RFC 6749 §7.1). Compared case-insensitively (§5.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// RFC 6750: `Authorization: Bearer <token>`.
    Bearer,
    /// RFC 9449: `Authorization: DPoP <token>` with a proof of possession.
    DPoP,
    /// Anything else, as sent (`N_A` for RFC 8693 tokens that are not access tokens).
    Other(String),
}

impl TokenType {
    /// Parse a `token_type` value.
    pub fn parse(value: &str) -> TokenType {
        if value.eq_ignore_ascii_case("bearer") {
            TokenType::Bearer
        } else if value.eq_ignore_ascii_case("dpop") {
            TokenType::DPoP
        } else {
            TokenType::Other(value.to_string())
        }
    }

    /// The registered spelling.
    pub fn as_str(&self) -> &str {
        match self {
            TokenType::Bearer => "Bearer",
            TokenType::DPoP => "DPoP",
            TokenType::Other(s) => s,
        }
    }
}

impl std::fmt::Display for TokenType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TokenType {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TokenType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(TokenType::parse(&String::deserialize(d)?))
    }
}

/// An access token and the scheme it must be presented with.
///
/// ```
/// use oidc_rp::{AccessToken, TokenType};
/// let token = AccessToken::bearer("2YotnFZFEjr1zCsicMWpAA");
/// assert_eq!(token.token_type, TokenType::Bearer);
/// assert_eq!(token.authorization(), "Bearer 2YotnFZFEjr1zCsicMWpAA");
/// assert!(!format!("{token:?}").contains("2YotnFZ"), "never in Debug output");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    /// The token.
    pub value: Secret,
    /// How to present it.
    pub token_type: TokenType,
}

impl AccessToken {
    /// A Bearer token (RFC 6750).
    pub fn bearer(value: impl Into<Secret>) -> Self {
        AccessToken {
            value: value.into(),
            token_type: TokenType::Bearer,
        }
    }

    /// The token's text (to send it, never to print it).
    pub fn expose(&self) -> &str {
        self.value.expose()
    }

    /// The `Authorization` header value: `Bearer <token>` or `DPoP <token>` (RFC 6750 §2.1,
    /// RFC 9449 §7.1).
    pub fn authorization(&self) -> String {
        format!("{} {}", self.token_type.as_str(), self.value.expose())
    }
}

/// `expires_in`: a number of seconds (RFC 6749 §5.1); a numeric string is read too, as some
/// providers send one.
fn lifetime<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrString {
        Number(u64),
        Float(f64),
        String(String),
    }
    Ok(match Option::<NumberOrString>::deserialize(d)? {
        None => None,
        Some(NumberOrString::Number(n)) => Some(n),
        Some(NumberOrString::Float(f)) if f.is_finite() && f >= 0.0 => Some(f as u64),
        Some(NumberOrString::Float(_)) => None,
        Some(NumberOrString::String(s)) => s.trim().parse().ok(),
    })
}

/// A token endpoint response (RFC 6749 §5.1; OIDC Core §3.1.3.3 adds `id_token`, RFC 8693
/// §2.2.1 `issued_token_type`). Unknown members are kept in `extra`. Secrets never appear in
/// `Debug` output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    /// `access_token`.
    pub access_token: Secret,
    /// `token_type` (required by RFC 6749 §5.1).
    pub token_type: TokenType,
    /// `expires_in`, in seconds.
    #[serde(
        default,
        deserialize_with = "lifetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_in: Option<u64>,
    /// `refresh_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// `scope`, as granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `id_token`, compact and unverified until validated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
    /// `issued_token_type` (RFC 8693).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<String>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TokenResponse {
    /// The access token with its type.
    pub fn access_token(&self) -> AccessToken {
        AccessToken {
            value: self.access_token.clone(),
            token_type: self.token_type.clone(),
        }
    }

    /// The refresh token, when one was issued.
    pub fn refresh_token(&self) -> Option<&Secret> {
        self.refresh_token.as_ref()
    }

    /// The access token's lifetime.
    pub fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }

    /// The granted scope, space-separated (RFC 6749 §3.3).
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// The compact ID token, not yet validated.
    pub fn id_token(&self) -> Option<&Secret> {
        self.id_token.as_ref()
    }

    /// Whether `token_type` is Bearer.
    pub fn is_bearer(&self) -> bool {
        self.token_type == TokenType::Bearer
    }
}

/// Redeem an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5).
pub(crate) async fn exchange_code(
    call: Call<'_>,
    code: &Secret,
    redirect_uri: &str,
    verifier: &Secret,
) -> Result<TokenResponse> {
    call.json(
        "token response",
        &[
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.expose()),
        ],
    )
    .await
}

/// The refresh_token grant (RFC 6749 §6). An optional narrower `scope` may be asked for.
pub(crate) async fn refresh(
    call: Call<'_>,
    refresh_token: &str,
    scope: Option<&str>,
) -> Result<TokenResponse> {
    let mut params = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        params.push(("scope", scope));
    }
    call.json("token response", &params).await
}

/// A `client_credentials` request (RFC 6749 §4.4): a token for the client itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCredentialsRequest {
    /// `scope`; without it the provider applies the client's default (RFC 6749 §3.3).
    pub scope: Option<String>,
    /// Target resource URIs (`resource`, repeatable, RFC 8707 §2).
    pub resource: Vec<String>,
    /// Logical target names (`audience`, repeatable): not in RFC 6749, but what providers in
    /// the Auth0 family require instead of `resource`.
    pub audience: Vec<String>,
}

/// The client_credentials grant (RFC 6749 §4.4).
pub(crate) async fn client_credentials(
    call: Call<'_>,
    request: &ClientCredentialsRequest,
) -> Result<TokenResponse> {
    let mut params = vec![("grant_type", "client_credentials")];
    if let Some(scope) = &request.scope {
        params.push(("scope", scope));
    }
    for r in &request.resource {
        params.push(("resource", r));
    }
    for a in &request.audience {
        params.push(("audience", a));
    }
    call.json("token response", &params).await
}

/// A device code token request (RFC 8628 §3.4).
pub(crate) async fn device_code(call: Call<'_>, device_code: &str) -> Result<TokenResponse> {
    call.json(
        "token response",
        &[
            ("grant_type", crate::device::GRANT_TYPE),
            ("device_code", device_code),
        ],
    )
    .await
}
