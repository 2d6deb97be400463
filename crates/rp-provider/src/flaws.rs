//! Provider-side flaws, one per switch (`rp provider --flaw NAME`): what real providers get
//! wrong, so that `rp audit` can be shown to catch each one. They go through the provider's
//! one misbehaviour seam ([`crate::misbehaviour::Misbehaviour::flaw`]); handlers ask whether
//! a flaw is on at the one place it changes, and a well-behaved provider has none.

use crate::misbehaviour::Misbehaviour;

/// A flaw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Flaw {
    /// A code may be redeemed more than once.
    ReuseCode,
    /// code_verifier is not checked.
    NoPkce,
    /// code_challenge_method=plain is accepted (though only S256 is advertised).
    PlainPkce,
    /// Requests without PKCE are accepted, and a verifier then ignored (downgrade).
    OptionalPkce,
    /// Any redirect_uri is accepted.
    OpenRedirect,
    /// A redirect_uri that starts with a registered one is accepted.
    PrefixRedirect,
    /// The token endpoint does not compare redirect_uri.
    RedirectMismatch,
    /// The client secret is not checked.
    AnySecret,
    /// A code can be redeemed by another client.
    CodeOtherClient,
    /// Error responses at the redirect URI lack iss.
    NoIssOnError,
    /// Successful authorization responses lack iss (though advertised).
    NoIss,
    /// Successful authorization responses lack state.
    DropState,
    /// Userinfo answers with another sub.
    UserinfoOtherSub,
    /// Token responses may be cached (no Cache-Control: no-store).
    CacheableTokens,
    /// Token responses are text/plain.
    TokenTextPlain,
    /// prompt=none without a session is a server error page.
    PromptNoneError,
    /// prompt=login is answered from the session.
    IgnorePromptLogin,
    /// max_age is ignored.
    IgnoreMaxAge,
    /// A refreshed ID token carries the auth_time of the user's latest login anywhere.
    AuthTimeMoves,
    /// Rotated refresh tokens keep working (no reuse detection).
    NoReuseDetection,
    /// A refresh token works for any client.
    RefreshOtherClient,
    /// Introspection without client authentication.
    OpenIntrospection,
    /// Live tokens are reported inactive.
    IntrospectInactive,
    /// Revocation without client authentication.
    OpenRevocation,
    /// Revocation answers 200 and revokes nothing.
    RevokeNoop,
    /// Userinfo's 401 has no WWW-Authenticate.
    UserinfoNoChallenge,
    /// Userinfo refuses POST.
    UserinfoNoPost,
    /// Discovery's issuer has a trailing slash.
    IssuerSlash,
    /// An endpoint is advertised over plain http.
    HttpEndpoint,
    /// Any post_logout_redirect_uri is followed.
    OpenLogoutRedirect,
    /// The post-logout redirect drops state.
    LogoutDropsState,
    /// end_session does not end the session.
    LogoutKeepsSession,
    /// The claims parameter is ignored (though advertised).
    ClaimsIgnored,
    /// Unknown authorization parameters are refused.
    StrictParameters,
    /// Requests without nonce are refused, even in the code flow.
    NonceRequired,
    /// `id_token token` is advertised but answered unsupported_response_type.
    UnservedResponseType,
    /// Registration accepts a redirect URI with a fragment.
    FragmentRedirectRegistration,
    /// Logout tokens lack the back-channel logout event.
    LogoutTokenNoEvent,
    /// code_challenge_methods_supported lists plain only.
    NoS256Advertised,
    /// scopes_supported lacks openid.
    NoOpenidScope,
    /// Discovery is served as text/html.
    DiscoveryTextHtml,
    /// Discovery lacks subject_types_supported.
    MissingMetadata,
    /// response_types_supported lacks code.
    NoCodeResponseType,
    /// Token responses lack token_type.
    TokenNoType,
    /// Userinfo is served as text/plain.
    UserinfoTextPlain,
    /// A refreshed ID token names another sub.
    RefreshChangesSub,
}

