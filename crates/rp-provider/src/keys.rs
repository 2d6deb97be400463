//! Signing keys and JWT signing (RS256, ES256, EdDSA; HS256 with a client secret).
//!
//! `ring` does everything except the RSA private-key operation, which `aws-lc-rs` does:
//! measured here, 0.26 ms per RS256 signature against ring's 0.56 ms, and one RS256
//! signature is most of the provider's CPU time per login (see BENCHMARKS.md).
//!
//! Key ids are RFC 7638 thumbprints. The JOSE header of each key is encoded once.

use crate::error::{Error, Result};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair,
};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use serde_json::{Value, json};

enum Pair {
    /// ring's pair gives the public components and verifies; aws-lc's signs.
    Rsa(RsaKeyPair, aws_lc_rs::signature::RsaKeyPair),
    P256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// One signing key.
pub struct SigningKey {
    /// The JOSE algorithm.
    pub alg: &'static str,
    /// The `kid` (RFC 7638 thumbprint).
    pub kid: String,
    /// The public JWK.
    pub jwk: Value,
    pair: Pair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({} {})", self.alg, self.kid)
    }
}

fn b64(bytes: &[u8]) -> String {
    rp_jose::b64::encode(bytes)
}

fn der(pem: &str) -> Result<Vec<u8>> {
    match PrivateKeyDer::from_pem_slice(pem.as_bytes()) {
        Ok(PrivateKeyDer::Pkcs8(k)) => Ok(k.secret_pkcs8_der().to_vec()),
        Ok(_) => Err(Error::Key(
            "expected a PKCS#8 private key (BEGIN PRIVATE KEY)".into(),
        )),
        Err(e) => Err(Error::Key(format!("not a PEM private key: {e}"))),
    }
}

impl SigningKey {
    /// Key ids are RFC 7638 thumbprints.
    fn new(alg: &'static str, jwk_base: Value, pair: Pair) -> SigningKey {
        let kid = rp_jose::jwk_thumbprint(&jwk_base).unwrap_or_default();
        let mut jwk = jwk_base;
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        jwk["alg"] = json!(alg);
        SigningKey {
            alg,
            kid,
            jwk,
            pair,
        }
    }

    /// An RS256 key from a PKCS#8 PEM.
    pub fn rsa(pem: &str) -> Result<SigningKey> {
        let der = der(pem)?;
        let pair = RsaKeyPair::from_pkcs8(&der).map_err(|e| Error::Key(format!("RSA key: {e}")))?;
        let signer = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&der)
            .map_err(|e| Error::Key(format!("RSA key: {e}")))?;
        let parts: ring::rsa::PublicKeyComponents<Vec<u8>> = pair.public().into();
        let (n, e) = (b64(&parts.n), b64(&parts.e));
        Ok(SigningKey::new(
            "RS256",
            json!({"kty": "RSA", "n": n, "e": e}),
            Pair::Rsa(pair, signer),
        ))
    }

    /// An ES256 key from a PKCS#8 PEM.
    pub fn p256(pem: &str) -> Result<SigningKey> {
        Self::p256_der(&der(pem)?)
    }

    fn p256_der(der: &[u8]) -> Result<SigningKey> {
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &SystemRandom::new())
                .map_err(|e| Error::Key(format!("P-256 key: {e}")))?;
        let point = pair.public_key().as_ref();
        let (x, y) = (b64(&point[1..33]), b64(&point[33..65]));
        Ok(SigningKey::new(
            "ES256",
            json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
            Pair::P256(pair),
        ))
    }

    /// A new P-256 key.
    pub fn generate_p256() -> Result<SigningKey> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|e| Error::Key(format!("P-256 generation: {e}")))?;
        Self::p256_der(pkcs8.as_ref())
    }

    /// A new Ed25519 key.
    pub fn generate_ed25519() -> Result<SigningKey> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|e| Error::Key(format!("Ed25519 generation: {e}")))?;
        Self::ed25519_der(pkcs8.as_ref())
    }

    /// An EdDSA (Ed25519) key from a PKCS#8 PEM.
    pub fn ed25519(pem: &str) -> Result<SigningKey> {
        Self::ed25519_der(&der(pem)?)
    }

    fn ed25519_der(der: &[u8]) -> Result<SigningKey> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|e| Error::Key(format!("Ed25519 key: {e}")))?;
        let x = b64(pair.public_key().as_ref());
        Ok(SigningKey::new(
            "EdDSA",
            json!({"kty": "OKP", "crv": "Ed25519", "x": x}),
            Pair::Ed25519(pair),
        ))
    }

    fn sign_bytes(&self, input: &[u8]) -> Result<Vec<u8>> {
        match &self.pair {
            Pair::Rsa(p, signer) => {
                // PKCS#1 v1.5 is deterministic: no randomness is needed (aws-lc blinds with
                // its own).
                let mut sig = vec![0; p.public().modulus_len()];
                signer
                    .sign(
                        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                        &aws_lc_rs::rand::SystemRandom::new(),
                        input,
                        &mut sig,
                    )
                    .map_err(|_| Error::Signing("RSA signing failed".into()))?;
                Ok(sig)
            }
            Pair::P256(p) => p
                .sign(&SystemRandom::new(), input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| Error::Signing("ECDSA signing failed".into())),
            Pair::Ed25519(p) => Ok(p.sign(input).as_ref().to_vec()),
        }
    }
}

