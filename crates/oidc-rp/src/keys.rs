//! The provider's signing keys: a JWKS cache with key selection and safe refetching.
//!
//! * Keys are decoded once per fetch into the byte forms `ring` verifies with.
//! * A token whose key is not in the cached set (a new `kid` after rotation, OIDC Core
//!   §10.1.1) triggers one refetch. Refetches are single-flight (concurrent validations wait
//!   for the same fetch) and rate-limited by a token bucket, so tokens with random `kid`s
//!   cannot turn the RP into a request amplifier against the provider.
//! * Selection (RFC 7517 §4, RFC 7515 §4.1.4): the key type must fit the algorithm, `use`
//!   must be `sig` when present, `alg` must equal the token's when present, `key_ops` must
//!   allow `verify`. With a `kid` in the header only keys with that `kid` qualify; without
//!   one, exactly one key must qualify: several is ambiguous and refused.
//! * Symmetric (`oct`) keys in a JWKS are ignored: HMAC keys come only from the client secret.

use crate::error::{Error, Result, display_url};
use crate::http::HttpClient;
use crate::jose::Alg;
use crate::store::DocumentStore;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use url::Url;

/// Public key bytes, decoded once.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// RSA modulus and exponent, big-endian without leading zeros.
    Rsa {
        /// Modulus.
        n: Vec<u8>,
        /// Public exponent.
        e: Vec<u8>,
    },
    /// An uncompressed P-256 point (`04 || x || y`).
    P256 {
        /// The point.
        point: Vec<u8>,
    },
    /// An uncompressed P-384 point.
    P384 {
        /// The point.
        point: Vec<u8>,
    },
    /// An Ed25519 public key.
    Ed25519 {
        /// The 32 key bytes.
        public: Vec<u8>,
    },
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyMaterial::Rsa { n, .. } => write!(f, "RSA-{}", n.len() * 8),
            KeyMaterial::P256 { .. } => f.write_str("EC P-256"),
            KeyMaterial::P384 { .. } => f.write_str("EC P-384"),
            KeyMaterial::Ed25519 { .. } => f.write_str("OKP Ed25519"),
        }
    }
}

impl KeyMaterial {
    fn fits(&self, alg: Alg) -> bool {
        matches!(
            (alg, self),
            (
                Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512,
                KeyMaterial::Rsa { .. }
            ) | (Alg::ES256, KeyMaterial::P256 { .. })
                | (Alg::ES384, KeyMaterial::P384 { .. })
                | (Alg::EdDSA, KeyMaterial::Ed25519 { .. })
        )
    }
}

/// One verification key from a JWKS.
#[derive(Debug, Clone)]
pub struct VerifyingKey {
    /// `kid`.
    pub kid: Option<String>,
    /// `alg`, when the JWK restricts it.
    pub alg: Option<String>,
    /// `use`.
    pub key_use: Option<String>,
    /// `key_ops`.
    pub key_ops: Option<Vec<String>>,
    /// The decoded key.
    pub material: KeyMaterial,
    /// A description for reports ("RSA-2048 key `kid`"), made once per fetch.
    pub label: String,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: Option<String>,
    kid: Option<String>,
    #[serde(rename = "use")]
    key_use: Option<String>,
    alg: Option<String>,
    key_ops: Option<Vec<String>>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

fn b64(field: &Option<String>, name: &str) -> std::result::Result<Vec<u8>, String> {
    let value = field.as_deref().ok_or(format!("missing `{name}`"))?;
    rp_jose::b64::decode(value.trim_end_matches('='))
        .map_err(|_| format!("`{name}` is not base64url"))
}

impl VerifyingKey {
    /// Decode one JWK (RFC 7517, RFC 7518 §6, RFC 8037 §2).
    pub fn from_jwk(jwk: &serde_json::Value) -> std::result::Result<VerifyingKey, String> {
        let raw: RawJwk =
            serde_json::from_value(jwk.clone()).map_err(|e| format!("not a JWK: {e}"))?;
        let material = match (raw.kty.as_deref(), raw.crv.as_deref()) {
            (Some("RSA"), _) => {
                let n = strip_zeros(b64(&raw.n, "n")?);
                let e = strip_zeros(b64(&raw.e, "e")?);
                if n.len() * 8 < 2048 {
                    return Err(format!(
                        "RSA key of {} bits is too short (2048 at least, RFC 7518 §3.3)",
                        n.len() * 8
                    ));
                }
                KeyMaterial::Rsa { n, e }
            }
            (Some("EC"), Some(crv @ ("P-256" | "P-384"))) => {
                let size = if crv == "P-256" { 32 } else { 48 };
                let x = b64(&raw.x, "x")?;
                let y = b64(&raw.y, "y")?;
                if x.len() != size || y.len() != size {
                    return Err(format!("{crv} coordinates must be {size} bytes"));
                }
                let mut point = Vec::with_capacity(1 + 2 * size);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                if crv == "P-256" {
                    KeyMaterial::P256 { point }
                } else {
                    KeyMaterial::P384 { point }
                }
            }
            (Some("OKP"), Some("Ed25519")) => {
                let public = b64(&raw.x, "x")?;
                if public.len() != 32 {
                    return Err("Ed25519 keys are 32 bytes".into());
                }
                KeyMaterial::Ed25519 { public }
            }
            (Some("oct"), _) => {
                return Err("symmetric keys are never taken from a JWKS".into());
            }
            (kty, crv) => {
                return Err(format!(
                    "unsupported key type {} {}",
                    kty.unwrap_or("(none)"),
                    crv.unwrap_or("")
                ));
            }
        };
        let label = match &raw.kid {
            Some(kid) => format!("{material:?} key `{kid}`"),
            None => format!("{material:?} key without kid"),
        };
        Ok(VerifyingKey {
            label,
            kid: raw.kid,
            alg: raw.alg,
            key_use: raw.key_use,
            key_ops: raw.key_ops,
            material,
        })
    }

