//! Typed errors. Every failure names its cause and, where the user can act, what to do.
//!
//! Messages never contain secrets: tokens, codes, client secrets and passwords are not
//! formatted into any variant (provider error descriptions are passed through, truncated).

use crate::report::{CheckId, Report};

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to a provider or validating what it sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The shared store (Redis, say) did not answer: nothing was accepted.
    #[error("the shared store failed: {reason}; nothing was accepted")]
    Store {
        /// Why.
        reason: String,
    },
    /// A sealed value (a cookie) that does not open: altered, expired, for another browser.
    #[error("the sealed value was refused: {reason}")]
    Sealed {
        /// Why.
        reason: &'static str,
    },
    /// A URL given by the caller or found in metadata is malformed or not allowed.
    #[error("invalid URL `{url}`: {reason}")]
    InvalidUrl {
        /// The offending URL (never contains secrets: query strings are not shown).
        url: String,
        /// Why it was refused.
        reason: String,
    },

    /// The caller's configuration cannot work (a missing secret, an unusable key, ...).
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// The provider does not offer what was asked for (no such endpoint in its OpenID or
    /// RFC 8414 metadata, a grant or method it does not support). Not the caller's mistake.
    #[error("{issuer} does not offer {capability}{}", .detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Unsupported {
        /// The issuer.
        issuer: String,
        /// What is missing ("an introspection endpoint", "dynamic client registration", ...).
        capability: String,
        /// Where it was looked for, or what the provider offers instead.
        detail: Option<String>,
    },

    /// The provider could not be reached (DNS, connection refused, reset).
    #[error("cannot reach {url}: {reason}; check the URL and that the provider is running")]
    Unreachable {
        /// The URL requested (without query).
        url: String,
        /// The lowest-level cause.
        reason: String,
    },

    /// The provider did not answer in time.
    #[error(
        "{url} did not answer within {seconds} s; the provider may be down or overloaded (raise the timeout if it is just slow)"
    )]
    Timeout {
        /// The URL requested (without query).
        url: String,
        /// The timeout that expired.
        seconds: u64,
    },

    /// TLS failed: untrusted certificate, wrong host name, protocol error.
    #[error(
        "TLS failure talking to {url}: {reason}; if the provider uses a private CA, trust its certificate"
    )]
    Tls {
        /// The URL requested (without query).
        url: String,
        /// The lowest-level cause.
        reason: String,
    },

    /// The response exceeded the configured size cap.
    #[error(
        "{url} sent more than {limit} bytes; refusing to read further (raise the response size limit if this is expected)"
    )]
    ResponseTooLarge {
        /// The URL requested (without query).
        url: String,
        /// The cap in bytes.
        limit: usize,
    },

    /// The provider answered, but not with something this protocol step accepts
    /// (malformed JSON, wrong content type, a missing required member).
    #[error("{what} from {url} is not valid: {reason}")]
    BadResponse {
        /// What was expected ("discovery document", "token response", ...).
        what: &'static str,
        /// The URL requested (without query).
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The provider answered with an OAuth error (RFC 6749 §5.2) or another HTTP error status.
    #[error(transparent)]
    Provider(#[from] ProviderError),

    /// The authorization endpoint sent back an error response (RFC 6749 §4.1.2.1).
    #[error(transparent)]
    Authorization(#[from] AuthorizationError),

    /// The discovery document names another issuer than the one asked for
    /// (OpenID Connect Discovery 1.0 §4.3, RFC 8414 §3.3).
    #[error(
        "issuer mismatch (OpenID Connect Discovery 1.0 §4.3): you asked for `{expected}` but {url} says the issuer is `{found}`; use exactly `{found}` as the issuer if you trust it"
    )]
    IssuerMismatch {
        /// The issuer the caller asked for.
        expected: String,
        /// The issuer in the document.
        found: String,
        /// Where the document came from.
        url: String,
    },

    /// A security check failed: state, `iss`, ID token, userinfo, logout token.
    #[error(transparent)]
    Validation(#[from] ValidationError),

    /// Headless login could not get through the provider's pages.
    #[error("{0}")]
    Login(#[from] LoginError),

    /// A refresh failed after the provider had already rotated the refresh token: the cause,
    /// and the new refresh token, which the caller must keep (RFC 6749 §6, RFC 9700 §4.14.2:
    /// the old one is spent, and presenting it again revokes the grant at providers that
    /// detect reuse).
    #[error(transparent)]
    Refresh(Box<RefreshError>),

    /// A device login (RFC 8628) ended without tokens: the user said no, or the code expired.
    #[error(transparent)]
    Device(#[from] DeviceError),
}

/// How a device login (RFC 8628 §3.5) ended without tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// `access_denied`: the user refused on the verification page.
    #[error(
        "device login denied (access_denied, RFC 8628 §3.5): the user refused the request at the verification page; start a new device login to try again"
    )]
    Denied,
    /// `expired_token`, or the code's `expires_in` passed while polling.
    #[error(
        "device code expired (expired_token, RFC 8628 §3.5) after {waited_secs} s without approval; start a new device login and approve it sooner"
    )]
    Expired {
        /// How long the client polled.
        waited_secs: u64,
    },
}