/// Every flaw: its switch name and the audit check that must catch it.
pub const ALL: &[(Flaw, &str, &[&str])] = &[
    (Flaw::ReuseCode, "reuse-code", &["refuse.code-reuse"]),
    (
        Flaw::NoPkce,
        "no-pkce",
        &["refuse.pkce-wrong", "refuse.pkce-missing"],
    ),
    (Flaw::PlainPkce, "plain-pkce", &["refuse.pkce-plain"]),
    (
        Flaw::OptionalPkce,
        "optional-pkce",
        &["refuse.pkce-downgrade"],
    ),
    (
        Flaw::OpenRedirect,
        "open-redirect",
        &["refuse.unregistered-redirect", "refuse.redirect-variant"],
    ),
    (
        Flaw::PrefixRedirect,
        "prefix-redirect",
        &["refuse.redirect-variant"],
    ),
    (
        Flaw::RedirectMismatch,
        "redirect-mismatch",
        &["refuse.redirect-mismatch"],
    ),
    (Flaw::AnySecret, "any-secret", &["refuse.wrong-secret"]),
    (
        Flaw::CodeOtherClient,
        "code-other-client",
        &["refuse.code-other-client"],
    ),
    (Flaw::NoIssOnError, "no-iss-on-error", &["prompt.none-iss"]),
    (Flaw::NoIss, "no-iss", &["code.iss"]),
    (Flaw::DropState, "drop-state", &["code.state"]),
    (
        Flaw::UserinfoOtherSub,
        "userinfo-other-sub",
        &["userinfo.sub"],
    ),
    (
        Flaw::CacheableTokens,
        "cacheable-tokens",
        &["token.no-store"],
    ),
    (Flaw::TokenTextPlain, "token-text-plain", &["token.json"]),
    (
        Flaw::PromptNoneError,
        "prompt-none-error",
        &["prompt.none-no-session"],
    ),
    (
        Flaw::IgnorePromptLogin,
        "ignore-prompt-login",
        &["prompt.login"],
    ),
    (Flaw::IgnoreMaxAge, "ignore-max-age", &["max-age.auth-time"]),
    (
        Flaw::AuthTimeMoves,
        "auth-time-moves",
        &["refresh.auth-time-elsewhere"],
    ),
    (
        Flaw::NoReuseDetection,
        "no-reuse-detection",
        &["refresh.reuse"],
    ),
    (
        Flaw::RefreshOtherClient,
        "refresh-other-client",
        &["refresh.other-client"],
    ),
    (
        Flaw::OpenIntrospection,
        "open-introspection",
        &["introspect.auth"],
    ),
    (
        Flaw::IntrospectInactive,
        "introspect-inactive",
        &["introspect.active"],
    ),
    (Flaw::OpenRevocation, "open-revocation", &["revoke.auth"]),
    (
        Flaw::RevokeNoop,
        "revoke-noop",
        &["revoke.works", "revoke.inactive"],
    ),
    (
        Flaw::UserinfoNoChallenge,
        "userinfo-no-challenge",
        &["userinfo.no-token"],
    ),
    (Flaw::UserinfoNoPost, "userinfo-no-post", &["userinfo.post"]),
    (Flaw::IssuerSlash, "issuer-slash", &["meta.issuer"]),
    (Flaw::HttpEndpoint, "http-endpoint", &["meta.https"]),
    (
        Flaw::OpenLogoutRedirect,
        "open-logout-redirect",
        &["logout.unregistered"],
    ),
    (
        Flaw::LogoutDropsState,
        "logout-drops-state",
        &["logout.redirect"],
    ),
    // No session ended: no back-channel logout either.
    (
        Flaw::LogoutKeepsSession,
        "logout-keeps-session",
        &["logout.session-ended", "logout.backchannel"],
    ),
    (Flaw::ClaimsIgnored, "claims-ignored", &["claims.parameter"]),
    (
        Flaw::StrictParameters,
        "strict-parameters",
        &["code.unknown-parameter"],
    ),
    (Flaw::NonceRequired, "nonce-required", &["code.no-nonce"]),
    (
        Flaw::UnservedResponseType,
        "unserved-response-type",
        &["meta.response-types"],
    ),
    (
        Flaw::FragmentRedirectRegistration,
        "fragment-redirect-registration",
        &["reg.bad-redirect"],
    ),
    (
        Flaw::LogoutTokenNoEvent,
        "logout-token-no-event",
        &["logout.backchannel"],
    ),
    (Flaw::NoS256Advertised, "no-s256-advertised", &["meta.pkce"]),
    (Flaw::NoOpenidScope, "no-openid-scope", &["meta.scopes"]),
    (
        Flaw::DiscoveryTextHtml,
        "discovery-text-html",
        &["meta.cache"],
    ),
    (
        Flaw::MissingMetadata,
        "missing-metadata",
        &["meta.required"],
    ),
    (
        Flaw::NoCodeResponseType,
        "no-code-response-type",
        &["meta.code"],
    ),
    (Flaw::TokenNoType, "token-no-type", &["token.type"]),
    (
        Flaw::UserinfoTextPlain,
        "userinfo-text-plain",
        &["userinfo.content-type"],
    ),
    (
        Flaw::RefreshChangesSub,
        "refresh-changes-sub",
        &["refresh.id-token"],
    ),
];