    fn usable_for(&self, alg: Alg) -> bool {
        self.unusable_because(alg).is_none()
    }

    /// Why this key cannot verify `alg` tokens, if it cannot.
    fn unusable_because(&self, alg: Alg) -> Option<String> {
        if !self.material.fits(alg) {
            return Some(format!(
                "it is an {:?} key, which cannot verify {alg}",
                self.material
            ));
        }
        if let Some(a) = self.alg.as_deref().filter(|a| *a != alg.name()) {
            return Some(format!(
                "its alg is {}, not {alg} (RFC 7517 §4.4)",
                crate::error::truncate(a, 20)
            ));
        }
        if let Some(u) = self.key_use.as_deref().filter(|u| *u != "sig") {
            return Some(format!(
                "its use is `{}`, not sig: it is not a signing key (RFC 7517 §4.2)",
                crate::error::truncate(u, 20)
            ));
        }
        if self
            .key_ops
            .as_ref()
            .is_some_and(|ops| !ops.iter().any(|o| o == "verify"))
        {
            return Some("its key_ops do not include verify (RFC 7517 §4.3)".into());
        }
        None
    }
}

fn strip_zeros(mut v: Vec<u8>) -> Vec<u8> {
    let zeros = v.iter().take_while(|b| **b == 0).count();
    v.drain(..zeros.min(v.len().saturating_sub(1)));
    v
}

/// A decoded JWKS.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<Arc<VerifyingKey>>,
    /// Keys that could not be used, with the reason (for diagnostics).
    pub skipped: Vec<String>,
    /// The `kid` and reason of each key that could not be decoded, so that a token naming one
    /// is told what is wrong with it rather than "no such key".
    refused: Vec<(Option<String>, String)>,
}

/// The outcome of key selection.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Exactly one key fits.
    Found(Arc<VerifyingKey>),
    /// The header names a `kid` no usable key has.
    UnknownKid,
    /// No key fits the algorithm.
    NoMatch,
    /// No `kid` in the header and several keys fit.
    Ambiguous(usize),
    /// The header names a key that exists but cannot verify this token (too short, an
    /// encryption key, another algorithm): the reason.
    Unusable(String),
}

