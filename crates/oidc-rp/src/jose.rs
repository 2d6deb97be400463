//! Signature verification of compact JWS (RFC 7515). Parsing and [`Alg`] come from the
//! shared `rp-jose` crate; verifying stays here, apart from the bundled provider's code (the
//! provider must not share the code it is tested against).
//!
//! Verification uses `ring`, the crypto backend of our rustls stack, on keys decoded once per
//! JWKS fetch (see [`crate::keys`]). The `openidconnect` crate's own key type verifies RSA
//! and ECDSA with pure-Rust crates and rebuilds the key on every call, several times slower
//! (measured: see BENCHMARKS.md); its types are still used everywhere else.

use crate::keys::{KeyMaterial, VerifyingKey};
use crate::secret::Secret;
use ring::signature;

pub use rp_jose::{Alg, Compact as Jws, half_hash};

/// Map an `openidconnect` algorithm to ours, when we can verify it.
pub fn from_core(alg: &openidconnect::core::CoreJwsSigningAlgorithm) -> Option<Alg> {
    serde_json::to_value(alg)
        .ok()
        .and_then(|v| v.as_str().and_then(Alg::parse))
}

/// Verify a signature with a public key from the provider's JWKS.
///
/// Returns `false` when the key's type does not fit the algorithm: an RSA key can never
/// verify an ES256 token, and no JWKS key ever verifies an HMAC token (the classic
/// "HS256 keyed with the public key" attack, RFC 8725 §2.1).
pub fn verify_with_key(alg: Alg, key: &VerifyingKey, message: &[u8], sig: &[u8]) -> bool {
    use signature::{
        ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256,
        RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_2048_8192_SHA512, RSA_PSS_2048_8192_SHA256,
        RSA_PSS_2048_8192_SHA384, RSA_PSS_2048_8192_SHA512,
    };
    let rsa = |params: &signature::RsaParameters, n: &[u8], e: &[u8]| {
        signature::RsaPublicKeyComponents { n, e }
            .verify(params, message, sig)
            .is_ok()
    };
    let raw = |params: &'static dyn signature::VerificationAlgorithm, public: &[u8]| {
        signature::UnparsedPublicKey::new(params, public)
            .verify(message, sig)
            .is_ok()
    };
    match (alg, &key.material) {
        (Alg::RS256, KeyMaterial::Rsa { n, e }) => rsa(&RSA_PKCS1_2048_8192_SHA256, n, e),
        (Alg::RS384, KeyMaterial::Rsa { n, e }) => rsa(&RSA_PKCS1_2048_8192_SHA384, n, e),
        (Alg::RS512, KeyMaterial::Rsa { n, e }) => rsa(&RSA_PKCS1_2048_8192_SHA512, n, e),
        (Alg::PS256, KeyMaterial::Rsa { n, e }) => rsa(&RSA_PSS_2048_8192_SHA256, n, e),
        (Alg::PS384, KeyMaterial::Rsa { n, e }) => rsa(&RSA_PSS_2048_8192_SHA384, n, e),
        (Alg::PS512, KeyMaterial::Rsa { n, e }) => rsa(&RSA_PSS_2048_8192_SHA512, n, e),
        (Alg::ES256, KeyMaterial::P256 { point }) => raw(&ECDSA_P256_SHA256_FIXED, point),
        (Alg::ES384, KeyMaterial::P384 { point }) => raw(&ECDSA_P384_SHA384_FIXED, point),
        (Alg::EdDSA, KeyMaterial::Ed25519 { public }) => raw(&ED25519, public),
        _ => false,
    }
}

/// Verify an HMAC signature keyed with the client secret (OIDC Core §10.1: the secret's
/// UTF-8 octets are the key).
pub fn verify_hmac(alg: Alg, secret: &Secret, message: &[u8], sig: &[u8]) -> bool {
    let algorithm = match alg {
        Alg::HS256 => ring::hmac::HMAC_SHA256,
        Alg::HS384 => ring::hmac::HMAC_SHA384,
        Alg::HS512 => ring::hmac::HMAC_SHA512,
        _ => return false,
    };
    let key = ring::hmac::Key::new(algorithm, secret.expose().as_bytes());
    ring::hmac::verify(&key, message, sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openidconnect_algorithms_map_to_ours() {
        for alg in Alg::ALL {
            let core: openidconnect::core::CoreJwsSigningAlgorithm =
                serde_json::from_value(serde_json::Value::String(alg.name().into())).unwrap();
            assert_eq!(from_core(&core), Some(alg));
        }
    }
}
