//! DPoP (RFC 9449): sender-constrained tokens. Every request to the token endpoint, userinfo
//! or a resource server carries a proof, a JWT signed with the client's DPoP key, naming the
//! method and URL (`htm`, `htu`), when (`iat`), a unique id (`jti`), the hash of the access
//! token it presents (`ath`) and the server's latest nonce (`nonce`). Tokens issued that way
//! are bound to the key: a thief without the key cannot use them.
//!
//! [`Dpop`] is a [`RequestDecorator`]: set it with [`crate::RelyingParty::with_decorator`]
//! and every request the relying party sends gets its proof; a `use_dpop_nonce` challenge is
//! answered with one retry carrying the nonce (§8), and the nonce is remembered per server
//! for the next requests. Tokens must then come back with `token_type` DPoP (§5).

use crate::endpoint::RequestDecorator;
use crate::error::{ConfigError, Error, Result};
use crate::http::HttpResponse;
use crate::secret::Secret;
use crate::token::AccessToken;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

enum Pair {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
    Ps256(RsaKeyPair),
}

/// A DPoP key: ES256 by default, EdDSA or PS256 on request.
pub struct DpopKey {
    pair: Pair,
    jwk: Value,
    thumbprint: String,
    pkcs8: Secret,
    rng: SystemRandom,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DpopKey({} {})", self.alg(), self.thumbprint)
    }
}

fn b64(b: &[u8]) -> String {
    rp_jose::b64::encode(b)
}

fn bad_key(why: &str) -> Error {
    Error::Config(ConfigError::ClientKey(format!("DPoP key: {why}")))
}

