//! One OpenID Provider instance: its issuer, keys, users, clients and store. Every handler
//! works on an [`Op`].

use crate::fixtures::{Client, Fixtures, User};
use crate::keys::KeyRing;
use crate::store::{MemoryStore, Store};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use subtle::ConstantTimeEq;
use url::Url;

/// Lifetimes, in seconds.
pub const CODE_TTL: i64 = 60;
/// Access token lifetime.
pub const ACCESS_TOKEN_TTL: i64 = 3600;
/// ID token lifetime.
pub const ID_TOKEN_TTL: i64 = 600;
/// Refresh token lifetime.
pub const REFRESH_TOKEN_TTL: i64 = 30 * 24 * 3600;
/// Browser session lifetime.
pub const SESSION_TTL: i64 = 8 * 3600;
/// Time allowed to fill the login form.
pub const INTERACTION_TTL: i64 = 600;

/// The scopes this provider knows, and the claims each releases (OIDC Core §5.4).
pub const SCOPE_CLAIMS: &[(&str, &[&str])] = &[
    (
        "profile",
        &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
    ),
    ("email", &["email", "email_verified"]),
    ("address", &["address"]),
    ("phone", &["phone_number", "phone_number_verified"]),
];

/// A provider instance.
#[derive(Debug)]
pub struct Op {
    /// The issuer identifier, without a trailing slash.
    pub issuer: String,
    keys: std::sync::RwLock<Arc<KeyRing>>,
    /// Users.
    pub users: Vec<User>,
    /// State.
    pub store: Arc<dyn Store>,
    /// Cookie path (the issuer's path, so instances on one host do not share cookies).
    pub cookie_path: String,
    /// Whether the issuer is https (cookies get `Secure`).
    pub secure: bool,
    rng: SystemRandom,
    outbound: std::sync::OnceLock<reqwest::Client>,
    deliveries: std::sync::Mutex<Vec<crate::logout::Delivery>>,
    /// How this instance deviates from a well-behaved OP (not at all, by default).
    pub misbehaviour: Arc<dyn crate::misbehaviour::Misbehaviour>,
    assertions: std::sync::Mutex<std::collections::HashMap<String, i64>>,
    /// Extra CA certificates (PEM) for the provider's own requests.
    pub outbound_ca_pem: Option<String>,
    /// Where the provider's own requests may go.
    pub outbound_policy: crate::outbound::OutboundPolicy,
    /// The CAs `tls_client_auth` certificates must come from (with TLS only).
    pub client_cas: Option<crate::mtls::ClientCas>,
    /// Failed client and user authentications, for the brakes on guessing.
    pub throttle: crate::throttle::Throttle,
    /// The device grant's polling interval in seconds (RFC 8628 §3.2).
    pub device_interval: i64,
    /// DPoP nonces and seen proofs (RFC 9449).
    pub dpop: crate::dpop::DpopState,
    /// The fixture clients: fixed, never forgotten (registered ones live in the store).
    fixture_clients: std::collections::HashMap<String, Arc<Client>>,
    /// Each user's latest login, for the `auth-time-moves` flaw (one entry per fixture user).
    last_login: std::sync::Mutex<std::collections::HashMap<String, i64>>,
}

impl Op {
    /// Note a login of `sub` at `t`.
    pub fn logged_in(&self, sub: &str, t: i64) {
        if self.users.iter().any(|u| u.sub == sub) {
            self.last_login
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(sub.to_string(), t);
        }
    }

    /// The latest login of `sub`, if any.
    pub fn last_login(&self, sub: &str) -> Option<i64> {
        self.last_login
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(sub)
            .copied()
    }

    /// Whether this provider has `flaw` (see [`crate::flaws`]).
    pub fn flaw(&self, flaw: crate::flaws::Flaw) -> bool {
        self.misbehaviour.flaw(flaw)
    }