impl Error {
    /// The broad class of this error, for exit codes and retry decisions.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidUrl { .. } | Error::Config(_) => ErrorKind::Config,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::Unreachable { .. }
            | Error::Timeout { .. }
            | Error::Tls { .. }
            | Error::Store { .. } => ErrorKind::Unreachable,
            Error::ResponseTooLarge { .. }
            | Error::BadResponse { .. }
            | Error::Provider(_)
            | Error::Authorization(_) => ErrorKind::Provider,
            Error::IssuerMismatch { .. } | Error::Validation(_) | Error::Sealed { .. } => {
                ErrorKind::Validation
            }
            Error::Login(LoginError::Rejected { .. }) => ErrorKind::LoginRejected,
            Error::Login(_) => ErrorKind::Provider,
            Error::Refresh(r) => r.cause.kind(),
            Error::Device(_) => ErrorKind::Provider,
        }
    }

    /// The failed check, when this is a validation failure.
    pub fn check(&self) -> Option<CheckId> {
        match self {
            Error::Validation(v) => Some(v.check),
            Error::IssuerMismatch { .. } => Some(CheckId::DiscoveryIssuer),
            Error::Refresh(r) => r.cause.check(),
            Error::Device(_) => Some(CheckId::DeviceGrant),
            _ => None,
        }
    }

    /// The validation failure with its report, when this is one.
    pub fn validation(&self) -> Option<&ValidationError> {
        match self {
            Error::Validation(v) => Some(v),
            Error::Refresh(r) => r.cause.validation(),
            _ => None,
        }
    }

    /// A validation failure's report, with the checks made before it (`earlier`) in front:
    /// the whole story of one step. Other errors pass unchanged.
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty, login: &oidc_rp::Login) -> oidc_rp::Result<()> {
    /// // A userinfo refusal reported after every check of the login it follows.
    /// let info = rp
    ///     .userinfo(&login.tokens.access_token(), &login.id_token)
    ///     .await
    ///     .map_err(|e| e.after(&login.report))?;
    /// # let _ = info; Ok(()) }
    /// ```
    pub fn after(self, earlier: &crate::report::Report) -> Error {
        match self {
            Error::Validation(mut v) => {
                let mut full = earlier.clone();
                full.extend(v.report);
                v.report = full;
                Error::Validation(v)
            }
            other => other,
        }
    }

    /// The refresh token a failed refresh response carried, when the provider rotated it:
    /// keep it in place of the one sent.
    pub fn rotated_refresh_token(&self) -> Option<&crate::secret::Secret> {
        match self {
            Error::Refresh(r) => Some(&r.rotated_refresh_token),
            _ => None,
        }
    }
}

/// A refresh refused after the provider rotated the refresh token (see [`Error::Refresh`]).
#[derive(Debug, thiserror::Error)]
#[error("{cause}")]
pub struct RefreshError {
    /// Why the refreshed tokens were refused (a failed check of the new ID token, most often).
    pub cause: Error,
    /// The new refresh token the response carried. The access and ID tokens of a refused
    /// response are not handed out.
    pub rotated_refresh_token: crate::secret::Secret,
}

