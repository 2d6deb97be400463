//! What a service does with an [`Error`]: its class (which HTTP answer it maps to) and, for
//! errors a provider sent, the OAuth error code as an enum.
//!
//! ```
//! use oidc_rp::{Error, ErrorClass, OAuthErrorCode};
//! # fn answer(e: &Error) -> u16 {
//! match e.class() {
//!     ErrorClass::UserDeclined => 403,   // ask again, or explain
//!     other => other.http_status(),
//! }
//! # }
//! assert_eq!(OAuthErrorCode::parse("login_required"), OAuthErrorCode::LoginRequired);
//! assert_eq!(OAuthErrorCode::parse("x_custom").as_str(), "x_custom");
//! ```

use crate::error::{Error, ErrorKind};
use crate::report::CheckId;

/// How a service should answer an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The browser sent something that is not an answer to this login: a duplicated
    /// callback parameter, a `state` of another login (a stale tab, or CSRF), a response
    /// for another issuer. Answer 400 and let the user start again.
    BadRequest,
    /// The user said no, or the provider needs the user (`access_denied`,
    /// `login_required`, `consent_required`, `interaction_required`,
    /// `account_selection_required`: RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6). Not a failure
    /// of anything: ask again, or explain.
    UserDeclined,
    /// The provider failed, or sent something that did not pass the checks (an ID token
    /// with a bad signature, a malformed answer): answer 502.
    Provider,
    /// The provider could not be reached in time: answer 503 and retry later.
    Unavailable,
    /// The service's configuration or code is wrong (a transaction of another client, an
    /// unsupported algorithm, a missing credential): answer 500 and fix the configuration.
    Configuration,
}

impl ErrorClass {
    /// The HTTP status a service would usually answer.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorClass::BadRequest => 400,
            ErrorClass::UserDeclined => 403,
            ErrorClass::Provider => 502,
            ErrorClass::Unavailable => 503,
            ErrorClass::Configuration => 500,
        }
    }
}

/// Checks made on what the browser brought back, before anything reaches the provider.
fn browser_check(check: CheckId) -> bool {
    matches!(
        check,
        CheckId::State | CheckId::IssParameter | CheckId::ResponseJwt
    )
}

impl Error {
    /// The class of this error: how a service should answer it.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::BadResponse {
                what: "authorization response",
                ..
            } => ErrorClass::BadRequest,
            Error::Validation(v) if browser_check(v.check) => ErrorClass::BadRequest,
            Error::Sealed { .. } => ErrorClass::BadRequest,
            Error::Authorization(e) if OAuthErrorCode::parse(&e.error).user_declined() => {
                ErrorClass::UserDeclined
            }
            Error::Authorization(e) => match OAuthErrorCode::parse(&e.error) {
                OAuthErrorCode::ServerError | OAuthErrorCode::TemporarilyUnavailable => {
                    ErrorClass::Provider
                }
                // The request itself was refused: the client's registration or the request
                // the service built.
                _ => ErrorClass::Configuration,
            },
            Error::Provider(p)
                if matches!(
                    p.error.as_deref().map(OAuthErrorCode::parse),
                    Some(
                        OAuthErrorCode::InvalidClient
                            | OAuthErrorCode::UnauthorizedClient
                            | OAuthErrorCode::InvalidScope
                    )
                ) =>
            {
                ErrorClass::Configuration
            }
            Error::Refresh(r) => r.cause.class(),
            _ => match self.kind() {
                ErrorKind::Config | ErrorKind::Unsupported => ErrorClass::Configuration,
                ErrorKind::Unreachable => ErrorClass::Unavailable,
                _ => ErrorClass::Provider,
            },
        }
    }

    /// The OAuth error code a provider sent, when this error carries one.
    pub fn oauth_error(&self) -> Option<OAuthErrorCode> {
        match self {
            Error::Authorization(e) => Some(OAuthErrorCode::parse(&e.error)),
            Error::Provider(p) => p.error.as_deref().map(OAuthErrorCode::parse),
            Error::Refresh(r) => r.cause.oauth_error(),
            _ => None,
        }
    }
}

/// An OAuth error code (RFC 6749 §4.1.2.1 and §5.2, OIDC Core §3.1.2.6, RFC 8628 §3.5,
/// RFC 9449 §12, RFC 9126 §2.3, RFC 9101 §6.3); an unknown code is kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_request`.
    InvalidRequest,
    /// `invalid_client`.
    InvalidClient,
    /// `invalid_grant`.
    InvalidGrant,
    /// `unauthorized_client`.
    UnauthorizedClient,
    /// `unsupported_grant_type`.
    UnsupportedGrantType,
    /// `unsupported_response_type`.
    UnsupportedResponseType,
    /// `invalid_scope`.
    InvalidScope,
    /// `access_denied`.
    AccessDenied,
    /// `server_error`.
    ServerError,
    /// `temporarily_unavailable`.
    TemporarilyUnavailable,
    /// `interaction_required`.
    InteractionRequired,
    /// `login_required`.
    LoginRequired,
    /// `account_selection_required`.
    AccountSelectionRequired,
    /// `consent_required`.
    ConsentRequired,
    /// `invalid_request_uri`.
    InvalidRequestUri,
    /// `invalid_request_object`.
    InvalidRequestObject,
    /// `request_not_supported`.
    RequestNotSupported,
    /// `request_uri_not_supported`.
    RequestUriNotSupported,
    /// `registration_not_supported`.
    RegistrationNotSupported,
    /// `authorization_pending` (RFC 8628).
    AuthorizationPending,
    /// `slow_down` (RFC 8628).
    SlowDown,
    /// `expired_token` (RFC 8628).
    ExpiredToken,
    /// `invalid_dpop_proof` (RFC 9449).
    InvalidDpopProof,
    /// `use_dpop_nonce` (RFC 9449).
    UseDpopNonce,
    /// `invalid_token` (RFC 6750).
    InvalidToken,
    /// `insufficient_scope` (RFC 6750).
    InsufficientScope,
    /// Any other code, verbatim.
    Other(String),
}

