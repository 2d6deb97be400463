//! Conformance mode: every issuer path `/<test-id>` (or `/<alias>/<test-id>`) is a complete,
//! independent OP instance that misbehaves exactly as the OpenID Foundation's RP test of that
//! id requires (see `shared/reference/rp-conformance.md`, section 11 for the knobs).
//!
//! Instances are made on first use, with their own keys, clients, sessions and a record of the
//! requests they received (`GET {issuer}/_conformance/requests`), from which a runner checks
//! the suite's rule for rejections: no userinfo request after a bad ID token.
//!
//! Conformance instances log the fixture user in without a form (the OIDF test OP
//! auto-approves too) and accept loopback `http` request URIs.

use crate::fixtures::{Client, Fixtures};
use crate::keys::{KeyRing, SigningKey};
use crate::op::Op;
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// How the ID token's claims are altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClaimMutation {
    /// Left alone.
    #[default]
    None,
    /// `iss` + "1".
    InvalidIss,
    /// `sub` removed.
    MissingSub,
    /// `aud` = client_id + "1".
    InvalidAud,
    /// `aud` removed.
    MissingAud,
    /// `iat` removed.
    MissingIat,
    /// `nonce` + "1".
    InvalidNonce,
    /// `nbf` an hour ahead (RFC 7519 §4.1.5).
    FutureNbf,
}

/// The JWKS the instance publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JwksMode {
    /// One key per algorithm, with kids.
    #[default]
    Normal,
    /// One key per type, no kids (and no kid in the JWS header).
    NoKidSingle,
    /// Three keys per type, no kids.
    NoKidMultiple,
}

/// When the signing keys change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rotation {
    /// Never.
    #[default]
    None,
    /// New keys just before each ID token is signed.
    BeforeSigning,
    /// New keys on the second authorization request.
    SecondAuthorization,
}

/// Where userinfo accepts the access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bearer {
    /// Header or form body.
    #[default]
    Any,
    /// The `Authorization` header only.
    HeaderOnly,
    /// A form body only.
    BodyOnly,
}

/// How the ID token of a refresh response is altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefreshMutation {
    /// Left alone.
    #[default]
    None,
    /// Another `iss`.
    InvalidIss,
    /// Another `sub`.
    InvalidSub,
}

/// How logout misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogoutMutation {
    /// It does not.
    #[default]
    None,
    /// The post-logout `state` + "_INVALID".
    OtherState,
    /// The post-logout `state` dropped.
    NoState,
    /// Logout token signed `alg: none`.
    AlgNone,
    /// Logout token without `events`.
    NoEvent,
    /// Logout token with a `nonce`.
    Nonce,
    /// Logout token signed with another algorithm than the client's.
    WrongAlg,
    /// Logout token `aud` + "INVALID".
    WrongAud,
    /// Logout token with another event.
    WrongEvent,
    /// Logout token `iss` + "INVALID".
    WrongIss,
}

/// Everything an instance does differently from a well-behaved OP.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// The test id.
    pub test_id: &'static str,
    /// ID token claim mutation (token endpoint).
    pub claims: ClaimMutation,
    /// Corrupt the ID token signature (every byte XOR 0x5A, as the Java suite does).
    pub corrupt_signature: bool,
    /// The conformance client's registered `id_token_signed_response_alg`.
    pub client_alg: Option<&'static str>,
    /// The JWKS.
    pub jwks: JwksMode,
    /// Discovery advertises RS256 only.
    pub only_rs256: bool,
    /// Key rotation.
    pub rotation: Rotation,
    /// A random `jwks_uri` path.
    pub random_jwks_uri: bool,
    /// Discovery names another issuer.
    pub issuer_mismatch: bool,
    /// The issuer carries a random suffix, found through WebFinger.
    pub webfinger: bool,
    /// Userinfo answers with another `sub`.
    pub userinfo_sub_mismatch: bool,
    /// The conformance client's `userinfo_signed_response_alg`.
    pub userinfo_alg: Option<&'static str>,
    /// Where userinfo takes the token.
    pub bearer: Bearer,
    /// The scope must name profile, email, phone or address.
    pub require_scope_claims: bool,
    /// The conformance client's `token_endpoint_auth_method`.
    pub token_auth: Option<&'static str>,
    /// A `request_uri` with a request object signed with this alg is required.
    pub request_uri: Option<&'static str>,
    /// Refresh ID token mutation.
    pub refresh: RefreshMutation,
    /// Logout misbehaviour.
    pub logout: LogoutMutation,
}