    /// An instance for `issuer` with these fixtures.
    pub fn new(issuer: &str, fixtures: &Fixtures) -> crate::error::Result<Op> {
        let url = Url::parse(issuer).map_err(|e| crate::error::Error::Issuer {
            issuer: issuer.to_string(),
            reason: e.to_string(),
        })?;
        let store = Arc::new(MemoryStore::default());
        let fixture_clients = fixtures
            .clients
            .iter()
            .map(|c| (c.client_id.clone(), Arc::new(c.clone())))
            .collect();
        let path = url.path().trim_end_matches('/');
        Ok(Op {
            issuer: issuer.trim_end_matches('/').to_string(),
            keys: std::sync::RwLock::new(Arc::new(KeyRing::from_pems(&fixtures.keys)?)),
            users: fixtures.users.clone(),
            store,
            cookie_path: if path.is_empty() {
                "/".into()
            } else {
                path.to_string()
            },
            secure: url.scheme() == "https",
            rng: SystemRandom::new(),
            outbound: std::sync::OnceLock::new(),
            deliveries: std::sync::Mutex::new(Vec::new()),
            misbehaviour: Arc::new(crate::misbehaviour::WellBehaved),
            assertions: std::sync::Mutex::new(std::collections::HashMap::new()),
            last_login: Default::default(),
            fixture_clients,
            outbound_ca_pem: None,
            outbound_policy: crate::outbound::OutboundPolicy::loopback(),
            client_cas: None,
            throttle: crate::throttle::Throttle::default(),
            device_interval: 5,
            dpop: crate::dpop::DpopState::default(),
        })
    }

    /// The path of the JWKS below the issuer.
    pub fn jwks_path(&self) -> &str {
        self.misbehaviour.jwks_path()
    }

    /// The signing keys.
    pub fn keys(&self) -> Arc<KeyRing> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replace the signing keys (key rotation).
    pub fn set_keys(&self, ring: KeyRing) {
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(ring);
    }

    /// An absolute URL of this instance.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// A random URL-safe value of `bytes` bytes of entropy.
    pub fn random(&self, bytes: usize) -> String {
        let mut buf = vec![0u8; bytes];
        // SystemRandom fails only if the OS has no entropy source at all.
        if self.rng.fill(&mut buf).is_err() {
            panic!("the operating system's random number generator failed");
        }
        rp_jose::b64::encode(&buf)
    }

    /// The HTTP client for requests the provider makes (back-channel logout): redirects off,
    /// short timeouts, TLS verified.
    pub fn outbound(&self) -> reqwest::Client {
        self.outbound
            .get_or_init(|| {
                let mut builder = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .connect_timeout(std::time::Duration::from_secs(3))
                    .timeout(crate::logout::DELIVERY_TIMEOUT);
                if let Some(pem) = &self.outbound_ca_pem {
                    for cert in
                        reqwest::Certificate::from_pem_bundle(pem.as_bytes()).unwrap_or_default()
                    {
                        builder = builder.add_root_certificate(cert);
                    }
                }
                builder.build().unwrap_or_default()
            })
            .clone()
    }

    /// Remember a back-channel logout delivery (the last 1,000 are kept).
    pub fn record_delivery(&self, delivery: crate::logout::Delivery) {
        let mut d = self.deliveries.lock().unwrap_or_else(|p| p.into_inner());
        if d.len() >= 1000 {
            d.remove(0);
        }
        d.push(delivery);
    }

    /// Record a client assertion's jti until `until`; false if it was seen (replay).
    pub fn first_assertion_use(&self, key: &str, until: i64) -> bool {
        let mut seen = self.assertions.lock().unwrap_or_else(|p| p.into_inner());
        let t = now();
        if seen.len() > 10_000 {
            seen.retain(|_, exp| *exp > t);
        }
        if seen.get(key).is_some_and(|exp| *exp > t) {
            return false;
        }
        seen.insert(key.to_string(), until);
        true
    }

    /// The back-channel logout deliveries made so far.
    pub fn deliveries(&self) -> Vec<crate::logout::Delivery> {
        self.deliveries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A registered client.
    pub fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        if let Some(c) = self.fixture_clients.get(client_id) {
            return Some(c.clone());
        }
        self.store.client(client_id)
    }

    /// The user with these credentials (constant-time password comparison).
    pub fn authenticate(&self, username: &str, password: &str) -> Option<&User> {
        let user = self.users.iter().find(|u| u.username == username)?;
        bool::from(user.password.as_bytes().ct_eq(password.as_bytes())).then_some(user)
    }

    /// A user by subject.
    pub fn user(&self, sub: &str) -> Option<&User> {
        self.users.iter().find(|u| u.sub == sub)
    }

