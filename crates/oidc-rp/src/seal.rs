//! Sealing: a value (an [`crate::AuthTransaction`], a [`crate::stored::StoredLogin`]) encrypted
//! and authenticated with a key only the service holds, so that it can live in a cookie
//! without the user reading or altering it, and bound to one browser.
//!
//! AES-256-GCM (ring, the crypto backend rustls already links) with a random 96-bit nonce;
//! the associated data is a fixed label and the caller's `binding`, so a sealed value opens
//! only with the same binding. Bind a login's transaction to the browser, not only to
//! `state`: keep a random id in a second cookie (or the session id) and pass it as the
//! binding, so that a transaction taken from one browser cannot be planted in another (login
//! CSRF, RFC 9700 §4.7). The sealed form carries its own expiry.
//!
//! ```
//! use oidc_rp::seal::{SealKey, open, seal};
//! use std::time::Duration;
//!
//! let key = SealKey::new(&[7u8; 32]).unwrap(); // from the service's secret store
//! let browser = b"random id from the browser's own cookie";
//! let sealed = seal(&key, &"the transaction", browser, Duration::from_secs(600)).unwrap();
//! let back: String = open(&key, &sealed, browser).unwrap();
//! assert_eq!(back, "the transaction");
//! assert!(open::<String>(&key, &sealed, b"another browser").is_err());
//! ```

use crate::error::{Error, Result};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

const LABEL: &[u8] = b"oidc-rp seal v1\0";
/// Sealed values larger than this are refused before any work (a cookie is at most 4 KB).
const MAX_SEALED: usize = 16 * 1024;

/// A sealing key: 32 bytes from the service's secret store. Redacted in `Debug`.
pub struct SealKey(LessSafeKey);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey([redacted])")
    }
}

impl SealKey {
    /// A key from 32 bytes.
    pub fn new(bytes: &[u8]) -> Result<SealKey> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| Error::Sealed {
            reason: "a sealing key is 32 bytes",
        })?;
        Ok(SealKey(LessSafeKey::new(key)))
    }

    /// A random key and its bytes (to keep in the secret store).
    pub fn generate() -> Result<(SealKey, [u8; 32])> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| Error::Sealed {
                reason: "no randomness",
            })?;
        Ok((SealKey::new(&bytes)?, bytes))
    }
}

fn aad(binding: &[u8]) -> Vec<u8> {
    let mut a = LABEL.to_vec();
    a.extend_from_slice(binding);
    a
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope<T> {
    exp: i64,
    v: T,
}

/// Seal `value` for `binding`, valid for `ttl`: base64url text, safe in a cookie.
pub fn seal<T: Serialize>(
    key: &SealKey,
    value: &T,
    binding: &[u8],
    ttl: Duration,
) -> Result<String> {
    let exp = crate::time::unix_now().saturating_add(ttl.as_secs().min(i64::MAX as u64) as i64);
    seal_until(key, value, binding, exp)
}

fn seal_until<T: Serialize>(key: &SealKey, value: &T, binding: &[u8], exp: i64) -> Result<String> {
    let envelope = Envelope { exp, v: value };
    let mut data = serde_json::to_vec(&envelope).map_err(|_| Error::Sealed {
        reason: "the value cannot be serialised",
    })?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| Error::Sealed {
            reason: "no randomness",
        })?;
    key.0
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(binding)),
            &mut data,
        )
        .map_err(|_| Error::Sealed {
            reason: "sealing failed",
        })?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&data);
    Ok(rp_jose::b64::encode(&out))
}

/// Open a value sealed for `binding`. Refused (an [`Error::Sealed`], class
/// [`crate::ErrorClass::BadRequest`]): anything altered, truncated or stripped, another
/// binding or key, an expired seal.
pub fn open<T: DeserializeOwned>(key: &SealKey, sealed: &str, binding: &[u8]) -> Result<T> {
    let refused = |reason| Error::Sealed { reason };
    if sealed.len() > MAX_SEALED {
        return Err(refused("the sealed value is too large"));
    }
    let mut bytes = rp_jose::b64::decode(sealed).map_err(|_| refused("not base64url"))?;
    if bytes.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(refused("too short to be sealed"));
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&bytes[..NONCE_LEN]);
    let plain = key
        .0
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(binding)),
            &mut bytes[NONCE_LEN..],
        )
        .map_err(|_| refused("altered, or sealed with another key or for another browser"))?;
    let envelope: Envelope<T> =
        serde_json::from_slice(plain).map_err(|_| refused("not the expected value"))?;
    if envelope.exp < crate::time::unix_now() {
        return Err(refused("expired"));
    }
    Ok(envelope.v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn altered_stripped_or_rebound_seals_are_refused() {
        let (key, _) = SealKey::generate().unwrap();
        let sealed = seal(&key, &vec![1, 2, 3], b"browser", Duration::from_secs(60)).unwrap();
        let back: Vec<i32> = open(&key, &sealed, b"browser").unwrap();
        assert_eq!(back, vec![1, 2, 3]);
        // One character changed anywhere.
        for i in [0, sealed.len() / 2, sealed.len() - 1] {
            let mut t: Vec<char> = sealed.chars().collect();
            t[i] = if t[i] == 'A' { 'B' } else { 'A' };
            let t: String = t.into_iter().collect();
            assert!(open::<Vec<i32>>(&key, &t, b"browser").is_err(), "{i}");
        }
        // Truncated, emptied, another binding, another key.
        assert!(open::<Vec<i32>>(&key, &sealed[..sealed.len() - 4], b"browser").is_err());
        assert!(open::<Vec<i32>>(&key, "", b"browser").is_err());
        assert!(open::<Vec<i32>>(&key, &sealed, b"").is_err());
        let (other, _) = SealKey::generate().unwrap();
        assert!(open::<Vec<i32>>(&other, &sealed, b"browser").is_err());
        // Expired.
        let old = seal_until(&key, &1, b"b", crate::time::unix_now() - 1).unwrap();
        assert!(matches!(
            open::<i32>(&key, &old, b"b"),
            Err(Error::Sealed { reason: "expired" })
        ));
        assert!(SealKey::new(&[0u8; 16]).is_err());
        assert!(!format!("{key:?}").contains(|c: char| c.is_ascii_digit()));
    }

    #[test]
    fn a_sealed_transaction_round_trips_and_its_errors_are_bad_requests() {
        let (key, _) = SealKey::generate().unwrap();
        let e = open::<String>(&key, "garbage", b"b").unwrap_err();
        assert_eq!(e.class(), crate::ErrorClass::BadRequest);
    }
}
