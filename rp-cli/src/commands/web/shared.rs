//! `rp web --redis URL`: the app's state in Redis, so that several instances behind one name
//! act as one. A session is one JSON value under `PREFIX session:ID`, expiring an hour after
//! its last change before sign-in and a day after once signed in; `PREFIX client:ISSUER` is
//! the client registered with an issuer (RFC 7591), one for every instance, kept 30 days; `PREFIX by-sid:`
//! and `PREFIX by-sub:` index signed-in sessions by provider session, so a back-channel
//! logout delivered to any instance finds them. Logout token `jti`s go through the library's
//! [`oidc_rp::store::redis::RedisStore`] under the same prefix.
//!
//! A change is a compare-and-set (one Lua script, which also moves a session to a new id): it applies only to the value it was
//! computed from, else it is computed again from the new one, so an instance that refreshes
//! tokens cannot write back a session another instance has just logged out.
//!
//! When Redis does not answer, every request that needs a session fails with
//! [`StoreDown`]: nothing is assumed, and the connection is made again by itself once the
//! server is back.

use super::session::{StoreDown, WebSession, new_csrf, new_id};
use oidc_rp::ClientConfig;
use redis::AsyncCommands;
use std::time::Duration;

/// How long a session lives after its last change, before sign-in (a login in progress).
const PENDING_TTL: u64 = 3600;
/// How long a session lives after its last change, once signed in.
const SIGNED_IN_TTL: u64 = 24 * 3600;
/// How often a change is computed again when other instances keep changing the session
/// (with a random pause that grows each time, so that a busy writer cannot starve another).
const ATTEMPTS: u32 = 32;
/// Sessions looked at per logout at most (one provider session has a handful).
const MAX_PER_LOGOUT: usize = 1000;
/// How long a registered client is kept after its registration (any user can type an
/// issuer; a provider not used for that long gets a new registration).
const CLIENT_TTL: u64 = 30 * 24 * 3600;

/// Move `KEYS[1]` to `KEYS[2]` (the same key for a change in place) with the value `ARGV[2]`,
/// expiring in `ARGV[3]` s, only if `KEYS[1]` still holds `ARGV[1]`.
const COMPARE_AND_MOVE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
redis.call('DEL', KEYS[1]) redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) return 1 end return 0";

/// The app's state in one Redis server, under one prefix.
#[derive(Clone)]
pub struct RedisState {
    connection: redis::aio::ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn down(e: redis::RedisError) -> StoreDown {
    let mut text = crate::term::inline(&e.to_string()).into_owned();
    if let Some((cut, _)) = text.char_indices().nth(200) {
        text.truncate(cut);
    }
    StoreDown(format!("Redis: {text}"))
}

fn unreadable(e: serde_json::Error) -> StoreDown {
    StoreDown(format!("a stored session is unreadable: {e}"))
}

/// Before attempt `n` (from 0) of a compare-and-set: nothing at first, then a random pause
/// of up to `n` milliseconds.
async fn back_off(n: u32) {
    if n == 0 {
        return;
    }
    let mut byte = [0u8; 1];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut byte);
    let micros = u64::from(byte[0]) * u64::from(n.min(20)) * 1000 / 255;
    tokio::time::sleep(Duration::from_micros(micros)).await;
}

fn ttl(session: &WebSession) -> u64 {
    if session.signed_in.is_some() {
        SIGNED_IN_TTL
    } else {
        PENDING_TTL
    }
}

impl RedisState {
    /// The app's state on `connection` (the library store's, [`RedisStore::connection`]:
    /// one connection per server), every key under `prefix`.
    ///
    /// [`RedisStore::connection`]: oidc_rp::store::redis::RedisStore::connection
    pub fn new(connection: redis::aio::ConnectionManager, prefix: &str) -> RedisState {
        RedisState {
            connection,
            prefix: prefix.to_string(),
        }
    }

    fn key(&self, kind: &str, rest: &str) -> String {
        format!("{}{kind}:{rest}", self.prefix)
    }

    /// The index keys of a session's provider session: by `sid` (when the ID token has one)
    /// and by `sub`.
    fn index_keys(&self, session: &WebSession) -> Vec<String> {
        let Some(s) = &session.signed_in else {
            return Vec::new();
        };
        let mut keys = vec![self.key("by-sub", &format!("{} {}", s.issuer, s.subject()))];
        if let Some(sid) = s.id_token.sid() {
            keys.push(self.key("by-sid", &format!("{} {sid}", s.issuer)));
        }
        keys
    }

    async fn index(&self, id: &str, session: &WebSession) -> Result<(), StoreDown> {
        let keys = self.index_keys(session);
        if keys.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for k in &keys {
            pipe.sadd(k, id)
                .ignore()
                .expire(k, SIGNED_IN_TTL as i64)
                .ignore();
        }
        let mut c = self.connection.clone();
        pipe.query_async::<()>(&mut c).await.map_err(down)
    }

    async fn raw(&self, id: &str) -> Result<Option<String>, StoreDown> {
        let mut c = self.connection.clone();
        c.get(self.key("session", id)).await.map_err(down)
    }

