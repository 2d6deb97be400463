//! # oidc-rp
//!
//! A strict OpenID Connect Relying Party, built on the `openidconnect` and `oauth2` crates
//! and adding in its own layer what they leave to the caller.
//!
//! **What it is for:** logging users in with the authorization code flow and PKCE, and
//! validating everything the provider sends: the discovery document's issuer, the callback's
//! `state` and RFC 9207 `iss`, every rule of OIDC Core §3.1.3.7 for the ID token (with a
//! [`Report`] of each check), and the userinfo `sub`.
//!
//! **What it is not:** a provider, or a web framework integration. It holds no process-local
//! login state: an in-flight login is an [`AuthTransaction`] the caller keeps.
//!
//! Start with [`RelyingParty`]. Each module owns one protocol step:
//!
//! | module | step |
//! |---|---|
//! | [`http`] | the one HTTP client (redirects off, timeouts, size cap, custom CAs, redacted tracing) |
//! | [`discovery`] | OpenID discovery with RFC 8414 fallback and exact issuer match |
//! | [`keys`] | JWKS cache, key selection, rate-limited single-flight refetch |
//! | [`registration`] | RFC 7591 dynamic registration |
//! | [`authorize`] | authorization URL, `state`/`nonce`/PKCE, callback checks |
//! | [`token`] | token endpoint grants: code, refresh, client credentials |
//! | [`exchange`] | RFC 8693 token exchange, typed |
//! | [`introspect`] | RFC 7662 introspection, RFC 9701 signed responses |
//! | [`revoke`] | RFC 7009 revocation |
//! | [`id_token`] | ID token validation |
//! | [`userinfo`] | userinfo (JSON and signed JWT) |
//! | [`logout`] | RP-initiated logout, logout token validation, front-channel requests |
//!
//! Driving a provider's HTML pages without a browser (scripts, CI) is the separate crate
//! `oidc-rp-headless`, so that the core links no HTML parser or cookie store.

pub mod authorize;
pub mod client;
pub mod client_auth;
pub mod client_key;
pub mod discovery;
pub mod endpoint;
pub mod error;
pub mod exchange;
pub mod http;
pub mod id_token;
pub mod introspect;
pub mod jose;
pub mod jwt;
pub mod keys;
pub mod logout;
pub mod registration;
pub mod report;
pub mod revoke;
mod rp;
pub mod secret;
pub mod time;
pub mod token;
pub mod userinfo;

pub use authorize::{
    AuthTransaction, AuthorizationParams, AuthorizationRequest, CallbackParams, Delivery,
    ResponseMode,
};
pub use client::{ClientConfig, TokenAuthMethod};
pub use client_auth::ClientAuth;
pub use client_key::ClientKey;
pub use discovery::{ExtraProviderMetadata, ProviderMetadata};
pub use endpoint::RequestDecorator;
pub use error::{
    AuthorizationError, Error, ErrorKind, LoginError, ProviderError, RefreshError, Result,
    ValidationError,
};
pub use exchange::{TokenExchangeRequest, TokenExchangeResponse};
pub use http::{HttpClient, HttpConfig};
pub use id_token::{IdTokenRules, NonceCheck, StoredIdToken, VerifiedIdToken};
pub use introspect::IntrospectionResponse;
pub use jose::Alg;
pub use logout::{FrontChannelLogout, LogoutRequest, LogoutToken, LogoutTransaction, ReplayCache};
pub use registration::{ExtraClientMetadata, RegistrationRequest};
pub use report::{Check, CheckId, Report};
pub use rp::{Login, Refreshed, RelyingParty, ValidationOptions};
pub use secret::Secret;
pub use token::{AccessToken, ClientCredentialsRequest, TokenResponse, TokenType};
pub use userinfo::UserInfo;

/// The `openidconnect` and `oauth2` crates, whose types appear in this crate's API.
pub use {oauth2, openidconnect};
