//! The client's own signing key, for `private_key_jwt` client authentication (OIDC Core §9,
//! RFC 7523) and signed request objects (RFC 9101). RSA (RS256) or P-256 (ES256), from a PKCS#8
//! PEM, with an RFC 7638 thumbprint as `kid`.

use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
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
    URL_SAFE_NO_PAD.encode(b)
}

fn thumbprint(canonical: &str) -> String {
    b64(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
}

impl ClientKey {
    /// Load an RSA or P-256 private key from a PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<ClientKey> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD
            .decode(body.trim())
            .map_err(|_| Error::Config("the client key is not a PEM file".into()))?;
        let rng = SystemRandom::new();
        if let Ok(pair) = RsaKeyPair::from_pkcs8(&der) {
            let parts: ring::rsa::PublicKeyComponents<Vec<u8>> = pair.public().into();
            let (n, e) = (b64(&parts.n), b64(&parts.e));
            let kid = thumbprint(&format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#));
            let jwk =
                json!({"kty": "RSA", "n": n, "e": e, "kid": kid, "use": "sig", "alg": "RS256"});
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
            let kid = thumbprint(&format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#
            ));
            let jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "use": "sig", "alg": "ES256"});
            return Ok(ClientKey {
                pair: Pair::P256(pair),
                kid,
                jwk,
                rng,
            });
        }
        Err(Error::Config(
            "the client key must be an RSA (2048+) or P-256 PKCS#8 private key".into(),
        ))
    }

    /// The JOSE algorithm it signs with.
    pub fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Rsa(_) => "RS256",
            Pair::P256(_) => "ES256",
        }
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
        let header = json!({"alg": self.alg(), "kid": self.kid, "typ": typ});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = match &self.pair {
            Pair::Rsa(p) => {
                let mut s = vec![0; p.public().modulus_len()];
                p.sign(&RSA_PKCS1_SHA256, &self.rng, input.as_bytes(), &mut s)
                    .map_err(|_| Error::Config("RSA signing failed".into()))?;
                s
            }
            Pair::P256(p) => p
                .sign(&self.rng, input.as_bytes())
                .map_err(|_| Error::Config("ECDSA signing failed".into()))?
                .as_ref()
                .to_vec(),
        };
        Ok(format!("{input}.{}", b64(&sig)))
    }
}

/// HMAC-sign claims with the client secret (`client_secret_jwt`).
pub(crate) fn sign_hs256(secret: &str, typ: &str, claims: &Value) -> String {
    let header = json!({"alg": "HS256", "typ": typ});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// An unsigned JWS (`alg: none`), for request objects where the client registered none.
pub(crate) fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64(json!({"alg": "none"}).to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}
