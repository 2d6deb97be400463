//! DPoP (RFC 9449) at the bundled provider: proofs checked at the token and userinfo
//! endpoints, server nonces (§8) with the `use_dpop_nonce` challenge, a `jti` replay cache
//! (§11.1), and tokens bound to the proof's key thumbprint (`cnf.jkt`, §6).

use crate::bounded::Bounded;
use crate::op::{Op, now};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use std::sync::Mutex;

/// Proof algorithms accepted (asymmetric only, §4.2).
pub const ALGS: &[&str] = &["ES256", "EdDSA", "PS256", "RS256"];

/// How far a proof's `iat` may be from now, in seconds.
const IAT_WINDOW: i64 = 60;

/// How long a server nonce is current.
const NONCE_LIFETIME: i64 = 300;

/// Nonces and seen proof ids.
#[derive(Debug)]
pub struct DpopState {
    nonces: Mutex<(String, String, i64)>,
    seen: Mutex<Bounded<String, i64>>,
}

impl Default for DpopState {
    fn default() -> Self {
        DpopState {
            nonces: Mutex::new((String::new(), String::new(), 0)),
            seen: Mutex::new(Bounded::new(8192)),
        }
    }
}

/// Why a proof is refused: the error code and description (§7.1, §8).
#[derive(Debug)]
pub struct Refusal {
    /// `invalid_dpop_proof` or `use_dpop_nonce`.
    pub error: &'static str,
    /// What is wrong.
    pub description: String,
}

fn refuse(error: &'static str, description: impl Into<String>) -> Refusal {
    Refusal {
        error,
        description: description.into(),
    }
}

impl DpopState {
    /// The current nonce (rotated every five minutes; the previous one still accepted).
    pub fn nonce(&self, op: &Op) -> String {
        let mut n = self.nonces.lock().unwrap_or_else(|p| p.into_inner());
        let t = now();
        if n.0.is_empty() || t - n.2 >= NONCE_LIFETIME {
            let fresh = op.random(16);
            n.1 = std::mem::replace(&mut n.0, fresh);
            n.2 = t;
        }
        n.0.clone()
    }

    /// A new current nonce at once (the one before stays accepted).
    pub fn rotate(&self, op: &Op) {
        let mut n = self.nonces.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = op.random(16);
        n.1 = std::mem::replace(&mut n.0, fresh);
        n.2 = now();
    }

    fn nonce_ok(&self, op: &Op, given: &str) -> bool {
        let current = self.nonce(op);
        let n = self.nonces.lock().unwrap_or_else(|p| p.into_inner());
        given == current || (!n.1.is_empty() && given == n.1)
    }
}

