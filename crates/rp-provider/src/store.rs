//! Where the provider keeps grants, codes, tokens, sessions and registered clients.
//!
//! [`Store`] is the seam for a persistent store; [`MemoryStore`] keeps everything in hash maps
//! keyed by the SHA-256 of the secret value (a memory dump does not show live tokens), with
//! O(1) lookups, a periodic sweep of expired entries, and a [`Capacity`] per kind of entry
//! beyond which the oldest are forgotten, so memory stays flat however long it runs.
//! Revoking a grant is O(1): the grant id goes into a revoked set that every token lookup
//! consults, instead of scanning a per-grant token list.

use crate::bounded::Bounded;
use crate::fixtures::Client;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How the response goes back to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// Query parameters on a redirect.
    Query,
    /// In the redirect URI's fragment (the implicit and hybrid default).
    Fragment,
    /// An auto-submitting form POST.
    FormPost,
    /// JARM in the query (`query.jwt`, or `jwt` for the code flow).
    QueryJwt,
    /// JARM in a form POST (`form_post.jwt`).
    FormPostJwt,
}

impl ResponseMode {
    /// Whether the response is a JWT (JARM).
    pub fn is_jwt(self) -> bool {
        matches!(self, ResponseMode::QueryJwt | ResponseMode::FormPostJwt)
    }
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthzRequest {
    /// `client_id`.
    pub client_id: String,
    /// The redirect URI to answer to.
    pub redirect_uri: String,
    /// Scopes granted.
    pub scope: Vec<String>,
    /// `state`.
    pub state: Option<String>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// `prompt` values.
    pub prompt: Vec<String>,
    /// `max_age`.
    pub max_age: Option<i64>,
    /// `login_hint`.
    pub login_hint: Option<String>,
    /// Response mode.
    pub response_mode: ResponseMode,
    /// `claims` request parameter.
    pub claims: Option<Value>,
    /// For a device login (RFC 8628): the user code it approves; it ends on the provider's
    /// page instead of at a redirect URI.
    pub device: Option<String>,
    /// What the authorization endpoint returns.
    pub response_type: crate::response_type::ResponseKinds,
    /// `dpop_jkt` (RFC 9449 §10): the code may only be redeemed with a proof of this key.
    pub dpop_jkt: Option<String>,
    /// The `sub` of a valid `id_token_hint` (OIDC Core §3.1.2.1): a session for another
    /// user does not answer this request.
    pub hint_sub: Option<String>,
}

/// A signed-in user in an interaction.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The user.
    pub sub: String,
    /// When they authenticated.
    pub auth_time: i64,
    /// The session's public id (the `sid` claim).
    pub sid: String,
}

/// A login in progress (between the login form and the redirect).
#[derive(Debug, Clone)]
pub struct Interaction {
    /// The value of the `op_ix` cookie that must come back with the form (login CSRF defence).
    pub binding: String,
    /// The request being answered.
    pub request: AuthzRequest,
    /// Set once the user signed in (consent pending).
    pub user: Option<Authenticated>,
    /// Expiry.
    pub expires_at: i64,
}

/// An authorization code's grant.
#[derive(Debug, Clone)]
pub struct CodeGrant {
    /// The grant this code starts.
    pub grant_id: String,
    /// The request it answers.
    pub request: AuthzRequest,
    /// Who signed in.
    pub user: Authenticated,
    /// Expiry (codes live 60 s).
    pub expires_at: i64,
}

/// What a code lookup found.
#[derive(Debug, Clone)]
pub enum CodeLookup {
    /// A valid code, now consumed.
    Fresh(Box<CodeGrant>),
    /// A code used before: its grant id, to revoke (RFC 6749 §4.1.2).
    Reused(String),
    /// Unknown or expired.
    Missing,
}

/// The kind of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Access token.
    Access,
    /// Refresh token.
    Refresh,
}

