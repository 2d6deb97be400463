//! A conformance instance: how the provider at `/<test-id>` misbehaves (its
//! [`Misbehaviour`]), its static client, its keys, and its record of requests.

use super::catalogue::{
    ClaimMutation, JwksMode, LogoutMutation, RefreshMutation, Rotation, TestCase,
};
use super::{CLIENT_ID, CLIENT_SECRET};
use crate::fixtures::{Client, Fixtures};
use crate::keys::{KeyRing, SigningKey};
use crate::misbehaviour::{KeyMoment, LogoutTokenSigning, Misbehaviour, Refusal, TokenPlaces};
use crate::params::Params;
use serde_json::{Map, Value, json};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A request an instance received.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recorded {
    /// The method.
    pub method: String,
    /// The path below the issuer (`/token`, `/userinfo`, ...).
    pub path: String,
}

/// The state of one instance.
#[derive(Debug)]
pub struct Instance {
    test: TestCase,
    requests: Mutex<Vec<Recorded>>,
    authorizations: AtomicUsize,
    device_polls: AtomicUsize,
    generation: AtomicUsize,
    resource_challenged: AtomicBool,
    jwks_path: String,
    fixtures: Fixtures,
}

impl Instance {
    /// The instance of `test`, serving its JWKS at `jwks_path`.
    pub fn new(test: TestCase, jwks_path: String, fixtures: Fixtures) -> Self {
        Instance {
            test,
            requests: Mutex::new(Vec::new()),
            authorizations: AtomicUsize::new(0),
            device_polls: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            resource_challenged: AtomicBool::new(false),
            jwks_path,
            fixtures,
        }
    }

    /// New keys, with new kids.
    fn next_keys(&self) -> Option<KeyRing> {
        let next = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        keys_for(self.test.op.jwks, &self.fixtures, next).ok()
    }
}

impl Misbehaviour for Instance {
    fn discovery(&self, doc: &mut Map<String, Value>) {
        let b = &self.test.op;
        if b.only_rs256 {
            doc.insert(
                "id_token_signing_alg_values_supported".into(),
                json!(["RS256"]),
            );
            doc.insert(
                "userinfo_signing_alg_values_supported".into(),
                json!(["RS256"]),
            );
        }
        if b.issuer_mismatch
            && let Some(Value::String(iss)) = doc.get("issuer").cloned()
        {
            doc.insert("issuer".into(), json!(format!("{iss}INVALID")));
        }
        if self.test.client.request_uri.is_some() {
            doc.insert("request_uri_parameter_supported".into(), json!(true));
        }
    }

    fn jwks_path(&self) -> &str {
        &self.jwks_path
    }

    fn authorization(&self, params: &Params) -> Result<(), Refusal> {
        if self.test.op.require_nonce && params.get("nonce").is_none_or(|n| n.is_empty()) {
            return Err(Refusal {
                error: "invalid_request",
                description: "this test needs a nonce in every request but the code flow's".into(),
            });
        }
        let scope = params.get("scope").map(String::as_str).unwrap_or("");
        if self.test.op.require_scope_claims
            && !scope
                .split(' ')
                .any(|s| ["profile", "email", "phone", "address"].contains(&s))
        {
            return Err(Refusal {
                error: "invalid_scope",
                description: "this test needs a scope of profile, email, phone or address".into(),
            });
        }
        Ok(())
    }

    fn sign_in_without_form(&self) -> bool {
        true
    }

    fn rotate_keys(&self, moment: KeyMoment) -> Option<KeyRing> {
        match (self.test.op.rotation, moment) {
            (Rotation::SecondAuthorization, KeyMoment::Authorization) => {
                let n = self.authorizations.fetch_add(1, Ordering::SeqCst) + 1;
                if n == 2 { self.next_keys() } else { None }
            }
            (Rotation::BeforeSigning, KeyMoment::BeforeIdTokenSigning) => self.next_keys(),
            _ => None,
        }
    }