impl KeySet {
    /// Parse `{"keys": [...]}`; unusable keys are skipped, not fatal.
    pub fn from_json(body: &[u8]) -> std::result::Result<KeySet, String> {
        #[derive(Deserialize)]
        struct Jwks {
            keys: Vec<serde_json::Value>,
        }
        let jwks: Jwks = serde_json::from_slice(body).map_err(|e| format!("not a JWKS: {e}"))?;
        let mut set = KeySet::default();
        for (i, jwk) in jwks.keys.iter().enumerate() {
            match VerifyingKey::from_jwk(jwk) {
                Ok(k) => set.keys.push(Arc::new(k)),
                Err(reason) => {
                    set.skipped.push(format!("key {i}: {reason}"));
                    let kid = jwk.get("kid").and_then(|k| k.as_str()).map(str::to_string);
                    set.refused.push((kid, reason));
                }
            }
        }
        Ok(set)
    }

    /// The usable keys.
    pub fn keys(&self) -> &[Arc<VerifyingKey>] {
        &self.keys
    }

    /// Pick the key for a token header.
    pub fn select(&self, alg: Alg, kid: Option<&str>) -> Selection {
        let mut found: Option<&Arc<VerifyingKey>> = None;
        let mut count = 0;
        for key in &self.keys {
            if !key.usable_for(alg) {
                continue;
            }
            if let Some(kid) = kid
                && key.kid.as_deref() != Some(kid)
            {
                continue;
            }
            count += 1;
            found.get_or_insert(key);
        }
        match (found, count, kid) {
            (Some(k), 1, _) => Selection::Found(k.clone()),
            // Two keys with the same kid: the first one wins, as every JOSE library does.
            (Some(k), _, Some(_)) => Selection::Found(k.clone()),
            (Some(_), n, None) => Selection::Ambiguous(n),
            (None, _, Some(kid)) => match self.why_unusable(alg, kid) {
                Some(reason) => Selection::Unusable(reason),
                None => Selection::UnknownKid,
            },
            (None, _, None) => Selection::NoMatch,
        }
    }

    /// Why the key(s) named `kid` cannot verify an `alg` token, when there are such keys.
    fn why_unusable(&self, alg: Alg, kid: &str) -> Option<String> {
        let decoded = self
            .keys
            .iter()
            .filter(|k| k.kid.as_deref() == Some(kid))
            .find_map(|k| k.unusable_because(alg));
        decoded.or_else(|| {
            self.refused
                .iter()
                .find(|(k, _)| k.as_deref() == Some(kid))
                .map(|(_, reason)| reason.clone())
        })
    }
}

/// How often the cache may go back to the provider.
#[derive(Debug, Clone, Copy)]
pub struct JwksPolicy {
    /// Refetch a set older than this before using it. Default 10 minutes.
    pub max_age: Duration,
    /// Refetches on an unknown key allowed in a burst. Default 3.
    pub refetch_burst: u32,
    /// One more refetch is allowed per this interval. Default 30 s.
    pub refetch_interval: Duration,
}

impl Default for JwksPolicy {
    fn default() -> Self {
        JwksPolicy {
            max_age: Duration::from_secs(600),
            refetch_burst: 3,
            refetch_interval: Duration::from_secs(30),
        }
    }
}

fn body_digest(body: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, body)
        .as_ref()
        .to_vec()
}

#[derive(Debug)]
struct Cached {
    keys: Arc<KeySet>,
    fetched_at: Option<Instant>,
    /// When the set was fetched, by the wall clock (to compare with a shared set's).
    fetched_unix: i64,
    /// SHA-256 of the body it was read from (a shared set is new when it differs).
    digest: Option<Vec<u8>>,
    generation: u64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Why no key could be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLookupError {
    /// No key with the token's `kid`, even after a refetch (or with refetching rate-limited).
    UnknownKid {
        /// The `kid`.
        kid: String,
        /// Whether a refetch was made for this lookup.
        refetched: bool,
    },
    /// No key fits the algorithm.
    NoMatch {
        /// The algorithm.
        alg: Alg,
    },
    /// Several keys fit and the token names none.
    Ambiguous(usize),
    /// The key the token names exists but cannot verify it.
    Unusable {
        /// The `kid`.
        kid: String,
        /// Why.
        reason: String,
    },
}

impl std::fmt::Display for KeyLookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyLookupError::UnknownKid { kid, refetched } => write!(
                f,
                "no key with kid `{kid}` in the provider's JWKS{}",
                if *refetched {
                    " (fetched again to look for a rotated key)"
                } else {
                    " (refetching is rate-limited right now)"
                }
            ),
            KeyLookupError::NoMatch { alg } => {
                write!(f, "the provider's JWKS has no key usable for {alg}")
            }
            KeyLookupError::Ambiguous(n) => write!(
                f,
                "the token has no kid and {n} keys of the provider's JWKS fit; refusing to guess"
            ),
            KeyLookupError::Unusable { kid, reason } => write!(
                f,
                "the provider's key `{}` cannot verify this token: {reason}",
                crate::error::truncate(kid, 80)
            ),
        }
    }
}