impl DpopKey {
    /// A new ES256 (P-256) key.
    ///
    /// ```
    /// let key = oidc_rp::dpop::DpopKey::generate_es256()?;
    /// assert_eq!(key.alg(), "ES256");
    /// # Ok::<(), oidc_rp::Error>(())
    /// ```
    pub fn generate_es256() -> Result<DpopKey> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| bad_key("could not generate"))?;
        DpopKey::from_pkcs8(doc.as_ref())
    }

    /// A new EdDSA (Ed25519) key.
    pub fn generate_eddsa() -> Result<DpopKey> {
        let rng = SystemRandom::new();
        let doc =
            Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| bad_key("could not generate"))?;
        DpopKey::from_pkcs8(doc.as_ref())
    }

    /// A key from PKCS#8 DER: P-256 (ES256), Ed25519 (EdDSA) or RSA (PS256).
    pub fn from_pkcs8(der: &[u8]) -> Result<DpopKey> {
        let rng = SystemRandom::new();
        let (pair, jwk) = if let Ok(p) =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
        {
            let pt = p.public_key().as_ref();
            let jwk =
                json!({"kty": "EC", "crv": "P-256", "x": b64(&pt[1..33]), "y": b64(&pt[33..65])});
            (Pair::Es256(p), jwk)
        } else if let Ok(p) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(p.public_key().as_ref())});
            (Pair::EdDsa(p), jwk)
        } else if let Ok(p) = RsaKeyPair::from_pkcs8(der) {
            let parts: ring::rsa::PublicKeyComponents<Vec<u8>> = p.public().into();
            let jwk = json!({"kty": "RSA", "n": b64(&parts.n), "e": b64(&parts.e)});
            (Pair::Ps256(p), jwk)
        } else {
            return Err(bad_key("not a P-256, Ed25519 or RSA PKCS#8 private key"));
        };
        let thumbprint = rp_jose::jwk_thumbprint(&jwk).ok_or_else(|| bad_key("no thumbprint"))?;
        Ok(DpopKey {
            pair,
            jwk,
            thumbprint,
            pkcs8: Secret::new(b64(der)),
            rng,
        })
    }

    /// A key from a PKCS#8 PEM file (`BEGIN PRIVATE KEY`): P-256, Ed25519 or RSA, for a
    /// DPoP key the caller keeps itself (a hardware-backed or long-lived one).
    pub fn from_pem(pem: &str) -> Result<DpopKey> {
        let der = crate::client_key::pkcs8_der(pem).map_err(|_| bad_key("not a PEM file"))?;
        DpopKey::from_pkcs8(&der)
    }

    /// The private key as base64url PKCS#8, to keep it (a secret) between runs.
    pub fn to_pkcs8_b64(&self) -> &Secret {
        &self.pkcs8
    }

    /// A key kept with [`DpopKey::to_pkcs8_b64`].
    pub fn from_pkcs8_b64(value: &str) -> Result<DpopKey> {
        let der = rp_jose::b64::decode(value).map_err(|_| bad_key("not base64url"))?;
        DpopKey::from_pkcs8(&der)
    }

    /// `ES256`, `EdDSA` or `PS256`.
    pub fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Es256(_) => "ES256",
            Pair::EdDsa(_) => "EdDSA",
            Pair::Ps256(_) => "PS256",
        }
    }

    /// The RFC 7638 thumbprint of the public key: `dpop_jkt` (§10) and `cnf.jkt` (§6).
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// A proof for a request (§4.2): `htu` without query and fragment (§4.3).
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String> {
        let htu = url.split(['?', '#']).next().unwrap_or(url);
        let mut claims = Map::new();
        claims.insert("htm".into(), json!(method));
        claims.insert("htu".into(), json!(htu));
        claims.insert("iat".into(), json!(crate::time::unix_now()));
        claims.insert("jti".into(), json!(Secret::random(16).expose()));
        if let Some(token) = access_token {
            let hash = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
            claims.insert("ath".into(), json!(b64(hash.as_ref())));
        }
        if let Some(nonce) = nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        let header = json!({"typ": "dpop+jwt", "alg": self.alg(), "jwk": self.jwk});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(Value::Object(claims).to_string().as_bytes())
        );
        let sig = self.sign(input.as_bytes())?;
        Ok(format!("{input}.{}", b64(&sig)))
    }

    fn sign(&self, input: &[u8]) -> Result<Vec<u8>> {
        let failed = || bad_key("signing failed");
        match &self.pair {
            Pair::Es256(p) => p
                .sign(&self.rng, input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| failed()),
            Pair::EdDsa(p) => Ok(p.sign(input).as_ref().to_vec()),
            Pair::Ps256(p) => {
                let mut s = vec![0; p.public().modulus_len()];
                p.sign(&signature::RSA_PSS_SHA256, &self.rng, input, &mut s)
                    .map_err(|_| failed())?;
                Ok(s)
            }
        }
    }
}

/// Adds a DPoP proof to every request and answers nonce challenges (see the module docs).
///
/// ```no_run
/// # async fn f(rp: oidc_rp::RelyingParty) -> oidc_rp::Result<()> {
/// use oidc_rp::dpop::{Dpop, DpopKey};
/// use std::sync::Arc;
/// let rp = rp.with_decorator(Arc::new(Dpop::new(DpopKey::generate_es256()?)));
/// # let _ = rp; Ok(()) }
/// ```
#[derive(Debug)]
pub struct Dpop {
    key: DpopKey,
    nonces: Mutex<HashMap<String, String>>,
}

impl Dpop {
    /// Proofs signed with `key`.
    pub fn new(key: DpopKey) -> Dpop {
        Dpop {
            key,
            nonces: Mutex::new(HashMap::new()),
        }
    }

    /// The key.
    pub fn key(&self) -> &DpopKey {
        &self.key
    }

    fn origin(uri: &http::Uri) -> String {
        format!(
            "{}://{}",
            uri.scheme_str().unwrap_or(""),
            uri.authority().map(|a| a.as_str()).unwrap_or("")
        )
    }
}

/// Whether a response is a `use_dpop_nonce` challenge (§8: in the JSON body at the token
/// endpoint, in `WWW-Authenticate` at a resource).
fn is_nonce_challenge(response: &HttpResponse) -> bool {
    let status = response.status().as_u16();
    if status != 400 && status != 401 {
        return false;
    }
    let in_header = response
        .headers()
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("use_dpop_nonce"));
    let in_body = serde_json::from_slice::<Value>(response.body())
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
        .is_some_and(|e| e == "use_dpop_nonce");
    in_header || in_body
}

