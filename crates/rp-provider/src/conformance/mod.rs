//! Conformance mode: every issuer path `/<test-id>` (or `/<alias>/<test-id>`) is a complete,
//! independent OP instance that misbehaves exactly as the OpenID Foundation's RP test of that
//! id requires ([`mod@catalogue`], explained in `docs/conformance.md`).
//!
//! Instances are made on first use, with their own keys, clients, sessions and a record of the
//! requests they received (`GET {issuer}/_conformance/requests`), from which a runner checks
//! the suite's rule for rejections: no userinfo request after a bad ID token. How an instance
//! misbehaves is its [`crate::misbehaviour::Misbehaviour`] ([`instance::Instance`]); the
//! handlers know no test id.
//!
//! Conformance instances log the fixture user in without a form (the OIDF test OP
//! auto-approves too) and accept loopback `http` request URIs.

pub mod catalogue;
pub mod instance;

pub use catalogue::{Behaviour, Plan, TestCase, catalogue, find};

use crate::fixtures::Fixtures;
use crate::op::Op;
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The static client every conformance instance has.
pub const CLIENT_ID: &str = "rp-conformance";
/// Its secret.
pub const CLIENT_SECRET: &str = "rp-conformance-secret-0123456789abcdef0123456789abcdef";

/// Make the instance for `key` (a test id, or `alias/test id`) at `base` (the root issuer).
pub fn make(base: &str, key: &str, fixtures: &Fixtures) -> Option<Arc<Op>> {
    let test = find(key.rsplit('/').next()?)?;
    let suffix = if test.rp.webfinger.is_some() {
        format!("/{}", random_segment())
    } else {
        String::new()
    };
    let issuer = format!("{base}/{key}{suffix}");
    let mut op = Op::new(&issuer, fixtures).ok()?;
    op.set_keys(instance::keys_for(test.op.jwks, fixtures, 0).ok()?);
    op.store.put_client(instance::conformance_client(&test));
    let jwks_path = if test.op.random_jwks_uri {
        format!("/jwks-{}", random_segment())
    } else {
        "/jwks".to_string()
    };
    op.misbehaviour = Arc::new(instance::Instance::new(test, jwks_path, fixtures.clone()));
    Some(Arc::new(op))
}

fn random_segment() -> String {
    let mut b = [0u8; 8];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    b.iter().map(|x| format!("{:02x}", x)).collect::<String>()[..10].to_string()
}

/// The instances of one provider.
#[derive(Debug)]
pub struct Registry {
    base: String,
    fixtures: Fixtures,
    instances: Mutex<HashMap<String, (Arc<Op>, Router)>>,
}

impl Registry {
    /// A registry for the provider at `base`.
    pub fn new(base: &str, fixtures: Fixtures) -> Self {
        Registry {
            base: base.trim_end_matches('/').to_string(),
            fixtures,
            instances: Mutex::new(HashMap::new()),
        }
    }

    /// The instance for `key`, made on first use.
    pub fn get(&self, key: &str) -> Option<(Arc<Op>, Router)> {
        let mut map = self.instances.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = map.get(key) {
            return Some(found.clone());
        }
        let op = make(&self.base, key, &self.fixtures)?;
        let router = crate::instance_router(op.clone());
        map.insert(key.to_string(), (op.clone(), router.clone()));
        Some((op, router))
    }
}

/// The instance key in a path: `/<test-id>/...` or `/<alias>/<test-id>/...`.
fn instance_key(path: &str) -> Option<String> {
    let mut parts = path.trim_start_matches('/').split('/');
    let first = parts.next()?;
    if find(first).is_some() {
        return Some(first.to_string());
    }
    let second = parts.next()?;
    (find(second).is_some() && !first.is_empty()).then(|| format!("{first}/{second}"))
}

/// Route a request under an instance's issuer path to that instance.
pub async fn dispatch(State(registry): State<Arc<Registry>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let Some(key) = instance_key(&path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let Some((op, router)) = registry.get(&key) else {
        return (StatusCode::NOT_FOUND, "unknown test").into_response();
    };
    let issuer_path = url::Url::parse(&op.issuer)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default();
    let Some(rest) = path.strip_prefix(&issuer_path) else {
        return (StatusCode::NOT_FOUND, "not under this test's issuer").into_response();
    };
    let rest = if rest.is_empty() { "/" } else { rest };
    let pq = match request.uri().query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_string(),
    };
    let (mut parts, body) = request.into_parts();
    parts.uri = pq.parse::<Uri>().unwrap_or_default();
    op.misbehaviour.observe(parts.method.as_str(), rest);
    let request = Request::from_parts(parts, body);
    match tower::ServiceExt::oneshot(router, request).await {
        Ok(r) => r,
        Err(e) => match e {},
    }
}

/// GET /.well-known/webfinger at the root (RFC 7033, OpenID Connect Discovery §2): the issuer of
/// the instance named by an `acct:<alias>.<test-id>@host` or `http(s)://host/<alias>/<test-id>`
/// resource.
pub async fn webfinger(
    State(registry): State<Arc<Registry>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(resource) = q.get("resource") else {
        return (StatusCode::BAD_REQUEST, "resource is required").into_response();
    };
    let key = if let Some(acct) = resource.strip_prefix("acct:") {
        let user = acct.split('@').next().unwrap_or("");
        // <alias>.<test-id>: the test id is what follows the first dot that makes one.
        user.char_indices()
            .filter(|(_, c)| *c == '.')
            .map(|(i, _)| (&user[..i], &user[i + 1..]))
            .find(|(_, t)| find(t).is_some())
            .map(|(alias, t)| format!("{alias}/{t}"))
    } else {
        url::Url::parse(resource)
            .ok()
            .and_then(|u| instance_key(u.path()))
    };
    let Some(key) = key else {
        return (StatusCode::NOT_FOUND, "no such resource").into_response();
    };
    let test = key.rsplit('/').next().unwrap_or("");
    // The acct test accepts acct resources only, the URL test URL resources only.
    let acct = resource.starts_with("acct:");
    if (test.ends_with("webfinger-acct") && !acct) || (test.ends_with("webfinger-url") && acct) {
        return (StatusCode::NOT_FOUND, "wrong resource syntax for this test").into_response();
    }
    let Some((op, _)) = registry.get(&key) else {
        return (StatusCode::NOT_FOUND, "unknown test").into_response();
    };
    let body = json!({
        "subject": resource,
        "links": [{ "rel": "http://openid.net/specs/connect/1.0/issuer", "href": op.issuer }],
    });
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/jrd+json"),
    );
    resp
}