/// An issued token.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    /// Access or refresh.
    pub kind: TokenKind,
    /// The grant it belongs to.
    pub grant_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The user.
    pub sub: String,
    /// Scopes.
    pub scope: Vec<String>,
    /// `claims` request parameter of the original request.
    pub claims: Option<Value>,
    /// Expiry.
    pub expires_at: i64,
    /// Issue time.
    pub issued_at: i64,
    /// Session id.
    pub sid: String,
    /// Original authentication time.
    pub auth_time: i64,
    /// Audiences (resource servers) the token is for; empty means the default.
    pub audience: Vec<String>,
    /// Unique id (`jti`).
    pub jti: String,
    /// Whether the grant includes `offline_access` (refresh tokens may be issued).
    pub offline: bool,
    /// RFC 8693 `act` claim for tokens issued by delegation.
    pub actor: Option<Value>,
    /// RFC 9449 §6: the thumbprint of the DPoP key the token is bound to.
    pub jkt: Option<String>,
    /// RFC 8705 §3: the thumbprint of the client certificate the token is bound to.
    pub x5t: Option<String>,
}

/// What taking a refresh token found.
#[derive(Debug, Clone)]
pub enum RefreshLookup {
    /// A live refresh token, now consumed (rotation).
    Fresh(Box<TokenRecord>),
    /// A refresh token that was already rotated: its grant id (RFC 9700 §4.14.2).
    Reused(String),
    /// Unknown, expired or revoked.
    Missing,
}

/// Where a device login stands (RFC 8628 §3.3).
#[derive(Debug, Clone)]
pub enum DeviceStatus {
    /// The user has not finished at the verification page.
    Pending,
    /// The user signed in and approved.
    Approved(Authenticated),
    /// The user refused.
    Denied,
}

/// A device authorization (RFC 8628 §3.2): the request, the user code, and its progress.
#[derive(Debug, Clone)]
pub struct DeviceGrant {
    /// The request (client, scope, nonce, claims).
    pub request: AuthzRequest,
    /// The user code, normalised (upper case, no separator).
    pub user_code: String,
    /// Where it stands.
    pub status: DeviceStatus,
    /// Expiry.
    pub expires_at: i64,
    /// The minimum wait between polls, in seconds.
    pub interval: i64,
    /// When it was last polled, in milliseconds since the epoch.
    pub last_poll_ms: Option<i64>,
    /// How many polls so far.
    pub polls: u32,
}

/// What a poll with a device code found.
#[derive(Debug, Clone)]
pub enum DevicePollLookup {
    /// Unknown, or already redeemed.
    Missing,
    /// Past its expiry.
    Expired,
    /// Not yet approved; `too_fast` when it came before the interval had passed.
    Pending {
        /// Polled sooner than the interval allows (RFC 8628 §3.5 `slow_down`).
        too_fast: bool,
        /// The grant, after this poll was counted.
        grant: Box<DeviceGrant>,
    },
    /// Refused by the user (now forgotten).
    Denied,
    /// Approved: the grant, now consumed.
    Approved(Box<DeviceGrant>),
}

/// A pushed authorization request (RFC 9126): the client that pushed it and its parameters.
#[derive(Debug, Clone)]
pub struct PushedRequest {
    /// The authenticated client.
    pub client_id: String,
    /// The parameters, as pushed (or from the pushed request object).
    pub params: Vec<(String, String)>,
    /// Expiry.
    pub expires_at: i64,
}

/// A browser session at the provider.
#[derive(Debug, Clone)]
pub struct Session {
    /// Public session id (`sid` claim).
    pub sid: String,
    /// The user.
    pub sub: String,
    /// When they authenticated.
    pub auth_time: i64,
    /// Expiry.
    pub expires_at: i64,
    /// The clients that received tokens in this session (logged out with it).
    pub clients: Vec<String>,
}

