//! JWS compact serialization (RFC 7515) and signature verification.
//!
//! Verification uses `ring`, the crypto backend of our rustls stack, on keys decoded once per
//! JWKS fetch (see [`crate::keys`]). The `openidconnect` crate's own key type verifies RSA
//! and ECDSA with pure-Rust crates and rebuilds the key on every call, several times slower
//! (measured: see BENCHMARKS.md); its types are still used everywhere else.

use crate::keys::{KeyMaterial, VerifyingKey};
use crate::secret::Secret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature;
use serde::Deserialize;
use std::fmt;

/// JWS algorithms this crate can verify (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
    /// HMAC SHA-256 keyed with the client secret.
    HS256,
    /// HMAC SHA-384 keyed with the client secret.
    HS384,
    /// HMAC SHA-512 keyed with the client secret.
    HS512,
    /// Unsecured JWS (RFC 7518 §3.6). Accepted only when the client registered it explicitly.
    None,
}

impl Alg {
    /// Parse a JOSE `alg` value; `None` for algorithms this crate does not verify.
    pub fn parse(name: &str) -> Option<Alg> {
        Some(match name {
            "RS256" => Alg::RS256,
            "RS384" => Alg::RS384,
            "RS512" => Alg::RS512,
            "PS256" => Alg::PS256,
            "PS384" => Alg::PS384,
            "PS512" => Alg::PS512,
            "ES256" => Alg::ES256,
            "ES384" => Alg::ES384,
            "EdDSA" => Alg::EdDSA,
            "HS256" => Alg::HS256,
            "HS384" => Alg::HS384,
            "HS512" => Alg::HS512,
            "none" => Alg::None,
            _ => return None,
        })
    }

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::EdDSA => "EdDSA",
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
            Alg::None => "none",
        }
    }

    /// True for the HMAC algorithms, whose key is the client secret and never a JWKS entry.
    pub fn is_symmetric(self) -> bool {
        matches!(self, Alg::HS256 | Alg::HS384 | Alg::HS512)
    }

    /// The hash used for `at_hash` / `c_hash` (OIDC Core §3.1.3.6): the hash of the
    /// signature algorithm; for EdDSA with Ed25519, SHA-512.
    pub fn half_hash_digest(self) -> Option<&'static ring::digest::Algorithm> {
        Some(match self {
            Alg::RS256 | Alg::PS256 | Alg::ES256 | Alg::HS256 => &ring::digest::SHA256,
            Alg::RS384 | Alg::PS384 | Alg::ES384 | Alg::HS384 => &ring::digest::SHA384,
            Alg::RS512 | Alg::PS512 | Alg::HS512 | Alg::EdDSA => &ring::digest::SHA512,
            Alg::None => return None,
        })
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<Alg> for openidconnect::core::CoreJwsSigningAlgorithm {
    fn from(alg: Alg) -> Self {
        use openidconnect::core::CoreJwsSigningAlgorithm as C;
        match alg {
            Alg::RS256 => C::RsaSsaPkcs1V15Sha256,
            Alg::RS384 => C::RsaSsaPkcs1V15Sha384,
            Alg::RS512 => C::RsaSsaPkcs1V15Sha512,
            Alg::PS256 => C::RsaSsaPssSha256,
            Alg::PS384 => C::RsaSsaPssSha384,
            Alg::PS512 => C::RsaSsaPssSha512,
            Alg::ES256 => C::EcdsaP256Sha256,
            Alg::ES384 => C::EcdsaP384Sha384,
            Alg::EdDSA => C::EdDsa,
            Alg::HS256 => C::HmacSha256,
            Alg::HS384 => C::HmacSha384,
            Alg::HS512 => C::HmacSha512,
            Alg::None => C::None,
        }
    }
}

/// Map an `openidconnect` algorithm to ours, when we can verify it.
pub fn from_core(alg: &openidconnect::core::CoreJwsSigningAlgorithm) -> Option<Alg> {
    serde_json::to_value(alg)
        .ok()
        .and_then(|v| v.as_str().and_then(Alg::parse))
}

/// The JOSE header members this crate reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    /// `alg`, as sent.
    pub alg: String,
    /// `kid`.
    #[serde(default)]
    pub kid: Option<String>,
    /// `typ`.
    #[serde(default)]
    pub typ: Option<String>,
    /// `crit`: extensions the producer says must be understood (RFC 7515 §4.1.11).
    #[serde(default)]
    pub crit: Option<Vec<String>>,
    /// `enc`: present only on JWE.
    #[serde(default)]
    pub enc: Option<String>,
}