    fn device_poll(&self) -> Option<&'static str> {
        use super::catalogue::DeviceMutation as D;
        let n = self.device_polls.fetch_add(1, Ordering::SeqCst) + 1;
        match self.test.op.device {
            D::None => None,
            D::Pending if n <= 2 => Some("authorization_pending"),
            D::Pending => None,
            D::SlowDown if n == 1 => Some("slow_down"),
            D::SlowDown => None,
            D::Denied => Some("access_denied"),
            D::Expired => Some("expired_token"),
        }
    }

    fn required_request_object_alg(&self) -> Option<&str> {
        self.test.client.request_uri
    }

    fn id_token_claims(&self, claims: &mut Map<String, Value>, refresh: bool) {
        let append = |claims: &mut Map<String, Value>, name: &str, suffix: &str| {
            if let Some(Value::String(v)) = claims.get(name) {
                let v = format!("{v}{suffix}");
                claims.insert(name.into(), Value::String(v));
            }
        };
        if refresh {
            match self.test.op.refresh {
                RefreshMutation::None => {}
                RefreshMutation::InvalidIss => append(claims, "iss", "1"),
                RefreshMutation::InvalidSub => append(claims, "sub", "invalid"),
            }
            return;
        }
        match self.test.op.claims {
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
            ClaimMutation::Expired => {
                let now = claims.get("iat").and_then(Value::as_i64).unwrap_or(0);
                claims.insert("exp".into(), Value::from(now - 3600));
            }
            ClaimMutation::FutureNbf => {
                let now = claims.get("iat").and_then(Value::as_i64).unwrap_or(0);
                claims.insert("nbf".into(), Value::from(now + 3600));
            }
            ClaimMutation::MissingExp => {
                claims.remove("exp");
            }
            ClaimMutation::MissingIss => {
                claims.remove("iss");
            }
            ClaimMutation::MissingNonce => {
                claims.remove("nonce");
            }
            ClaimMutation::SecondaryAud => {
                if let Some(aud) = claims.get("aud").cloned() {
                    claims.insert(
                        "aud".into(),
                        json!([aud, "https://untrusted-second-audience.example/"]),
                    );
                }
            }
            ClaimMutation::InvalidAtHash => append(claims, "at_hash", "1"),
            ClaimMutation::MissingAtHash => {
                claims.remove("at_hash");
            }
            ClaimMutation::InvalidCHash => append(claims, "c_hash", "1"),
            ClaimMutation::MissingCHash => {
                claims.remove("c_hash");
            }
            ClaimMutation::AudAsArray => {
                if let Some(aud) = claims.get("aud").cloned().filter(Value::is_string) {
                    claims.insert("aud".into(), json!([aud]));
                }
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

    fn id_token(&self, jwt: String) -> String {
        if self.test.op.null_alg {
            unsigned_copy(&jwt)
        } else if self.test.op.corrupt_signature {
            corrupt_signature(&jwt)
        } else {
            jwt
        }
    }

    fn response_iss(&self, iss: &str) -> Option<String> {
        altered(self.test.op.response_iss, iss)
    }

    fn response_state(&self, state: &str) -> Option<String> {
        altered(self.test.op.response_state, state)
    }

    fn token_response(&self, body: &mut Map<String, Value>) {
        use super::catalogue::TokenResponseMutation as T;
        match self.test.op.token_response {
            T::None => {}
            T::NoExpiresIn => {
                body.remove("expires_in");
            }
            T::InvertedTokenType => {
                if let Some(Value::String(t)) = body.get_mut("token_type") {
                    *t = t
                        .chars()
                        .map(|c| {
                            if c.is_ascii_uppercase() {
                                c.to_ascii_lowercase()
                            } else {
                                c.to_ascii_uppercase()
                            }
                        })
                        .collect();
                }
            }
        }
    }

    fn resource_nonce_challenge(&self) -> Option<&'static str> {
        (self.test.op.resource_nonce_alt_scheme
            && !self.resource_challenged.swap(true, Ordering::SeqCst))
        .then_some("dpop")
    }

    fn jarm_claims(&self, claims: &mut Map<String, Value>) {
        use super::catalogue::JarmMutation as J;
        let append = |claims: &mut Map<String, Value>, name: &str| {
            if let Some(Value::String(v)) = claims.get(name) {
                let v = format!("{v}INVALID");
                claims.insert(name.into(), Value::String(v));
            }
        };
        match self.test.op.jarm {
            J::InvalidIss => append(claims, "iss"),
            J::MissingIss => {
                claims.remove("iss");
            }
            J::InvalidAud => append(claims, "aud"),
            J::MissingAud => {
                claims.remove("aud");
            }
            J::Expired => {
                let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
                claims.insert("exp".into(), Value::from(exp - 3660));
            }
            J::MissingExp => {
                claims.remove("exp");
            }
            J::None | J::InvalidSig | J::AlgNone => {}
        }
    }

    fn jarm_jwt(&self, jwt: String) -> String {
        use super::catalogue::JarmMutation as J;
        match self.test.op.jarm {
            J::InvalidSig => corrupt_signature(&jwt),
            J::AlgNone => unsigned_copy(&jwt),
            _ => jwt,
        }
    }

    fn dpop_nonce_required(&self) -> bool {
        !self.test.op.no_dpop_nonce
    }

    fn userinfo_token_places(&self) -> TokenPlaces {
        self.test.op.bearer
    }

    fn userinfo_claims(&self, claims: &mut Map<String, Value>) {
        if self.test.op.userinfo_sub_mismatch
            && let Some(Value::String(sub)) = claims.get("sub").cloned()
        {
            claims.insert("sub".into(), json!(format!("{sub}invalid")));
        }
    }

    fn logout_token(&self, claims: &mut Value, signing: LogoutTokenSigning) -> LogoutTokenSigning {
        use LogoutMutation as L;
        match self.test.op.logout {
            L::AlgNone => return LogoutTokenSigning::Unsigned,
            L::NoEvent => {
                if let Some(o) = claims.as_object_mut() {
                    o.remove("events");
                }
            }
            L::Nonce => claims["nonce"] = json!("logout_tokens_must_not_contain_a_nonce"),
            L::WrongAlg => {
                if let LogoutTokenSigning::Alg(alg) = &signing {
                    let other = if alg == "RS256" { "ES256" } else { "RS256" };
                    return LogoutTokenSigning::Alg(other.into());
                }
            }
            L::WrongAud => {
                if let Some(Value::String(aud)) = claims.get("aud").cloned() {
                    claims["aud"] = json!(format!("{aud}INVALID"));
                }
            }
            L::WrongEvent => {
                claims["events"] = json!({"http://schemas.openid.net/event/foobar": {}})
            }
            L::WrongIss => {
                if let Some(Value::String(iss)) = claims.get("iss").cloned() {
                    claims["iss"] = json!(format!("{iss}INVALID"));
                }
            }
            L::None | L::OtherState | L::NoState => {}
        }
        signing
    }

    fn post_logout_state(&self, state: Option<&str>) -> Option<String> {
        match (self.test.op.logout, state) {
            (LogoutMutation::NoState, _) | (_, None) => None,
            (LogoutMutation::OtherState, Some(s)) => Some(format!("{s}_INVALID")),
            (_, Some(s)) => Some(s.to_string()),
        }
    }

    fn extra_registration_algs(&self) -> &[&'static str] {
        // The sig-none tests register unsigned ID tokens on purpose.
        &["none"]
    }

    fn observe(&self, method: &str, path: &str) {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Recorded {
                method: method.to_string(),
                path: path.to_string(),
            });
    }

    fn observed(&self) -> Option<Value> {
        let list = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        Some(json!(list.as_slice()))
    }
}