impl rp_jose::Signer for SigningKey {
    fn alg(&self) -> rp_jose::Alg {
        rp_jose::Alg::parse(self.alg).unwrap_or(rp_jose::Alg::None)
    }

    fn kid(&self) -> Option<&str> {
        Some(&self.kid)
    }

    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, rp_jose::SignError> {
        self.sign_bytes(input)
            .map_err(|e| rp_jose::SignError(e.to_string()))
    }
}

/// The provider's keys.
#[derive(Debug)]
pub struct KeyRing {
    keys: Vec<SigningKey>,
    /// Whether keys and JWS headers carry `kid` (conformance tests strip them).
    kids: bool,
}

impl KeyRing {
    /// Keys from the fixtures' PEMs.
    pub fn from_pems(pems: &crate::fixtures::KeyPems) -> Result<KeyRing> {
        Ok(KeyRing::new(
            vec![
                SigningKey::rsa(&pems.rsa)?,
                SigningKey::p256(&pems.p256)?,
                SigningKey::ed25519(&pems.ed25519)?,
            ],
            true,
        ))
    }

    /// A ring of these keys. The first key of each algorithm signs; without `kids`, neither the
    /// JWKS nor the JWS headers name keys.
    pub fn new(keys: Vec<SigningKey>, kids: bool) -> KeyRing {
        KeyRing { keys, kids }
    }

