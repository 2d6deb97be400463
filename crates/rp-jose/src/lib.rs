//! # rp-jose
//!
//! The JOSE pieces that rp's library and bundled provider both need, written once: compact
//! JWS serialization (RFC 7515 §7.1) and parsing, the [`Alg`] enum (RFC 7518 §3.1,
//! RFC 8037), base64url without padding, RFC 7638 JWK thumbprints, the left-half hash of
//! `at_hash` and `c_hash` (OIDC Core §3.1.3.6, §3.3.2.11), and a [`Signer`] trait that each
//! crate implements with its own keys.
//!
//! **What it is not:** a verifier. Checking signatures and claims stays in each crate on
//! purpose: the RP's verification (`oidc-rp`) must not share code with the provider it is
//! tested against, so that a bug in one is not mirrored by the other. What is shared here
//! is encoding, which both sides' tests exercise from the other end.
//!
//! ```
//! use rp_jose::{Alg, Compact, HmacKey, encode};
//! let key = HmacKey::new(Alg::HS256, b"a client secret of 32 bytes or more")?;
//! let jwt = encode(&key, Some("JWT"), &serde_json::json!({"sub": "alice"}))?;
//! let parsed = Compact::parse(&jwt)?;
//! assert_eq!(parsed.header.alg, "HS256");
//! assert_eq!(parsed.payload, br#"{"sub":"alice"}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod alg;
pub mod b64;
mod compact;
mod sign;
mod thumbprint;

pub use alg::Alg;
pub use compact::{Compact, FormatError, Header};
pub use sign::{HmacKey, SignError, Signer, encode, encode_with_header, unsigned};
pub use thumbprint::jwk_thumbprint;

/// The left-most half of the hash of `value` with `alg`'s hash, base64url encoded: `at_hash`
/// and `c_hash` (OIDC Core §3.1.3.6, §3.3.2.11). `None` for `none`.
pub fn half_hash(alg: Alg, value: &str) -> Option<String> {
    let digest = ring::digest::digest(alg.digest()?, value.as_bytes());
    let bytes = digest.as_ref();
    Some(b64::encode(&bytes[..bytes.len() / 2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_hash_matches_the_spec_example() {
        // OIDC Core A.3 test vector.
        let h = half_hash(Alg::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y").unwrap();
        assert_eq!(h, "77QmUPtjPfzWtF2AnpK9RQ");
        assert_eq!(half_hash(Alg::None, "x"), None);
    }
}
