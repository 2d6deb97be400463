//! Failures of the CLI and their exit statuses (documented in `rp --help`).

use oidc_rp::ErrorKind;

/// Exit statuses.
pub mod code {
    /// Success.
    pub const OK: u8 = 0;
    /// A bug or an unexpected condition.
    pub const INTERNAL: u8 = 1;
    /// Bad flags, bad URL, unreadable file.
    pub const USAGE: u8 = 2;
    /// Provider unreachable, timed out, TLS failure (or the Redis of `rp web --redis`).
    pub const UNREACHABLE: u8 = 3;
    /// Provider error response.
    pub const PROVIDER: u8 = 4;
    /// Validation failure.
    pub const VALIDATION: u8 = 5;
    /// No callback before the listener's timeout.
    pub const LISTENER_TIMEOUT: u8 = 6;
    /// The login form rejected the credentials.
    pub const LOGIN_REJECTED: u8 = 7;
    /// Token cache failure.
    pub const CACHE: u8 = 8;
    /// Conformance tests failed.
    pub const FAILED: u8 = 9;
    /// The provider lacks what the command needs (an endpoint, a grant, a method).
    pub const UNSUPPORTED: u8 = 10;
    /// No valid token: the cached one expired (or is about to) and cannot be refreshed.
    pub const LOGIN_REQUIRED: u8 = 11;
    /// `rp audit`: a check failed.
    pub const AUDIT_FAILED: u8 = 12;
}

/// A failure of a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// From the library.
    #[error(transparent)]
    Rp(#[from] oidc_rp::Error),
    /// From the bundled provider (it could not start, its fixtures are unreadable, ...).
    #[error("the bundled provider: {0}")]
    Provider(#[from] rp_provider::error::Error),
    /// Bad usage.
    #[error("{0}")]
    Usage(String),
    /// The listener waited in vain.
    #[error("{}", listener_timeout(*.seconds, *.rejected, .purpose))]
    ListenerTimeout {
        /// How long it waited.
        seconds: u64,
        /// Callbacks refused because their state did not match.
        rejected: usize,
        /// "login" or "logout".
        purpose: &'static str,
    },
    /// The token cache.
    #[error("token cache: {0}")]
    Cache(String),
    /// A service rp itself needs (the Redis of `rp web --redis`) does not answer.
    #[error("{0}")]
    Unreachable(String),
    /// Anything else.
    #[error("{0}")]
    Internal(String),
    /// Some checks of a test run failed.
    #[error("{0}")]
    Failed(String),
    /// The provider under audit failed some checks.
    #[error("{0}")]
    AuditFailed(String),
    /// The cached login has no token that is still valid, and none can be had without the
    /// user (no refresh token, or a refresh that brings no new ID token).
    #[error(
        "{reason}; log in again: rp login --profile {profile} --issuer {issuer} (with its client)"
    )]
    LoginRequired {
        /// The profile.
        profile: String,
        /// Its issuer.
        issuer: String,
        /// Why.
        reason: String,
    },
}

fn listener_timeout(seconds: u64, rejected: usize, purpose: &str) -> String {
    if rejected > 0 {
        format!(
            "state mismatch: no valid redirect arrived within {seconds} s, and {rejected} callback(s) with a wrong state were refused (RFC 6749 §10.12); something other than your provider is sending requests to the listener"
        )
    } else {
        format!(
            "no redirect arrived within {seconds} s; finish the {purpose} in the browser sooner, or raise --timeout{}",
            if purpose == "login" {
                " (a browser on another machine cannot reach this one: use --device or --paste)"
            } else {
                ""
            }
        )
    }
}

impl CliError {
    /// What to do about it, in terms of rp's own flags, when the library's typed error data
    /// says more than its message (the library speaks no CLI).
    pub fn hint(&self) -> Option<String> {
        use oidc_rp::{Error, LoginError};
        match self {
            CliError::Rp(Error::Tls { .. }) => Some(
                "a provider with a private CA: trust it with --ca-file PEM (never --insecure-skip-tls-verify outside a lab)".into(),
            ),
            CliError::Rp(Error::Login(LoginError::RedirectUriRefused { redirect_uri, .. })) => {
                Some(format!(
                    "rp sent {redirect_uri}; register that exact URI with the provider, or make rp send the registered one (rp login: --port N; rp logout: --post-logout-redirect-uri URI)"
                ))
            }
            CliError::Rp(Error::Login(LoginError::Unsupported { .. })) => Some(
                "open the page in a browser instead: drop --username/--headless (or use --no-browser and open the URL yourself)".into(),
            ),
            _ => None,
        }
    }

    /// The exit status.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Rp(e) => match e.kind() {
                ErrorKind::Config => code::USAGE,
                ErrorKind::Unreachable => code::UNREACHABLE,
                ErrorKind::Provider => code::PROVIDER,
                ErrorKind::Validation => code::VALIDATION,
                ErrorKind::LoginRejected => code::LOGIN_REJECTED,
                ErrorKind::Unsupported => code::UNSUPPORTED,
                _ => code::INTERNAL,
            },
            CliError::Provider(e) => match e {
                rp_provider::error::Error::Listen { .. }
                | rp_provider::error::Error::Fixtures(_)
                | rp_provider::error::Error::Issuer { .. }
                | rp_provider::error::Error::Target(_) => code::USAGE,
                _ => code::INTERNAL,
            },
            CliError::Usage(_) => code::USAGE,
            CliError::ListenerTimeout { rejected, .. } if *rejected > 0 => code::VALIDATION,
            CliError::ListenerTimeout { .. } => code::LISTENER_TIMEOUT,
            CliError::Cache(_) => code::CACHE,
            CliError::Unreachable(_) => code::UNREACHABLE,
            CliError::Internal(_) => code::INTERNAL,
            CliError::Failed(_) => code::FAILED,
            CliError::AuditFailed(_) => code::AUDIT_FAILED,
            CliError::LoginRequired { .. } => code::LOGIN_REQUIRED,
        }
    }
}