macro_rules! b {
    ($id:expr) => { Behaviour { test_id: $id, ..Default::default() } };
    ($id:expr, $($field:ident: $value:expr),+ $(,)?) => {
        Behaviour { test_id: $id, $($field: $value,)+ ..Default::default() }
    };
}

/// Every test id an instance can be made for.
pub fn catalogue() -> Vec<Behaviour> {
    use ClaimMutation as C;
    use LogoutMutation as L;
    vec![
        b!("oidcc-client-test"),
        b!("oidcc-client-test-invalid-iss", claims: C::InvalidIss),
        b!("oidcc-client-test-missing-sub", claims: C::MissingSub),
        b!("oidcc-client-test-invalid-aud", claims: C::InvalidAud),
        b!("oidcc-client-test-missing-aud", claims: C::MissingAud),
        b!("oidcc-client-test-missing-iat", claims: C::MissingIat),
        b!("oidcc-client-test-kid-absent-single-jwks", jwks: JwksMode::NoKidSingle),
        b!("oidcc-client-test-kid-absent-multiple-jwks", jwks: JwksMode::NoKidMultiple),
        b!("oidcc-client-test-idtoken-sig-rs256", only_rs256: true, client_alg: Some("RS256")),
        b!("oidcc-client-test-idtoken-sig-none", client_alg: Some("none")),
        b!("oidcc-client-test-invalid-sig-rs256", corrupt_signature: true, client_alg: Some("RS256")),
        b!("oidcc-client-test-invalid-sig-hs256", corrupt_signature: true, client_alg: Some("HS256")),
        b!("oidcc-client-test-invalid-sig-es256", corrupt_signature: true, client_alg: Some("ES256")),
        b!("rp-id_token-sig-hs256", client_alg: Some("HS256")),
        b!("rp-id_token-sig-es256", client_alg: Some("ES256")),
        b!("oidcc-client-test-userinfo-invalid-sub", userinfo_sub_mismatch: true),
        b!("oidcc-client-test-nonce-invalid", claims: C::InvalidNonce),
        b!("rp-id_token-nbf-future", claims: C::FutureNbf),
        b!("oidcc-client-test-scope-userinfo-claims", require_scope_claims: true),
        b!("oidcc-client-test-client-secret-basic", token_auth: Some("client_secret_basic")),
        b!("rp-token_endpoint-client_secret_post", token_auth: Some("client_secret_post")),
        b!("rp-token_endpoint-client_secret_jwt", token_auth: Some("client_secret_jwt")),
        b!("rp-token_endpoint-private_key_jwt", token_auth: Some("private_key_jwt")),
        b!("oidcc-client-test-userinfo-bearer-header", bearer: Bearer::HeaderOnly),
        b!("oidcc-client-test-userinfo-bearer-body", bearer: Bearer::BodyOnly),
        b!("rp-claims_request-id_token"),
        b!("rp-claims_request-userinfo"),
        b!("oidcc-client-test-discovery-openid-config"),
        b!("oidcc-client-test-discovery-jwks-uri-keys", random_jwks_uri: true),
        b!("oidcc-client-test-discovery-issuer-mismatch", issuer_mismatch: true),
        b!("oidcc-client-test-signing-key-rotation-just-before-signing", rotation: Rotation::BeforeSigning),
        b!("oidcc-client-test-signing-key-rotation", rotation: Rotation::SecondAuthorization),
        b!("oidcc-client-test-discovery-webfinger-acct", webfinger: true),
        b!("oidcc-client-test-discovery-webfinger-url", webfinger: true),
        b!("oidcc-client-test-dynamic-registration"),
        b!("oidcc-client-test-request-uri-signed-rs256", request_uri: Some("RS256")),
        b!("oidcc-client-test-request-uri-signed-none", request_uri: Some("none")),
        b!("oidcc-client-test-userinfo-signed", userinfo_alg: Some("RS256")),
        b!("oidcc-client-test-refresh-token"),
        b!("oidcc-client-test-refresh-token-invalid-issuer", refresh: RefreshMutation::InvalidIss),
        b!("oidcc-client-test-refresh-token-invalid-sub", refresh: RefreshMutation::InvalidSub),
        b!("oidcc-client-test-rp-init-logout"),
        b!("oidcc-client-test-rp-init-logout-other-state", logout: L::OtherState),
        b!("oidcc-client-test-rp-init-logout-no-state", logout: L::NoState),
        b!("oidcc-client-test-rp-frontchannel-rpinitlogout"),
        b!("oidcc-client-test-rp-backchannel-rpinitlogout"),
        b!("oidcc-client-test-rp-backchannel-rpinitlogout-alg-none", logout: L::AlgNone),
        b!("oidcc-client-test-rp-backchannel-rpinitlogout-no-event", logout: L::NoEvent),
        b!("oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce", logout: L::Nonce),
        b!("oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg", logout: L::WrongAlg),
        b!("oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud", logout: L::WrongAud),
        b!("oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event", logout: L::WrongEvent),
        b!("oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss", logout: L::WrongIss),
    ]
}

