//! Web sessions: server-side state keyed by a random cookie, with a CSRF token per session.
//!
//! The cookie holds only a random identifier (32 bytes from the OS generator); the tokens stay
//! on the server. It is `HttpOnly` (no script reads it), `SameSite=Lax` (not sent on cross-site
//! POSTs, while the provider's redirect back, a top-level GET, still carries it) and `Secure`
//! under TLS. The identifier changes when a login completes, so an identifier planted before
//! the login is worthless after it (session fixation, OWASP ASVS 3.2.1). Every state-changing
//! form carries the session's CSRF token, compared in constant time.

use oidc_rp::oauth2::CsrfToken;
use oidc_rp::{AuthTransaction, LogoutTransaction, Report, Secret, UserInfo, VerifiedIdToken};
use rp_provider::bounded::Bounded;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "rp_web_session";

/// Sessions the app keeps at most (the oldest are forgotten first).
const CAPACITY: usize = 4096;

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The provider's issuer.
    pub issuer: String,
    /// The client used.
    pub client_id: String,
    /// Every check made at login.
    pub report: Report,
    /// The validated ID token.
    pub id_token: VerifiedIdToken,
    /// The raw ID token (for `id_token_hint`).
    pub id_token_raw: Secret,
    /// The access token.
    pub access_token: Secret,
    /// The refresh token, when one was issued.
    pub refresh_token: Option<Secret>,
    /// Userinfo, when the provider has the endpoint.
    pub userinfo: Option<UserInfo>,
}

/// What the last button press showed.
#[derive(Debug, Clone)]
pub struct Shown {
    /// Heading.
    pub title: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// Lines of `name: value`, or one message.
    pub lines: Vec<(String, String)>,
}

/// One browser's session.
#[derive(Debug, Clone)]
pub struct WebSession {
    /// The CSRF token of this session's forms.
    pub csrf: Secret,
    /// A login in progress: the transaction and the provider it went to.
    pub pending: Option<(AuthTransaction, String)>,
    /// The signed-in user.
    pub signed_in: Option<SignedIn>,
    /// A logout in progress.
    pub logging_out: Option<LogoutTransaction>,
    /// A message for the next page (a back-channel logout, say).
    pub notice: Option<String>,
    /// The result of the last action.
    pub shown: Option<Shown>,
}

impl WebSession {
    fn new() -> Self {
        WebSession {
            csrf: Secret::new(CsrfToken::new_random_len(32).secret().as_str()),
            pending: None,
            signed_in: None,
            logging_out: None,
            notice: None,
            shown: None,
        }
    }

    /// Whether `token` is this session's CSRF token.
    pub fn csrf_ok(&self, token: Option<&str>) -> bool {
        token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(self.csrf.expose().as_bytes())))
    }
}

/// All sessions.
#[derive(Debug)]
pub struct Sessions(Mutex<Bounded<String, WebSession>>);

impl Default for Sessions {
    fn default() -> Self {
        Sessions(Mutex::new(Bounded::new(CAPACITY)))
    }
}

fn new_id() -> String {
    CsrfToken::new_random_len(32).secret().clone()
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Bounded<String, WebSession>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The session of `id`, or a new one (with its new id).
    pub fn get_or_create(&self, id: Option<&str>) -> (String, WebSession) {
        let mut map = self.lock();
        if let Some(id) = id
            && let Some(s) = map.get(id)
        {
            return (id.to_string(), s.clone());
        }
        let id = new_id();
        let session = WebSession::new();
        map.insert(id.clone(), session.clone());
        (id, session)
    }

    /// An existing session.
    pub fn get(&self, id: &str) -> Option<WebSession> {
        self.lock().get(id).cloned()
    }

    /// Change a session in place; returns it as changed (`None` if it is gone).
    pub fn update(&self, id: &str, change: impl FnOnce(&mut WebSession)) -> Option<WebSession> {
        let mut map = self.lock();
        let s = map.get_mut(id)?;
        change(s);
        Some(s.clone())
    }

    /// Move a session to a fresh id (after login) and return the new id.
    pub fn rotate(&self, id: &str) -> Option<String> {
        let mut map = self.lock();
        let mut session = map.remove(id)?;
        session.csrf = Secret::new(CsrfToken::new_random_len(32).secret().as_str());
        let new = new_id();
        map.insert(new.clone(), session);
        Some(new)
    }

    /// End the sign-in of every session of this provider session (back- and front-channel
    /// logout): by `sid` when given, else by `sub`. Returns how many were ended.
    pub fn end_matching(
        &self,
        issuer: &str,
        sid: Option<&str>,
        sub: Option<&str>,
        notice: &str,
    ) -> usize {
        let mut ended = 0;
        for session in self.lock().values_mut() {
            let matches = session.signed_in.as_ref().is_some_and(|s| {
                s.issuer == issuer
                    && match (sid, sub) {
                        (Some(sid), _) => {
                            s.id_token.claim("sid").as_ref().and_then(|v| v.as_str()) == Some(sid)
                        }
                        (None, Some(sub)) => s.id_token.subject == sub,
                        (None, None) => false,
                    }
            });
            if matches {
                session.signed_in = None;
                session.shown = None;
                session.notice = Some(notice.to_string());
                ended += 1;
            }
        }
        ended
    }
}

/// The `Set-Cookie` value for a session id.
pub fn set_cookie(id: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The session id in a `Cookie` header.
pub fn from_cookie_header(header: Option<&str>) -> Option<String> {
    header?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_lax_and_secure_under_tls() {
        assert_eq!(
            set_cookie("abc", true),
            "rp_web_session=abc; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(!set_cookie("abc", false).contains("Secure"));
        assert_eq!(
            from_cookie_header(Some("a=1; rp_web_session=xyz; b=2")).as_deref(),
            Some("xyz")
        );
        assert_eq!(from_cookie_header(Some("rp_web_sessionx=1")), None);
    }

    #[test]
    fn rotation_changes_the_id_and_the_csrf_token() {
        let sessions = Sessions::default();
        let (id, s) = sessions.get_or_create(None);
        let new = sessions.rotate(&id).unwrap();
        assert_ne!(id, new);
        assert!(sessions.get(&id).is_none());
        let after = sessions.get(&new).unwrap();
        assert!(!after.csrf_ok(Some(s.csrf.expose())));
        assert!(after.csrf_ok(Some(after.csrf.expose())));
        assert!(!after.csrf_ok(None));
        // An unknown id gets a new session, never the one asked for.
        let (other, _) = sessions.get_or_create(Some("attacker-chosen"));
        assert_ne!(other, "attacker-chosen");
    }
}
