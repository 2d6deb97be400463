//! Compact JWS parsing (RFC 7515 §7.1): split, decode, read the header. Nothing here is
//! trusted yet: the caller verifies the signature over [`Compact::signing_input`].

use crate::b64;
use serde::Deserialize;
use std::fmt;

/// The JOSE header members rp reads.
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
    /// `enc`: present only on a JWE.
    #[serde(default)]
    pub enc: Option<String>,
    /// `jwk`: a public key carried in the header (DPoP proofs, RFC 9449 §4.2).
    #[serde(default)]
    pub jwk: Option<serde_json::Value>,
}

/// A parsed, not yet verified, compact JWS.
pub struct Compact<'a> {
    /// The decoded header.
    pub header: Header,
    /// The header's JSON text, for readers of members [`Header`] does not name.
    pub header_json: Vec<u8>,
    /// `BASE64URL(header) '.' BASE64URL(payload)`: what the signature covers.
    pub signing_input: &'a [u8],
    /// The decoded payload.
    pub payload: Vec<u8>,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

impl fmt::Debug for Compact<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compact")
            .field("header", &self.header)
            .field("payload_bytes", &self.payload.len())
            .finish()
    }
}

/// Why a token could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError(pub String);

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FormatError {}

impl<'a> Compact<'a> {
    /// Split and decode a compact JWS. Refuses a JWE (five parts or an `enc` member), bad
    /// base64url, a header that is not a JSON object with a string `alg`, and any `crit`
    /// extension (none is understood here).
    pub fn parse(token: &'a str) -> Result<Compact<'a>, FormatError> {
        let three = || FormatError("not a JWT: expected three dot-separated parts".into());
        let first = token.find('.').ok_or_else(three)?;
        let second = first + 1 + token[first + 1..].find('.').ok_or_else(three)?;
        if token[second + 1..].contains('.') {
            return Err(FormatError(
                "a JWE (encrypted token) or malformed JWT: more than three parts; encrypted tokens are not supported".into(),
            ));
        }
        let header_bytes = decode(&token[..first], "header")?;
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
        Ok(Compact {
            header,
            header_json: header_bytes,
            signing_input: &token.as_bytes()[..second],
            payload: decode(&token[first + 1..second], "payload")?,
            signature: decode(&token[second + 1..], "signature")?,
        })
    }
}

fn decode(part: &str, what: &str) -> Result<Vec<u8>, FormatError> {
    b64::decode(part).map_err(|_| FormatError(format!("the {what} is not base64url")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in [
            "",
            "a",
            "a.b",
            "a.b.c.d.e",
            "!!.e30.",
            "e30.!!.",
            "e30.e30.!!",
            "e30.e30.",
        ] {
            assert!(Compact::parse(bad).is_err(), "{bad}");
        }
        let crit = format!("{}.e30.", b64::encode(br#"{"alg":"RS256","crit":["x"]}"#));
        assert!(Compact::parse(&crit).unwrap_err().0.contains("critical"));
        let jwe = format!(
            "{}.e30.",
            b64::encode(br#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#)
        );
        assert!(Compact::parse(&jwe).unwrap_err().0.contains("JWE"));
        let none = format!("{}.e30.", b64::encode(br#"{"alg":"none"}"#));
        let parsed = Compact::parse(&none).unwrap();
        assert_eq!(parsed.header.alg, "none");
        assert!(parsed.signature.is_empty());
        assert_eq!(parsed.payload, b"{}");
    }
}