/// The thumbprint of the proof's key, when a valid proof came with the request; `None`
/// without a `DPoP` header. `access_token`: the token it must be bound to (`ath`).
pub fn check(
    op: &Op,
    headers: &HeaderMap,
    method: &str,
    url: &str,
    access_token: Option<&str>,
) -> Result<Option<String>, Refusal> {
    let mut proofs = headers.get_all("dpop").iter();
    let Some(proof) = proofs.next() else {
        return Ok(None);
    };
    if proofs.next().is_some() {
        return Err(refuse("invalid_dpop_proof", "more than one DPoP header"));
    }
    let proof = proof
        .to_str()
        .map_err(|_| refuse("invalid_dpop_proof", "the DPoP header is not text"))?;
    let jws = crate::client_jwt::parse_text(proof)
        .map_err(|e| refuse("invalid_dpop_proof", format!("the proof: {e}")))?;
    if jws.header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(refuse("invalid_dpop_proof", "typ is not dpop+jwt"));
    }
    let alg = jws.header.get("alg").and_then(Value::as_str).unwrap_or("");
    if !ALGS.contains(&alg) {
        return Err(refuse(
            "invalid_dpop_proof",
            format!("alg `{alg}` is not accepted for DPoP proofs"),
        ));
    }
    let jwk = jws
        .header
        .get("jwk")
        .filter(|j| j.is_object())
        .ok_or_else(|| refuse("invalid_dpop_proof", "no jwk in the header"))?;
    if ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .any(|m| jwk.get(m).is_some())
    {
        return Err(refuse("invalid_dpop_proof", "the jwk holds a private key"));
    }
    let valid = crate::client_jwt::jwk_verifies(alg, jwk, jws.input.as_bytes(), &jws.signature)
        .map_err(|e| refuse("invalid_dpop_proof", e))?;
    if !valid {
        return Err(refuse(
            "invalid_dpop_proof",
            "the signature does not verify with the header's jwk",
        ));
    }
    let claims = &jws.claims;
    let s = |k: &str| claims.get(k).and_then(Value::as_str);
    if s("htm") != Some(method) {
        return Err(refuse(
            "invalid_dpop_proof",
            "htm is not the request's method",
        ));
    }
    let strip = |u: &str| u.split(['?', '#']).next().unwrap_or("").to_string();
    if s("htu").map(strip) != Some(strip(url)) {
        return Err(refuse("invalid_dpop_proof", "htu is not the request's URL"));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| refuse("invalid_dpop_proof", "iat is missing"))?;
    if (iat - now()).abs() > IAT_WINDOW {
        return Err(refuse("invalid_dpop_proof", "iat is too far from now"));
    }
    let jti = s("jti")
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| refuse("invalid_dpop_proof", "jti is missing"))?;
    if let Some(at) = access_token {
        let expected = rp_jose::b64::encode(
            ring::digest::digest(&ring::digest::SHA256, at.as_bytes()).as_ref(),
        );
        if s("ath") != Some(expected.as_str()) {
            return Err(refuse(
                "invalid_dpop_proof",
                "ath is not the hash of the access token",
            ));
        }
    }
    match s("nonce") {
        Some(n) if op.dpop.nonce_ok(op, n) => {}
        None if !op.misbehaviour.dpop_nonce_required() => {}
        _ => return Err(refuse("use_dpop_nonce", "a fresh DPoP nonce is required")),
    }
    {
        let mut seen = op.dpop.seen.lock().unwrap_or_else(|p| p.into_inner());
        let key = format!("{}:{jti}", rp_jose::jwk_thumbprint(jwk).unwrap_or_default());
        if seen.get(&key).is_some_and(|until| *until > now()) {
            return Err(refuse(
                "invalid_dpop_proof",
                "the proof's jti was used before",
            ));
        }
        seen.insert(key, now() + 2 * IAT_WINDOW);
    }
    rp_jose::jwk_thumbprint(jwk)
        .map(Some)
        .ok_or_else(|| refuse("invalid_dpop_proof", "the jwk has no thumbprint (RFC 7638)"))
}

/// The answer to a refused proof at the token endpoint (§5.9: 400 with the error, and the
/// nonce to use).
pub fn token_error(op: &Op, r: &Refusal) -> Response {
    let mut resp = crate::token::oauth_error(StatusCode::BAD_REQUEST, r.error, &r.description);
    with_nonce(op, &mut resp);
    resp
}

/// The answer to a refused proof at a resource (§7.1: 401 and `WWW-Authenticate: DPoP`).
pub fn resource_error(op: &Op, r: &Refusal) -> Response {
    challenge(op, "DPoP", r)
}

/// [`resource_error`] with the scheme spelt `scheme` (RFC 9110 §11.1: auth schemes are
/// case-insensitive).
pub fn challenge(op: &Op, scheme: &str, r: &Refusal) -> Response {
    let mut resp = crate::token::oauth_error(StatusCode::UNAUTHORIZED, r.error, &r.description);
    let challenge = format!(
        "{scheme} error=\"{}\", error_description=\"{}\", algs=\"{}\"",
        r.error,
        r.description.replace('"', "'"),
        ALGS.join(" ")
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    with_nonce(op, &mut resp);
    resp
}

/// Add the current nonce (`DPoP-Nonce`, §8.1).
pub fn with_nonce(op: &Op, resp: &mut Response) {
    if let Ok(v) = HeaderValue::from_str(&op.dpop.nonce(op)) {
        resp.headers_mut().insert("dpop-nonce", v);
    }
}
