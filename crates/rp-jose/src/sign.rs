//! Producing compact JWS (RFC 7515 §7.1) with any [`Signer`].

use crate::{Alg, b64};
use serde_json::{Map, Value};
use std::fmt;

/// A signature could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignError(pub String);

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SignError {}

/// A key that signs JWS: the provider's keys, a client's private key, an HMAC secret, a DPoP
/// key. Each crate implements it with its own crypto.
pub trait Signer: Send + Sync + fmt::Debug {
    /// The algorithm it signs with.
    fn alg(&self) -> Alg;
    /// Its `kid`, to put in the header, if any.
    fn kid(&self) -> Option<&str> {
        None
    }
    /// The signature of `input` (the JWS signing input).
    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// Sign `claims` as a compact JWS with the header `{alg, kid (if any), typ (if given)}`.
pub fn encode(signer: &dyn Signer, typ: Option<&str>, claims: &Value) -> Result<String, SignError> {
    let mut header = Map::new();
    if let Some(typ) = typ {
        header.insert("typ".into(), typ.into());
    }
    encode_with_header(signer, header, claims.to_string().as_bytes())
}

/// Sign `payload` with `header` plus the signer's `alg` (and `kid`, unless the header names
/// one or says `"kid": null` to leave it out).
pub fn encode_with_header(
    signer: &dyn Signer,
    mut header: Map<String, Value>,
    payload: &[u8],
) -> Result<String, SignError> {
    header.insert("alg".into(), signer.alg().name().into());
    match header.get("kid") {
        Some(Value::Null) => {
            header.remove("kid");
        }
        Some(_) => {}
        None => {
            if let Some(kid) = signer.kid() {
                header.insert("kid".into(), kid.into());
            }
        }
    }
    let input = format!(
        "{}.{}",
        b64::encode(Value::Object(header).to_string().as_bytes()),
        b64::encode(payload)
    );
    let signature = signer.sign(input.as_bytes())?;
    Ok(format!("{input}.{}", b64::encode(&signature)))
}

/// An unsecured JWS (`alg: none`, RFC 7518 §3.6), for the few places a registration allows it.
pub fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64::encode(br#"{"alg":"none"}"#),
        b64::encode(claims.to_string().as_bytes())
    )
}

/// An HMAC key (`HS256`, `HS384`, `HS512`): a client secret's UTF-8 octets (OIDC Core §10.1).
pub struct HmacKey {
    alg: Alg,
    key: ring::hmac::Key,
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HmacKey({} [redacted])", self.alg)
    }
}

impl HmacKey {
    /// A key for `alg` (an HS algorithm) from the secret's bytes.
    pub fn new(alg: Alg, secret: &[u8]) -> Result<HmacKey, SignError> {
        let algorithm = match alg {
            Alg::HS256 => ring::hmac::HMAC_SHA256,
            Alg::HS384 => ring::hmac::HMAC_SHA384,
            Alg::HS512 => ring::hmac::HMAC_SHA512,
            other => return Err(SignError(format!("{other} is not an HMAC algorithm"))),
        };
        Ok(HmacKey {
            alg,
            key: ring::hmac::Key::new(algorithm, secret),
        })
    }
}

impl Signer for HmacKey {
    fn alg(&self) -> Alg {
        self.alg
    }

    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, SignError> {
        Ok(ring::hmac::sign(&self.key, input).as_ref().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Compact;

    #[test]
    fn an_hmac_token_parses_back_and_verifies() {
        let key = HmacKey::new(Alg::HS256, b"secret").unwrap();
        let jwt = encode(&key, Some("JWT"), &serde_json::json!({"a": 1})).unwrap();
        let c = Compact::parse(&jwt).unwrap();
        assert_eq!(c.header.alg, "HS256");
        assert_eq!(c.header.typ.as_deref(), Some("JWT"));
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"secret");
        assert!(ring::hmac::verify(&k, c.signing_input, &c.signature).is_ok());
        assert!(HmacKey::new(Alg::RS256, b"x").is_err());
        assert!(unsigned(&serde_json::json!({})).ends_with('.'));
    }
}
