//! Third-party-initiated login (OpenID Connect Core §4): a provider (or a portal) sends the
//! browser to the client's `initiate_login_uri` with `iss`, and optionally `login_hint` and
//! `target_link_uri`; the client then starts an ordinary authentication request at that
//! issuer.
//!
//! Everything in that request is hostile until checked: anyone can link a user there. The
//! issuer must be one the client is configured for (§4: "the RP MUST verify"), compared
//! exactly, so a link cannot point the client at a provider of the attacker's choosing;
//! `target_link_uri` must lie on one of the client's own origins (§4: not an open
//! redirector); `login_hint` is bounded and free of control characters. Nothing here starts
//! a session: the login that follows is checked like any other.

use crate::error::{Error, Result};
use url::Url;

/// A validated third-party login initiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiatedLogin {
    /// `iss`: the issuer to log in at, one of the allowed ones.
    pub issuer: String,
    /// `login_hint`, to pass on in the authentication request.
    pub login_hint: Option<String>,
    /// `target_link_uri`: where to send the user after the login, on the client's origins.
    pub target_link_uri: Option<Url>,
}

/// What a client accepts in an initiation.
#[derive(Debug, Clone, Default)]
pub struct InitiationPolicy {
    /// Issuers the client logs in at (exact strings, as in their discovery documents).
    pub issuers: Vec<String>,
    /// The client's own origins (`https://app.example`); a `target_link_uri` elsewhere is
    /// refused. Empty: any `target_link_uri` is refused.
    pub target_origins: Vec<String>,
}

const MAX_HINT: usize = 1024;
const MAX_URI: usize = 2048;

fn bad(reason: impl Into<String>) -> Error {
    Error::BadResponse {
        what: "third-party login initiation",
        url: "the initiate_login_uri request".into(),
        reason: reason.into(),
    }
}

impl InitiatedLogin {
    /// Check the parameters of a request to `initiate_login_uri` (a query string or a form
    /// body: §4 allows GET and POST).
    ///
    /// ```
    /// use oidc_rp::initiate::{InitiatedLogin, InitiationPolicy};
    /// let policy = InitiationPolicy {
    ///     issuers: vec!["https://op.example".into()],
    ///     target_origins: vec!["https://app.example".into()],
    /// };
    /// let ok = InitiatedLogin::parse(
    ///     b"iss=https%3A%2F%2Fop.example&target_link_uri=https%3A%2F%2Fapp.example%2Finbox",
    ///     &policy,
    /// )?;
    /// assert_eq!(ok.issuer, "https://op.example");
    /// // Another issuer, or a target elsewhere, is refused.
    /// assert!(InitiatedLogin::parse(b"iss=https%3A%2F%2Fevil.example", &policy).is_err());
    /// assert!(InitiatedLogin::parse(
    ///     b"iss=https%3A%2F%2Fop.example&target_link_uri=https%3A%2F%2Fevil.example%2F",
    ///     &policy,
    /// )
    /// .is_err());
    /// # Ok::<(), oidc_rp::Error>(())
    /// ```
    pub fn parse(params: &[u8], policy: &InitiationPolicy) -> Result<InitiatedLogin> {
        let (mut iss, mut hint, mut target) = (None, None, None);
        for (name, value) in url::form_urlencoded::parse(params) {
            let slot = match name.as_ref() {
                "iss" => &mut iss,
                "login_hint" => &mut hint,
                "target_link_uri" => &mut target,
                _ => continue,
            };
            if slot.is_some() {
                return Err(bad(format!("`{name}` appears more than once")));
            }
            *slot = Some(value.into_owned());
        }
        let issuer = iss.ok_or_else(|| bad("iss is missing (OIDC Core §4: it is required)"))?;
        if !policy.issuers.contains(&issuer) {
            return Err(bad(format!(
                "iss `{}` is not an issuer this client logs in at",
                crate::error::truncate(&issuer, 120)
            )));
        }
        if let Some(h) = &hint
            && (h.len() > MAX_HINT || h.chars().any(char::is_control))
        {
            return Err(bad("login_hint is too long or holds control characters"));
        }
        let target_link_uri = match target {
            None => None,
            Some(t) if t.len() > MAX_URI => return Err(bad("target_link_uri is too long")),
            Some(t) => {
                let url = Url::parse(&t).map_err(|e| bad(format!("target_link_uri: {e}")))?;
                let origin = url.origin().ascii_serialization();
                let ours = policy.target_origins.iter().any(|o| {
                    Url::parse(o).is_ok_and(|o| o.origin().ascii_serialization() == origin)
                });
                if !ours {
                    return Err(bad(format!(
                        "target_link_uri is not on this client's origins ({}): refused so the client is no open redirector (OIDC Core §4)",
                        crate::error::truncate(&origin, 120)
                    )));
                }
                Some(url)
            }
        };
        Ok(InitiatedLogin {
            issuer,
            login_hint: hint,
            target_link_uri,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> InitiationPolicy {
        InitiationPolicy {
            issuers: vec!["https://op.example".into()],
            target_origins: vec!["https://app.example:8443".into()],
        }
    }

    #[test]
    fn each_rule_refuses_its_bad_case() {
        let p = |q: &str| InitiatedLogin::parse(q.as_bytes(), &policy());
        assert!(p("iss=https://op.example").is_ok());
        assert!(p("").is_err(), "iss required");
        assert!(p("iss=https://op.example/").is_err(), "compared exactly");
        assert!(p("iss=https://op.example&iss=https://op.example").is_err());
        assert!(p("iss=https://op.example&login_hint=a%0Ab").is_err());
        assert!(
            p(&format!(
                "iss=https://op.example&login_hint={}",
                "a".repeat(2000)
            ))
            .is_err()
        );
        let ok =
            p("iss=https://op.example&login_hint=alice&target_link_uri=https://app.example:8443/x")
                .unwrap();
        assert_eq!(ok.login_hint.as_deref(), Some("alice"));
        assert!(
            p("iss=https://op.example&target_link_uri=https://app.example/x").is_err(),
            "port"
        );
        assert!(
            p("iss=https://op.example&target_link_uri=http://app.example:8443/x").is_err(),
            "scheme"
        );
        assert!(p("iss=https://op.example&target_link_uri=//evil.example").is_err());
        let none = InitiationPolicy {
            target_origins: vec![],
            ..policy()
        };
        assert!(
            InitiatedLogin::parse(
                b"iss=https://op.example&target_link_uri=https://app.example:8443/",
                &none
            )
            .is_err()
        );
    }
}
