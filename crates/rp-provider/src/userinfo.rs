//! The userinfo endpoint (OIDC Core §5.3): the Bearer token in the header or in a form body
//! (RFC 6750 §2.1, §2.2), never in the query (RFC 9700 §4.3.2); JSON, or a signed JWT when
//! the client registered `userinfo_signed_response_alg`.

use crate::misbehaviour::TokenPlaces;
use crate::op::{Op, now, parse_params};
use crate::store::TokenKind;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

fn bearer_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut resp = (
        status,
        json!({"error": error, "error_description": description}).to_string(),
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "Bearer realm=\"rp-provider\", error=\"{error}\", error_description=\"{description}\""
    )) {
        h.insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// The token of an `Authorization: <scheme> <token>` header, for this scheme.
fn authorization(headers: &HeaderMap, scheme: &str) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (given, token) = value.split_once(' ')?;
    given
        .eq_ignore_ascii_case(scheme)
        .then(|| token.trim().to_string())
}

/// GET or POST /userinfo
pub async fn userinfo(
    State(op): State<Arc<Op>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if query
        .as_deref()
        .is_some_and(|q| q.contains("access_token="))
    {
        return bearer_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "access tokens are not accepted in the query string",
        );
    }
    if method == Method::POST && op.flaw(crate::flaws::Flaw::UserinfoNoPost) {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let from_header = authorization(&headers, "bearer");
    // RFC 9449 §7.1: `Authorization: DPoP <token>` with a proof of the token's key.
    if let Some(token) = authorization(&headers, "dpop") {
        return dpop_userinfo(&op, &headers, &method, token);
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let from_body = if method == Method::POST && is_form {
        parse_params(&body)
            .ok()
            .and_then(|f| f.get("access_token").cloned())
    } else {
        None
    };
    // Instances that take the token from one place only.
    let (from_header, from_body) = match op.misbehaviour.userinfo_token_places() {
        TokenPlaces::Both => (from_header, from_body),
        TokenPlaces::HeaderOnly => (from_header, None),
        TokenPlaces::BodyOnly => (None, from_body),
    };
    let token = match (from_header, from_body) {
        (Some(_), Some(_)) => {
            return bearer_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the token was sent twice",
            );
        }
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) if op.flaw(crate::flaws::Flaw::UserinfoNoChallenge) => {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        (None, None) => {
            let mut resp = StatusCode::UNAUTHORIZED.into_response();
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"rp-provider\""),
            );
            return resp;
        }
    };
    let Some(record) = op
        .store
        .token(&token, now())
        .filter(|r| r.kind == TokenKind::Access)
    else {
        return bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is invalid, expired or revoked",
        );
    };
    // RFC 8705 §3: a certificate-bound token only on a connection with that certificate.
    if let Some(x5t) = &record.x5t
        && crate::server::peer_certificate(&headers)
            .map(|c| crate::server::thumbprint(&c))
            .as_ref()
            != Some(x5t)
    {
        return bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "this access token is bound to a client certificate that this connection did not present",
        );
    }
    // A DPoP-bound token presented as a Bearer token is a stolen token (RFC 9449 §7.2).
    if record.jkt.is_some() {
        return bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "this access token is DPoP-bound: present it with the DPoP scheme and a proof",
        );
    }
    answer(&op, record)
}

/// A DPoP-bound token with its proof (RFC 9449 §7.1).
fn dpop_userinfo(op: &Op, headers: &HeaderMap, method: &Method, token: String) -> Response {
    if let Some(scheme) = op.misbehaviour.resource_nonce_challenge() {
        op.dpop.rotate(op);
        let r = crate::dpop::Refusal {
            error: "use_dpop_nonce",
            description: "a fresh DPoP nonce is required at this resource".into(),
        };
        return crate::dpop::challenge(op, scheme, &r);
    }
    let jkt = match crate::dpop::check(
        op,
        headers,
        method.as_str(),
        &op.url("/userinfo"),
        Some(&token),
    ) {
        Ok(Some(j)) => j,
        Ok(None) => {
            let r = crate::dpop::Refusal {
                error: "invalid_dpop_proof",
                description: "the DPoP scheme needs a DPoP proof".into(),
            };
            return crate::dpop::resource_error(op, &r);
        }
        Err(r) => return crate::dpop::resource_error(op, &r),
    };
    let Some(record) = op
        .store
        .token(&token, now())
        .filter(|r| r.kind == TokenKind::Access)
    else {
        return bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is invalid, expired or revoked",
        );
    };
    if record.jkt.as_deref() != Some(jkt.as_str()) {
        let r = crate::dpop::Refusal {
            error: "invalid_token",
            description: "the proof's key is not the one the token is bound to".into(),
        };
        return crate::dpop::resource_error(op, &r);
    }
    answer(op, record)
}

/// The claims of a valid token's user.
fn answer(op: &Op, record: crate::store::TokenRecord) -> Response {
    // RFC 9700 §4.10: a token restricted to other audiences is not accepted here.
    if !record.audience.is_empty()
        && !record
            .audience
            .iter()
            .any(|a| *a == op.issuer || *a == op.url("/userinfo"))
    {
        return bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is meant for another audience",
        );
    }
    if !record.scope.iter().any(|s| s == "openid") {
        return bearer_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the token was not issued for openid",
        );
    }
    let mut claims = op.claims_for(&record.sub, &record.scope, record.claims.as_ref());
    op.misbehaviour.userinfo_claims(&mut claims);
    if op.flaw(crate::flaws::Flaw::UserinfoOtherSub) {
        claims.insert("sub".into(), serde_json::json!("someone-else"));
    }
    let client = op.client(&record.client_id);
    let signed_alg = client
        .as_ref()
        .and_then(|c| c.userinfo_signed_response_alg.clone());
    match signed_alg {
        Some(alg) => {
            let mut claims = claims;
            claims.insert("iss".into(), json!(op.issuer));
            claims.insert("aud".into(), json!(record.client_id));
            let secret = client.as_ref().and_then(|c| c.client_secret.clone());
            match op
                .keys()
                .sign(&alg, &Value::Object(claims), secret.as_deref())
            {
                Ok(jwt) => {
                    let mut resp = (StatusCode::OK, jwt).into_response();
                    resp.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/jwt"),
                    );
                    resp.headers_mut()
                        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    resp
                }
                Err(e) => bearer_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    &e.to_string(),
                ),
            }
        }
        None => {
            let mut resp = crate::token::no_store_json(StatusCode::OK, &Value::Object(claims));
            if op.flaw(crate::flaws::Flaw::UserinfoTextPlain) {
                resp.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            }
            resp
        }
    }
}