/// What is wrong with the caller's configuration: each case with the data a caller (or a
/// CLI turning it into a hint) needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The client cannot meet the FAPI 2.0 Security Profile.
    #[error("the client cannot meet the FAPI 2.0 Security Profile: it needs {missing}")]
    Fapi2 {
        /// What it lacks.
        missing: String,
    },
    /// Pushed delivery (or a provider that requires it) needs the pushed request call.
    #[error(
        "this request must be pushed first (RFC 9126): use push_authorization_request, not authorization_url"
    )]
    PushRequired,
    /// A client authentication method needs a credential the client was not given.
    #[error("{method} needs {what}, and none was given")]
    MissingCredential {
        /// The method (`client_secret_basic`, `private_key_jwt`, ...).
        method: String,
        /// "a client secret", "the client's private key".
        what: &'static str,
    },
    /// None of the provider's client authentication methods is one this client can use.
    #[error(
        "the provider's {endpoint} endpoint supports none of the methods this client can authenticate with ({has})"
    )]
    NoUsableAuthMethod {
        /// Which endpoint.
        endpoint: &'static str,
        /// What the client has.
        has: &'static str,
    },
    /// A grant a public client may not use.
    #[error("{grant} needs a confidential client (RFC 6749 §4.4): give a client secret or key")]
    PublicClient {
        /// The grant.
        grant: &'static str,
    },
    /// A JOSE algorithm this crate does not support, or one refused in this place.
    #[error("unsupported {what} `{alg}`")]
    UnsupportedAlg {
        /// Which setting (`id_token_signed_response_alg`, ...).
        what: &'static str,
        /// The value.
        alg: String,
    },
    /// An authorization parameter this crate sets itself was given as an extra parameter.
    #[error("the extra parameter `{0}` is set by this library itself; use the dedicated option")]
    ReservedParameter(String),
    /// Claims that do not fit the caller's type.
    #[error("the claims do not fit the requested type: {0}")]
    Claims(String),
    /// A transaction (or token) of another provider or client.
    #[error("this transaction was started with another provider or client")]
    TransactionMismatch,
    /// The client's key cannot be read or used.
    #[error("the client key {0}")]
    ClientKey(String),
    /// A CA file cannot be read or holds no certificate.
    #[error("the CA file {path}: {reason}")]
    CaFile {
        /// The path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The HTTP client could not be built (a TLS setting).
    #[error("cannot set up the HTTP client: {0}")]
    HttpClient(String),
    /// A registration value is not acceptable.
    #[error("cannot register: {0}")]
    Registration(String),
    /// A JWKS cache for another `jwks_uri`.
    #[error("the JWKS cache is for another jwks_uri than this provider's")]
    JwksCacheMismatch,
    /// A saved cookie jar cannot be read or written.
    #[error("the cookie jar: {0}")]
    CookieJar(String),
    /// The provider's metadata rules out this request object (RFC 9101 §10.1, OIDC
    /// Discovery: `request_parameter_supported`, `request_uri_parameter_supported`,
    /// `request_object_signing_alg_values_supported`).
    #[error("the provider does not accept this request object: {0}")]
    RequestObject(String),
    /// A response type and mode that do not go together.
    #[error("{0}")]
    ResponseMode(String),
}

/// Broad classes of [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller's input or configuration is wrong.
    Config,
    /// The provider could not be reached, timed out, or TLS failed.
    Unreachable,
    /// The provider answered with an error or something unusable.
    Provider,
    /// A security check failed.
    Validation,
    /// The provider's login form refused the credentials.
    LoginRejected,
    /// The provider lacks a capability the operation needs.
    Unsupported,
}

/// An error answer from a provider endpoint.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the provider's {endpoint} endpoint answered HTTP {status}{}{}{}",
    .error.as_deref().map(|e| format!(": {e}")).unwrap_or_default(),
    .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default(),
    hint(.error.as_deref()))]
