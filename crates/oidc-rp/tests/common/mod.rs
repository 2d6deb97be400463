//! Test helpers: signing keys, token crafting, and a real JWKS server on loopback.
#![allow(dead_code, clippy::unwrap_used)]

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const ISSUER: &str = "https://op.example";
pub const CLIENT: &str = "client-1";

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

pub enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A signing key with its public JWK.
pub struct TestKey {
    pub alg: &'static str,
    pub kid: Option<String>,
    pub pair: Pair,
    pub jwk: Value,
}

impl TestKey {
    /// The key with its public JWK, which names `kid` when there is one.
    fn new(alg: &'static str, kid: Option<&str>, pair: Pair, mut jwk: Value) -> TestKey {
        if let Some(k) = kid {
            jwk["kid"] = json!(k);
        }
        TestKey {
            alg,
            kid: kid.map(str::to_string),
            pair,
            jwk,
        }
    }

    pub fn rsa(kid: Option<&str>) -> TestKey {
        let der = pem_to_der(include_str!("../../../../fixtures/keys/rs256.pem"));
        let pair = RsaKeyPair::from_pkcs8(&der).unwrap();
        let parts: ring::rsa::PublicKeyComponents<Vec<u8>> = pair.public().into();
        let jwk = json!({"kty": "RSA", "n": b64(&parts.n), "e": b64(&parts.e)});
        TestKey::new("RS256", kid, Pair::Rsa(pair), jwk)
    }

    /// A fresh P-256 key (`ES256`).
    pub fn ec(kid: Option<&str>) -> TestKey {
        TestKey::ecdsa(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            "ES256",
            "P-256",
            kid,
        )
    }

    /// A fresh P-384 key (`ES384`, RFC 7518 §3.4).
    pub fn ec384(kid: Option<&str>) -> TestKey {
        TestKey::ecdsa(
            &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            "ES384",
            "P-384",
            kid,
        )
    }

    fn ecdsa(
        signing: &'static signature::EcdsaSigningAlgorithm,
        alg: &'static str,
        crv: &str,
        kid: Option<&str>,
    ) -> TestKey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref(), &rng).unwrap();
        // An uncompressed point: 0x04, then x and y of equal length (SEC 1 §2.3.3).
        let point = &pair.public_key().as_ref()[1..];
        let (x, y) = point.split_at(point.len() / 2);
        let jwk = json!({"kty": "EC", "crv": crv, "x": b64(x), "y": b64(y)});
        TestKey::new(alg, kid, Pair::Ec(pair), jwk)
    }

    /// Sign with another algorithm of this key's type (RSA: RS256 to PS512).
    pub fn sign_as(&self, alg: &str, claims: &Value) -> String {
        let mut header = self.header();
        header["alg"] = json!(alg);
        self.sign_with_header(&header, claims)
    }

    pub fn ed(kid: Option<&str>) -> TestKey {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())});
        TestKey::new("EdDSA", kid, Pair::Ed(pair), jwk)
    }

    pub fn header(&self) -> Value {
        let mut h = json!({"alg": self.alg, "typ": "JWT"});
        if let Some(k) = &self.kid {
            h["kid"] = json!(k);
        }
        h
    }

    /// Sign with this key's algorithm.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(&self.header(), claims)
    }

    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        self.sign_payload(header, &claims.to_string())
    }

    /// Sign a payload given as text (to craft JSON a `Value` cannot hold, like duplicate names).
    pub fn sign_payload(&self, header: &Value, payload: &str) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(payload.as_bytes())
        );
        let rng = SystemRandom::new();
        let sig = match &self.pair {
            Pair::Rsa(p) => {
                // The header's RSA algorithm (RFC 7518 §3.3, §3.5); RS256 for anything else, so
                // that a header naming a non-RSA algorithm still gets a (mismatched) signature.
                let encoding: &'static dyn signature::RsaEncoding = match header["alg"].as_str() {
                    Some("RS384") => &signature::RSA_PKCS1_SHA384,
                    Some("RS512") => &signature::RSA_PKCS1_SHA512,
                    Some("PS256") => &signature::RSA_PSS_SHA256,
                    Some("PS384") => &signature::RSA_PSS_SHA384,
                    Some("PS512") => &signature::RSA_PSS_SHA512,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut s = vec![0; p.public().modulus_len()];
                p.sign(encoding, &rng, input.as_bytes(), &mut s).unwrap();
                s
            }
            Pair::Ec(p) => p.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
            Pair::Ed(p) => p.sign(input.as_bytes()).as_ref().to_vec(),
        };
        format!("{input}.{}", b64(&sig))
    }
}

/// HMAC-sign (the "HS256 with the public key as secret" attack uses this with the JWK text).
pub fn sign_hs256(secret: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    format!(
        "{input}.{}",
        b64(ring::hmac::sign(&key, input.as_bytes()).as_ref())
    )
}

pub fn now() -> i64 {
    oidc_rp::time::unix_now()
}

/// Valid claims for CLIENT at ISSUER with this nonce.
pub fn claims(nonce: &str) -> Value {
    let t = now();
    json!({
        "iss": ISSUER, "sub": "user-1", "aud": CLIENT, "exp": t + 300, "iat": t,
        "auth_time": t - 10, "nonce": nonce,
    })
}

/// A JWKS endpoint on 127.0.0.1 that counts its requests; its key set can be replaced.
pub struct JwksServer {
    pub url: url::Url,
    pub hits: Arc<AtomicUsize>,
    pub jwks: Arc<Mutex<Value>>,
}

impl JwksServer {
    pub async fn start(keys: Vec<Value>) -> JwksServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url =
            url::Url::parse(&format!("http://{}/jwks", listener.local_addr().unwrap())).unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let jwks = Arc::new(Mutex::new(json!({ "keys": keys })));
        let (h, j) = (hits.clone(), jwks.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (h, j) = (h.clone(), j.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut read = 0;
                    while !buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf[read..]).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => read += n,
                        }
                    }
                    h.fetch_add(1, Ordering::SeqCst);
                    let body = j.lock().unwrap().to_string();
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(resp.as_bytes()).await;
                });
            }
        });
        JwksServer { url, hits, jwks }
    }

    pub fn set_keys(&self, keys: Vec<Value>) {
        self.set_json(json!({ "keys": keys }));
    }

    /// Answer every request with `body` instead (the server ignores the path).
    pub fn set_json(&self, body: Value) {
        *self.jwks.lock().unwrap() = body;
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}