/// Storage of the provider's state.
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Keep an interaction.
    fn put_interaction(&self, id: &str, interaction: Interaction);
    /// Look an interaction up.
    fn interaction(&self, id: &str, now: i64) -> Option<Interaction>;
    /// Forget an interaction.
    fn remove_interaction(&self, id: &str);
    /// Keep a code.
    fn put_code(&self, code: &str, grant: CodeGrant);
    /// Consume a code.
    fn take_code(&self, code: &str, now: i64) -> CodeLookup;
    /// Keep a token.
    fn put_token(&self, token: &str, record: TokenRecord);
    /// Look a live token up (unexpired, not revoked, grant not revoked).
    fn token(&self, token: &str, now: i64) -> Option<TokenRecord>;
    /// Consume a refresh token for rotation: it stops working, and using it again is detected.
    fn take_refresh(&self, token: &str, now: i64) -> RefreshLookup;
    /// Revoke one token; true when it existed.
    fn revoke_token(&self, token: &str) -> bool;
    /// Revoke every token of a grant, until `until`.
    fn revoke_grant(&self, grant_id: &str, until: i64);
    /// Keep a session under its cookie value.
    fn put_session(&self, cookie: &str, session: Session);
    /// The session of a browser cookie.
    fn session(&self, cookie: &str, now: i64) -> Option<Session>;
    /// A session by its public id.
    fn session_by_sid(&self, sid: &str, now: i64) -> Option<Session>;
    /// Record that a client received tokens in a session.
    fn join_session(&self, sid: &str, client_id: &str);
    /// End a session; returns it.
    fn end_session(&self, sid: &str) -> Option<Session>;
    /// Register a client.
    fn put_client(&self, client: Client);
    /// A registered client.
    fn client(&self, client_id: &str) -> Option<Arc<Client>>;
    /// Keep a device authorization under its device code.
    fn put_device(&self, device_code: &str, grant: DeviceGrant);
    /// A live device authorization by its (normalised) user code.
    fn device_by_user_code(&self, user_code: &str, now: i64) -> Option<DeviceGrant>;
    /// Record the user's decision on a pending device authorization; false when there is none.
    fn decide_device(&self, user_code: &str, status: DeviceStatus, now: i64) -> bool;
    /// A poll with a device code at `now_ms` (milliseconds): counted, and consumed when it
    /// ends the login.
    fn poll_device(&self, device_code: &str, now_ms: i64) -> DevicePollLookup;
    /// Keep a pushed authorization request under its `request_uri`.
    fn put_pushed(&self, request_uri: &str, request: PushedRequest);
    /// Take a pushed request (one use, RFC 9126 §4), if it has not expired.
    fn take_pushed(&self, request_uri: &str, now: i64) -> Option<PushedRequest>;
    /// Drop expired entries.
    fn sweep(&self, now: i64);
}

type Key = [u8; 32];

fn key(secret: &str) -> Key {
    let d = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    let mut k = [0u8; 32];
    k.copy_from_slice(d.as_ref());
    k
}

/// How many entries of each kind the in-memory store keeps before it forgets the oldest.
///
/// Forgetting is what expiry would do later: a forgotten session means a new login, a
/// forgotten token is answered like an expired one. Revoked grants are never forgotten
/// before their tokens expire (that would bring the tokens back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Browser sessions.
    pub sessions: usize,
    /// Access and refresh tokens, and rotated refresh tokens (kept for reuse detection).
    pub tokens: usize,
    /// Logins in progress, and authorization codes (fresh and used).
    pub pending: usize,
    /// Dynamically registered clients (the fixture clients are never forgotten).
    pub clients: usize,
}

impl Default for Capacity {
    /// Enough for any test suite and for interactive use, small enough that the provider
    /// stays within about 25 MiB resident under sustained load.
    fn default() -> Self {
        Capacity {
            sessions: 4096,
            tokens: 6144,
            pending: 1024,
            clients: 1024,
        }
    }
}

