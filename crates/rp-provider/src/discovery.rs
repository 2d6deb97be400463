//! Discovery (OpenID Connect Discovery 1.0 §4) and the JWKS.

use crate::op::{Op, SCOPE_CLAIMS};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

/// The discovery document.
pub fn metadata(op: &Op) -> Value {
    let mut algs = op.keys().algorithms();
    algs.push("HS256");
    let mut claims: Vec<&str> = vec![
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "sid",
        "amr",
    ];
    for (_, names) in SCOPE_CLAIMS {
        claims.extend_from_slice(names);
    }
    let auth_methods = [
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
        "none",
        "self_signed_tls_client_auth",
        "tls_client_auth",
    ];
    let mut doc = json!({
        "issuer": op.issuer,
        "authorization_endpoint": op.url("/authorize"),
        "token_endpoint": op.url("/token"),
        "userinfo_endpoint": op.url("/userinfo"),
        "jwks_uri": op.url(op.jwks_path()),
        "registration_endpoint": op.url("/register"),
        "introspection_endpoint": op.url("/introspect"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint": op.url("/revoke"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "profile", "email", "address", "phone", "offline_access", "api:read", "api:write"],
        "response_types_supported": ["code", "id_token", "id_token token", "code id_token", "code token", "code id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post", "jwt", "query.jwt", "form_post.jwt"],
        "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "client_credentials", crate::exchange::GRANT_TYPE, crate::device::GRANT_TYPE],
        "device_authorization_endpoint": op.url("/device_authorization"),
        "pushed_authorization_request_endpoint": op.url("/par"),
        "require_pushed_authorization_requests": false,
        "dpop_signing_alg_values_supported": crate::dpop::ALGS,
        "authorization_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "tls_client_certificate_bound_access_tokens": true,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "userinfo_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": auth_methods,
        "claims_supported": claims,
        "claims_parameter_supported": true,
        "request_parameter_supported": true,
        "request_uri_parameter_supported": true,
        "require_request_uri_registration": false,
        "request_object_signing_alg_values_supported": ["RS256", "PS256", "ES256", "EdDSA", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "HS256"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent"],
        "introspection_signing_alg_values_supported": ["RS256"],
        "end_session_endpoint": op.url("/end_session"),
        "check_session_iframe": op.url("/check_session"),
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    });
    if let Some(map) = doc.as_object_mut() {
        op.misbehaviour.discovery(map);
        if op.flaw(crate::flaws::Flaw::IssuerSlash) {
            map.insert("issuer".into(), json!(format!("{}/", op.issuer)));
        }
        if op.flaw(crate::flaws::Flaw::HttpEndpoint) {
            map.insert(
                "registration_endpoint".into(),
                json!("http://op.example/register"),
            );
        }
    }
    doc
}

fn json_response(body: &Value, cache: &'static str, content_type: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    resp
}

/// GET /.well-known/openid-configuration
pub async fn openid_configuration(State(op): State<Arc<Op>>) -> Response {
    let content_type = if op.flaw(crate::flaws::Flaw::DiscoveryTextHtml) {
        "text/html"
    } else {
        "application/json"
    };
    json_response(&metadata(&op), "public, max-age=300", content_type)
}

/// GET /jwks
pub async fn jwks(State(op): State<Arc<Op>>) -> Response {
    json_response(
        &op.keys().jwks(),
        "public, max-age=300",
        "application/jwk-set+json",
    )
}