/// A cached JWKS for one `jwks_uri`, shared across tasks.
#[derive(Debug)]
pub struct JwksCache {
    uri: Url,
    policy: JwksPolicy,
    shared: Option<Arc<dyn DocumentStore>>,
    state: RwLock<Cached>,
    fetch_lock: tokio::sync::Mutex<()>,
    bucket: Mutex<Bucket>,
    fetches: AtomicU64,
}

impl JwksCache {
    /// An empty cache for this `jwks_uri`.
    pub fn new(uri: Url, policy: JwksPolicy) -> Self {
        JwksCache {
            uri,
            policy,
            shared: None,
            state: RwLock::new(Cached {
                keys: Arc::new(KeySet::default()),
                fetched_at: None,
                fetched_unix: 0,
                digest: None,
                generation: 0,
            }),
            fetch_lock: tokio::sync::Mutex::new(()),
            bucket: Mutex::new(Bucket {
                tokens: f64::from(policy.refetch_burst),
                last: Instant::now(),
            }),
            fetches: AtomicU64::new(0),
        }
    }

    /// Share the key set with other instances through `store` (see [`DocumentStore`]): a
    /// set another instance fetched, younger than this cache's `max_age`, is used instead of
    /// fetching; on an unknown `kid` a newer shared set is looked at before the provider is
    /// asked (a rotation one instance saw is seen by all, without spending a refetch); every
    /// fetch is shared. A store that fails is passed over (logged): the keys come from the
    /// provider.
    pub fn with_shared(mut self, store: Arc<dyn DocumentStore>) -> Self {
        self.shared = Some(store);
        self
    }

    /// How often this cache may go back to the provider.
    pub fn policy(&self) -> JwksPolicy {
        self.policy
    }

    /// The store the key set is shared through, when there is one.
    pub(crate) fn shared(&self) -> Option<Arc<dyn DocumentStore>> {
        self.shared.clone()
    }

    /// The `jwks_uri`.
    pub fn uri(&self) -> &Url {
        &self.uri
    }

    /// How many times the JWKS was fetched.
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Put a known key set in the cache (keys obtained out of band, or tests).
    pub fn preload(&self, keys: KeySet) {
        self.install(Arc::new(keys), crate::time::unix_now(), None);
    }

    /// Install a key set fetched at `fetched_unix` (by this instance or another), from a
    /// body of this digest (when there was a body).
    fn install(&self, keys: Arc<KeySet>, fetched_unix: i64, digest: Option<Vec<u8>>) {
        let age = crate::time::unix_now().saturating_sub(fetched_unix).max(0);
        let now = Instant::now();
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        state.keys = keys;
        state.fetched_at = Some(
            now.checked_sub(Duration::from_secs(age as u64))
                .unwrap_or(now),
        );
        state.fetched_unix = fetched_unix;
        state.digest = digest;
        state.generation += 1;
    }

    fn shared_key(&self) -> String {
        format!("jwks {}", self.uri)
    }

    /// The shared set, when there is one younger than `max_age`, fetched no earlier than
    /// `after` (seconds since the epoch) and, with `changed`, other than the set held;
    /// installed. The caller holds `fetch_lock`.
    async fn adopt_shared(&self, after: i64, changed: bool) -> Option<Arc<KeySet>> {
        let store = self.shared.as_ref()?;
        let doc = match store.get_document(&self.shared_key()).await {
            Ok(d) => d?,
            Err(e) => {
                tracing::warn!(target: "rp::keys", uri = %self.uri, "the shared key store failed: {e}; asking the provider");
                return None;
            }
        };
        let age = crate::time::unix_now().saturating_sub(doc.fetched_at);
        if doc.fetched_at < after || age < 0 || age as u64 >= self.policy.max_age.as_secs() {
            return None;
        }
        let digest = body_digest(doc.body.as_bytes());
        if changed
            && self
                .state
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .digest
                .as_ref()
                == Some(&digest)
        {
            return None;
        }
        match KeySet::from_json(doc.body.as_bytes()) {
            Ok(set) => {
                let set = Arc::new(set);
                self.install(set.clone(), doc.fetched_at, Some(digest));
                Some(set)
            }
            Err(reason) => {
                tracing::warn!(target: "rp::keys", uri = %self.uri, "the shared key set is unreadable: {reason}; asking the provider");
                None
            }
        }
    }

