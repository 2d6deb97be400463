//! Every check of `rp audit`: its id, what a provider must do, and where that is required.
//! The checks come from the OpenID Foundation's OP certification plans (what a client can
//! observe), RFC 9700 (OAuth 2.0 security best current practice) and RFC 9207; the ids are
//! stable (scripts and `--json` consumers match on them).

/// One check.
#[derive(Debug, Clone, Copy)]
pub struct CheckDef {
    /// Stable id, `group.name`.
    pub id: &'static str,
    /// What a provider must do, in one sentence.
    pub requirement: &'static str,
    /// Where it is required.
    pub spec: &'static str,
}

const fn c(id: &'static str, requirement: &'static str, spec: &'static str) -> CheckDef {
    CheckDef {
        id,
        requirement,
        spec,
    }
}

/// The checks, in the order they are reported.
pub const CHECKS: &[CheckDef] = &[
    // Discovery and keys.
    c(
        "meta.fetch",
        "The discovery document is served as JSON at {issuer}/.well-known/openid-configuration.",
        "OpenID Connect Discovery 1.0 §4",
    ),
    c(
        "meta.issuer",
        "The document's issuer is exactly the issuer URL it was fetched for.",
        "OpenID Connect Discovery 1.0 §4.3",
    ),
    c(
        "meta.required",
        "The required members are present: issuer, authorization_endpoint, token_endpoint, jwks_uri, response_types_supported, subject_types_supported, id_token_signing_alg_values_supported.",
        "OpenID Connect Discovery 1.0 §3",
    ),
    c(
        "meta.https",
        "Every endpoint URL uses https (loopback addresses aside).",
        "OpenID Connect Discovery 1.0 §3; RFC 9700 §2.6",
    ),
    c(
        "meta.rs256",
        "RS256 is among id_token_signing_alg_values_supported.",
        "OpenID Connect Discovery 1.0 §3",
    ),
    c(
        "meta.code",
        "The code response type is supported.",
        "OpenID Connect Core 1.0 §15.1; RFC 9700 §2.1.2",
    ),
    c(
        "meta.response-types",
        "Every advertised response type is served (none answered unsupported_response_type) for a client registered for it.",
        "OpenID Connect Discovery 1.0 §3; OAuth 2.0 Multiple Response Type Encoding Practices §2",
    ),
    c(
        "meta.pkce",
        "code_challenge_methods_supported is advertised and includes S256.",
        "RFC 9700 §2.1.1; RFC 8414 §2",
    ),
    c(
        "meta.iss-parameter",
        "authorization_response_iss_parameter_supported is true, so clients can tell which provider answered.",
        "RFC 9207 §3; RFC 9700 §4.4.2",
    ),
    c(
        "meta.scopes",
        "scopes_supported includes openid.",
        "OpenID Connect Discovery 1.0 §3",
    ),
    c(
        "meta.cache",
        "The discovery response says how long it may be cached (Cache-Control or Expires), and is JSON.",
        "OpenID Connect Discovery 1.0 §4.2; RFC 9111 §5",
    ),
    c(
        "jwks.fetch",
        "The jwks_uri serves a JSON key set with at least one key.",
        "RFC 7517 §5; OpenID Connect Core 1.0 §10.1",
    ),
    c(
        "jwks.public-only",
        "The key set holds no private key material.",
        "RFC 7517 §9.3; RFC 7518 §6",
    ),
    c(
        "jwks.rsa-size",
        "RSA keys have at least 2048-bit moduli.",
        "RFC 7518 §3.3",
    ),
    c(
        "jwks.unique-kid",
        "Key ids are unique, so a client can pick the key an ID token names.",
        "OpenID Connect Core 1.0 §10.1; RFC 7517 §4.5",
    ),
    c(
        "jwks.use-alg",
        "Each key's use and alg agree with its type (a signing alg on a key of that type, use sig or enc).",
        "RFC 7517 §4.2, §4.4",
    ),
    c(
        "jwks.key-for-alg",
        "Every advertised asymmetric ID token algorithm has a key of the right type.",
        "OpenID Connect Discovery 1.0 §3; OpenID Connect Core 1.0 §10.1",
    ),
    // The code flow.
    c(
        "code.login",
        "The authorization code flow with PKCE completes for the given user and client.",
        "OpenID Connect Core 1.0 §3.1; RFC 7636",
    ),
    c(
        "code.state",
        "The authorization response returns state exactly as sent.",
        "RFC 6749 §4.1.2",
    ),
    c(
        "code.iss",
        "The authorization response carries iss, equal to the issuer (when advertised).",
        "RFC 9207 §2",
    ),
    c(
        "code.single-code",
        "The authorization response carries exactly one code and no token.",
        "RFC 6749 §4.1.2",
    ),
    c(
        "token.json",
        "The token response is application/json.",
        "RFC 6749 §5.1",
    ),
    c(
        "token.no-store",
        "The token response carries Cache-Control: no-store.",
        "RFC 6749 §5.1",
    ),
    c(
        "token.type",
        "The token response has access_token and a token_type of Bearer (or DPoP).",
        "RFC 6749 §5.1; RFC 6750 §4",
    ),
    c(
        "token.id-token",
        "The token response for the openid scope has an id_token.",
        "OpenID Connect Core 1.0 §3.1.3.3",
    ),
    c(
        "idt.signature",
        "The ID token is signed with an advertised algorithm (never none here) and verifies with a key of the jwks_uri.",
        "OpenID Connect Core 1.0 §3.1.3.7 (6, 7)",
    ),
    c(
        "idt.iss",
        "The ID token's iss is exactly the issuer.",
        "OpenID Connect Core 1.0 §3.1.3.7 (2)",
    ),
    c(
        "idt.aud",
        "The ID token's aud contains the client (and azp names it when there are several audiences).",
        "OpenID Connect Core 1.0 §3.1.3.7 (3-5)",
    ),
    c(
        "idt.times",
        "The ID token has exp in the future and iat not in the future.",
        "OpenID Connect Core 1.0 §3.1.3.7 (9, 10)",
    ),
    c(
        "idt.nonce",
        "The ID token echoes the request's nonce.",
        "OpenID Connect Core 1.0 §3.1.3.7 (11)",
    ),
    c(
        "idt.sub",
        "The ID token's sub is present, at most 255 ASCII characters.",
        "OpenID Connect Core 1.0 §2",
    ),
    c(
        "idt.at-hash",
        "An at_hash in the ID token, when present, matches the access token.",
        "OpenID Connect Core 1.0 §3.1.3.8",
    ),
    c(
        "idt.kid",
        "The ID token's header names (kid) a key of the key set, or the set has one key of its type.",
        "OpenID Connect Core 1.0 §10.1",
    ),
    c(
        "userinfo.get",
        "Userinfo answers a GET with the access token in the Authorization header.",
        "OpenID Connect Core 1.0 §5.3.1; RFC 6750 §2.1",
    ),
    c(
        "userinfo.post",
        "Userinfo answers a POST with the access token in the Authorization header.",
        "OpenID Connect Core 1.0 §5.3.1",
    ),
    c(
        "userinfo.sub",
        "Userinfo's sub equals the ID token's.",
        "OpenID Connect Core 1.0 §5.3.2",
    ),
    c(
        "userinfo.content-type",
        "Userinfo answers application/json (or application/jwt when signing was registered).",
        "OpenID Connect Core 1.0 §5.3.2",
    ),
    c(
        "userinfo.no-token",
        "Userinfo without an access token answers 401 with a WWW-Authenticate challenge.",
        "RFC 6750 §3",
    ),
    c(
        "userinfo.bad-token",
        "Userinfo with a forged access token answers 401 invalid_token.",
        "RFC 6750 §3.1",
    ),
    c(
        "scope.profile-email",
        "With the profile and email scopes, standard claims (name or preferred_username, email) come back.",
        "OpenID Connect Core 1.0 §5.4",
    ),
    c(
        "code.no-nonce",
        "A code flow request without nonce succeeds (nonce is optional in the code flow).",
        "OpenID Connect Core 1.0 §3.1.2.1",
    ),
    c(
        "code.unknown-parameter",
        "An unknown authorization request parameter is ignored.",
        "OpenID Connect Core 1.0 §3.1.2.1",
    ),
    c(
        "code.scope-order",
        "The scopes in another order are accepted.",
        "RFC 6749 §3.3",
    ),
    // What a provider must refuse.
    c(
        "refuse.unregistered-redirect",
        "An unregistered redirect_uri gets an error shown to the user, never a redirect to it.",
        "RFC 6749 §4.1.2.1; RFC 9700 §4.1.3",
    ),
    c(
        "refuse.redirect-variant",
        "A redirect_uri that only extends a registered one (extra path) is refused: exact matching.",
        "RFC 9700 §2.1, §4.1.3",
    ),
    c(
        "refuse.unknown-client",
        "An unknown client_id gets an error shown to the user, never a redirect.",
        "RFC 6749 §4.1.2.1",
    ),
    c(
        "refuse.response-type",
        "An unsupported response_type is refused with unsupported_response_type, with state, at the redirect URI.",
        "RFC 6749 §4.1.2.1",
    ),
    c(
        "refuse.code-reuse",
        "A code redeemed a second time is refused with invalid_grant.",
        "RFC 6749 §4.1.2, §5.2",
    ),
    c(
        "refuse.code-reuse-revokes",
        "Tokens issued for a reused code are revoked.",
        "RFC 6749 §4.1.2; RFC 9700 §4.5",
    ),
    c(
        "refuse.pkce-wrong",
        "A wrong code_verifier is refused with invalid_grant.",
        "RFC 7636 §4.6",
    ),
    c(
        "refuse.pkce-missing",
        "A code issued with a code_challenge is refused without a code_verifier.",
        "RFC 7636 §4.6; RFC 9700 §2.1.1",
    ),
    c(
        "refuse.pkce-downgrade",
        "A code_verifier for a code issued without a code_challenge is refused.",
        "RFC 9700 §4.8.2",
    ),
    c(
        "refuse.pkce-plain",
        "The plain code_challenge_method is refused (only S256 protects the code).",
        "RFC 9700 §2.1.1",
    ),
    c(
        "refuse.redirect-mismatch",
        "A token request with another redirect_uri than the authorization request's is refused.",
        "RFC 6749 §4.1.3",
    ),
    c(
        "refuse.wrong-secret",
        "A wrong client secret is refused with invalid_client (HTTP 401 with Basic).",
        "RFC 6749 §5.2",
    ),
    c(
        "refuse.code-other-client",
        "A code issued to one client is refused to another.",
        "RFC 6749 §4.1.3",
    ),
    c(
        "refuse.error-json",
        "Token endpoint errors are application/json with an error member.",
        "RFC 6749 §5.2",
    ),
    // Prompt, max_age, hints, claims.
    c(
        "prompt.none-no-session",
        "prompt=none without a session answers login_required (or interaction_required) at the redirect URI, with state.",
        "OpenID Connect Core 1.0 §3.1.2.6",
    ),
    c(
        "prompt.none-iss",
        "That error response carries iss (when advertised).",
        "RFC 9207 §2",
    ),
    c(
        "prompt.none-session",
        "prompt=none with a session completes without any page.",
        "OpenID Connect Core 1.0 §3.1.2.1",
    ),
    c(
        "prompt.login",
        "prompt=login asks for the credentials again despite the session.",
        "OpenID Connect Core 1.0 §3.1.2.1",
    ),
    c(
        "max-age.auth-time",
        "max_age=0 re-authenticates and the ID token carries a fresh auth_time.",
        "OpenID Connect Core 1.0 §3.1.2.1, §2",
    ),
    c(
        "hint.same-user",
        "prompt=none with an id_token_hint of the signed-in user completes for that user.",
        "OpenID Connect Core 1.0 §3.1.2.1",
    ),
    c(
        "hint.forged",
        "prompt=none with an id_token_hint that the provider did not issue (its signature broken) is refused, not answered for the session's user.",
        "OpenID Connect Core 1.0 §3.1.2.1",
    ),
    c(
        "claims.parameter",
        "A claims request for email in the ID token is honoured (when claims_parameter_supported).",
        "OpenID Connect Core 1.0 §5.5",
    ),
    // Refresh.
    c(
        "refresh.grant",
        "A refresh token is issued for offline_access and the refresh_token grant works.",
        "RFC 6749 §6; OpenID Connect Core 1.0 §11, §12",
    ),
    c(
        "refresh.id-token",
        "A refreshed ID token keeps iss, sub, aud and auth_time, and has a new iat.",
        "OpenID Connect Core 1.0 §12.2",
    ),
    c(
        "refresh.rotation",
        "Refresh tokens are rotated (or sender-constrained) for public clients; rotation recommended for all.",
        "RFC 9700 §4.14.2",
    ),
    c(
        "refresh.reuse",
        "A rotated refresh token used again is refused, and the grant revoked.",
        "RFC 9700 §4.14.2",
    ),
    c(
        "refresh.other-client",
        "A refresh token is refused to another client.",
        "RFC 6749 §6",
    ),
    c(
        "refresh.auth-time-elsewhere",
        "Logging in at another client does not change the auth_time of this client's refreshed ID token.",
        "OpenID Connect Core 1.0 §12.2",
    ),
    // Introspection and revocation.
    c(
        "introspect.auth",
        "Introspection requires client authentication.",
        "RFC 7662 §2.1",
    ),
    c(
        "introspect.active",
        "Introspection says active (and the client or scope) for a live access token.",
        "RFC 7662 §2.2",
    ),
    c(
        "revoke.auth",
        "Revocation requires client authentication.",
        "RFC 7009 §2.1",
    ),
    c(
        "revoke.works",
        "Revocation of a refresh token answers 200 and the refresh token no longer works.",
        "RFC 7009 §2.1, §2.2",
    ),
    c(
        "revoke.inactive",
        "A revoked access token is inactive at introspection and refused at userinfo.",
        "RFC 7009 §2.1; RFC 7662 §2.2",
    ),
    // Logout.
    c(
        "logout.redirect",
        "end_session with id_token_hint, post_logout_redirect_uri and state redirects there with the same state.",
        "OpenID Connect RP-Initiated Logout 1.0 §2, §3",
    ),
    c(
        "logout.unregistered",
        "An unregistered post_logout_redirect_uri is not redirected to.",
        "OpenID Connect RP-Initiated Logout 1.0 §3",
    ),
    c(
        "logout.session-ended",
        "After logout, prompt=none finds no session.",
        "OpenID Connect RP-Initiated Logout 1.0 §2",
    ),
    c(
        "logout.backchannel",
        "A client registered with a backchannel_logout_uri receives a valid logout token for the session at logout.",
        "OpenID Connect Back-Channel Logout 1.0 §2.4-2.6",
    ),
    // Dynamic registration.
    c(
        "reg.register",
        "Dynamic registration of a native client with a loopback redirect URI returns a client_id.",
        "RFC 7591 §3.2.1; OpenID Connect Dynamic Client Registration 1.0 §3.2",
    ),
    c(
        "reg.bad-redirect",
        "Registration of a redirect URI with a fragment is refused.",
        "RFC 6749 §3.1.2; RFC 7591 §3.2.2",
    ),
    // Interoperability hazards.
    c(
        "hazard.basic-encoding",
        "HTTP Basic client credentials are form-encoded before base64, and decoded so.",
        "RFC 6749 §2.3.1",
    ),
    c(
        "hazard.post-auth",
        "client_secret_post works when advertised.",
        "RFC 6749 §2.3.1; OpenID Connect Core 1.0 §9",
    ),
];

/// A check by id.
pub fn find(id: &str) -> Option<&'static CheckDef> {
    CHECKS.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_there_are_at_least_sixty() {
        let mut ids: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CHECKS.len());
        assert!(CHECKS.len() >= 60, "{}", CHECKS.len());
    }
}