/// The behaviour of a test id.
pub fn behaviour(test_id: &str) -> Option<Behaviour> {
    catalogue().into_iter().find(|b| b.test_id == test_id)
}

/// The static client every conformance instance has.
pub const CLIENT_ID: &str = "rp-conformance";
/// Its secret.
pub const CLIENT_SECRET: &str = "rp-conformance-secret-0123456789abcdef0123456789abcdef";

fn conformance_client(b: &Behaviour) -> Client {
    let mut c: Client = serde_json::from_value(json!({
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "client_name": format!("conformance client for {}", b.test_id),
        "redirect_uris": ["http://127.0.0.1/callback"],
        "post_logout_redirect_uris": ["http://127.0.0.1/logout"],
        "grant_types": ["authorization_code", "refresh_token"],
        "application_type": "native",
    }))
    .unwrap_or_else(|e| panic!("the conformance client literal is valid: {e}"));
    c.token_endpoint_auth_method = b.token_auth.unwrap_or("client_secret_basic").into();
    c.id_token_signed_response_alg = b.client_alg.unwrap_or("RS256").into();
    c.userinfo_signed_response_alg = b.userinfo_alg.map(str::to_string);
    c
}

/// Keys for a JWKS mode (pool keys rotate with `generation`).
pub fn keys_for(mode: JwksMode, fixtures: &Fixtures, generation: usize) -> Result<KeyRing, String> {
    let pool = &fixtures.keys.rsa_pool;
    let rsa = |i: usize| -> Result<SigningKey, String> {
        match pool.get(i % pool.len().max(1)) {
            Some(pem) if generation + i > 0 => SigningKey::rsa(pem),
            _ => SigningKey::rsa(&fixtures.keys.rsa),
        }
    };
    Ok(match mode {
        JwksMode::Normal => KeyRing::new(
            vec![
                rsa(generation)?,
                if generation == 0 {
                    SigningKey::p256(&fixtures.keys.p256)?
                } else {
                    SigningKey::generate_p256()?
                },
                if generation == 0 {
                    SigningKey::ed25519(&fixtures.keys.ed25519)?
                } else {
                    SigningKey::generate_ed25519()?
                },
            ],
            true,
        ),
        JwksMode::NoKidSingle => KeyRing::new(
            vec![
                SigningKey::rsa(&fixtures.keys.rsa)?,
                SigningKey::generate_p256()?,
                SigningKey::generate_ed25519()?,
            ],
            false,
        ),
        JwksMode::NoKidMultiple => {
            let mut keys = Vec::new();
            for i in 0..3 {
                keys.push(SigningKey::rsa(pool.get(i).unwrap_or(&fixtures.keys.rsa))?);
            }
            for _ in 0..3 {
                keys.push(SigningKey::generate_p256()?);
                keys.push(SigningKey::generate_ed25519()?);
            }
            KeyRing::new(keys, false)
        }
    })
}

/// Apply the behaviour's ID token claim mutations (token endpoint, or refresh when `refresh`).
pub fn mutate_id_token(b: &Behaviour, claims: &mut serde_json::Map<String, Value>, refresh: bool) {
    let append = |claims: &mut serde_json::Map<String, Value>, name: &str, suffix: &str| {
        if let Some(Value::String(v)) = claims.get(name) {
            let v = format!("{v}{suffix}");
            claims.insert(name.into(), Value::String(v));
        }
    };
    if refresh {
        match b.refresh {
            RefreshMutation::None => {}
            RefreshMutation::InvalidIss => append(claims, "iss", "1"),
            RefreshMutation::InvalidSub => append(claims, "sub", "invalid"),
        }
        return;
    }
    match b.claims {
        ClaimMutation::None => {}
        ClaimMutation::InvalidIss => append(claims, "iss", "1"),
        ClaimMutation::MissingSub => {
            claims.remove("sub");
        }
        ClaimMutation::InvalidAud => append(claims, "aud", "1"),
        ClaimMutation::MissingAud => {
            claims.remove("aud");
        }
        ClaimMutation::MissingIat => {
            claims.remove("iat");
        }
        ClaimMutation::FutureNbf => {
            let now = claims.get("iat").and_then(Value::as_i64).unwrap_or(0);
            claims.insert("nbf".into(), Value::from(now + 3600));
        }
        ClaimMutation::InvalidNonce => {
            let nonce = claims
                .get("nonce")
                .and_then(Value::as_str)
                .unwrap_or("null")
                .to_string();
            claims.insert("nonce".into(), Value::String(format!("{nonce}1")));
        }
    }
}

