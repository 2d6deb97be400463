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
//! Start with [`RelyingParty`]: one value per (provider, client), with one method per
//! protocol step, each validating everything about its answer before returning.
//!
//! | step | entry point |
//! |---|---|
//! | discovery (OpenID, RFC 8414 fallback, WebFinger) | [`RelyingParty::discover`], [`discovery`] |
//! | dynamic registration (RFC 7591) | [`registration::register`] |
//! | authorization request (state, nonce, PKCE S256; query or request object) | [`RelyingParty::authorization_url`], [`AuthorizationRequest`], [`Delivery`] |
//! | pushed authorization request (RFC 9126) | [`RelyingParty::push_authorization_request`], [`Delivery::Pushed`] |
//! | callback, code exchange, ID token (OIDC Core §3.1.3.7) | [`RelyingParty::complete`] → [`Login`] |
//! | device authorization grant (RFC 8628) | [`RelyingParty::device_authorization`], [`RelyingParty::complete_device`] |
//! | DPoP (RFC 9449): proofs on every request, nonces, bound tokens | [`dpop::Dpop`], [`RelyingParty::with_decorator`] |
//! | calling an API with the token (Bearer or DPoP) | [`RelyingParty::call_resource`] |
//! | refresh (OIDC Core §12.2) | [`RelyingParty::refresh`] → [`Refreshed`] |
//! | userinfo (JSON or signed) | [`RelyingParty::userinfo`] |
//! | token exchange (RFC 8693) | [`RelyingParty::exchange`] |
//! | client credentials (RFC 6749 §4.4) | [`RelyingParty::client_credentials`] |
//! | introspection (RFC 7662, RFC 9701), revocation (RFC 7009) | [`RelyingParty::introspect`], [`RelyingParty::introspect_jwt`], [`RelyingParty::revoke`] |
//! | logout (RP-initiated, back- and front-channel) | [`RelyingParty::end_session_url`], [`RelyingParty::validate_logout_token`], [`FrontChannelLogout`] |
//!
//! Underneath: one [`HttpClient`] for every request (redirects off, timeouts, a size cap,
//! custom CAs, redacted tracing); [`ClientAuth`] for client authentication and
//! [`RequestDecorator`] for what is added to every request (the seams for DPoP and mTLS);
//! [`keys`] for the JWKS cache; [`time`] for the one checked path of every time rule; and
//! [`id_token`], [`logout`] and [`jwt`] for validating a token with explicit rules.
//!
//! Driving a provider's HTML pages without a browser (scripts, CI) is the separate crate
//! `oidc-rp-headless`, so that the core links no HTML parser or cookie store.

// The protocol steps. Their types are re-exported below; the modules that stay public hold
// free functions a caller may use on their own (discovery, registration) or the low-level
// validation API (id_token, logout, keys, jwt: validate a token with explicit rules).
mod authorize;
pub mod claims;
mod client;
pub mod client_auth;
mod client_key;
pub mod device;
pub mod discovery;
pub mod dpop;
mod endpoint;
pub mod error;
mod error_class;
mod exchange;
pub mod fapi;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod hybrid;
pub mod id_token;
pub mod initiate;
mod introspect;
mod jarm;
mod jose;
pub mod jwt;
pub mod keys;
pub mod logout;
mod par;
pub mod registration;
pub mod report;
mod resource;
mod revoke;
mod rp;
pub mod seal;
mod secret;
pub mod session_management;
pub mod store;
pub mod stored;
pub mod time;
mod token;
mod userinfo;

pub use authorize::{
    AuthTransaction, AuthorizationParams, AuthorizationRequest, CallbackParams, Delivery,
    ResponseMode,
};
pub use client::{ClientConfig, TokenAuthMethod};
pub use client_auth::ClientAuth;
pub use client_key::ClientKey;
pub use device::{DeviceAuthorization, DevicePacer, DevicePoll, DeviceRequest};
pub use discovery::{AuthServerMetadata, ExtraProviderMetadata, ProviderMetadata};
pub use endpoint::RequestDecorator;
pub use error::{
    AuthorizationError, ConfigError, DeviceError, Error, ErrorKind, LoginError, ProviderError,
    RefreshError, Result, ValidationError,
};
pub use error_class::{ErrorClass, OAuthErrorCode};
pub use exchange::{TokenExchangeRequest, TokenExchangeResponse, token_type, token_types};
pub use http::{HttpClient, HttpConfig, HttpResponse};
pub use hybrid::ResponseType;
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

/// The `openidconnect` crate, whose metadata types appear in this crate's API
/// ([`ProviderMetadata`], [`RegistrationRequest`]'s members).
pub use openidconnect;
