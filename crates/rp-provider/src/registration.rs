//! Dynamic client registration (RFC 7591, OpenID Connect Dynamic Client Registration 1.0).

use crate::fixtures::Client;
use crate::op::{Op, now};
use crate::token::no_store_json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use url::Url;

fn reject(error: &str, description: &str) -> Response {
    no_store_json(
        StatusCode::BAD_REQUEST,
        &json!({"error": error, "error_description": description}),
    )
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Check a redirect URI (RFC 7591 §2, RFC 8252 §7, OIDC Registration §2).
fn check_redirect_uri(uri: &str, native: bool) -> Result<(), String> {
    let url = Url::parse(uri).map_err(|e| format!("`{uri}` is not an absolute URL: {e}"))?;
    if url.fragment().is_some() {
        return Err(format!("`{uri}` has a fragment (RFC 6749 §3.1.2)"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err(format!(
            "`{uri}`: http redirect URIs are only allowed on loopback"
        )),
        // Private-use schemes for native apps (RFC 8252 §7.1) must contain a dot.
        s if native && s.contains('.') => Ok(()),
        s => Err(format!("`{uri}`: scheme `{s}` is not allowed")),
    }
}

/// POST /register
pub async fn register(State(op): State<Arc<Op>>, body: Bytes) -> Response {
    let mut meta: Map<String, Value> = match serde_json::from_slice(&body) {
        Ok(Value::Object(m)) => m,
        _ => return reject("invalid_client_metadata", "the body must be a JSON object"),
    };
    let native = meta.get("application_type").and_then(Value::as_str) == Some("native");
    let redirect_uris: Vec<String> = match meta.get("redirect_uris") {
        Some(Value::Array(items)) if !items.is_empty() => {
            match items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
            {
                Some(v) => v,
                None => return reject("invalid_redirect_uri", "redirect_uris must be strings"),
            }
        }
        _ => return reject("invalid_redirect_uri", "redirect_uris is required"),
    };
    for uri in &redirect_uris {
        let fragment_flaw =
            op.flaw(crate::flaws::Flaw::FragmentRedirectRegistration) && uri.contains('#');
        if let Err(e) = check_redirect_uri(uri, native)
            && !fragment_flaw
        {
            return reject("invalid_redirect_uri", &e);
        }
    }
    // Logout URIs (RP-Initiated Logout §3.1, Front-Channel §2, Back-Channel §2.2).
    let mut logout_uris: Vec<String> = Vec::new();
    match meta.get("post_logout_redirect_uris") {
        None => {}
        Some(Value::Array(items)) => {
            for v in items {
                match v.as_str() {
                    Some(u) => logout_uris.push(u.to_string()),
                    None => {
                        return reject(
                            "invalid_client_metadata",
                            "post_logout_redirect_uris must be strings",
                        );
                    }
                }
            }
        }
        Some(_) => {
            return reject(
                "invalid_client_metadata",
                "post_logout_redirect_uris must be an array",
            );
        }
    }
    for name in ["frontchannel_logout_uri", "backchannel_logout_uri"] {
        match meta.get(name) {
            None => {}
            Some(Value::String(u)) => logout_uris.push(u.clone()),
            Some(_) => {
                return reject(
                    "invalid_client_metadata",
                    &format!("{name} must be a string"),
                );
            }
        }
    }
    for uri in &logout_uris {
        if let Err(e) = check_redirect_uri(uri, false) {
            return reject("invalid_client_metadata", &e);
        }
    }
    // Registration §2: initiate_login_uri is https (http on loopback for a local RP).
    match meta.get("initiate_login_uri") {
        None => {}
        Some(Value::String(u)) => {
            if let Err(e) = check_redirect_uri(u, true) {
                return reject(
                    "invalid_client_metadata",
                    &format!("initiate_login_uri: {e}"),
                );
            }
            if !u.starts_with("https://")
                && !u.starts_with("http://127.0.0.1")
                && !u.starts_with("http://[::1]")
                && !u.starts_with("http://localhost")
            {
                return reject(
                    "invalid_client_metadata",
                    "initiate_login_uri must be https (or http on loopback)",
                );
            }
        }
        Some(_) => {
            return reject(
                "invalid_client_metadata",
                "initiate_login_uri must be a string",
            );
        }
    }
    // URLs this provider would itself send requests to: only where its policy allows.
    for name in ["backchannel_logout_uri", "jwks_uri"] {
        if let Some(Value::String(u)) = meta.get(name) {
            let allowed = Url::parse(u)
                .map_err(|e| e.to_string())
                .and_then(|url| op.outbound_policy.check(&url).map_err(|e| e.to_string()));
            if let Err(why) = allowed {
                return reject(
                    "invalid_client_metadata",
                    &format!("{name} `{u}` is refused: {why}"),
                );
            }
        } else if meta.get(name).is_some() {
            return reject(
                "invalid_client_metadata",
                &format!("{name} must be a string"),
            );
        }
    }
    if let Some(uris) = meta.get("request_uris") {
        let list = uris.as_array().cloned().unwrap_or_default();
        for u in &list {
            let allowed = u
                .as_str()
                .ok_or_else(|| "not a string".to_string())
                .and_then(|u| Url::parse(u).map_err(|e| e.to_string()))
                .and_then(|url| op.outbound_policy.check(&url).map_err(|e| e.to_string()));
            if let Err(why) = allowed {
                return reject(
                    "invalid_client_metadata",
                    &format!("request_uris entry {u} is refused: {why}"),
                );
            }
        }
    }
    let auth_method = meta
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        .unwrap_or("client_secret_basic")
        .to_string();
    if auth_method == "private_key_jwt" && !meta.get("jwks").is_some_and(|j| j["keys"].is_array()) {
        return reject(
            "invalid_client_metadata",
            "private_key_jwt needs the client's public keys in jwks",
        );
    }
    // RFC 8705 §2.1.2: a PKI client names the one subject its certificate has; §2.2: a
    // self-signed one registers the certificate itself (x5c in jwks).
    if auth_method == "tls_client_auth"
        && let Err(why) = crate::mtls::registered_subject(&meta)
    {
        return reject("invalid_client_metadata", &why);
    }
    if auth_method == "self_signed_tls_client_auth"
        && !meta["jwks"]["keys"]
            .as_array()
            .is_some_and(|keys| keys.iter().any(|k| k["x5c"].is_array()))
    {
        return reject(
            "invalid_client_metadata",
            "self_signed_tls_client_auth needs the client's certificate (x5c) in jwks",
        );
    }
    if ![
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
        "tls_client_auth",
        "self_signed_tls_client_auth",
        "none",
    ]
    .contains(&auth_method.as_str())
    {
        return reject(
            "invalid_client_metadata",
            &format!("token_endpoint_auth_method {auth_method} is not supported"),
        );
    }
    let strings = |name: &str, default: &[&str]| -> Result<Vec<String>, Response> {
        match meta.get(name) {
            None => Ok(default.iter().map(|s| s.to_string()).collect()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    reject(
                        "invalid_client_metadata",
                        &format!("{name} must be strings"),
                    )
                }),
            Some(_) => Err(reject(
                "invalid_client_metadata",
                &format!("{name} must be an array"),
            )),
        }
    };
    let grant_types = match strings("grant_types", &["authorization_code"]) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let response_types = match strings("response_types", &["code"]) {
        Ok(v) => v,
        Err(r) => return r,
    };
    for g in &grant_types {
        if ![
            "authorization_code",
            "implicit",
            "refresh_token",
            crate::device::GRANT_TYPE,
        ]
        .contains(&g.as_str())
        {
            return reject(
                "invalid_client_metadata",
                &format!("grant type {g} is not supported"),
            );
        }
    }
    // RFC 7591 §2.1: code needs the authorization_code grant, id_token and token the
    // implicit one.
    for r in &response_types {
        let Some(kinds) = crate::response_type::ResponseKinds::parse(r) else {
            return reject(
                "invalid_client_metadata",
                &format!("response type `{r}` is not supported"),
            );
        };
        let has = |g: &str| grant_types.iter().any(|x| x == g);
        if kinds.code && !has("authorization_code") {
            return reject(
                "invalid_client_metadata",
                &format!("response type `{r}` needs the authorization_code grant (RFC 7591 §2.1)"),
            );
        }
        if (kinds.id_token || kinds.token) && !has("implicit") {
            return reject(
                "invalid_client_metadata",
                &format!("response type `{r}` needs the implicit grant (RFC 7591 §2.1)"),
            );
        }
    }
    let mut supported = op.keys().algorithms();
    if auth_method != "none" {
        supported.push("HS256");
    }
    supported.extend(op.misbehaviour.extra_registration_algs());
    for name in [
        "id_token_signed_response_alg",
        "userinfo_signed_response_alg",
    ] {
        if let Some(alg) = meta.get(name) {
            match alg.as_str() {
                Some(a) if supported.contains(&a) => {}
                _ => {
                    return reject(
                        "invalid_client_metadata",
                        &format!("{name} must be one of {}", supported.join(", ")),
                    );
                }
            }
        }
    }
    let client_id = op.random(16);
    // A certificate client has no use for a secret (RFC 8705 §2).
    let secret =
        (auth_method != "none" && !auth_method.ends_with("tls_client_auth")).then(|| op.random(32));
    meta.insert("client_id".into(), json!(client_id));
    meta.insert("redirect_uris".into(), json!(redirect_uris));
    meta.insert("token_endpoint_auth_method".into(), json!(auth_method));
    meta.insert("grant_types".into(), json!(grant_types));
    meta.insert("response_types".into(), json!(response_types));
    meta.insert(
        "application_type".into(),
        json!(if native { "native" } else { "web" }),
    );
    meta.entry("id_token_signed_response_alg")
        .or_insert(json!("RS256"));
    if let Some(s) = &secret {
        meta.insert("client_secret".into(), json!(s));
    }
    let client: Client = match serde_json::from_value(Value::Object(meta.clone())) {
        Ok(c) => c,
        Err(e) => return reject("invalid_client_metadata", &e.to_string()),
    };
    op.store.put_client(client);
    meta.insert("client_id_issued_at".into(), json!(now()));
    if secret.is_some() {
        meta.insert("client_secret_expires_at".into(), json!(0));
    }
    no_store_json(StatusCode::CREATED, &Value::Object(meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        assert!(check_redirect_uri("https://rp.example/cb", false).is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:8080/cb", true).is_ok());
        assert!(check_redirect_uri("http://rp.example/cb", false).is_err());
        assert!(check_redirect_uri("https://rp.example/cb#x", false).is_err());
        assert!(check_redirect_uri("com.example.app:/cb", true).is_ok());
        assert!(check_redirect_uri("javascript:alert(1)", true).is_err());
        assert!(check_redirect_uri("/relative", false).is_err());
    }
}
