//! State a service shares when it runs on several instances: seen token ids (replay
//! detection of logout tokens, later DPoP proofs), login transactions (a login started on
//! one instance completes on another) and the provider's documents (its metadata and keys,
//! fetched once for every instance, and a key rotation seen by one seen by all).
//! [`MemoryStore`] keeps them in the process (one instance);
//! [`RedisStore`](crate::store::redis::RedisStore), behind the `redis` feature, shares them,
//! with every entry expiring when what it protects does.
//!
//! A replay or transaction store that cannot answer is an error ([`crate::Error::Store`],
//! class [`crate::ErrorClass::Unavailable`]): never a silent accept. A document store that
//! cannot answer is passed over: the document is public and is fetched from the provider.
//!
//! ```
//! use oidc_rp::store::{MemoryStore, ReplayStore};
//! # async fn f() -> oidc_rp::Result<()> {
//! let store = MemoryStore::new(10_000);
//! let expires = oidc_rp::time::unix_now() + 600;
//! assert!(store.first_use("logout:jti-1", expires).await?);
//! assert!(!store.first_use("logout:jti-1", expires).await?); // a replay
//! # Ok(()) }
//! ```

use crate::authorize::AuthTransaction;
use crate::error::Result;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// Remembers which one-time values (a logout token's `jti`, a DPoP proof's `jti`) were seen.
///
/// ```no_run
/// use oidc_rp::store::ReplayStore;
/// # async fn f(rp: &oidc_rp::RelyingParty, logout_token: &str) -> oidc_rp::Result<()> {
/// // One store for every instance (RedisStore), or MemoryStore / ReplayCache for one.
/// let store = oidc_rp::store::MemoryStore::default();
/// let token = rp.validate_logout_token(logout_token, &store).await?; // a replay is refused
/// # let _ = token; Ok(()) }
/// ```
pub trait ReplayStore: Send + Sync + std::fmt::Debug {
    /// Record `key` until `expires_at` (seconds since the epoch). `true` when it was not
    /// seen before; `false` for a replay. Atomic across every instance sharing the store.
    fn first_use<'a>(&'a self, key: &'a str, expires_at: i64) -> BoxFuture<'a, Result<bool>>;
}

/// Keeps login transactions between the authorization request and the callback, by `state`.
///
/// ```no_run
/// use oidc_rp::store::{MemoryStore, TransactionStore};
/// # async fn f(rp: &oidc_rp::RelyingParty, callback_query: &str) -> oidc_rp::Result<()> {
/// let store = MemoryStore::default(); // RedisStore when several instances serve the app
/// let (url, txn) = rp.authorization_url(
///     &oidc_rp::AuthorizationRequest::with_scopes(["openid"]),
///     "https://app.example/callback",
/// )?;
/// store.put(&txn, oidc_rp::time::unix_now() + 600).await?;
/// // ... the user comes back, maybe to another instance:
/// let params = oidc_rp::CallbackParams::parse(callback_query.as_bytes())?;
/// let state = params.state.clone().unwrap_or_default();
/// let Some(txn) = store.take(&state).await? else {
///     return Ok(()); // no such login (or already completed): answer 400
/// };
/// let login = rp.complete(&txn, &params).await?;
/// # Ok(()) }
/// ```
pub trait TransactionStore: Send + Sync + std::fmt::Debug {
    /// Keep `txn` under its `state` until `expires_at`.
    fn put<'a>(&'a self, txn: &'a AuthTransaction, expires_at: i64) -> BoxFuture<'a, Result<()>>;
    /// Take the transaction of `state`: it is gone afterwards (one callback per login).
    fn take<'a>(&'a self, state: &'a str) -> BoxFuture<'a, Result<Option<AuthTransaction>>>;
}

/// A provider document (a discovery document, a JWKS) as one instance fetched it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedDocument {
    /// The body as fetched (a JWKS), or as checked (metadata).
    pub body: String,
    /// When it was fetched (seconds since the epoch).
    pub fetched_at: i64,
}

/// Keeps the provider documents one instance fetched for the others, by a key naming the
/// document (`jwks <jwks_uri>`, `metadata <issuer>`). What is read back is checked as if it
/// had just been fetched (a JWKS is parsed key by key, metadata must name the issuer), and
/// used only while younger than the reader's own cache lifetime. The store is as trusted as
/// the sessions a service keeps in it: whoever can write to it can plant keys.
///
/// ```no_run
/// use std::sync::Arc;
/// use oidc_rp::store::{DocumentStore, MemoryStore};
/// use oidc_rp::{ClientConfig, HttpClient, RelyingParty, discovery};
/// # async fn f() -> oidc_rp::Result<()> {
/// let shared: Arc<dyn DocumentStore> = Arc::new(MemoryStore::default()); // RedisStore across instances
/// let http = HttpClient::default();
/// let max_age = std::time::Duration::from_secs(600);
/// let metadata = discovery::discover_shared(&http, "https://op.example.com", shared.as_ref(), max_age).await?;
/// let rp = RelyingParty::new(http, metadata, ClientConfig::public("cli"))?
///     .with_document_store(shared);
/// # let _ = rp; Ok(()) }
/// ```
pub trait DocumentStore: Send + Sync + std::fmt::Debug {
    /// The document kept under `key`, unless it expired.
    fn get_document<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<SharedDocument>>>;
    /// Keep `document` under `key` until `expires_at`.
    fn put_document<'a>(
        &'a self,
        key: &'a str,
        document: &'a SharedDocument,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<()>>;
}