/// The static client of an instance: the test's client settings.
pub fn conformance_client(test: &TestCase) -> Client {
    let mut c: Client = serde_json::from_value(json!({
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "client_name": format!("conformance client for {}", test.id),
        "redirect_uris": ["http://127.0.0.1/callback"],
        "post_logout_redirect_uris": ["http://127.0.0.1/logout"],
        "grant_types": ["authorization_code", "implicit", "refresh_token", crate::device::GRANT_TYPE],
        "response_types": ["code", "id_token", "id_token token", "code id_token", "code token", "code id_token token"],
        "application_type": "native",
    }))
    .unwrap_or_else(|e| panic!("the conformance client literal is valid: {e}"));
    c.token_endpoint_auth_method = test.client.auth.unwrap_or("client_secret_basic").into();
    c.id_token_signed_response_alg = test.client.alg.unwrap_or("RS256").into();
    c.userinfo_signed_response_alg = test.client.userinfo_alg.map(str::to_string);
    if test.client.fapi {
        // The fixture FAPI client's key (fixtures/clients.json, rp-fapi).
        let fapi = Fixtures::embedded()
            .clients
            .into_iter()
            .find(|f| f.client_id == "rp-fapi");
        if let Some(jwks) = fapi.as_ref().and_then(|f| f.other.get("jwks")) {
            c.other.insert("jwks".into(), jwks.clone());
        }
        c.token_endpoint_auth_method = "private_key_jwt".into();
        // JARM responses in a FAPI 2.0 algorithm (never RS256).
        c.other
            .insert("authorization_signed_response_alg".into(), json!("ES256"));
        c.require_pushed_authorization_requests = true;
        c.dpop_bound_access_tokens = true;
    }
    c
}

/// Keys for a JWKS mode (pool keys rotate with `generation`).
pub fn keys_for(
    mode: JwksMode,
    fixtures: &Fixtures,
    generation: usize,
) -> crate::error::Result<KeyRing> {
    let pool = &fixtures.keys.rsa_pool;
    let rsa = |i: usize| -> crate::error::Result<SigningKey> {
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

/// The same claims, unsigned (`alg: none`, an empty signature).
fn unsigned_copy(jwt: &str) -> String {
    let claims = jwt.split('.').nth(1).unwrap_or("");
    format!("{}.{claims}.", rp_jose::b64::encode(br#"{"alg":"none"}"#))
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

/// An authorization response parameter as the test wants it.
fn altered(how: super::catalogue::ResponseParam, value: &str) -> Option<String> {
    use super::catalogue::ResponseParam as P;
    match how {
        P::Keep => Some(value.to_string()),
        P::Invalid => Some(format!("{value}INVALID")),
        P::Removed => None,
    }
}
