//! Web sessions: server-side state keyed by a random cookie, with a CSRF token per session.
//!
//! The cookie holds only a random identifier (32 bytes from the OS generator); the tokens stay
//! on the server. It is `HttpOnly` (no script reads it), `SameSite=Lax` (not sent on cross-site
//! POSTs, while the provider's redirect back, a top-level GET, still carries it) and `Secure`
//! under TLS. The identifier changes when a login completes, so an identifier planted before
//! the login is worthless after it (session fixation, OWASP ASVS 3.2.1). Every state-changing
//! form carries the session's CSRF token, compared in constant time.

use oidc_rp::{
    AuthTransaction, ClientConfig, LogoutTransaction, Report, Secret, StoredIdToken, UserInfo,
};
use rp_provider::bounded::Bounded;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "rp_web_session";

/// Sessions the app keeps at most in memory, per pool (the oldest are forgotten first).
const CAPACITY: usize = 4096;
/// Providers the app keeps a registered client for, at most (any user can type an issuer).
pub const PROVIDERS: usize = 256;

/// A signed-in user. Everything in it round-trips through serde, so that a session can live
/// in Redis and be read by another instance (`rp web --redis`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedIn {
    /// The provider's issuer.
    pub issuer: String,
    /// The client used.
    pub client_id: String,
    /// Every check made at login.
    pub report: Report,
    /// The ID token as validated at login: its compact form (for `id_token_hint`), claims
    /// and checks. (An implicit `token` login has none: then its `raw` is empty.)
    pub id_token: StoredIdToken,
    /// The access token.
    pub access_token: Secret,
    /// The refresh token, when one was issued.
    pub refresh_token: Option<Secret>,
    /// Userinfo, when the provider has the endpoint.
    pub userinfo: Option<UserInfo>,
    /// Session Management 1.0: the provider's `check_session_iframe` and this login's
    /// `session_state`, when the provider has both.
    pub session_check: Option<(String, String)>,
}

impl SignedIn {
    /// The subject (`sub`) of the ID token.
    pub fn subject(&self) -> &str {
        self.id_token.subject().unwrap_or_default()
    }
}

/// What the last button press showed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Shown {
    /// Heading.
    pub title: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// Lines of `name: value`, or one message.
    pub lines: Vec<(String, String)>,
}

/// One browser's session.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Where to go once the login in progress completes: a third party's `target_link_uri`
    /// (OIDC Core §4), on this app's origin, as a path.
    pub after_login: Option<String>,
    /// The login in progress is a silent re-check (`prompt=none`) after the provider's
    /// iframe said `changed` (Session Management 1.0 §5).
    pub rechecking: bool,
}

impl WebSession {
    /// A session that is not stored: the landing page of a browser without one, whose form
    /// carries a pre-session CSRF token (checked against its cookie, double-submit).
    pub fn unsaved(csrf: Secret) -> Self {
        WebSession {
            csrf,
            ..WebSession::new()
        }
    }

    pub(super) fn new() -> Self {
        WebSession {
            csrf: new_csrf(),
            pending: None,
            signed_in: None,
            logging_out: None,
            notice: None,
            shown: None,
            after_login: None,
            rechecking: false,
        }
    }

    /// Whether `token` is this session's CSRF token.
    pub fn csrf_ok(&self, token: Option<&str>) -> bool {
        token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(self.csrf.expose().as_bytes())))
    }

    /// Whether this session is signed in to the provider session a logout names: by `sid`
    /// when given (Back-Channel Logout 1.0 §2.4), else by `sub`.
    pub fn is_signed_in_to(&self, issuer: &str, sid: Option<&str>, sub: Option<&str>) -> bool {
        self.signed_in.as_ref().is_some_and(|s| {
            s.issuer == issuer
                && match (sid, sub) {
                    (Some(sid), _) => s.id_token.sid() == Some(sid),
                    (None, Some(sub)) => s.subject() == sub,
                    (None, None) => false,
                }
        })
    }

    /// End the sign-in, leaving `notice` for the next page.
    pub fn end_sign_in(&mut self, notice: &str) {
        self.signed_in = None;
        self.shown = None;
        self.notice = Some(notice.to_string());
    }
}

