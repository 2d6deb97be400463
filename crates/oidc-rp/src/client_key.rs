//! The client's own signing key, for `private_key_jwt` client authentication (OIDC Core §9,
//! RFC 7523) and signed request objects (RFC 9101). RSA (RS256) or P-256 (ES256), from a PKCS#8
//! PEM or a private JWK, with an RFC 7638 thumbprint as `kid` (or the JWK's own).

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

/// The DER inside a PKCS#8 PEM (`BEGIN PRIVATE KEY`); `Err` when it is not base64.
pub(crate) fn pkcs8_der(pem: &str) -> std::result::Result<Vec<u8>, ()> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    STANDARD.decode(body).map_err(|_| ())
}

impl ClientKey {
    /// Load an RSA or P-256 private key from a PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<ClientKey> {
        let der = pkcs8_der(pem).map_err(|_| ConfigError::ClientKey("is not a PEM file".into()))?;
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

    /// Load an RSA or P-256 private key from a JWK (RFC 7517: `kty` RSA with `n`, `e`, `d`,
    /// `p`, `q`, `dp`, `dq`, `qi`; or `kty` EC, `crv` P-256, with `x`, `y`, `d`). A JWK set
    /// with one key is accepted too.
    ///
    /// ```no_run
    /// let key = oidc_rp::ClientKey::from_jwk(&std::fs::read_to_string("client.jwk.json").unwrap())?;
    /// println!("{} {}", key.alg(), key.kid());
    /// # Ok::<(), oidc_rp::Error>(())
    /// ```
    pub fn from_jwk(json: &str) -> Result<ClientKey> {
        let bad = |why: &str| Error::Config(ConfigError::ClientKey(why.to_string()));
        let mut jwk: Value = serde_json::from_str(json).map_err(|_| bad("is not a JSON JWK"))?;
        if let Some(keys) = jwk.get("keys").and_then(Value::as_array) {
            match keys.as_slice() {
                [one] => jwk = one.clone(),
                _ => return Err(bad("is a JWK set with other than one key")),
            }
        }
        let field = |name: &str| -> Result<Vec<u8>> {
            let v = jwk
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&format!("has no `{name}` (a private JWK is needed)")))?;
            rp_jose::b64::decode(v).map_err(|_| bad(&format!("`{name}` is not base64url")))
        };
        let rng = SystemRandom::new();
        let (pair, mut public) = match jwk.get("kty").and_then(Value::as_str) {
            Some("RSA") => {
                let (n, e) = (field("n")?, field("e")?);
                let components = ring::rsa::KeyPairComponents {
                    public_key: ring::rsa::PublicKeyComponents { n: &n, e: &e },
                    d: field("d")?,
                    p: field("p")?,
                    q: field("q")?,
                    dP: field("dp")?,
                    dQ: field("dq")?,
                    qInv: field("qi")?,
                };
                let pair = RsaKeyPair::from_components(&components)
                    .map_err(|e| bad(&format!("is not a usable RSA key ({e})")))?;
                (
                    Pair::Rsa(pair),
                    json!({"kty": "RSA", "n": b64(&n), "e": b64(&e), "use": "sig", "alg": "RS256"}),
                )
            }
            Some("EC") if jwk.get("crv").and_then(Value::as_str) == Some("P-256") => {
                let (x, y, d) = (field("x")?, field("y")?, field("d")?);
                let mut point = vec![4u8];
                point.extend(&x);
                point.extend(&y);
                let pair = EcdsaKeyPair::from_private_key_and_public_key(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &d,
                    &point,
                    &rng,
                )
                .map_err(|e| bad(&format!("is not a usable P-256 key ({e})")))?;
                (
                    Pair::P256(pair),
                    json!({"kty": "EC", "crv": "P-256", "x": b64(&x), "y": b64(&y), "use": "sig", "alg": "ES256"}),
                )
            }
            _ => return Err(bad("must be an RSA or P-256 (EC) private JWK")),
        };
        // The key's own kid when it has one (the provider matches on it), else its thumbprint.
        let kid = jwk
            .get("kid")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| rp_jose::jwk_thumbprint(&public))
            .unwrap_or_default();
        public["kid"] = json!(kid);
        Ok(ClientKey {
            pair,
            kid,
            jwk: public,
            rng,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jwk_signs_like_the_same_pem() {
        let pem = include_str!("../../../fixtures/client-keys/rp-fapi.pem");
        let from_pem = ClientKey::from_pem(pem).unwrap();
        // The same key as a private JWK: d from the PKCS#8 (its last 32-byte OCTET STRING
        // before the public point), x and y from the public JWK.
        let der = STANDARD
            .decode(
                pem.lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect::<String>(),
            )
            .unwrap();
        let d_at = der.windows(2).position(|w| w == [0x04, 0x20]).unwrap() + 2;
        let d = b64(&der[d_at..d_at + 32]);
        let mut jwk = from_pem.public_jwk().clone();
        jwk["d"] = json!(d);
        jwk.as_object_mut().unwrap().remove("kid");
        let from_jwk = ClientKey::from_jwk(&jwk.to_string()).unwrap();
        assert_eq!(from_jwk.kid(), from_pem.kid(), "the same thumbprint");
        assert_eq!(from_jwk.alg(), "ES256");
        let set = json!({"keys": [jwk]}).to_string();
        assert!(ClientKey::from_jwk(&set).is_ok());
        let public_only = from_pem.public_jwk().to_string();
        assert!(
            ClientKey::from_jwk(&public_only).is_err(),
            "a public JWK cannot sign"
        );
    }
}