    fn snapshot(&self) -> (Arc<KeySet>, Option<Instant>, u64) {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        (state.keys.clone(), state.fetched_at, state.generation)
    }

    /// The current key set, fetched if never fetched or stale.
    pub async fn keys(&self, http: &HttpClient) -> Result<Arc<KeySet>> {
        Ok(self.current(http).await?.0)
    }

    async fn current(&self, http: &HttpClient) -> Result<(Arc<KeySet>, u64)> {
        let (keys, fetched_at, generation) = self.snapshot();
        if fetched_at.is_some_and(|at| at.elapsed() < self.policy.max_age) {
            return Ok((keys, generation));
        }
        let _guard = self.fetch_lock.lock().await;
        let (keys, fetched_at, now_generation) = self.snapshot();
        if now_generation != generation && fetched_at.is_some() {
            return Ok((keys, now_generation));
        }
        let keys = match self.adopt_shared(0, false).await {
            Some(keys) => keys,
            None => self.fetch_locked(http).await?,
        };
        Ok((keys, self.snapshot().2))
    }

    /// Find the key for a token header, refetching once if it is not in the cached set.
    ///
    /// Concurrent misses share one fetch: whoever takes the fetch lock second sees that the
    /// set changed while it waited and uses the new set without spending a refetch token.
    pub async fn key_for(
        &self,
        http: &HttpClient,
        alg: Alg,
        kid: Option<&str>,
    ) -> Result<std::result::Result<Arc<VerifyingKey>, KeyLookupError>> {
        let (keys, generation) = self.current(http).await?;
        match keys.select(alg, kid) {
            Selection::Found(k) => return Ok(Ok(k)),
            Selection::Ambiguous(n) => return Ok(Err(KeyLookupError::Ambiguous(n))),
            Selection::UnknownKid | Selection::NoMatch | Selection::Unusable(_) => {}
        }
        let (keys, refetched) = {
            let _guard = self.fetch_lock.lock().await;
            let (latest, _, latest_generation) = self.snapshot();
            let ours = self
                .state
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .fetched_unix;
            if latest_generation != generation {
                (latest, true)
            } else if let Some(newer) = self.adopt_shared(ours, true).await.filter(|set| {
                !matches!(
                    set.select(alg, kid),
                    Selection::UnknownKid | Selection::NoMatch
                )
            }) {
                (newer, true)
            } else if self.take_refetch_token() {
                (self.fetch_locked(http).await?, true)
            } else {
                (keys, false)
            }
        };
        Ok(match keys.select(alg, kid) {
            Selection::Found(k) => Ok(k),
            Selection::Ambiguous(n) => Err(KeyLookupError::Ambiguous(n)),
            Selection::Unusable(reason) => Err(KeyLookupError::Unusable {
                kid: kid.unwrap_or_default().to_string(),
                reason,
            }),
            Selection::UnknownKid | Selection::NoMatch => match kid {
                Some(kid) => Err(KeyLookupError::UnknownKid {
                    kid: kid.to_string(),
                    refetched,
                }),
                None => Err(KeyLookupError::NoMatch { alg }),
            },
        })
    }