impl Flaw {
    /// Parse a switch name.
    pub fn parse(name: &str) -> Option<Flaw> {
        ALL.iter().find(|(_, n, _)| *n == name).map(|(f, _, _)| *f)
    }

    /// The switch name.
    pub fn name(self) -> &'static str {
        ALL.iter()
            .find(|(f, _, _)| *f == self)
            .map(|(_, n, _)| *n)
            .unwrap_or("?")
    }
}

/// A provider with these flaws (and otherwise well-behaved).
#[derive(Debug, Clone, Default)]
pub struct Flawed(pub Vec<Flaw>);

impl Misbehaviour for Flawed {
    fn flaw(&self, flaw: Flaw) -> bool {
        self.0.contains(&flaw)
    }

    fn id_token_claims(
        &self,
        claims: &mut serde_json::Map<String, serde_json::Value>,
        refresh: bool,
    ) {
        if refresh && self.flaw(Flaw::RefreshChangesSub) {
            claims.insert("sub".into(), serde_json::json!("someone-else"));
        }
    }

    fn token_response(&self, body: &mut serde_json::Map<String, serde_json::Value>) {
        if self.flaw(Flaw::TokenNoType) {
            body.remove("token_type");
        }
    }

    fn discovery(&self, doc: &mut serde_json::Map<String, serde_json::Value>) {
        use serde_json::json;
        if self.flaw(Flaw::NoS256Advertised) {
            doc.insert("code_challenge_methods_supported".into(), json!(["plain"]));
        }
        if self.flaw(Flaw::NoOpenidScope) {
            doc.insert("scopes_supported".into(), json!(["profile", "email"]));
        }
        if self.flaw(Flaw::MissingMetadata) {
            doc.remove("subject_types_supported");
        }
        if self.flaw(Flaw::NoCodeResponseType) {
            doc.insert(
                "response_types_supported".into(),
                json!(["id_token", "code id_token"]),
            );
        }
    }

    fn logout_token(
        &self,
        claims: &mut serde_json::Value,
        signing: crate::misbehaviour::LogoutTokenSigning,
    ) -> crate::misbehaviour::LogoutTokenSigning {
        if self.flaw(Flaw::LogoutTokenNoEvent)
            && let Some(o) = claims.as_object_mut()
        {
            o.remove("events");
        }
        signing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (f, n, checks) in ALL {
            assert_eq!(Flaw::parse(n), Some(*f));
            assert_eq!(f.name(), *n);
            assert!(!checks.is_empty());
        }
    }
}