/// The in-memory store.
#[derive(Debug)]
pub struct MemoryStore {
    interactions: Mutex<Bounded<String, Interaction>>,
    codes: Mutex<Bounded<Key, CodeGrant>>,
    used_codes: Mutex<Bounded<Key, (String, i64)>>,
    tokens: Mutex<Bounded<Key, TokenRecord>>,
    rotated: Mutex<Bounded<Key, (String, i64)>>,
    revoked_grants: Mutex<HashMap<String, i64>>,
    sessions: Mutex<Bounded<String, Session>>,
    session_cookies: Mutex<Bounded<Key, String>>,
    clients: Mutex<Bounded<String, Arc<Client>>>,
    devices: Mutex<Bounded<Key, DeviceGrant>>,
    user_codes: Mutex<Bounded<String, Key>>,
    pushed: Mutex<Bounded<Key, PushedRequest>>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::with_capacity(Capacity::default())
    }
}

impl MemoryStore {
    /// A store that keeps at most `capacity` entries of each kind.
    pub fn with_capacity(capacity: Capacity) -> Self {
        MemoryStore {
            interactions: Mutex::new(Bounded::new(capacity.pending)),
            codes: Mutex::new(Bounded::new(capacity.pending)),
            used_codes: Mutex::new(Bounded::new(capacity.pending)),
            tokens: Mutex::new(Bounded::new(capacity.tokens)),
            rotated: Mutex::new(Bounded::new(capacity.tokens)),
            revoked_grants: Mutex::new(HashMap::new()),
            sessions: Mutex::new(Bounded::new(capacity.sessions)),
            session_cookies: Mutex::new(Bounded::new(capacity.sessions)),
            clients: Mutex::new(Bounded::new(capacity.clients)),
            devices: Mutex::new(Bounded::new(capacity.pending)),
            user_codes: Mutex::new(Bounded::new(capacity.pending)),
            pushed: Mutex::new(Bounded::new(capacity.pending)),
        }
    }