    /// Store a new session (never over an existing one).
    pub async fn create(&self, id: &str, session: &WebSession) -> Result<(), StoreDown> {
        let value = serde_json::to_string(session).map_err(unreadable)?;
        let opts = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::EX(ttl(session)));
        let mut c = self.connection.clone();
        let set: Option<String> = c
            .set_options(self.key("session", id), value, opts)
            .await
            .map_err(down)?;
        match set {
            Some(_) => Ok(()),
            None => Err(StoreDown("a new session id was already in use".into())),
        }
    }

    /// A session, when it exists.
    pub async fn get(&self, id: &str) -> Result<Option<WebSession>, StoreDown> {
        match self.raw(id).await? {
            None => Ok(None),
            Some(v) => serde_json::from_str(&v).map(Some).map_err(unreadable),
        }
    }

    /// Write the session `id` back as `change` makes it, under `to` (the same id, or a new
    /// one), atomically: the write happens only if the session is still what `change` saw,
    /// else it is computed again from the new value.
    async fn rewrite(
        &self,
        id: &str,
        to: &str,
        change: &mut (dyn FnMut(&mut WebSession) + Send),
    ) -> Result<Option<WebSession>, StoreDown> {
        for attempt in 0..ATTEMPTS {
            back_off(attempt).await;
            let Some(old) = self.raw(id).await? else {
                return Ok(None);
            };
            let mut session: WebSession = serde_json::from_str(&old).map_err(unreadable)?;
            change(&mut session);
            let value = serde_json::to_string(&session).map_err(unreadable)?;
            let mut c = self.connection.clone();
            let done: i64 = redis::cmd("EVAL")
                .arg(COMPARE_AND_MOVE)
                .arg(2)
                .arg(self.key("session", id))
                .arg(self.key("session", to))
                .arg(&old)
                .arg(&value)
                .arg(ttl(&session))
                .query_async(&mut c)
                .await
                .map_err(down)?;
            if done == 1 {
                self.index(to, &session).await?;
                return Ok(Some(session));
            }
        }
        Err(StoreDown(format!(
            "the session kept changing under {ATTEMPTS} attempts to change it"
        )))
    }

    /// Apply `change` to the session as stored, atomically.
    pub async fn update(
        &self,
        id: &str,
        change: &mut (dyn FnMut(&mut WebSession) + Send),
    ) -> Result<Option<WebSession>, StoreDown> {
        self.rewrite(id, id, change).await
    }

    /// Move a session to a new id with a new CSRF token.
    pub async fn rotate(&self, id: &str) -> Result<Option<String>, StoreDown> {
        let to = new_id();
        let moved = self.rewrite(id, &to, &mut |s| s.csrf = new_csrf()).await?;
        Ok(moved.map(|_| to))
    }

    /// End the sign-in of every session of a provider session, on whichever instance it
    /// was made.
    pub async fn end_matching(
        &self,
        issuer: &str,
        sid: Option<&str>,
        sub: Option<&str>,
        notice: &str,
    ) -> Result<usize, StoreDown> {
        let index = match (sid, sub) {
            (Some(sid), _) => self.key("by-sid", &format!("{issuer} {sid}")),
            (None, Some(sub)) => self.key("by-sub", &format!("{issuer} {sub}")),
            (None, None) => return Ok(0),
        };
        let mut c = self.connection.clone();
        let ids: Vec<String> = c.smembers(&index).await.map_err(down)?;
        let ids = &ids[..ids.len().min(MAX_PER_LOGOUT)];
        let mut ended = 0;
        for id in ids {
            let mut hit = false;
            let found = self
                .update(id, &mut |s| {
                    hit = s.is_signed_in_to(issuer, sid, sub);
                    if hit {
                        s.end_sign_in(notice);
                    }
                })
                .await?;
            if found.is_some() && hit {
                ended += 1;
            }
        }
        // Every session looked at is out of this provider session now (ended, gone, or
        // signed in to another, which indexed it there).
        if !ids.is_empty() {
            let _: i64 = c.srem(&index, ids).await.map_err(down)?;
        }
        Ok(ended)
    }

    /// The client registered with `issuer`.
    pub async fn registered(&self, issuer: &str) -> Result<Option<ClientConfig>, StoreDown> {
        let mut c = self.connection.clone();
        let v: Option<String> = c.get(self.key("client", issuer)).await.map_err(down)?;
        match v {
            None => Ok(None),
            Some(v) => serde_json::from_str(&v)
                .map(Some)
                .map_err(|e| StoreDown(format!("a stored client is unreadable: {e}"))),
        }
    }

    /// Keep `client` for `issuer` unless another instance kept one first; the one kept.
    pub async fn keep_registered(
        &self,
        issuer: &str,
        client: ClientConfig,
    ) -> Result<ClientConfig, StoreDown> {
        let value = serde_json::to_string(&client)
            .map_err(|e| StoreDown(format!("cannot store the client: {e}")))?;
        let opts = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::EX(CLIENT_TTL));
        let mut c = self.connection.clone();
        let set: Option<String> = c
            .set_options(self.key("client", issuer), value, opts)
            .await
            .map_err(down)?;
        if set.is_some() {
            return Ok(client);
        }
        self.registered(issuer)
            .await?
            .ok_or_else(|| StoreDown("the stored client vanished".into()))
    }
}