/// Corrupt a JWS signature: every byte XOR 0x5A (the Java suite's `InvalidateIdTokenSignature`).
pub fn corrupt_signature(jwt: &str) -> String {
    let Some((input, sig)) = jwt.rsplit_once('.') else {
        return jwt.to_string();
    };
    let mut bytes = rp_jose::b64::decode(sig).unwrap_or_default();
    bytes.iter_mut().for_each(|b| *b ^= 0x5A);
    format!("{input}.{}", rp_jose::b64::encode(&bytes))
}

/// A request an instance received.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recorded {
    /// The method.
    pub method: String,
    /// The path below the issuer (`/token`, `/userinfo`, ...).
    pub path: String,
}

/// The conformance state of an instance.
#[derive(Debug)]
pub struct Instance {
    /// The behaviour.
    pub behaviour: Behaviour,
    /// Requests received, in order.
    pub requests: Mutex<Vec<Recorded>>,
    /// Authorization requests seen (for rotation on the second one).
    pub authorizations: AtomicUsize,
    /// Key generations made (rotation).
    pub generation: AtomicUsize,
    /// The JWKS path (random per instance when asked).
    pub jwks_path: String,
    /// The fixtures, to make new keys from.
    pub fixtures: Fixtures,
}

impl Instance {
    /// Rotate the keys: new ones, with new kids.
    pub fn rotate(&self, op: &Op) {
        let next = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(ring) = keys_for(self.behaviour.jwks, &self.fixtures, next) {
            op.set_keys(ring);
        }
    }
}

/// Make the instance for `key` (a test id, or `alias/test id`) at `base` (the root issuer).
pub fn make(base: &str, key: &str, fixtures: &Fixtures) -> Option<Arc<Op>> {
    let test_id = key.rsplit('/').next()?;
    let behaviour = behaviour(test_id)?;
    let suffix = if behaviour.webfinger {
        format!("/{}", random_segment())
    } else {
        String::new()
    };
    let issuer = format!("{base}/{key}{suffix}");
    let mut op = Op::new(&issuer, fixtures).ok()?;
    op.set_keys(keys_for(behaviour.jwks, fixtures, 0).ok()?);
    op.store.put_client(conformance_client(&behaviour));
    let jwks_path = if behaviour.random_jwks_uri {
        format!("/jwks-{}", random_segment())
    } else {
        "/jwks".to_string()
    };
    op.conformance = Some(Instance {
        behaviour,
        requests: Mutex::new(Vec::new()),
        authorizations: AtomicUsize::new(0),
        generation: AtomicUsize::new(0),
        jwks_path,
        fixtures: fixtures.clone(),
    });
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
    if behaviour(first).is_some() {
        return Some(first.to_string());
    }
    let second = parts.next()?;
    (behaviour(second).is_some() && !first.is_empty()).then(|| format!("{first}/{second}"))
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
    if let Some(instance) = &op.conformance {
        instance
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Recorded {
                method: parts.method.to_string(),
                path: rest.to_string(),
            });
    }
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
            .find(|(_, t)| behaviour(t).is_some())
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

/// GET {issuer}/_conformance/requests: what the instance received, for the runner's checks.
pub async fn requests(State(op): State<Arc<Op>>) -> Response {
    let list: Vec<Value> = op
        .conformance
        .as_ref()
        .map(|i| {
            i.requests
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|r| json!({"method": r.method, "path": r.path}))
                .collect()
        })
        .unwrap_or_default();
    let deliveries: Vec<Value> = op
        .deliveries()
        .iter()
        .map(|d| json!({"client_id": d.client_id, "uri": d.uri, "status": d.status, "error": d.error}))
        .collect();
    axum::Json(json!({"requests": list, "backchannel_deliveries": deliveries})).into_response()
}
