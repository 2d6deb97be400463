//! OpenID Connect Session Management 1.0, the relying party's side: the message its page
//! posts to the provider's `check_session_iframe`, the answers it can get, and what to do on
//! `changed`.
//!
//! The polling itself runs in the browser (a script in the RP's page posts
//! [`check_message`] to the provider's iframe every few seconds, §4.1); what the RP decides
//! is here, so that every RP built on this crate decides the same way (§5): on `changed`, a
//! silent re-authentication ([`recheck_request`], `prompt=none` with the old ID token as
//! `id_token_hint`); the same user back means the session goes on with the new
//! `session_state`; an error such as `login_required`, or another user, means the user
//! logged out at the provider and the RP's session ends ([`Recheck::judge`]).
//!
//! ```
//! use oidc_rp::session_management::{Recheck, SessionStatus, check_message, recheck_request};
//! use oidc_rp::AuthorizationRequest;
//!
//! assert_eq!(check_message("client-1", "abc.salt"), "client-1 abc.salt");
//! assert_eq!(SessionStatus::parse("changed"), Some(SessionStatus::Changed));
//! let again = recheck_request(AuthorizationRequest::with_scopes(["openid"]), Some("eyJ..."));
//! assert_eq!(again.prompt.as_deref(), Some("none"));
//! ```

use crate::error::{Error, Result};
use crate::{AuthorizationRequest, Login};

/// What the relying party's page posts to the OP iframe: the client id, one space, the
/// `session_state` of the authorization response (§4.1).
pub fn check_message(client_id: &str, session_state: &str) -> String {
    format!("{client_id} {session_state}")
}

/// The OP iframe's answer (§3.3, §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// The user's session at the provider is as it was: nothing to do.
    Unchanged,
    /// The session at the provider changed (logout, another user, re-authentication): the RP
    /// re-checks with [`recheck_request`].
    Changed,
    /// The message was malformed or for another client; polling should stop (§4.1: the RP
    /// must not keep polling after `error`).
    Error,
}

impl SessionStatus {
    /// The iframe's answer, exactly as the specification spells it; anything else is not an
    /// answer (another frame's message, say) and is ignored.
    pub fn parse(message: &str) -> Option<SessionStatus> {
        match message {
            "unchanged" => Some(SessionStatus::Unchanged),
            "changed" => Some(SessionStatus::Changed),
            "error" => Some(SessionStatus::Error),
            _ => None,
        }
    }
}

/// The silent re-authentication after `changed` (§5): `base` with `prompt=none` and, when
/// the RP has it, the old ID token as `id_token_hint` (OIDC Core §3.1.2.1), so that a
/// provider with a session for another user answers `login_required` rather than switching
/// users silently.
pub fn recheck_request(
    mut base: AuthorizationRequest,
    id_token_hint: Option<&str>,
) -> AuthorizationRequest {
    base.prompt = Some("none".into());
    base.extra.retain(|(k, _)| k != "id_token_hint");
    if let Some(hint) = id_token_hint {
        base.extra.push(("id_token_hint".into(), hint.into()));
    }
    base
}

/// The outcome of a re-check (§5).
#[derive(Debug)]
pub enum Recheck {
    /// The same user is still signed in at the provider: keep the session, with the new
    /// login's `session_state` (and tokens).
    Continues(Box<Login>),
    /// The user is no longer signed in at the provider (or another user is): end the RP's
    /// session for the original user.
    Ended(EndReason),
}

/// Why a re-check ended the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The provider answered with this error (`login_required`, `interaction_required`,
    /// `consent_required`, `account_selection_required`: OIDC Core §3.1.2.6).
    Provider(String),
    /// The provider signed in another user (this `sub`).
    OtherUser(String),
}

impl Recheck {
    /// Judge the result of [`crate::RelyingParty::complete`] for a [`recheck_request`] made
    /// while `subject` was signed in. Errors that say nothing about the user's session at
    /// the provider (a failed validation, a network error) are returned as they are: the
    /// caller cannot tell whether the user left, and a failed check is never a reason to
    /// keep a session going.
    pub fn judge(result: Result<Login>, subject: &str) -> Result<Recheck> {
        match result {
            Ok(login) if login.id_token.subject == subject => {
                Ok(Recheck::Continues(Box::new(login)))
            }
            Ok(login) => Ok(Recheck::Ended(EndReason::OtherUser(
                login.id_token.subject.clone(),
            ))),
            Err(Error::Authorization(e)) if is_no_session(&e.error) => {
                Ok(Recheck::Ended(EndReason::Provider(e.error)))
            }
            Err(e) => Err(e),
        }
    }
}

/// The error codes a `prompt=none` request gets when it cannot complete without the user
/// (OIDC Core §3.1.2.6).
fn is_no_session(code: &str) -> bool {
    matches!(
        code,
        "login_required"
            | "interaction_required"
            | "consent_required"
            | "account_selection_required"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_three_answers_are_answers() {
        assert_eq!(
            SessionStatus::parse("unchanged"),
            Some(SessionStatus::Unchanged)
        );
        assert_eq!(SessionStatus::parse("error"), Some(SessionStatus::Error));
        for other in ["Changed", "changed ", "", "ok", "unchanged\n"] {
            assert_eq!(SessionStatus::parse(other), None, "{other:?}");
        }
    }

    #[test]
    fn the_recheck_is_silent_and_hinted_once() {
        let mut base = AuthorizationRequest::with_scopes(["openid"]);
        base.prompt = Some("login".into());
        base.extra.push(("id_token_hint".into(), "old".into()));
        let r = recheck_request(base, Some("new"));
        assert_eq!(r.prompt.as_deref(), Some("none"));
        let hints: Vec<_> = r
            .extra
            .iter()
            .filter(|(k, _)| k == "id_token_hint")
            .collect();
        assert_eq!(
            hints,
            vec![&("id_token_hint".to_string(), "new".to_string())]
        );
    }

    #[test]
    fn no_session_errors_end_it_and_other_errors_do_not_decide() {
        for code in ["login_required", "interaction_required", "consent_required"] {
            let e = Error::Authorization(crate::AuthorizationError {
                error: code.into(),
                description: None,
                uri: None,
            });
            assert!(matches!(
                Recheck::judge(Err(e), "alice"),
                Ok(Recheck::Ended(EndReason::Provider(c))) if c == code
            ));
        }
        let e = Error::Authorization(crate::AuthorizationError {
            error: "server_error".into(),
            description: None,
            uri: None,
        });
        assert!(Recheck::judge(Err(e), "alice").is_err());
    }
}
