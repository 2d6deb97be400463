//! JWTs a client signs: client assertions (`client_secret_jwt`, `private_key_jwt`: RFC 7523,
//! OIDC Core §9) and request objects. HMAC with the client secret, RSA and ECDSA with the keys
//! the client registered (`jwks`).

use crate::fixtures::Client;
use crate::op::{Op, now};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

/// Decode base64url.
pub fn b64(s: &str) -> Result<Vec<u8>, String> {
    rp_jose::b64::decode(s.trim_end_matches('=')).map_err(|_| "not base64url".to_string())
}

/// A parsed compact JWS.
#[derive(Debug)]
pub struct Parsed {
    /// The header.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
    /// What the signature covers.
    pub input: String,
    /// The signature.
    pub signature: Vec<u8>,
}

/// Split and decode a compact JWS.
pub fn parse(jwt: &str) -> crate::error::Result<Parsed> {
    parse_text(jwt).map_err(crate::error::Error::ClientJwt)
}

// The reason as text; the public function types it.
pub(crate) fn parse_text(jwt: &str) -> std::result::Result<Parsed, String> {
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a compact JWS".into());
    };
    Ok(Parsed {
        header: serde_json::from_slice(&b64(h)?).map_err(|_| "bad JOSE header".to_string())?,
        claims: serde_json::from_slice(&b64(p)?)
            .map_err(|_| "claims are not a JSON object".to_string())?,
        input: format!("{h}.{p}"),
        signature: b64(s)?,
    })
}

/// Verify a client-signed JWS: HS* with the client secret, RS256/ES256 with its `jwks`.
pub fn verify(client: &Client, jws: &Parsed) -> crate::error::Result<&'static str> {
    verify_inner(client, jws).map_err(crate::error::Error::ClientJwt)
}

// The reason as text; the public function types it.
fn verify_inner(client: &Client, jws: &Parsed) -> std::result::Result<&'static str, String> {
    let alg = jws.header.get("alg").and_then(Value::as_str).unwrap_or("");
    let kid = jws.header.get("kid").and_then(Value::as_str);
    match alg {
        "HS256" | "HS384" | "HS512" => {
            let secret = client
                .client_secret
                .as_deref()
                .ok_or("the client has no secret")?;
            let algorithm = match alg {
                "HS256" => ring::hmac::HMAC_SHA256,
                "HS384" => ring::hmac::HMAC_SHA384,
                _ => ring::hmac::HMAC_SHA512,
            };
            let tag = ring::hmac::sign(
                &ring::hmac::Key::new(algorithm, secret.as_bytes()),
                jws.input.as_bytes(),
            );
            if bool::from(tag.as_ref().ct_eq(&jws.signature)) {
                Ok("client_secret_jwt")
            } else {
                Err("the MAC does not verify with the client secret".into())
            }
        }
        "RS256" | "PS256" | "ES256" | "EdDSA" => {
            let keys = client
                .other
                .get("jwks")
                .and_then(|j| j.get("keys"))
                .and_then(Value::as_array)
                .ok_or("the client registered no jwks")?;
            for key in keys {
                // A key that names another kid is not it; a key without one may be.
                if kid.is_some_and(|k| key["kid"].as_str().is_some_and(|own| own != k)) {
                    continue;
                }
                let ok = jwk_verifies(alg, key, jws.input.as_bytes(), &jws.signature)?;
                if ok {
                    return Ok("private_key_jwt");
                }
            }
            Err("the signature does not verify with the client's registered keys".into())
        }
        other => Err(format!("alg `{other}` is not accepted for client JWTs")),
    }
}

/// Whether `signature` over `input` verifies with the public JWK `key` for `alg` (RS256,
/// PS256, ES256, EdDSA); `false` for a key of another type, `Err` for a malformed one.
pub fn jwk_verifies(
    alg: &str,
    key: &Value,
    input: &[u8],
    signature: &[u8],
) -> std::result::Result<bool, String> {
    use ring::signature as sig;
    let rsa = |params: &'static sig::RsaParameters| -> std::result::Result<bool, String> {
        let (Some(n), Some(e)) = (key["n"].as_str(), key["e"].as_str()) else {
            return Ok(false);
        };
        let (n, e) = (b64(n)?, b64(e)?);
        Ok(sig::RsaPublicKeyComponents { n: &n, e: &e }
            .verify(params, input, signature)
            .is_ok())
    };
    match (alg, key["kty"].as_str()) {
        ("RS256", Some("RSA")) => rsa(&sig::RSA_PKCS1_2048_8192_SHA256),
        ("PS256", Some("RSA")) => rsa(&sig::RSA_PSS_2048_8192_SHA256),
        ("ES256", Some("EC")) if key["crv"].as_str().is_none_or(|c| c == "P-256") => {
            let (Some(x), Some(y)) = (key["x"].as_str(), key["y"].as_str()) else {
                return Ok(false);
            };
            let mut point = vec![4u8];
            point.extend(b64(x)?);
            point.extend(b64(y)?);
            Ok(
                sig::UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, point)
                    .verify(input, signature)
                    .is_ok(),
            )
        }
        ("EdDSA", Some("OKP")) if key["crv"].as_str() == Some("Ed25519") => {
            let Some(x) = key["x"].as_str() else {
                return Ok(false);
            };
            Ok(sig::UnparsedPublicKey::new(&sig::ED25519, b64(x)?)
                .verify(input, signature)
                .is_ok())
        }
        _ => Ok(false),
    }
}

/// Check a client assertion (RFC 7523 §3): iss = sub = the client, aud names the token
/// endpoint or the issuer, exp in the future, a jti not used before; returns the client id and
/// the method it proves.
pub fn check_assertion(op: &Op, assertion: &str) -> crate::error::Result<(String, Parsed)> {
    check_assertion_inner(op, assertion).map_err(crate::error::Error::ClientJwt)
}

// The reason as text; the public function types it.
fn check_assertion_inner(
    op: &Op,
    assertion: &str,
) -> std::result::Result<(String, Parsed), String> {
    let jws = parse_text(assertion)?;
    let claim = |n: &str| {
        jws.claims
            .get(n)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let iss = claim("iss").ok_or("the assertion has no iss")?;
    if claim("sub").as_deref() != Some(iss.as_str()) {
        return Err("the assertion's sub must equal its iss (the client id)".into());
    }
    // RFC 7523 §3: the token endpoint or the issuer; RFC 9126 §2: the PAR endpoint too.
    let ours = [
        op.url("/token"),
        op.issuer.clone(),
        op.url("/par"),
        op.url("/introspect"),
        op.url("/revoke"),
        op.url("/device_authorization"),
    ];
    let aud_ok = match jws.claims.get("aud") {
        Some(Value::String(a)) => ours.contains(a),
        Some(Value::Array(a)) => a
            .iter()
            .any(|x| x.as_str().is_some_and(|x| ours.iter().any(|o| o == x))),
        _ => false,
    };
    if !aud_ok {
        return Err(
            "the assertion's aud must name the issuer or the endpoint it is sent to".into(),
        );
    }
    let t = now();
    match jws.claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > t - 30 => {}
        _ => return Err("the assertion is expired or has no exp".into()),
    }
    let jti = claim("jti").ok_or("the assertion has no jti")?;
    if !op.first_assertion_use(&format!("{iss} {jti}"), t + 600) {
        return Err("the assertion's jti was used before".into());
    }
    Ok((iss, jws))
}
