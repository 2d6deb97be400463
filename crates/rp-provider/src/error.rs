//! The provider's errors: typed, each naming what failed. Errors a client causes in a request
//! are OAuth error responses, not these: these are the provider's own failures (it cannot
//! start, a key cannot be read or cannot sign) and the reasons behind a refused request that
//! handlers turn into an answer.

/// A provider failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The issuer is not a URL.
    #[error("bad issuer {issuer}: {reason}")]
    Issuer {
        /// The issuer.
        issuer: String,
        /// Why.
        reason: String,
    },
    /// Users, clients or keys could not be read.
    #[error("fixtures: {0}")]
    Fixtures(String),
    /// A key could not be read or made.
    #[error("key: {0}")]
    Key(String),
    /// A token could not be signed.
    #[error("signing: {0}")]
    Signing(String),
    /// The TLS certificate could not be made, or its CA written.
    #[error("TLS: {0}")]
    Tls(String),
    /// Request parameters are malformed (a parameter given twice, bad encoding).
    #[error("{0}")]
    Params(String),
    /// A URL the provider would send a request to is not allowed, or not acceptable.
    #[error("{0}")]
    Target(String),
    /// A client assertion or request object is malformed or does not verify.
    #[error("{0}")]
    ClientJwt(String),
}

/// The provider's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
