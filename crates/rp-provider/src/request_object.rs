//! Request objects (RFC 9101, OpenID Connect Core §6): by value (`request`), and by reference
//! (`request_uri`), fetched from the client within the outbound policy, verified, and then
//! their parameters are the request. `https` URIs, and `http` ones on loopback (a relying
//! party on this machine serving its object from its loopback listener).

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
    signing: Signing<'_>,
) -> crate::error::Result<HashMap<String, String>> {
    fetch_inner(op, client, uri, signing)
        .await
        .map_err(crate::error::Error::ClientJwt)
}

// The reason as text; the public function types it.
async fn fetch_inner(
    op: &Op,
    client: &Client,
    uri: &str,
    signing: Signing<'_>,
) -> Result<HashMap<String, String>, String> {
    // OIDC Core §6.2: at most 512 characters.
    if uri.len() > 512 {
        return Err("request_uri is longer than 512 characters (OIDC Core §6.2)".into());
    }
    let url = url::Url::parse(uri).map_err(|e| format!("request_uri is not a URL: {e}"))?;
    let loopback = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err("request_uri must be https (or http on loopback)".into());
    }
    // OIDC Core §6.2: a client that registered request_uris uses one of them (the fragment
    // aside, which only tells cached versions apart).
    if let Some(Value::Array(registered)) = client.other.get("request_uris") {
        let mut base = url.clone();
        base.set_fragment(None);
        let listed = registered.iter().filter_map(Value::as_str).any(|r| {
            url::Url::parse(r).is_ok_and(|mut r| {
                r.set_fragment(None);
                r == base
            })
        });
        if !listed {
            return Err("request_uri is not one of the client's registered request_uris".into());
        }
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
    Ok(verify(op, client, jwt, signing)?.into_iter().collect())
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
    // RFC 9101 §4: no request object inside a request object.
    if claims.contains_key("request") || claims.contains_key("request_uri") {
        return Err("a request object cannot carry request or request_uri (RFC 9101 §4)".into());
    }
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

/// A request object by reference (`request_uri`, RFC 9101 §5.2) outside a pushed request:
/// fetched, verified as the client registered, and then its members are the request. `None`
/// without one; `Err` with the reason to show the user.
pub async fn by_reference(
    op: &Op,
    params: &crate::params::Params,
) -> Option<Result<crate::params::Params, String>> {
    let uri = params.get("request_uri")?;
    let fetched = async {
        let client_id = params
            .get("client_id")
            .ok_or("client_id is missing (RFC 9101 §5: it must accompany a request_uri).")?;
        let client = op
            .client(client_id)
            .ok_or_else(|| format!("No client is registered as `{client_id}`."))?;
        let values = fetch_inner(op, &client, uri, Signing::AsRegistered).await?;
        let mut out = crate::params::Params::default();
        for (k, v) in values {
            out.set(&k, v);
        }
        Ok(out)
    };
    Some(fetched.await)
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
