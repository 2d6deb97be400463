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
