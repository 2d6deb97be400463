//! The validation report: every check made on a login, with its outcome and the rule it enforces.
//!
//! A boolean "valid" hides what was checked. The report lists each rule by name with the
//! section of the specification that requires it, so a user can see that `at_hash` was
//! compared, or that `auth_time` was not checked because no `max_age` was requested.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One security rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckId {
    /// The discovery document names the issuer asked for.
    DiscoveryIssuer,
    /// The callback's `state` equals the one sent.
    State,
    /// The callback's `iss` parameter names the issuer (RFC 9207).
    IssParameter,
    /// The callback carries a code.
    Code,
    /// The token response is a Bearer token response with an ID token.
    TokenResponse,
    /// The JWT is well formed (three base64url parts, JSON header and claims, no unknown `crit`).
    Format,
    /// The `alg` is one the client accepts.
    Algorithm,
    /// A key of the provider's JWKS matches the token header.
    Key,
    /// The signature verifies.
    Signature,
    /// `iss` equals the issuer.
    Issuer,
    /// `sub` is present.
    Subject,
    /// `aud` contains the client and nothing untrusted.
    Audience,
    /// `azp`, when present or required, is the client.
    Azp,
    /// `exp` is in the future (with leeway).
    Expiry,
    /// `iat` is present and not in the future (with leeway).
    IssuedAt,
    /// `nbf`, when present, is not in the future (with leeway).
    NotBefore,
    /// `nonce` equals the one sent.
    Nonce,
    /// `at_hash` matches the access token.
    AtHash,
    /// `c_hash` matches the code.
    CHash,
    /// `auth_time` satisfies `max_age`.
    AuthTime,
    /// `acr` is one of those requested.
    Acr,
    /// The refreshed ID token has the same `iss`, `sub` (and `aud`) as the original.
    RefreshConsistency,
    /// The userinfo `sub` equals the ID token `sub`.
    UserinfoSub,
    /// A signed userinfo response names the issuer and the client.
    UserinfoClaims,
    /// The logout token's `events` claim holds exactly the back-channel logout event.
    Events,
    /// The logout token carries `sid` and/or `sub`.
    SidOrSub,
    /// The logout token's `jti` was not seen before.
    Replay,
    /// The post-logout redirect's `state` equals the one sent.
    LogoutState,
    /// A token type claim or header (`typ`) is the one expected.
    TokenType,
    /// The device grant was approved, polled as the provider asked (RFC 8628 §3.4-3.5).
    DeviceGrant,
    /// A JARM response is a JWT from the provider, for this client, not expired.
    ResponseJwt,
}

impl CheckId {
    /// Every check.
    pub const ALL: [CheckId; 31] = [
        CheckId::DiscoveryIssuer,
        CheckId::State,
        CheckId::IssParameter,
        CheckId::Code,
        CheckId::TokenResponse,
        CheckId::Format,
        CheckId::Algorithm,
        CheckId::Key,
        CheckId::Signature,
        CheckId::Issuer,
        CheckId::Subject,
        CheckId::Audience,
        CheckId::Azp,
        CheckId::Expiry,
        CheckId::IssuedAt,
        CheckId::NotBefore,
        CheckId::Nonce,
        CheckId::AtHash,
        CheckId::CHash,
        CheckId::AuthTime,
        CheckId::Acr,
        CheckId::RefreshConsistency,
        CheckId::UserinfoSub,
        CheckId::UserinfoClaims,
        CheckId::Events,
        CheckId::SidOrSub,
        CheckId::Replay,
        CheckId::LogoutState,
        CheckId::TokenType,
        CheckId::DeviceGrant,
        CheckId::ResponseJwt,
    ];

    /// The check of a short name ([`CheckId::name`]).
    pub fn from_name(name: &str) -> Option<CheckId> {
        CheckId::ALL.into_iter().find(|c| c.name() == name)
    }