/// The one-instance store: in memory, at most `capacity` entries of each kind (expired
/// entries are dropped first; when it is still full, a new replay key is refused as if seen,
/// and a new transaction or document evicts the one closest to expiry).
#[derive(Debug)]
pub struct MemoryStore {
    capacity: usize,
    seen: Mutex<HashMap<String, i64>>,
    transactions: Mutex<HashMap<String, (AuthTransaction, i64)>>,
    documents: Mutex<HashMap<String, (SharedDocument, i64)>>,
}

/// Insert into a bounded map of expiring entries: expired ones go first, then the one
/// closest to expiry.
fn insert_bounded<V>(
    map: &mut HashMap<String, (V, i64)>,
    capacity: usize,
    key: &str,
    value: V,
    expires_at: i64,
) {
    let now = crate::time::unix_now();
    if map.len() >= capacity {
        map.retain(|_, (_, until)| *until >= now);
    }
    if map.len() >= capacity
        && !map.contains_key(key)
        && let Some(oldest) = map
            .iter()
            .min_by_key(|(_, (_, until))| *until)
            .map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
    map.insert(key.to_string(), (value, expires_at));
}

impl MemoryStore {
    /// A store of at most `capacity` entries of each kind.
    pub fn new(capacity: usize) -> MemoryStore {
        MemoryStore {
            capacity: capacity.max(1),
            seen: Mutex::new(HashMap::new()),
            transactions: Mutex::new(HashMap::new()),
            documents: Mutex::new(HashMap::new()),
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new(100_000)
    }
}

impl ReplayStore for MemoryStore {
    fn first_use<'a>(&'a self, key: &'a str, expires_at: i64) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let now = crate::time::unix_now();
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(until) = seen.get(key)
                && *until >= now
            {
                return Ok(false);
            }
            if seen.len() >= self.capacity {
                seen.retain(|_, until| *until >= now);
            }
            if seen.len() >= self.capacity {
                // Full of live entries: refusing is safe, forgetting one is not.
                return Ok(false);
            }
            seen.insert(key.to_string(), expires_at);
            Ok(true)
        })
    }
}

impl TransactionStore for MemoryStore {
    fn put<'a>(&'a self, txn: &'a AuthTransaction, expires_at: i64) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut map = self.transactions.lock().unwrap_or_else(|p| p.into_inner());
            insert_bounded(
                &mut map,
                self.capacity,
                txn.state.expose(),
                txn.clone(),
                expires_at,
            );
            Ok(())
        })
    }

    fn take<'a>(&'a self, state: &'a str) -> BoxFuture<'a, Result<Option<AuthTransaction>>> {
        Box::pin(async move {
            let now = crate::time::unix_now();
            let mut map = self.transactions.lock().unwrap_or_else(|p| p.into_inner());
            Ok(map
                .remove(state)
                .filter(|(_, until)| *until >= now)
                .map(|(t, _)| t))
        })
    }
}

impl DocumentStore for MemoryStore {
    fn get_document<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<SharedDocument>>> {
        Box::pin(async move {
            let now = crate::time::unix_now();
            let map = self.documents.lock().unwrap_or_else(|p| p.into_inner());
            Ok(map
                .get(key)
                .filter(|(_, until)| *until >= now)
                .map(|(d, _)| d.clone()))
        })
    }

    fn put_document<'a>(
        &'a self,
        key: &'a str,
        document: &'a SharedDocument,
        expires_at: i64,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut map = self.documents.lock().unwrap_or_else(|p| p.into_inner());
            insert_bounded(&mut map, self.capacity, key, document.clone(), expires_at);
            Ok(())
        })
    }
}

/// The Redis store (feature `redis`).
#[cfg(feature = "redis")]
pub mod redis {
    use super::*;
    use crate::error::Error;
    use ::redis::AsyncCommands;

    /// Replay keys, transactions and provider documents in Redis, shared by every instance that uses the same
    /// server and `prefix`. Each entry expires with what it protects (`SET ... EXAT`); a
    /// replay check is one atomic `SET NX`, a transaction is taken with `GETDEL`, so two
    /// instances can never both accept one logout token or complete one login.
    ///
    /// ```no_run
    /// # async fn f() -> oidc_rp::Result<()> {
    /// use oidc_rp::store::redis::RedisStore;
    /// let store = RedisStore::connect("redis://127.0.0.1:6379/", "myapp:").await?;
    /// # Ok(()) }
    /// ```
    #[derive(Clone)]
    pub struct RedisStore {
        connection: ::redis::aio::ConnectionManager,
        prefix: String,
    }