/// A parsed, not yet verified, compact JWS.
pub struct Jws<'a> {
    /// The decoded header.
    pub header: Header,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: what the signature covers.
    pub signing_input: &'a [u8],
    /// The decoded payload.
    pub payload: Vec<u8>,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

impl fmt::Debug for Jws<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jws")
            .field("header", &self.header)
            .field("payload_bytes", &self.payload.len())
            .finish()
    }
}

/// Why a JWS could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError(pub String);

impl<'a> Jws<'a> {
    /// Split and decode a compact JWS. Rejects JWE (five parts), bad base64url, non-JSON
    /// headers and any `crit` extension (none is understood here).
    pub fn parse(token: &'a str) -> Result<Jws<'a>, FormatError> {
        let bytes = token.as_bytes();
        let (first, second) = match token.find('.') {
            Some(a) => match token[a + 1..].find('.') {
                Some(b) => (a, a + 1 + b),
                None => {
                    return Err(FormatError(
                        "not a JWT: expected three dot-separated parts".into(),
                    ));
                }
            },
            None => {
                return Err(FormatError(
                    "not a JWT: expected three dot-separated parts".into(),
                ));
            }
        };
        if token[second + 1..].contains('.') {
            return Err(FormatError(
                "a JWE (encrypted token) or malformed JWT: more than three parts; encrypted ID tokens are not supported".into(),
            ));
        }
        let header_b64 = &token[..first];
        let payload_b64 = &token[first + 1..second];
        let sig_b64 = &token[second + 1..];
        let header_bytes = decode(header_b64, "header")?;
        let header: Header = serde_json::from_slice(&header_bytes)
            .map_err(|e| FormatError(format!("the header is not a JOSE header: {e}")))?;
        if header.enc.is_some() {
            return Err(FormatError(
                "the token is a JWE (has `enc`); encrypted tokens are not supported".into(),
            ));
        }
        if let Some(crit) = &header.crit {
            return Err(FormatError(format!(
                "the header marks extensions {crit:?} as critical, and none is understood (RFC 7515 §4.1.11)"
            )));
        }
        let payload = decode(payload_b64, "payload")?;
        let signature = decode(sig_b64, "signature")?;
        Ok(Jws {
            header,
            signing_input: &bytes[..second],
            payload,
            signature,
        })
    }
}

fn decode(part: &str, what: &str) -> Result<Vec<u8>, FormatError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| FormatError(format!("the {what} is not base64url")))
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

/// The left-most half of the hash of `value`, base64url encoded (OIDC Core §3.1.3.6, §3.3.2.11).
pub fn half_hash(alg: Alg, value: &str) -> Option<String> {
    let digest = ring::digest::digest(alg.half_hash_digest()?, value.as_bytes());
    let bytes = digest.as_ref();
    Some(URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_malformed_tokens() {
        for bad in [
            "",
            "a",
            "a.b",
            "a.b.c.d.e",
            "!!.e30.",
            "e30.!!.",
            "e30.e30.!!",
        ] {
            assert!(Jws::parse(bad).is_err(), "{bad}");
        }
        // {"alg":"RS256","crit":["exp"]}
        let crit = format!(
            "{}.e30.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","crit":["x"]}"#)
        );
        assert!(Jws::parse(&crit).unwrap_err().0.contains("critical"));
        let jws = format!("{}.e30.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#));
        let parsed = Jws::parse(&jws).unwrap();
        assert_eq!(parsed.header.alg, "none");
        assert!(parsed.signature.is_empty());
    }

    #[test]
    fn half_hash_matches_the_spec_example() {
        // OIDC Core A.3 / common test vector: at_hash of "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
        let h = half_hash(Alg::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y").unwrap();
        assert_eq!(h, "77QmUPtjPfzWtF2AnpK9RQ");
    }

    #[test]
    fn algorithms_round_trip() {
        for name in [
            "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
            "HS256", "HS384", "HS512", "none",
        ] {
            let alg = Alg::parse(name).unwrap();
            assert_eq!(alg.name(), name);
            assert_eq!(from_core(&alg.into()), Some(alg));
        }
        assert!(Alg::parse("ES512").is_none());
    }
}