    /// A short name, as shown in reports.
    pub fn name(self) -> &'static str {
        match self {
            CheckId::DiscoveryIssuer => "discovery issuer",
            CheckId::State => "state",
            CheckId::IssParameter => "iss parameter",
            CheckId::Code => "code",
            CheckId::TokenResponse => "token response",
            CheckId::Format => "format",
            CheckId::Algorithm => "alg",
            CheckId::Key => "key",
            CheckId::Signature => "signature",
            CheckId::Issuer => "iss",
            CheckId::Subject => "sub",
            CheckId::Audience => "aud",
            CheckId::Azp => "azp",
            CheckId::Expiry => "exp",
            CheckId::IssuedAt => "iat",
            CheckId::NotBefore => "nbf",
            CheckId::Nonce => "nonce",
            CheckId::AtHash => "at_hash",
            CheckId::CHash => "c_hash",
            CheckId::AuthTime => "auth_time",
            CheckId::Acr => "acr",
            CheckId::RefreshConsistency => "refresh consistency",
            CheckId::UserinfoSub => "userinfo sub",
            CheckId::UserinfoClaims => "userinfo iss/aud",
            CheckId::Events => "events",
            CheckId::SidOrSub => "sid/sub",
            CheckId::Replay => "jti replay",
            CheckId::LogoutState => "post-logout state",
            CheckId::TokenType => "typ",
            CheckId::DeviceGrant => "device grant",
            CheckId::ResponseJwt => "response JWT",
        }
    }

    /// The rule's source.
    pub fn spec(self) -> &'static str {
        match self {
            CheckId::DiscoveryIssuer => "OpenID Connect Discovery 1.0 §4.3",
            CheckId::State => "RFC 6749 §10.12, RFC 9700 §4.7",
            CheckId::IssParameter => "RFC 9207 §2.4",
            CheckId::Code => "RFC 6749 §4.1.2",
            CheckId::TokenResponse => "OpenID Connect Core 1.0 §3.1.3.3",
            CheckId::Format => "RFC 7515 §5.2, RFC 7519 §7.2",
            CheckId::Algorithm => "OpenID Connect Core 1.0 §3.1.3.7 rule 7, RFC 8725 §3.1",
            CheckId::Key => "OpenID Connect Core 1.0 §10.1.1",
            CheckId::Signature => "OpenID Connect Core 1.0 §3.1.3.7 rule 6",
            CheckId::Issuer => "OpenID Connect Core 1.0 §3.1.3.7 rule 2",
            CheckId::Subject => "OpenID Connect Core 1.0 §2",
            CheckId::Audience => "OpenID Connect Core 1.0 §3.1.3.7 rule 3",
            CheckId::Azp => "OpenID Connect Core 1.0 §3.1.3.7 rules 4-5",
            CheckId::Expiry => "OpenID Connect Core 1.0 §3.1.3.7 rule 9",
            CheckId::IssuedAt => "OpenID Connect Core 1.0 §3.1.3.7 rule 10",
            CheckId::NotBefore => "RFC 7519 §4.1.5",
            CheckId::Nonce => "OpenID Connect Core 1.0 §3.1.3.7 rule 11",
            CheckId::AtHash => "OpenID Connect Core 1.0 §3.1.3.8",
            CheckId::CHash => "OpenID Connect Core 1.0 §3.3.2.11",
            CheckId::AuthTime => "OpenID Connect Core 1.0 §3.1.3.7 rule 13",
            CheckId::Acr => "OpenID Connect Core 1.0 §3.1.3.7 rule 12",
            CheckId::RefreshConsistency => "OpenID Connect Core 1.0 §12.2",
            CheckId::UserinfoSub => "OpenID Connect Core 1.0 §5.3.4",
            CheckId::UserinfoClaims => "OpenID Connect Core 1.0 §5.3.2",
            CheckId::Events => "OpenID Connect Back-Channel Logout 1.0 §2.6 rule 6",
            CheckId::SidOrSub => "OpenID Connect Back-Channel Logout 1.0 §2.6 rule 5",
            CheckId::Replay => "OpenID Connect Back-Channel Logout 1.0 §2.6 rule 10",
            CheckId::LogoutState => "OpenID Connect RP-Initiated Logout 1.0 §3",
            CheckId::TokenType => "RFC 8725 §3.11",
            CheckId::DeviceGrant => "RFC 8628 §3.5",
            CheckId::ResponseJwt => "JARM §4.4",
        }
    }
}

/// The outcome of one check. Deserialising reads `id`, `passed` and `detail`; `name` and
/// `spec` follow from the id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Which rule.
    pub id: CheckId,
    /// Short name of the rule (same as `id.name()`), for JSON readers.
    pub name: &'static str,
    /// Whether it held. A check that did not apply is reported as passed with a detail
    /// that says so ("not requested").
    pub passed: bool,
    /// What was compared.
    pub detail: Cow<'static, str>,
    /// The rule's source.
    pub spec: &'static str,
}

impl<'de> Deserialize<'de> for Check {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Stored {
            id: CheckId,
            passed: bool,
            detail: String,
        }
        let stored = Stored::deserialize(d)?;
        Ok(Check {
            id: stored.id,
            name: stored.id.name(),
            passed: stored.passed,
            detail: Cow::Owned(stored.detail),
            spec: stored.id.spec(),
        })
    }
}

/// The checks made, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Report {
    checks: Vec<Check>,
}

impl Report {
    /// An empty report.
    pub fn new() -> Self {
        Report {
            checks: Vec::with_capacity(20),
        }
    }

    /// Record a passed check.
    pub fn pass(&mut self, id: CheckId, detail: impl Into<Cow<'static, str>>) {
        self.push(id, true, detail.into());
    }

    /// Record a failed check.
    pub fn fail(&mut self, id: CheckId, detail: impl Into<Cow<'static, str>>) {
        self.push(id, false, detail.into());
    }

    fn push(&mut self, id: CheckId, passed: bool, detail: Cow<'static, str>) {
        self.checks.push(Check {
            id,
            name: id.name(),
            passed,
            detail,
            spec: id.spec(),
        });
    }

    /// Append every check of another report.
    pub fn extend(&mut self, other: Report) {
        self.checks.extend(other.checks);
    }

    /// The checks, in order.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// True when every check passed.
    pub fn all_passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The check with this id, if it was made.
    pub fn get(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}