    /// How many sessions and tokens are held now.
    pub fn held(&self) -> (usize, usize) {
        (lock(&self.sessions).len(), lock(&self.tokens).len())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Store for MemoryStore {
    fn put_interaction(&self, id: &str, interaction: Interaction) {
        lock(&self.interactions).insert(id.to_string(), interaction);
    }

    fn interaction(&self, id: &str, now: i64) -> Option<Interaction> {
        lock(&self.interactions)
            .get(id)
            .filter(|i| i.expires_at > now)
            .cloned()
    }

    fn remove_interaction(&self, id: &str) {
        lock(&self.interactions).remove(id);
    }

    fn put_code(&self, code: &str, grant: CodeGrant) {
        lock(&self.codes).insert(key(code), grant);
    }

    fn take_code(&self, code: &str, now: i64) -> CodeLookup {
        let k = key(code);
        if let Some(grant) = lock(&self.codes).remove(&k) {
            if grant.expires_at <= now {
                return CodeLookup::Missing;
            }
            lock(&self.used_codes).insert(k, (grant.grant_id.clone(), grant.expires_at + 600));
            return CodeLookup::Fresh(Box::new(grant));
        }
        match lock(&self.used_codes).get(&k) {
            Some((grant_id, _)) => CodeLookup::Reused(grant_id.clone()),
            None => CodeLookup::Missing,
        }
    }

    fn put_token(&self, token: &str, record: TokenRecord) {
        lock(&self.tokens).insert(key(token), record);
    }

    fn token(&self, token: &str, now: i64) -> Option<TokenRecord> {
        let record = lock(&self.tokens)
            .get(&key(token))
            .filter(|r| r.expires_at > now)
            .cloned()?;
        if lock(&self.revoked_grants).contains_key(&record.grant_id) {
            return None;
        }
        Some(record)
    }

    fn take_refresh(&self, token: &str, now: i64) -> RefreshLookup {
        let k = key(token);
        let taken = {
            let mut tokens = lock(&self.tokens);
            match tokens.get(&k) {
                Some(r) if r.kind == TokenKind::Refresh => tokens.remove(&k),
                _ => None,
            }
        };
        if let Some(record) = taken {
            if record.expires_at <= now || lock(&self.revoked_grants).contains_key(&record.grant_id)
            {
                return RefreshLookup::Missing;
            }
            lock(&self.rotated).insert(k, (record.grant_id.clone(), record.expires_at));
            return RefreshLookup::Fresh(Box::new(record));
        }
        match lock(&self.rotated).get(&k) {
            Some((grant_id, _)) => RefreshLookup::Reused(grant_id.clone()),
            None => RefreshLookup::Missing,
        }
    }

    fn revoke_token(&self, token: &str) -> bool {
        lock(&self.tokens).remove(&key(token)).is_some()
    }

    fn revoke_grant(&self, grant_id: &str, until: i64) {
        lock(&self.revoked_grants).insert(grant_id.to_string(), until);
    }

    fn put_session(&self, cookie: &str, session: Session) {
        lock(&self.session_cookies).insert(key(cookie), session.sid.clone());
        lock(&self.sessions).insert(session.sid.clone(), session);
    }

    fn session(&self, cookie: &str, now: i64) -> Option<Session> {
        let sid = lock(&self.session_cookies).get(&key(cookie)).cloned()?;
        self.session_by_sid(&sid, now)
    }

    fn session_by_sid(&self, sid: &str, now: i64) -> Option<Session> {
        lock(&self.sessions)
            .get(sid)
            .filter(|s| s.expires_at > now)
            .cloned()
    }

    fn join_session(&self, sid: &str, client_id: &str) {
        if let Some(s) = lock(&self.sessions).get_mut(sid)
            && !s.clients.iter().any(|c| c == client_id)
        {
            s.clients.push(client_id.to_string());
        }
    }

    fn end_session(&self, sid: &str) -> Option<Session> {
        lock(&self.sessions).remove(sid)
    }

    fn put_client(&self, client: Client) {
        lock(&self.clients).insert(client.client_id.clone(), Arc::new(client));
    }

    fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        lock(&self.clients).get(client_id).cloned()
    }

    fn put_device(&self, device_code: &str, grant: DeviceGrant) {
        let k = key(device_code);
        lock(&self.user_codes).insert(grant.user_code.clone(), k);
        lock(&self.devices).insert(k, grant);
    }

    fn device_by_user_code(&self, user_code: &str, now: i64) -> Option<DeviceGrant> {
        let k = *lock(&self.user_codes).get(user_code)?;
        lock(&self.devices)
            .get(&k)
            .filter(|g| g.expires_at > now)
            .cloned()
    }

    fn decide_device(&self, user_code: &str, status: DeviceStatus, now: i64) -> bool {
        let Some(k) = lock(&self.user_codes).remove(user_code) else {
            return false;
        };
        let mut devices = lock(&self.devices);
        match devices.get_mut(&k) {
            Some(g) if g.expires_at > now && matches!(g.status, DeviceStatus::Pending) => {
                g.status = status;
                true
            }
            _ => false,
        }
    }

    fn poll_device(&self, device_code: &str, now_ms: i64) -> DevicePollLookup {
        let k = key(device_code);
        let mut devices = lock(&self.devices);
        let Some(grant) = devices.get_mut(&k) else {
            return DevicePollLookup::Missing;
        };
        if grant.expires_at * 1000 <= now_ms {
            let user_code = grant.user_code.clone();
            devices.remove(&k);
            drop(devices);
            lock(&self.user_codes).remove(&user_code);
            return DevicePollLookup::Expired;
        }
        let too_fast = grant
            .last_poll_ms
            .is_some_and(|last| now_ms - last < grant.interval * 1000);
        grant.last_poll_ms = Some(now_ms);
        grant.polls += 1;
        match grant.status {
            DeviceStatus::Pending => DevicePollLookup::Pending {
                too_fast,
                grant: Box::new(grant.clone()),
            },
            DeviceStatus::Denied => {
                devices.remove(&k);
                DevicePollLookup::Denied
            }
            DeviceStatus::Approved(_) => match devices.remove(&k) {
                Some(g) => DevicePollLookup::Approved(Box::new(g)),
                None => DevicePollLookup::Missing,
            },
        }
    }

    fn put_pushed(&self, request_uri: &str, request: PushedRequest) {
        lock(&self.pushed).insert(key(request_uri), request);
    }

    fn take_pushed(&self, request_uri: &str, now: i64) -> Option<PushedRequest> {
        lock(&self.pushed)
            .remove(&key(request_uri))
            .filter(|p| p.expires_at > now)
    }

    fn sweep(&self, now: i64) {
        lock(&self.pushed).retain(|_, p| p.expires_at > now);
        lock(&self.devices).retain(|_, g| g.expires_at > now);
        let live: std::collections::HashSet<Key> = lock(&self.devices).keys().copied().collect();
        lock(&self.user_codes).retain(|_, k| live.contains(k));
        lock(&self.interactions).retain(|_, i| i.expires_at > now);
        lock(&self.codes).retain(|_, c| c.expires_at > now);
        lock(&self.used_codes).retain(|_, (_, until)| *until > now);
        lock(&self.tokens).retain(|_, t| t.expires_at > now);
        lock(&self.rotated).retain(|_, (_, until)| *until > now);
        lock(&self.revoked_grants).retain(|_, until| *until > now);
        lock(&self.sessions).retain(|_, s| s.expires_at > now);
        let live: std::collections::HashSet<String> =
            lock(&self.sessions).keys().cloned().collect();
        lock(&self.session_cookies).retain(|_, sid| live.contains(sid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(n: usize, grant: &str) -> TokenRecord {
        TokenRecord {
            kind: TokenKind::Access,
            grant_id: grant.into(),
            client_id: "c".into(),
            sub: "s".into(),
            scope: vec!["openid".into()],
            claims: None,
            expires_at: 1_000_000,
            issued_at: n as i64,
            sid: String::new(),
            auth_time: 0,
            audience: Vec::new(),
            jti: n.to_string(),
            offline: false,
            actor: None,
            jkt: None,
            x5t: None,
        }
    }

    #[test]
    fn the_oldest_tokens_and_sessions_are_forgotten_beyond_capacity() {
        let store = MemoryStore::with_capacity(Capacity {
            sessions: 2,
            tokens: 3,
            pending: 2,
            clients: 2,
        });
        for n in 0..5 {
            store.put_token(&format!("t{n}"), token(n, "g"));
            store.put_session(
                &format!("cookie{n}"),
                Session {
                    sid: format!("sid{n}"),
                    sub: "s".into(),
                    auth_time: 0,
                    expires_at: 1_000_000,
                    clients: Vec::new(),
                },
            );
        }
        assert_eq!(store.held(), (2, 3));
        assert!(store.token("t0", 1).is_none() && store.token("t1", 1).is_none());
        assert!(store.token("t4", 1).is_some());
        assert!(store.session("cookie2", 1).is_none());
        assert_eq!(store.session("cookie4", 1).unwrap().sid, "sid4");
    }

    #[test]
    fn a_revoked_grant_stays_revoked_however_many_tokens_follow() {
        let store = MemoryStore::with_capacity(Capacity {
            sessions: 2,
            tokens: 2,
            pending: 2,
            clients: 2,
        });
        store.put_token("victim", token(0, "bad"));
        store.revoke_grant("bad", 1_000_000);
        for n in 1..100 {
            store.put_token(&format!("t{n}"), token(n, "good"));
        }
        // Re-issuing a token of the revoked grant (a store replaying old state) still fails.
        store.put_token("victim", token(0, "bad"));
        assert!(store.token("victim", 1).is_none());
    }
}