    fn take_refetch_token(&self) -> bool {
        let mut b = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let refill = now.duration_since(b.last).as_secs_f64()
            / self.policy.refetch_interval.as_secs_f64().max(f64::EPSILON);
        b.tokens = (b.tokens + refill).min(f64::from(self.policy.refetch_burst));
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Fetch and install a new set. The caller holds `fetch_lock`.
    async fn fetch_locked(&self, http: &HttpClient) -> Result<Arc<KeySet>> {
        http.check_url(&self.uri, "jwks_uri")?;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let response = http
            .get(&self.uri, "application/jwk-set+json, application/json")
            .await?;
        if !response.status().is_success() {
            return Err(crate::http::provider_error("jwks", &response));
        }
        let set = KeySet::from_json(response.body()).map_err(|reason| Error::BadResponse {
            what: "JWKS",
            url: display_url(self.uri.as_str()),
            reason,
        })?;
        for skipped in &set.skipped {
            tracing::debug!(target: "rp::keys", uri = %self.uri, "{skipped}");
        }
        let set = Arc::new(set);
        let now = crate::time::unix_now();
        self.install(set.clone(), now, Some(body_digest(response.body())));
        if let Some(store) = &self.shared {
            let doc = crate::store::SharedDocument {
                body: String::from_utf8_lossy(response.body()).into_owned(),
                fetched_at: now,
            };
            let expires = now.saturating_add(self.policy.max_age.as_secs() as i64);
            if let Err(e) = store.put_document(&self.shared_key(), &doc, expires).await {
                tracing::warn!(target: "rp::keys", uri = %self.uri, "could not share the key set: {e}");
            }
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rsa_jwk(kid: Option<&str>) -> serde_json::Value {
        let n = rp_jose::b64::encode(&[0xC5u8; 256]);
        let mut v = json!({"kty": "RSA", "n": n, "e": "AQAB"});
        if let Some(kid) = kid {
            v["kid"] = json!(kid);
        }
        v
    }

    fn ec_jwk(kid: Option<&str>) -> serde_json::Value {
        let c = rp_jose::b64::encode(&[7u8; 32]);
        let mut v = json!({"kty": "EC", "crv": "P-256", "x": c, "y": c});
        if let Some(kid) = kid {
            v["kid"] = json!(kid);
        }
        v
    }

    fn set(keys: Vec<serde_json::Value>) -> KeySet {
        KeySet::from_json(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn selection_by_kid_type_use_and_alg() {
        let s = set(vec![
            rsa_jwk(Some("r1")),
            ec_jwk(Some("e1")),
            rsa_jwk(Some("r2")),
        ]);
        assert!(
            matches!(s.select(Alg::RS256, Some("r2")), Selection::Found(k) if k.kid.as_deref() == Some("r2"))
        );
        assert!(matches!(
            s.select(Alg::ES256, Some("r1")),
            Selection::Unusable(_)
        ));
        assert!(matches!(
            s.select(Alg::RS256, None),
            Selection::Ambiguous(2)
        ));
        assert!(matches!(s.select(Alg::ES256, None), Selection::Found(_)));
        assert!(matches!(s.select(Alg::EdDSA, None), Selection::NoMatch));

        let mut enc = rsa_jwk(Some("enc"));
        enc["use"] = json!("enc");
        let mut ps = rsa_jwk(Some("ps"));
        ps["alg"] = json!("PS256");
        let s = set(vec![enc, ps]);
        assert!(matches!(
            s.select(Alg::RS256, Some("enc")),
            Selection::Unusable(_)
        ));
        assert!(matches!(
            s.select(Alg::RS256, Some("ps")),
            Selection::Unusable(r) if r.contains("alg is PS256")
        ));
        assert!(matches!(
            s.select(Alg::PS256, Some("ps")),
            Selection::Found(_)
        ));
    }

    #[test]
    fn kid_absent_with_a_single_fitting_key() {
        let s = set(vec![rsa_jwk(None), ec_jwk(None)]);
        assert!(matches!(s.select(Alg::RS256, None), Selection::Found(_)));
        assert!(matches!(s.select(Alg::ES256, None), Selection::Found(_)));
    }

    #[test]
    fn unusable_keys_are_skipped_not_fatal() {
        let short = json!({"kty": "RSA", "n": rp_jose::b64::encode(&[1u8; 128]), "e": "AQAB"});
        let oct = json!({"kty": "oct", "k": "c2VjcmV0"});
        let s = set(vec![short, oct, rsa_jwk(Some("ok"))]);
        assert_eq!(s.keys().len(), 1);
        assert_eq!(s.skipped.len(), 2);
        assert!(s.skipped[0].contains("too short"));
        assert!(s.skipped[1].contains("never taken from a JWKS"));
        assert!(KeySet::from_json(b"{}").is_err());
    }

    #[test]
    fn a_named_but_unusable_key_says_why() {
        let short = json!({"kty": "RSA", "kid": "short", "n": rp_jose::b64::encode(&[1u8; 128]), "e": "AQAB"});
        let mut enc = rsa_jwk(Some("enc"));
        enc["use"] = json!("enc");
        let s = set(vec![short, enc, rsa_jwk(Some("ok"))]);
        match s.select(Alg::RS256, Some("short")) {
            Selection::Unusable(r) => assert!(r.contains("1024 bits is too short"), "{r}"),
            other => panic!("{other:?}"),
        }
        match s.select(Alg::RS256, Some("enc")) {
            Selection::Unusable(r) => assert!(r.contains("use is `enc`"), "{r}"),
            other => panic!("{other:?}"),
        }
        match s.select(Alg::ES256, Some("ok")) {
            Selection::Unusable(r) => assert!(r.contains("cannot verify ES256"), "{r}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            s.select(Alg::RS256, Some("other")),
            Selection::UnknownKid
        ));
    }

    #[test]
    fn refetches_are_rate_limited() {
        let cache = JwksCache::new(
            Url::parse("https://op.example/jwks").unwrap(),
            JwksPolicy {
                refetch_burst: 2,
                refetch_interval: Duration::from_secs(3600),
                ..Default::default()
            },
        );
        assert!(cache.take_refetch_token());
        assert!(cache.take_refetch_token());
        assert!(!cache.take_refetch_token());
    }

    /// A cache whose provider cannot be reached (the discard port): any key it finds came
    /// from the shared store.
    fn unreachable_cache(store: Arc<crate::store::MemoryStore>) -> JwksCache {
        JwksCache::new(
            Url::parse("http://127.0.0.1:9/jwks").unwrap(),
            JwksPolicy::default(),
        )
        .with_shared(store)
    }

    async fn share(store: &crate::store::MemoryStore, kids: &[&str], fetched_at: i64) {
        use crate::store::DocumentStore;
        let keys: Vec<_> = kids.iter().map(|k| rsa_jwk(Some(k))).collect();
        let doc = crate::store::SharedDocument {
            body: json!({ "keys": keys }).to_string(),
            fetched_at,
        };
        store
            .put_document("jwks http://127.0.0.1:9/jwks", &doc, fetched_at + 3600)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn keys_another_instance_fetched_are_used_and_a_rotation_it_saw_is_seen() {
        let http = HttpClient::default();
        let store = Arc::new(crate::store::MemoryStore::default());
        let now = crate::time::unix_now();
        share(&store, &["k1"], now - 100).await;
        let cache = unreachable_cache(store.clone());
        let k = cache.key_for(&http, Alg::RS256, Some("k1")).await.unwrap();
        assert_eq!(k.unwrap().kid.as_deref(), Some("k1"));
        // Another instance met a new kid and fetched the rotated set.
        share(&store, &["k1", "k2"], now).await;
        let k = cache.key_for(&http, Alg::RS256, Some("k2")).await.unwrap();
        assert_eq!(k.unwrap().kid.as_deref(), Some("k2"));
        assert_eq!(cache.fetch_count(), 0, "never asked the provider");
    }

    #[tokio::test]
    async fn a_stale_or_unreadable_shared_set_is_not_used() {
        let http = HttpClient::default();
        let now = crate::time::unix_now();
        // Older than the cache's own max_age (10 minutes): the provider is asked.
        let store = Arc::new(crate::store::MemoryStore::default());
        share(&store, &["k1"], now - 601).await;
        let cache = unreachable_cache(store);
        assert!(cache.key_for(&http, Alg::RS256, Some("k1")).await.is_err());
        assert_eq!(cache.fetch_count(), 1);
        // Not a JWKS: the provider is asked.
        use crate::store::DocumentStore;
        let store = Arc::new(crate::store::MemoryStore::default());
        let doc = crate::store::SharedDocument {
            body: "{\"keys\": 7}".into(),
            fetched_at: now,
        };
        store
            .put_document("jwks http://127.0.0.1:9/jwks", &doc, now + 60)
            .await
            .unwrap();
        let cache = unreachable_cache(store);
        assert!(cache.key_for(&http, Alg::RS256, Some("k1")).await.is_err());
        assert_eq!(cache.fetch_count(), 1);
    }
}