/// The session store did not answer: the request fails, nothing is assumed.
#[derive(Debug, thiserror::Error)]
#[error("the session store is unavailable ({0}); nothing was changed")]
pub struct StoreDown(pub String);

/// Where sessions and dynamically registered clients live: in this process, or in Redis
/// (shared by every instance that uses the same server and prefix).
#[derive(Debug)]
pub enum Sessions {
    /// One instance.
    Memory(Box<Local>),
    /// Several instances (`--redis`).
    Redis(super::shared::RedisState),
}

/// The state of one instance.
#[derive(Debug)]
pub struct Local {
    /// The sessions.
    pools: Mutex<Pools>,
    /// Clients registered dynamically, per issuer (the oldest forgotten first).
    clients: Mutex<Bounded<String, ClientConfig>>,
}

/// All sessions of one instance, in two pools: signed-in ones, and the rest (logins in
/// progress, sessions that logged out). A session is made only when a login starts, never
/// for a page view, and a flood of started logins evicts only other unauthenticated
/// sessions: 4,200 cookie-less requests used to push every signed-in user out.
#[derive(Debug)]
pub struct Pools {
    signed: Bounded<String, WebSession>,
    anonymous: Bounded<String, WebSession>,
}

impl Pools {
    fn get(&self, id: &str) -> Option<&WebSession> {
        self.signed.get(id).or_else(|| self.anonymous.get(id))
    }

    fn remove(&mut self, id: &str) -> Option<WebSession> {
        self.signed.remove(id).or_else(|| self.anonymous.remove(id))
    }

    /// Put a session in the pool its state belongs to.
    fn put(&mut self, id: String, session: WebSession) {
        if session.signed_in.is_some() {
            self.signed.insert(id, session);
        } else {
            self.anonymous.insert(id, session);
        }
    }
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::Memory(Box::new(Local {
            pools: Mutex::new(Pools {
                signed: Bounded::new(CAPACITY),
                anonymous: Bounded::new(CAPACITY),
            }),
            clients: Mutex::new(Bounded::new(PROVIDERS)),
        }))
    }
}

/// A new session id: 32 random bytes.
pub(super) fn new_id() -> String {
    Secret::random(32).expose().to_string()
}

