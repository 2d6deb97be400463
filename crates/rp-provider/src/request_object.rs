//! Request objects by reference (`request_uri`, OpenID Connect Core §6.2, RFC 9101): fetched
//! from the client, verified, and their parameters take precedence over the query's. Only
//! conformance instances that test them accept them; loopback `http` URIs are allowed there.

use crate::fixtures::Client;
use crate::op::Op;
use serde_json::Value;
use std::collections::HashMap;

/// Largest request object fetched.
const MAX_BYTES: usize = 64 * 1024;

/// Fetch and verify the request object at `uri`; return its parameters.
pub async fn fetch(
    op: &Op,
    client: &Client,
    uri: &str,
    expected_alg: &str,
) -> crate::error::Result<HashMap<String, String>> {
    fetch_inner(op, client, uri, expected_alg)
        .await
        .map_err(crate::error::Error::ClientJwt)
}

// The reason as text; the public function types it.
async fn fetch_inner(
    op: &Op,
    client: &Client,
    uri: &str,
    expected_alg: &str,
) -> Result<HashMap<String, String>, String> {
    let url = url::Url::parse(uri).map_err(|e| format!("request_uri is not a URL: {e}"))?;
    let loopback = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    let test_instance = op.misbehaviour.required_request_object_alg().is_some();
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback && test_instance) {
        return Err("request_uri must be https".into());
    }
    op.outbound_policy
        .check(&url)
        .map_err(|why| format!("request_uri refused: {why}"))?;
    let response = op
        .outbound()
        .get(url)
        .send()
        .await
        .map_err(|e| format!("cannot fetch the request_uri: {e}"))?;
    if !response.status().is_success() {
        return Err(format!(
            "the request_uri answered HTTP {}",
            response.status().as_u16()
        ));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("cannot read the request_uri: {e}"))?;
    if body.len() > MAX_BYTES {
        return Err("the request object is too large".into());
    }
    let jwt = std::str::from_utf8(&body)
        .map_err(|_| "the request object is not text".to_string())?
        .trim();
    Ok(verify(op, client, jwt, Signing::Exactly(expected_alg))?
        .into_iter()
        .collect())
}

/// How a request object must be signed.
#[derive(Debug, Clone, Copy)]
pub enum Signing<'a> {
    /// With this algorithm (`none`: unsigned), as a test instance requires.
    Exactly(&'a str),
    /// As the client registered (`request_object_signing_alg`); unsigned only when it
    /// registered `none`.
    AsRegistered,
    /// Signed, whatever the registration (pushed requests, RFC 9126 §3).
    Signed,
}

/// Verify a request object of `client` (RFC 9101 §6.3): its algorithm, its signature with
/// the client's keys, `client_id` the client's, `aud` (when present) this provider, `exp`
/// (when present) not past. Its members, less the JWT's own claims, are the request.
pub fn verify(
    op: &Op,
    client: &Client,
    jwt: &str,
    signing: Signing<'_>,
) -> Result<Vec<(String, String)>, String> {
    if jwt.len() > MAX_BYTES {
        return Err("the request object is too large".into());
    }
    let jws = crate::client_jwt::parse_text(jwt).map_err(|e| format!("the request object: {e}"))?;
    let alg = jws.header.get("alg").and_then(Value::as_str).unwrap_or("");
    let registered = client
        .other
        .get("request_object_signing_alg")
        .and_then(Value::as_str);
    let unsigned_ok = match signing {
        Signing::Exactly(expected) if alg != expected => {
            return Err(format!(
                "the request object is signed with `{alg}`, {expected} was registered"
            ));
        }
        Signing::Exactly(expected) => expected == "none",
        Signing::AsRegistered => {
            if let Some(r) = registered.filter(|r| *r != alg) {
                return Err(format!(
                    "the request object is signed with `{alg}`; the client registered {r}"
                ));
            }
            registered == Some("none")
        }
        Signing::Signed => false,
    };
    match alg {
        "none" if !unsigned_ok => {
            return Err(
                "the request object is unsigned, and an unsigned one is not accepted here".into(),
            );
        }
        "none" if !jws.signature.is_empty() => {
            return Err("an unsigned request object carries a signature".into());
        }
        "none" => {}
        _ => {
            crate::client_jwt::verify(client, &jws).map_err(|e| e.to_string())?;
        }
    }
    let claims = jws.claims;
    if claims.get("client_id").and_then(Value::as_str) != Some(client.client_id.as_str()) {
        return Err("the request object's client_id is not the client's".into());
    }
    if let Some(aud) = claims.get("aud") {
        let names_us = match aud {
            Value::String(a) => *a == op.issuer,
            Value::Array(list) => list.iter().any(|a| a.as_str() == Some(&op.issuer)),
            _ => false,
        };
        if !names_us {
            return Err("the request object's aud is not this provider".into());
        }
    }
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64)
        && exp <= crate::op::now()
    {
        return Err("the request object has expired".into());
    }
    Ok(claims
        .into_iter()
        .filter(|(k, _)| !matches!(k.as_str(), "iss" | "aud" | "exp" | "iat" | "nbf" | "jti"))
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, s)
        })
        .collect())
}

/// A request object by value (`request`, RFC 9101 §5.1): verified with the keys of the client
/// the query names, and then its members are the request (RFC 9101 §5: the query's other
/// parameters are ignored). `None` without one; `Err` with the reason to show the user (the
/// redirect URI cannot be trusted yet).
pub fn by_value(
    op: &Op,
    params: &crate::params::Params,
) -> Option<Result<crate::params::Params, String>> {
    let jwt = params.get("request")?;
    Some(by_value_inner(op, params, jwt))
}

fn by_value_inner(
    op: &Op,
    params: &crate::params::Params,
    jwt: &str,
) -> Result<crate::params::Params, String> {
    let client_id = params
        .get("client_id")
        .ok_or("client_id is missing (RFC 9101 §5: it must accompany a request object).")?;
    let client = op
        .client(client_id)
        .ok_or_else(|| format!("No client is registered as `{client_id}`."))?;
    let mut out = crate::params::Params::default();
    for (k, v) in verify(op, &client, jwt, Signing::AsRegistered)? {
        out.set(&k, v);
    }
    Ok(out)
}