impl RequestDecorator for Dpop {
    fn decorate(
        &self,
        request: &mut http::Request<Vec<u8>>,
        access_token: Option<&AccessToken>,
    ) -> Result<()> {
        let uri = request.uri().clone();
        let nonce = self
            .nonces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&Dpop::origin(&uri))
            .cloned();
        let proof = self.key.proof(
            request.method().as_str(),
            &uri.to_string(),
            access_token.map(|t| t.expose()),
            nonce.as_deref(),
        )?;
        let value = http::HeaderValue::from_str(&proof).map_err(|_| bad_key("proof header"))?;
        request.headers_mut().insert("dpop", value);
        Ok(())
    }

    fn should_retry(&self, uri: &http::Uri, response: &HttpResponse) -> bool {
        let Some(nonce) = response
            .headers()
            .get("dpop-nonce")
            .and_then(|v| v.to_str().ok())
            .filter(|n| !n.is_empty() && n.len() <= 512 && n.bytes().all(|b| b.is_ascii_graphic()))
        else {
            return false;
        };
        let changed = self
            .nonces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(Dpop::origin(uri), nonce.to_string())
            .as_deref()
            != Some(nonce);
        changed && is_nonce_challenge(response)
    }

    fn token_type(&self) -> Option<&str> {
        Some("DPoP")
    }

    fn proof_alg(&self) -> Option<&str> {
        Some(self.key.alg())
    }

    fn authorization_params(&self) -> Vec<(String, String)> {
        vec![("dpop_jkt".into(), self.key.thumbprint().to_string())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(jwt: &str) -> (Value, Value) {
        let mut it = jwt.split('.');
        let h = rp_jose::b64::decode(it.next().unwrap()).unwrap();
        let c = rp_jose::b64::decode(it.next().unwrap()).unwrap();
        (
            serde_json::from_slice(&h).unwrap(),
            serde_json::from_slice(&c).unwrap(),
        )
    }

    #[test]
    fn a_proof_names_the_request_and_the_token() {
        let key = DpopKey::generate_es256().unwrap();
        let proof = key
            .proof(
                "GET",
                "https://rs.example/api?x=1#f",
                Some("tok"),
                Some("n1"),
            )
            .unwrap();
        let (h, c) = parts(&proof);
        assert_eq!(h["typ"], "dpop+jwt");
        assert_eq!(h["alg"], "ES256");
        assert!(h["jwk"].get("d").is_none(), "private key in the header");
        assert_eq!(c["htm"], "GET");
        assert_eq!(c["htu"], "https://rs.example/api");
        assert_eq!(c["nonce"], "n1");
        // SHA-256("tok"), base64url (computed with openssl dgst).
        assert_eq!(c["ath"], "GnZ0607njffhrEOak8P6jjyUV4TU3sn9jjARc4svHWI");
        let other = key
            .proof("GET", "https://rs.example/api", None, None)
            .unwrap();
        assert_ne!(parts(&other).1["jti"], c["jti"], "jti must be unique");
    }

    #[test]
    fn keys_round_trip_and_each_algorithm_signs() {
        for key in [
            DpopKey::generate_es256().unwrap(),
            DpopKey::generate_eddsa().unwrap(),
        ] {
            let again = DpopKey::from_pkcs8_b64(key.to_pkcs8_b64().expose()).unwrap();
            assert_eq!(again.thumbprint(), key.thumbprint());
            assert!(
                key.proof("POST", "https://op.example/token", None, None)
                    .is_ok()
            );
        }
        let rsa = rp_jose::b64::encode(
            &base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                include_str!("../../../fixtures/keys/pool/rsa-4.pem")
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect::<String>(),
            )
            .unwrap(),
        );
        assert_eq!(DpopKey::from_pkcs8_b64(&rsa).unwrap().alg(), "PS256");
    }
}