const CODES: &[(&str, OAuthErrorCode)] = &[
    ("invalid_request", OAuthErrorCode::InvalidRequest),
    ("invalid_client", OAuthErrorCode::InvalidClient),
    ("invalid_grant", OAuthErrorCode::InvalidGrant),
    ("unauthorized_client", OAuthErrorCode::UnauthorizedClient),
    (
        "unsupported_grant_type",
        OAuthErrorCode::UnsupportedGrantType,
    ),
    (
        "unsupported_response_type",
        OAuthErrorCode::UnsupportedResponseType,
    ),
    ("invalid_scope", OAuthErrorCode::InvalidScope),
    ("access_denied", OAuthErrorCode::AccessDenied),
    ("server_error", OAuthErrorCode::ServerError),
    (
        "temporarily_unavailable",
        OAuthErrorCode::TemporarilyUnavailable,
    ),
    ("interaction_required", OAuthErrorCode::InteractionRequired),
    ("login_required", OAuthErrorCode::LoginRequired),
    (
        "account_selection_required",
        OAuthErrorCode::AccountSelectionRequired,
    ),
    ("consent_required", OAuthErrorCode::ConsentRequired),
    ("invalid_request_uri", OAuthErrorCode::InvalidRequestUri),
    (
        "invalid_request_object",
        OAuthErrorCode::InvalidRequestObject,
    ),
    ("request_not_supported", OAuthErrorCode::RequestNotSupported),
    (
        "request_uri_not_supported",
        OAuthErrorCode::RequestUriNotSupported,
    ),
    (
        "registration_not_supported",
        OAuthErrorCode::RegistrationNotSupported,
    ),
    (
        "authorization_pending",
        OAuthErrorCode::AuthorizationPending,
    ),
    ("slow_down", OAuthErrorCode::SlowDown),
    ("expired_token", OAuthErrorCode::ExpiredToken),
    ("invalid_dpop_proof", OAuthErrorCode::InvalidDpopProof),
    ("use_dpop_nonce", OAuthErrorCode::UseDpopNonce),
    ("invalid_token", OAuthErrorCode::InvalidToken),
    ("insufficient_scope", OAuthErrorCode::InsufficientScope),
];

impl OAuthErrorCode {
    /// The code of `text` (exact, case-sensitive, as RFC 6749 defines them).
    pub fn parse(text: &str) -> OAuthErrorCode {
        CODES
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| OAuthErrorCode::Other(text.to_string()))
    }

    /// The code as sent.
    pub fn as_str(&self) -> &str {
        match self {
            OAuthErrorCode::Other(s) => s,
            known => CODES
                .iter()
                .find(|(_, c)| c == known)
                .map(|(n, _)| *n)
                .unwrap_or(""),
        }
    }

    /// Whether the user said no or must interact (OIDC Core §3.1.2.6, RFC 6749 §4.1.2.1).
    pub fn user_declined(&self) -> bool {
        matches!(
            self,
            OAuthErrorCode::AccessDenied
                | OAuthErrorCode::LoginRequired
                | OAuthErrorCode::ConsentRequired
                | OAuthErrorCode::InteractionRequired
                | OAuthErrorCode::AccountSelectionRequired
        )
    }
}

impl std::fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AuthorizationError;
    use crate::error::ConfigError;

    fn authz(code: &str) -> Error {
        Error::Authorization(AuthorizationError {
            error: code.into(),
            description: None,
            uri: None,
        })
    }

    #[test]
    fn codes_round_trip_and_unknown_ones_are_kept() {
        for (name, code) in CODES {
            assert_eq!(&OAuthErrorCode::parse(name), code);
            assert_eq!(code.as_str(), *name);
        }
        assert_eq!(
            OAuthErrorCode::parse("Login_Required"),
            OAuthErrorCode::Other("Login_Required".into())
        );
    }

    #[test]
    fn classes_map_to_the_answers_a_service_gives() {
        assert_eq!(authz("access_denied").class(), ErrorClass::UserDeclined);
        assert_eq!(authz("login_required").class(), ErrorClass::UserDeclined);
        assert_eq!(authz("server_error").class(), ErrorClass::Provider);
        assert_eq!(
            authz("unauthorized_client").class(),
            ErrorClass::Configuration
        );
        let dup = crate::CallbackParams::parse(b"code=a&code=b").unwrap_err();
        assert_eq!(dup.class(), ErrorClass::BadRequest);
        assert_eq!(dup.class().http_status(), 400);
        // A transaction of another provider or client: the service routed it wrong.
        assert_eq!(
            Error::Config(ConfigError::TransactionMismatch).class(),
            ErrorClass::Configuration
        );
    }
}