/// A fresh CSRF token (also the pre-session token of the landing page's form).
pub fn new_csrf() -> Secret {
    Secret::random(32)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Sessions {
    /// A new, unauthenticated session (when a login starts) and its id.
    pub async fn create(&self) -> Result<(String, WebSession), StoreDown> {
        let id = new_id();
        let session = WebSession::new();
        match self {
            Sessions::Memory(local) => lock(&local.pools).put(id.clone(), session.clone()),
            Sessions::Redis(r) => r.create(&id, &session).await?,
        }
        Ok((id, session))
    }

    /// A session that exists.
    pub async fn get(&self, id: &str) -> Result<Option<WebSession>, StoreDown> {
        match self {
            Sessions::Memory(local) => Ok(lock(&local.pools).get(id).cloned()),
            Sessions::Redis(r) => r.get(id).await,
        }
    }

    /// Change a session; returns it as changed (`None` if it is gone). The change is made
    /// to the session as stored now (in Redis atomically, retried when another instance
    /// changed it meanwhile), so it may run more than once.
    pub async fn update(
        &self,
        id: &str,
        mut change: impl FnMut(&mut WebSession) + Send,
    ) -> Result<Option<WebSession>, StoreDown> {
        match self {
            Sessions::Memory(local) => {
                let mut pools = lock(&local.pools);
                let Some(mut s) = pools.remove(id) else {
                    return Ok(None);
                };
                change(&mut s);
                pools.put(id.to_string(), s.clone());
                Ok(Some(s))
            }
            Sessions::Redis(r) => r.update(id, &mut change).await,
        }
    }

    /// Move a session to a fresh id with a fresh CSRF token (after login); the new id.
    pub async fn rotate(&self, id: &str) -> Result<Option<String>, StoreDown> {
        match self {
            Sessions::Memory(local) => {
                let mut pools = lock(&local.pools);
                let Some(mut session) = pools.remove(id) else {
                    return Ok(None);
                };
                session.csrf = new_csrf();
                let new = new_id();
                pools.put(new.clone(), session);
                Ok(Some(new))
            }
            Sessions::Redis(r) => r.rotate(id).await,
        }
    }

    /// End the sign-in of every session of this provider session (back- and front-channel
    /// logout): by `sid` when given, else by `sub`. Returns how many were ended.
    pub async fn end_matching(
        &self,
        issuer: &str,
        sid: Option<&str>,
        sub: Option<&str>,
        notice: &str,
    ) -> Result<usize, StoreDown> {
        match self {
            Sessions::Memory(local) => {
                let mut pools = lock(&local.pools);
                let matching: Vec<String> = pools
                    .signed
                    .iter()
                    .filter(|(_, session)| session.is_signed_in_to(issuer, sid, sub))
                    .map(|(id, _)| id.clone())
                    .collect();
                for id in &matching {
                    if let Some(mut session) = pools.remove(id) {
                        session.end_sign_in(notice);
                        pools.put(id.clone(), session);
                    }
                }
                Ok(matching.len())
            }
            Sessions::Redis(r) => r.end_matching(issuer, sid, sub, notice).await,
        }
    }

    /// The client this app registered with `issuer` (RFC 7591), when it did.
    pub async fn registered(&self, issuer: &str) -> Result<Option<ClientConfig>, StoreDown> {
        match self {
            Sessions::Memory(local) => Ok(lock(&local.clients).get(issuer).cloned()),
            Sessions::Redis(r) => r.registered(issuer).await,
        }
    }

    /// Keep the client registered with `issuer`; when another instance registered one
    /// meanwhile, that one is kept and returned (every instance uses one client).
    pub async fn keep_registered(
        &self,
        issuer: &str,
        client: ClientConfig,
    ) -> Result<ClientConfig, StoreDown> {
        match self {
            Sessions::Memory(local) => {
                let mut clients = lock(&local.clients);
                if let Some(kept) = clients.get(issuer) {
                    return Ok(kept.clone());
                }
                clients.insert(issuer.to_string(), client.clone());
                Ok(client)
            }
            Sessions::Redis(r) => r.keep_registered(issuer, client).await,
        }
    }
}

/// The `Set-Cookie` value for a session id.
pub fn set_cookie(id: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The pre-session CSRF cookie's name (the landing page's form, before any session).
pub const CSRF_COOKIE: &str = "rp_web_csrf";

/// The `Set-Cookie` value of the pre-session CSRF token.
pub fn set_csrf_cookie(token: &str, secure: bool) -> String {
    format!(
        "{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The session id in a `Cookie` header.
pub fn from_cookie_header(header: Option<&str>) -> Option<String> {
    cookie(header, COOKIE)
}

/// A cookie's value in a `Cookie` header.
pub fn cookie(header: Option<&str>, name: &str) -> Option<String> {
    header?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
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

    #[tokio::test]
    async fn rotation_changes_the_id_and_the_csrf_token() {
        let sessions = Sessions::default();
        let (id, s) = sessions.create().await.unwrap();
        let new = sessions.rotate(&id).await.unwrap().unwrap();
        assert_ne!(id, new);
        assert!(sessions.get(&id).await.unwrap().is_none());
        let after = sessions.get(&new).await.unwrap().unwrap();
        assert!(!after.csrf_ok(Some(s.csrf.expose())));
        assert!(after.csrf_ok(Some(after.csrf.expose())));
        assert!(!after.csrf_ok(None));
        // An unknown id is no session.
        assert!(sessions.get("attacker-chosen").await.unwrap().is_none());
    }
}