    /// Claims released for these scopes (and the `claims` request's userinfo members).
    pub fn claims_for(
        &self,
        sub: &str,
        scopes: &[String],
        claims_request: Option<&Value>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("sub".into(), Value::String(sub.to_string()));
        let Some(user) = self.user(sub) else {
            return out;
        };
        for (scope, names) in SCOPE_CLAIMS {
            if scopes.iter().any(|s| s == scope) {
                for name in *names {
                    if let Some(v) = user.claims.get(*name) {
                        out.insert((*name).to_string(), v.clone());
                    }
                }
            }
        }
        if let Some(Value::Object(requested)) = claims_request.and_then(|c| c.get("userinfo")) {
            for name in requested.keys() {
                if let Some(v) = user.claims.get(name) {
                    out.insert(name.clone(), v.clone());
                }
            }
        }
        out
    }

    /// The registered redirect URI matching `requested`: exact string match (RFC 9700
    /// §4.1.3), or, for native clients only, a loopback IP redirect URI with any port
    /// (RFC 8252 §7.3; RFC 9700 §2.1 makes that the one exception).
    pub fn match_redirect_uri(client: &Client, requested: &str) -> bool {
        if client.redirect_uris.iter().any(|r| r == requested) {
            return true;
        }
        if client.application_type != "native" {
            return false;
        }
        let Ok(req) = Url::parse(requested) else {
            return false;
        };
        if req.scheme() != "http" || !is_loopback_ip(&req) || req.fragment().is_some() {
            return false;
        }
        client.redirect_uris.iter().any(|r| {
            Url::parse(r).is_ok_and(|reg| {
                reg.scheme() == "http"
                    && is_loopback_ip(&reg)
                    && reg.host() == req.host()
                    && reg.path() == req.path()
                    && reg.query() == req.query()
            })
        })
    }

    /// A `Set-Cookie` value for this instance.
    pub fn cookie(&self, name: &str, value: &str, max_age: i64) -> String {
        format!(
            "{name}={value}; Path={}; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
            self.cookie_path,
            if self.secure { "; Secure" } else { "" }
        )
    }
}

fn is_loopback_ip(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A cookie's value from the request headers.
pub fn cookie_value<'h>(headers: &'h http::HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub use crate::params::{Params, parse_params, space_list};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_match_any_port() {
        let f = Fixtures::embedded();
        let c = f.clients.iter().find(|c| c.client_id == "rp-demo").unwrap();
        assert!(Op::match_redirect_uri(c, "http://127.0.0.1:53124/callback"));
        assert!(Op::match_redirect_uri(c, "http://[::1]:8080/callback"));
        assert!(!Op::match_redirect_uri(c, "http://127.0.0.1:53124/other"));
        assert!(!Op::match_redirect_uri(
            c,
            "http://localhost:53124/callback"
        ));
        assert!(!Op::match_redirect_uri(
            c,
            "https://127.0.0.1:53124/callback"
        ));
        assert!(!Op::match_redirect_uri(
            c,
            "http://127.0.0.1:53124/callback#x"
        ));
        assert!(!Op::match_redirect_uri(c, "http://evil.example/callback"));
        // A web client gets exact matching only (RFC 9700 §4.1.3).
        let web = Client {
            application_type: "web".into(),
            ..c.clone()
        };
        assert!(Op::match_redirect_uri(&web, "http://127.0.0.1/callback"));
        assert!(!Op::match_redirect_uri(
            &web,
            "http://127.0.0.1:53124/callback"
        ));
    }

    #[test]
    fn scope_filters_claims() {
        let op = Op::new("http://127.0.0.1:1", &Fixtures::embedded()).unwrap();
        let sub = &op.users[0].sub.clone();
        let c = op.claims_for(sub, &["openid".into(), "email".into()], None);
        assert!(c.contains_key("email") && !c.contains_key("name") && !c.contains_key("address"));
        let c = op.claims_for(
            sub,
            &["openid".into()],
            Some(&serde_json::json!({"userinfo": {"name": null}})),
        );
        assert_eq!(c["name"], "Alice Liddell");
        assert!(op.authenticate("alice", "wonderland").is_some());
        assert!(op.authenticate("alice", "wrong").is_none());
        assert!(op.authenticate("nobody", "wonderland").is_none());
        assert!(parse_params(b"a=1&a=2").is_err());
        let p = parse_params(b"audience=x&resource=y&audience=z").unwrap();
        assert_eq!(p.all("audience"), ["x", "z"]);
        assert_eq!(p.get("resource").map(String::as_str), Some("y"));
    }
}
