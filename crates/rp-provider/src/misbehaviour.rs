//! The provider's one extension point: [`Misbehaviour`], called at each place where the
//! provider may deviate from a well-behaved OpenID Provider. Every method does nothing by
//! default (the well-behaved answer); the conformance instances implement the ones their
//! test needs. Handlers call the hooks and know no test id.
//!
//! The model is ripgrep's `Sink`: one trait of small, do-nothing-by-default methods, so a new
//! deviation is one method here, one call in a handler, and one implementation.

use crate::keys::KeyRing;
use crate::params::Params;
use serde_json::{Map, Value};
use std::fmt;

/// When keys may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMoment {
    /// An authorization request was accepted.
    Authorization,
    /// An ID token is about to be signed.
    BeforeIdTokenSigning,
}

/// Where the userinfo endpoint takes the access token from (RFC 6750 §2.1, §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenPlaces {
    /// The `Authorization` header or a form body.
    #[default]
    Both,
    /// The header only.
    HeaderOnly,
    /// A form body only.
    BodyOnly,
}

/// How a logout token is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutTokenSigning {
    /// With this algorithm (the client's, unless a hook changed it).
    Alg(String),
    /// Unsigned (`alg: none`).
    Unsigned,
}

/// An authorization request refused at the redirect URI: `error` and `error_description`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The OAuth error code.
    pub error: &'static str,
    /// The description.
    pub description: String,
}

/// Where the provider may deviate. See the module documentation.
pub trait Misbehaviour: Send + Sync + fmt::Debug {
    /// The discovery document, about to be served.
    fn discovery(&self, doc: &mut Map<String, Value>) {
        let _ = doc;
    }

    /// The JWKS path under the issuer.
    fn jwks_path(&self) -> &str {
        "/jwks"
    }

    /// An authorization request whose client and redirect URI are valid: refuse it here.
    fn authorization(&self, params: &Params) -> Result<(), Refusal> {
        let _ = params;
        Ok(())
    }

    /// Sign the fixture user in without a login form and skip consent (test OPs do).
    fn sign_in_without_form(&self) -> bool {
        false
    }

    /// New signing keys at `moment`, if they change then.
    fn rotate_keys(&self, moment: KeyMoment) -> Option<KeyRing> {
        let _ = moment;
        None
    }

    /// A request object by reference is required, signed with this algorithm (or `none`);
    /// loopback `http` request URIs are then accepted.
    fn required_request_object_alg(&self) -> Option<&str> {
        None
    }

    /// ID token claims about to be signed (`refresh`: the ID token of a refresh response).
    fn id_token_claims(&self, claims: &mut Map<String, Value>, refresh: bool) {
        let _ = (claims, refresh);
    }

    /// A signed ID token about to be returned.
    fn id_token(&self, jwt: String) -> String {
        jwt
    }

    /// Where userinfo takes the access token from.
    fn userinfo_token_places(&self) -> TokenPlaces {
        TokenPlaces::Both
    }

    /// Userinfo claims about to be returned.
    fn userinfo_claims(&self, claims: &mut Map<String, Value>) {
        let _ = claims;
    }

    /// A logout token about to be signed with `signing`: change its claims, or how it is
    /// signed.
    fn logout_token(&self, claims: &mut Value, signing: LogoutTokenSigning) -> LogoutTokenSigning {
        let _ = claims;
        signing
    }

    /// The `state` of a post-logout redirect (RP-Initiated Logout 1.0 §3): `None` drops it.
    fn post_logout_state(&self, state: Option<&str>) -> Option<String> {
        state.map(str::to_string)
    }

    /// Algorithms registration accepts beyond the provider's keys (`none` for the tests that
    /// register unsigned ID tokens).
    fn extra_registration_algs(&self) -> &[&'static str] {
        &[]
    }

    /// A poll with a device code (RFC 8628 §3.4), before it is looked at: an error code to
    /// answer instead (`authorization_pending`, `slow_down`, `access_denied`,
    /// `expired_token`); the device code is then left as it was.
    fn device_poll(&self) -> Option<&'static str> {
        None
    }

    /// The `iss` of an authorization response (RFC 9207), about to be sent; `None` drops it.
    fn response_iss(&self, iss: &str) -> Option<String> {
        Some(iss.to_string())
    }

    /// The `state` of an authorization response, about to be sent; `None` drops it.
    fn response_state(&self, state: &str) -> Option<String> {
        Some(state.to_string())
    }

    /// A successful token response (authorization code, refresh) about to be sent.
    fn token_response(&self, body: &mut Map<String, Value>) {
        let _ = body;
    }

    /// Before a DPoP-bound token is accepted at a resource (userinfo): demand a fresh nonce
    /// (RFC 9449 §9) with this `WWW-Authenticate` scheme spelling, whatever nonce the
    /// proof carries. `None`: the proof's nonce is judged as usual.
    fn resource_nonce_challenge(&self) -> Option<&'static str> {
        None
    }

    /// The claims of a JARM response about to be signed.
    fn jarm_claims(&self, claims: &mut Map<String, Value>) {
        let _ = claims;
    }

    /// A signed JARM response about to be sent.
    fn jarm_jwt(&self, jwt: String) -> String {
        jwt
    }

    /// Whether DPoP proofs must carry a server nonce (RFC 9449 §8).
    fn dpop_nonce_required(&self) -> bool {
        true
    }

    /// A request arrived at `path` below the issuer.
    fn observe(&self, method: &str, path: &str) {
        let _ = (method, path);
    }

    /// What was observed, served at `{issuer}/_conformance/requests`; `None`: not served.
    fn observed(&self) -> Option<Value> {
        None
    }

    /// Whether this provider has `flaw` (`rp provider --flaw`, for proving `rp audit`).
    fn flaw(&self, flaw: crate::flaws::Flaw) -> bool {
        let _ = flaw;
        false
    }
}

/// The well-behaved provider: every hook at its default.
#[derive(Debug, Clone, Copy, Default)]
pub struct WellBehaved;

impl Misbehaviour for WellBehaved {}
