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
    let jws = crate::client_jwt::parse_text(jwt).map_err(|e| format!("the request object: {e}"))?;
    let alg = jws.header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != expected_alg {
        return Err(format!(
            "the request object is signed with `{alg}`, {expected_alg} was registered"
        ));
    }
    match alg {
        "none" if jws.signature.is_empty() => {}
        "none" => return Err("an unsigned request object carries a signature".into()),
        _ => {
            crate::client_jwt::verify(client, &jws).map_err(|e| e.to_string())?;
        }
    }
    let claims = jws.claims;
    if claims.get("client_id").and_then(Value::as_str) != Some(client.client_id.as_str()) {
        return Err("the request object's client_id is not the client's".into());
    }
    Ok(claims
        .into_iter()
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
    if jwt.len() > MAX_BYTES {
        return Err("The request object is too large.".into());
    }
    let client_id = params
        .get("client_id")
        .ok_or("client_id is missing (RFC 9101 §5: it must accompany a request object).")?;
    let client = op
        .client(client_id)
        .ok_or_else(|| format!("No client is registered as `{client_id}`."))?;
    let jws =
        crate::client_jwt::parse_text(jwt).map_err(|e| format!("The request object: {e}."))?;
    let alg = jws.header.get("alg").and_then(Value::as_str).unwrap_or("");
    let registered = client
        .other
        .get("request_object_signing_alg")
        .and_then(Value::as_str);
    match alg {
        "none" if registered == Some("none") && jws.signature.is_empty() => {}
        "none" => {
            return Err(
                "The request object is unsigned and the client did not register none.".into(),
            );
        }
        _ => {
            if registered.is_some_and(|r| r != alg) {
                return Err(format!(
                    "The request object is signed with `{alg}`; the client registered {}.",
                    registered.unwrap_or("")
                ));
            }
            crate::client_jwt::verify(&client, &jws).map_err(|e| format!("{e}."))?;
        }
    }
    let claims = jws.claims;
    if claims.get("client_id").and_then(Value::as_str) != Some(client_id.as_str()) {
        return Err("The request object's client_id is not the query's.".into());
    }
    if let Some(aud) = claims.get("aud") {
        let names_us = match aud {
            Value::String(a) => *a == op.issuer,
            Value::Array(list) => list.iter().any(|a| a.as_str() == Some(&op.issuer)),
            _ => false,
        };
        if !names_us {
            return Err("The request object's aud is not this provider.".into());
        }
    }
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64)
        && exp <= crate::op::now()
    {
        return Err("The request object has expired.".into());
    }
    let mut out = crate::params::Params::default();
    for (k, v) in claims {
        if matches!(k.as_str(), "iss" | "aud" | "exp" | "iat" | "nbf" | "jti") {
            continue;
        }
        let s = match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        out.set(&k, s);
    }
    Ok(out)
}
