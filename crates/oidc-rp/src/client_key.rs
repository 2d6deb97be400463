//! The client's own signing key, for `private_key_jwt` client authentication (OIDC Core §9,
//! RFC 7523) and signed request objects (RFC 9101). RSA (RS256) or P-256 (ES256), from a PKCS#8
//! PEM, with an RFC 7638 thumbprint as `kid`.

use crate::error::{ConfigError, Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use serde_json::{Value, json};

enum Pair {
    Rsa(RsaKeyPair),
    P256(EcdsaKeyPair),
}

/// A client signing key.
pub struct ClientKey {
    pair: Pair,
    kid: String,
    jwk: Value,
    rng: SystemRandom,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientKey({} {})", self.alg(), self.kid)
    }
}

fn b64(b: &[u8]) -> String {
    rp_jose::b64::encode(b)
}

impl ClientKey {
    /// Load an RSA or P-256 private key from a PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<ClientKey> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD
            .decode(body.trim())
            .map_err(|_| ConfigError::ClientKey("is not a PEM file".into()))?;
        let rng = SystemRandom::new();
        if let Ok(pair) = RsaKeyPair::from_pkcs8(&der) {
            let parts: ring::rsa::PublicKeyComponents<Vec<u8>> = pair.public().into();
            let (n, e) = (b64(&parts.n), b64(&parts.e));
            let mut jwk = json!({"kty": "RSA", "n": n, "e": e, "use": "sig", "alg": "RS256"});
            let kid = rp_jose::jwk_thumbprint(&jwk).unwrap_or_default();
            jwk["kid"] = json!(kid);
            return Ok(ClientKey {
                pair: Pair::Rsa(pair),
                kid,
                jwk,
                rng,
            });
        }
        if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng) {
            let p = pair.public_key().as_ref();
            let (x, y) = (b64(&p[1..33]), b64(&p[33..65]));
            let mut jwk =
                json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "use": "sig", "alg": "ES256"});
            let kid = rp_jose::jwk_thumbprint(&jwk).unwrap_or_default();
            jwk["kid"] = json!(kid);
            return Ok(ClientKey {
                pair: Pair::P256(pair),
                kid,
                jwk,
                rng,
            });
        }
        Err(Error::Config(ConfigError::ClientKey(
            "must be an RSA (2048+) or P-256 PKCS#8 private key".into(),
        )))
    }

    /// The JOSE algorithm it signs with.
    pub fn alg(&self) -> &'static str {
        rp_jose::Signer::alg(self).name()
    }

    /// Its `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK, to register as the client's `jwks`.
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// Sign claims as a compact JWS with this `typ`.
    pub fn sign(&self, typ: &str, claims: &Value) -> Result<String> {
        rp_jose::encode(self, Some(typ), claims)
            .map_err(|e| Error::Config(ConfigError::ClientKey(format!("could not sign: {e}"))))
    }
}

impl rp_jose::Signer for ClientKey {
    fn alg(&self) -> rp_jose::Alg {
        match self.pair {
            Pair::Rsa(_) => rp_jose::Alg::RS256,
            Pair::P256(_) => rp_jose::Alg::ES256,
        }
    }

    fn kid(&self) -> Option<&str> {
        Some(&self.kid)
    }

    fn sign(&self, input: &[u8]) -> std::result::Result<Vec<u8>, rp_jose::SignError> {
        let failed = |what: &str| rp_jose::SignError(format!("{what} signing failed"));
        match &self.pair {
            Pair::Rsa(p) => {
                let mut s = vec![0; p.public().modulus_len()];
                p.sign(&RSA_PKCS1_SHA256, &self.rng, input, &mut s)
                    .map_err(|_| failed("RSA"))?;
                Ok(s)
            }
            Pair::P256(p) => p
                .sign(&self.rng, input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| failed("ECDSA")),
        }
    }
}

/// HMAC-sign claims with the client secret (`client_secret_jwt`, OIDC Core §9).
pub(crate) fn sign_hs256(secret: &str, typ: &str, claims: &Value) -> Result<String> {
    let key = rp_jose::HmacKey::new(rp_jose::Alg::HS256, secret.as_bytes())
        .map_err(|e| ConfigError::ClientKey(e.to_string()))?;
    rp_jose::encode(&key, Some(typ), claims)
        .map_err(|e| Error::Config(ConfigError::ClientKey(e.to_string())))
}

/// An unsigned JWS (`alg: none`), for request objects where the client registered none.
pub(crate) fn unsigned(claims: &Value) -> String {
    rp_jose::unsigned(claims)
}