    /// The public JWKS.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|k| {
                let mut jwk = k.jwk.clone();
                if !self.kids
                    && let Some(o) = jwk.as_object_mut()
                {
                    o.remove("kid");
                }
                jwk
            })
            .collect();
        json!({ "keys": keys })
    }

    /// The kids of the keys.
    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.kid.as_str()).collect()
    }

    /// The algorithms the keys sign with.
    pub fn algorithms(&self) -> Vec<&'static str> {
        self.keys.iter().map(|k| k.alg).collect()
    }

    /// The key for an algorithm.
    pub fn key(&self, alg: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.alg == alg)
    }

    /// Sign with an explicit `typ` (`at+jwt`, `logout+jwt`, `token-introspection+jwt`).
    /// HMAC algorithms are keyed with `secret` (the client secret).
    pub fn sign_typed_with(
        &self,
        alg: &str,
        typ: &str,
        claims: &Value,
        secret: Option<&str>,
    ) -> Result<String> {
        self.encode(alg, Some(typ), claims, secret)
    }

    /// Sign with an explicit `typ` (`at+jwt`, `logout+jwt`, `token-introspection+jwt`).
    pub fn sign_typed(&self, alg: &str, typ: &str, claims: &Value) -> Result<String> {
        self.encode(alg, Some(typ), claims, None)
    }

    /// Encode through rp-jose: HS* keyed with `secret`, `none` unsigned, others with this
    /// ring's key of that algorithm (its `kid` in the header unless kids are off).
    fn encode(
        &self,
        alg: &str,
        typ: Option<&str>,
        claims: &Value,
        secret: Option<&str>,
    ) -> Result<String> {
        let parsed =
            rp_jose::Alg::parse(alg).ok_or_else(|| Error::Signing(format!("unknown alg {alg}")))?;
        let mut header = serde_json::Map::new();
        if let Some(typ) = typ {
            header.insert("typ".into(), typ.into());
        }
        let payload = claims.to_string();
        if parsed == rp_jose::Alg::None {
            return Ok(rp_jose::unsigned(claims));
        }
        if parsed.is_symmetric() {
            let secret = secret
                .ok_or_else(|| Error::Signing("HMAC signing needs a client secret".into()))?;
            let key = rp_jose::HmacKey::new(parsed, secret.as_bytes())
                .map_err(|e| Error::Signing(e.0))?;
            return rp_jose::encode_with_header(&key, header, payload.as_bytes())
                .map_err(|e| Error::Signing(e.0));
        }
        let key = self
            .key(alg)
            .ok_or_else(|| Error::Signing(format!("no {alg} key")))?;
        if !self.kids {
            header.insert("kid".into(), Value::Null);
        }
        rp_jose::encode_with_header(key, header, payload.as_bytes())
            .map_err(|e| Error::Signing(e.0))
    }

    /// The claims of a JWT this provider signed with one of its keys, if the signature holds
    /// (used to accept its own ID tokens and JWTs as token exchange subjects).
    pub fn verify_own(&self, token: &str) -> Option<Value> {
        use ring::signature::{
            ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey,
        };
        let (input, sig) = token.rsplit_once('.')?;
        let (header, payload) = input.split_once('.')?;
        let header: Value = serde_json::from_slice(&rp_jose::b64::decode(header).ok()?).ok()?;
        let key = match header.get("kid").and_then(Value::as_str) {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid == kid && header["alg"] == k.alg)?,
            None => self.keys.iter().find(|k| header["alg"] == k.alg)?,
        };
        let sig = rp_jose::b64::decode(sig).ok()?;
        let public: Vec<u8> = match &key.pair {
            Pair::Rsa(p, _) => p.public().as_ref().to_vec(),
            Pair::P256(p) => p.public_key().as_ref().to_vec(),
            Pair::Ed25519(p) => p.public_key().as_ref().to_vec(),
        };
        let algorithm: &dyn ring::signature::VerificationAlgorithm = match key.pair {
            Pair::Rsa(..) => &RSA_PKCS1_2048_8192_SHA256,
            Pair::P256(_) => &ECDSA_P256_SHA256_FIXED,
            Pair::Ed25519(_) => &ED25519,
        };
        UnparsedPublicKey::new(algorithm, public)
            .verify(input.as_bytes(), &sig)
            .ok()?;
        serde_json::from_slice(&rp_jose::b64::decode(payload).ok()?).ok()
    }

    /// Sign claims as a compact JWS with `typ: JWT`. `alg` may also be `HS256` (keyed with
    /// `secret`) or `none`.
    pub fn sign(&self, alg: &str, claims: &Value, secret: Option<&str>) -> Result<String> {
        let typ = (alg != "none").then_some("JWT");
        self.encode(alg, typ, claims, secret)
    }
}

/// The left half of the hash of a token, for `at_hash` / `c_hash` (OIDC Core §3.1.3.6):
/// SHA-256 for the *256 algorithms, SHA-512 for EdDSA (Ed25519).
pub fn half_hash(alg: &str, value: &str) -> String {
    let alg = rp_jose::Alg::parse(alg).unwrap_or(rp_jose::Alg::RS256);
    rp_jose::half_hash(alg, value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_keys_sign_and_publish() {
        let ring = KeyRing::from_pems(&crate::fixtures::Fixtures::embedded().keys).unwrap();
        assert_eq!(ring.algorithms(), vec!["RS256", "ES256", "EdDSA"]);
        let jwks = ring.jwks();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 3);
        for alg in ["RS256", "ES256", "EdDSA", "none"] {
            let jwt = ring.sign(alg, &json!({"sub": "x"}), None).unwrap();
            assert_eq!(jwt.split('.').count(), 3);
            if alg != "none" {
                assert_eq!(ring.verify_own(&jwt).unwrap()["sub"], "x");
                let typed = ring
                    .sign_typed(alg, "at+jwt", &json!({"sub": "y"}))
                    .unwrap();
                assert_eq!(ring.verify_own(&typed).unwrap()["sub"], "y");
                let mut forged = jwt.clone();
                forged.replace_range(jwt.len() - 4.., "AAAA");
                assert!(ring.verify_own(&forged).is_none());
            }
        }
        assert!(
            ring.verify_own(&ring.sign("none", &json!({}), None).unwrap())
                .is_none()
        );
        assert!(ring.sign("HS256", &json!({}), None).is_err());
        assert!(ring.sign("HS256", &json!({}), Some("s")).is_ok());
    }
}