pub struct ProviderError {
    /// Which endpoint ("token", "userinfo", "registration", ...).
    pub endpoint: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// The OAuth `error` code, when the body carried one.
    pub error: Option<String>,
    /// The `error_description`, truncated to 300 characters.
    pub description: Option<String>,
    /// The `error_uri`.
    pub uri: Option<String>,
}

fn hint(error: Option<&str>) -> &'static str {
    match error {
        Some("invalid_client") => "; check the client id and secret, and the authentication method",
        Some("invalid_grant") => {
            "; the code or refresh token is invalid, expired, already used or revoked: log in again"
        }
        Some("unauthorized_client") => {
            "; the client is not allowed this grant: check its registration"
        }
        Some("invalid_token") => {
            "; the access token is invalid or expired: refresh it or log in again"
        }
        Some("invalid_scope") => "; ask for scopes the client is allowed",
        Some("invalid_redirect_uri") => "; register the redirect URI with the provider",
        _ => "",
    }
}

/// An `error` returned to the redirect URI (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the provider refused the authorization: {error}{}{}",
    .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default(),
    .uri.as_deref().map(|u| format!(", see {u}")).unwrap_or_default())]
pub struct AuthorizationError {
    /// The `error` code (`access_denied`, `login_required`, ...).
    pub error: String,
    /// The `error_description`, truncated.
    pub description: Option<String>,
    /// The `error_uri`.
    pub uri: Option<String>,
}

/// A failed security check, with the report of every check made up to and including it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{subject} rejected by the {} check ({}): {detail}", .check.name(), .check.spec())]
pub struct ValidationError {
    /// What was being validated ("ID token", "authorization response", "userinfo response", ...).
    pub subject: &'static str,
    /// Which check failed.
    pub check: CheckId,
    /// What exactly was wrong.
    pub detail: String,
    /// Every check made, in order; the last one is the failure.
    pub report: Report,
}

/// Headless login could not complete.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The login form came back after the credentials were submitted.
    #[error("login failed: the provider showed its login form again{}; check the username and password",
        .message.as_deref().map(|m| format!(" saying \"{m}\"")).unwrap_or_default())]
    Rejected {
        /// The error text shown on the page, if one could be found.
        message: Option<String>,
    },
    /// A page had no form the headless driver understands.
    #[error("the headless browser stopped at {url}: {reason}; use a real browser instead")]
    Unsupported {
        /// The page (without query).
        url: String,
        /// What the driver found.
        reason: String,
    },
    /// The provider answered a page with an HTTP error.
    #[error("{url} answered HTTP {status}{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    HttpStatus {
        /// The page (without query).
        url: String,
        /// The status.
        status: u16,
        /// Text from the page, truncated.
        message: Option<String>,
    },
    /// A page showed an error after a form was submitted (a wrong or expired device code).
    #[error("{url} refused what was submitted{}", .message.as_deref().map(|m| format!(": \"{m}\"")).unwrap_or_default())]
    Refused {
        /// The page (without query).
        url: String,
        /// The error text shown on the page, if one could be found.
        message: Option<String>,
    },
    /// Too many pages without reaching the redirect URI.
    #[error(
        "the headless browser did not reach the redirect URI after {0} pages; the provider's pages are not plain HTML forms"
    )]
    TooManySteps(usize),
    /// The provider refused the redirect URI (not registered, or not exactly as registered).
    #[error("the provider refused the redirect URI `{redirect_uri}`: {url} answered HTTP {status}{}; register exactly this URI for the client, or send the one it has",
        .message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default())]
    RedirectUriRefused {
        /// The page (without query).
        url: String,
        /// The status.
        status: u16,
        /// Text from the page, truncated.
        message: Option<String>,
        /// The redirect URI that was sent.
        redirect_uri: String,
    },
}

/// Shorten text from a provider before it goes into an error message: control characters
/// become spaces, and the text is cut at `max` characters.
pub fn truncate(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    if clean.chars().count() <= max {
        clean.to_string()
    } else {
        let mut s: String = clean.chars().take(max).collect();
        s.push('…');
        s
    }
}

/// A URL without its query and fragment (which may hold codes and tokens), for messages and
/// logs.
pub fn display_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => truncate(url.split(['?', '#']).next().unwrap_or(""), 200),
    }
}