    impl std::fmt::Debug for RedisStore {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("RedisStore")
                .field("prefix", &self.prefix)
                .finish_non_exhaustive()
        }
    }

    fn failed(e: ::redis::RedisError) -> Error {
        Error::Store {
            reason: crate::error::truncate(&e.to_string(), 200),
        }
    }

    impl RedisStore {
        /// Connect to `url` (`redis://host:port/db`; reconnects by itself when the server
        /// comes back); every key starts with `prefix`.
        pub async fn connect(url: &str, prefix: &str) -> Result<RedisStore> {
            let client = ::redis::Client::open(url).map_err(failed)?;
            let config = ::redis::aio::ConnectionManagerConfig::new()
                .set_connection_timeout(Some(std::time::Duration::from_secs(5)))
                .set_response_timeout(Some(std::time::Duration::from_secs(5)))
                .set_number_of_retries(1);
            let connection = ::redis::aio::ConnectionManager::new_with_config(client, config)
                .await
                .map_err(failed)?;
            Ok(RedisStore {
                connection,
                prefix: prefix.to_string(),
            })
        }

        /// The connection (it reconnects by itself), for an application's own keys beside
        /// the store's: one connection per server, one timeout policy.
        pub fn connection(&self) -> ::redis::aio::ConnectionManager {
            self.connection.clone()
        }

        fn key(&self, kind: &str, key: &str) -> String {
            format!("{}{kind}:{key}", self.prefix)
        }

        /// Keep `value` as JSON under `key` until `expires_at`.
        async fn put_json<T: Serialize>(
            &self,
            key: String,
            value: &T,
            expires_at: i64,
        ) -> Result<()> {
            let value = serde_json::to_string(value).map_err(|e| Error::Store {
                reason: e.to_string(),
            })?;
            let opts = ::redis::SetOptions::default()
                .with_expiration(::redis::SetExpiry::EXAT(exat(expires_at)));
            let mut c = self.connection.clone();
            let _: () = c.set_options(key, value, opts).await.map_err(failed)?;
            Ok(())
        }
    }

    /// A JSON value read back; `what` names it when it is unreadable.
    fn from_json<T: serde::de::DeserializeOwned>(
        value: Option<String>,
        what: &str,
    ) -> Result<Option<T>> {
        value
            .map(|v| serde_json::from_str(&v))
            .transpose()
            .map_err(|e| Error::Store {
                reason: format!("a stored {what} is unreadable: {e}"),
            })
    }

    /// Expiry for `SET ... EXAT`: at least one second ahead.
    fn exat(expires_at: i64) -> u64 {
        expires_at.max(crate::time::unix_now() + 1) as u64
    }

    impl ReplayStore for RedisStore {
        fn first_use<'a>(&'a self, key: &'a str, expires_at: i64) -> BoxFuture<'a, Result<bool>> {
            Box::pin(async move {
                let mut c = self.connection.clone();
                let opts = ::redis::SetOptions::default()
                    .conditional_set(::redis::ExistenceCheck::NX)
                    .with_expiration(::redis::SetExpiry::EXAT(exat(expires_at)));
                let set: Option<String> = c
                    .set_options(self.key("seen", key), 1, opts)
                    .await
                    .map_err(failed)?;
                Ok(set.is_some())
            })
        }
    }

    impl TransactionStore for RedisStore {
        fn put<'a>(
            &'a self,
            txn: &'a AuthTransaction,
            expires_at: i64,
        ) -> BoxFuture<'a, Result<()>> {
            Box::pin(self.put_json(self.key("txn", txn.state.expose()), txn, expires_at))
        }

        fn take<'a>(&'a self, state: &'a str) -> BoxFuture<'a, Result<Option<AuthTransaction>>> {
            Box::pin(async move {
                let mut c = self.connection.clone();
                let value: Option<String> =
                    c.get_del(self.key("txn", state)).await.map_err(failed)?;
                from_json(value, "transaction")
            })
        }
    }

    impl DocumentStore for RedisStore {
        fn get_document<'a>(
            &'a self,
            key: &'a str,
        ) -> BoxFuture<'a, Result<Option<SharedDocument>>> {
            Box::pin(async move {
                let mut c = self.connection.clone();
                let value: Option<String> = c.get(self.key("doc", key)).await.map_err(failed)?;
                from_json(value, "document")
            })
        }

        fn put_document<'a>(
            &'a self,
            key: &'a str,
            document: &'a SharedDocument,
            expires_at: i64,
        ) -> BoxFuture<'a, Result<()>> {
            Box::pin(self.put_json(self.key("doc", key), document, expires_at))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn replays_are_refused_until_expiry_and_a_full_store_refuses() {
        let store = MemoryStore::new(2);
        let now = crate::time::unix_now();
        assert!(store.first_use("a", now + 60).await.unwrap());
        assert!(!store.first_use("a", now + 60).await.unwrap());
        assert!(store.first_use("b", now + 60).await.unwrap());
        // Full of live keys: a new one is refused, not remembered at the cost of another.
        assert!(!store.first_use("c", now + 60).await.unwrap());
        // An expired key makes room, and may be used again.
        let store = MemoryStore::new(2);
        assert!(store.first_use("old", now - 1).await.unwrap());
        assert!(store.first_use("old", now + 60).await.unwrap());
    }
}
