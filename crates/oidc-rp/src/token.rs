//! Token endpoint grants. The response type is `oauth2`'s [`oauth2::StandardTokenResponse`]
//! with the members OpenID Connect and RFC 8693 add ([`OidcTokenFields`]).

use crate::endpoint::Call;
use crate::error::Result;
use crate::secret::Secret;
use oauth2::TokenResponse as _;
use serde::{Deserialize, Serialize};

/// Token response members beyond RFC 6749 §5.1.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct OidcTokenFields {
    /// The ID token (OIDC Core §3.1.3.3), kept compact and unverified until validated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
    /// RFC 8693 §2.2.1 `issued_token_type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<String>,
}

impl oauth2::ExtraTokenFields for OidcTokenFields {}

/// A token response.
pub type TokenResponse =
    oauth2::StandardTokenResponse<OidcTokenFields, oauth2::basic::BasicTokenType>;

/// True for `token_type: Bearer` (any case, RFC 6749 §5.1 says it is case-insensitive).
pub fn is_bearer(response: &TokenResponse) -> bool {
    matches!(response.token_type(), oauth2::basic::BasicTokenType::Bearer)
}

/// The granted scope of a token response as one space-separated string (RFC 6749 §5.1), when
/// the provider named one.
pub fn scope_string(response: &TokenResponse) -> Option<String> {
    response.scopes().map(|scopes| {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    })
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
