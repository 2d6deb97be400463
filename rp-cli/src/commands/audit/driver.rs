//! What the audit's checks share: the provider's metadata as served, the clients and the user,
//! a headless browser per scenario, raw requests whose evidence is recorded with secrets
//! redacted, and the findings.
//!
//! The requests are built here rather than by the RP library on purpose: an audit must send
//! what the library never would (a reused code, a wrong verifier, an unregistered redirect
//! URI) and see the provider's exact answer. The ID token is still checked by the library.

use super::catalogue;
use oidc_rp::id_token::{self, IdTokenRules, NonceCheck};
use oidc_rp::jwt::KeySource;
use oidc_rp::keys::{JwksCache, JwksPolicy};
use oidc_rp::{Alg, HttpClient, HttpResponse, Secret, VerifiedIdToken};
use oidc_rp_headless::{Browser, Credentials};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Mutex;
use url::Url;

/// A verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Does what is required.
    Pass,
    /// Does not.
    Fail,
    /// Allowed but weak, or a SHOULD not followed.
    Warning,
    /// Does not apply to this provider or these clients.
    NotApplicable,
    /// Could not be tried (an earlier step failed, or nothing to try it with).
    CouldNotRun,
}

impl Verdict {
    /// Its label in the scorecard.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Warning => "warn",
            Verdict::NotApplicable => "n/a",
            Verdict::CouldNotRun => "not run",
        }
    }
}

/// What was sent and what came back (secrets redacted).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Evidence {
    /// The request.
    pub sent: String,
    /// The relevant part of the answer.
    pub received: String,
}

/// One check's result.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The check id.
    pub id: &'static str,
    /// The verdict.
    pub verdict: Verdict,
    /// What happened, in a sentence.
    pub detail: String,
    /// The requirement.
    pub requirement: &'static str,
    /// Where it is required.
    pub spec: &'static str,
    /// The exchange that shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

/// A client of the provider.
#[derive(Debug, Clone)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// Its secret; `None` for a public client.
    pub secret: Option<Secret>,
}

/// A raw HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status.
    pub status: u16,
    /// The response, for headers.
    pub headers: axum::http::HeaderMap,
    /// The body as JSON, when it is.
    pub json: Option<Value>,
    /// The body, as text (bounded by the HTTP client's cap).
    pub text: String,
    /// The evidence.
    pub evidence: Evidence,
}

impl Answer {
    /// A string member of the JSON body.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.json.as_ref()?.get(name)?.as_str()
    }

    /// A header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The media type (without parameters), lower case.
    pub fn media_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }
}

/// Parameters whose values never appear in evidence.
const SECRET_NAMES: &[&str] = &[
    "code",
    "code_verifier",
    "client_secret",
    "access_token",
    "refresh_token",
    "id_token",
    "id_token_hint",
    "token",
    "password",
    "client_assertion",
];

/// `value` of parameter `name`, as evidence shows it.
fn shown(name: &str, value: &str) -> String {
    if SECRET_NAMES.contains(&name) {
        "[redacted]".into()
    } else {
        crate::output::one_line(value, 80)
    }
}

/// A URL with its secret parameters redacted.
pub fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.to_string(), shown(&k, &v)))
        .collect();
    if pairs.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    if let Some(fragment) = url.fragment() {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(fragment.as_bytes())
            .map(|(k, v)| (k.to_string(), shown(&k, &v)))
            .collect();
        u.set_fragment(Some(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish(),
        ));
    }
    crate::output::one_line(u.as_str(), 300)
}

/// Parameters as evidence shows them.
pub fn redact_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", shown(k, v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A JSON body with its secret members redacted, on one line.
pub fn redact_json(v: &Value) -> String {
    fn walk(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| {
                        let v = if SECRET_NAMES.contains(&k.as_str()) && v.is_string() {
                            Value::String("[redacted]".into())
                        } else {
                            walk(v)
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    crate::output::one_line(&walk(v).to_string(), 300)
}

/// How a token-endpoint-style request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// As the provider prefers for this client: Basic, or the secret in the body when only
    /// client_secret_post is advertised; `client_id` alone for a public client.
    Client,
    /// HTTP Basic with a wrong secret.
    WrongSecret,
    /// client_secret_post.
    Post,
    /// No authentication at all (not even client_id).
    Nothing,
}

/// The audit's state.
#[derive(Debug)]
pub struct Ctx {
    /// HTTP.
    pub http: HttpClient,
    /// The issuer asked for.
    pub issuer: String,
    /// The discovery document as served (empty when it could not be had).
    pub meta: Map<String, Value>,
    /// The first client.
    pub client: Client,
    /// The second client, for the cross-client checks.
    pub second: Option<Client>,
    /// The user.
    pub user: Credentials,
    /// The redirect URI registered for the clients (nothing listens there).
    pub redirect: String,
    /// The post-logout redirect URI registered for the first client.
    pub post_logout: String,
    /// The provider's keys.
    pub jwks: Option<JwksCache>,
    findings: Mutex<Vec<Finding>>,
}

impl Ctx {
    /// A context for `issuer`.
    pub fn new(
        http: HttpClient,
        issuer: String,
        client: Client,
        second: Option<Client>,
        user: Credentials,
        redirect: String,
        post_logout: String,
    ) -> Ctx {
        Ctx {
            http,
            issuer,
            meta: Map::new(),
            client,
            second,
            user,
            redirect,
            post_logout,
            jwks: None,
            findings: Mutex::new(Vec::new()),
        }
    }

    /// Record check `id`'s verdict (the first verdict for an id stands).
    pub fn record(
        &self,
        id: &'static str,
        verdict: Verdict,
        detail: impl Into<String>,
        evidence: Option<Evidence>,
    ) {
        let def = catalogue::find(id).unwrap_or_else(|| panic!("no audit check `{id}`"));
        let mut f = self.findings.lock().unwrap_or_else(|p| p.into_inner());
        if f.iter().any(|x| x.id == id) {
            return;
        }
        f.push(Finding {
            id: def.id,
            verdict,
            detail: detail.into(),
            requirement: def.requirement,
            spec: def.spec,
            evidence,
        });
    }

    /// Pass or fail on `ok`.
    pub fn verdict(
        &self,
        id: &'static str,
        ok: bool,
        pass: impl Into<String>,
        fail: impl Into<String>,
        evidence: Option<Evidence>,
    ) {
        if ok {
            self.record(id, Verdict::Pass, pass, evidence);
        } else {
            self.record(id, Verdict::Fail, fail, evidence);
        }
    }

    /// Mark checks that could not run, with why.
    pub fn not_run(&self, ids: &[&'static str], why: &str) {
        for id in ids {
            self.record(id, Verdict::CouldNotRun, why, None);
        }
    }

    /// Mark checks that do not apply, with why.
    pub fn not_applicable(&self, ids: &[&'static str], why: &str) {
        for id in ids {
            self.record(id, Verdict::NotApplicable, why, None);
        }
    }

    /// Every finding, in catalogue order; checks nobody recorded could not run.
    pub fn findings(&self) -> Vec<Finding> {
        let f = self.findings.lock().unwrap_or_else(|p| p.into_inner());
        catalogue::CHECKS
            .iter()
            .map(|def| {
                f.iter()
                    .find(|x| x.id == def.id)
                    .cloned()
                    .unwrap_or(Finding {
                        id: def.id,
                        verdict: Verdict::CouldNotRun,
                        detail: "an earlier step it needs did not complete".into(),
                        requirement: def.requirement,
                        spec: def.spec,
                        evidence: None,
                    })
            })
            .collect()
    }

    /// A metadata member as a string.
    pub fn meta_str(&self, name: &str) -> Option<&str> {
        self.meta.get(name)?.as_str()
    }

    /// A metadata member as a list of strings.
    pub fn meta_list(&self, name: &str) -> Vec<String> {
        self.meta
            .get(name)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// An endpoint of the metadata.
    pub fn endpoint(&self, name: &str) -> Option<Url> {
        self.meta_str(name).and_then(|u| Url::parse(u).ok())
    }

    /// Whether the provider advertises the `iss` authorization response parameter.
    pub fn iss_advertised(&self) -> bool {
        self.meta
            .get("authorization_response_iss_parameter_supported")
            == Some(&Value::Bool(true))
    }

    /// Send one request; its evidence records it.
    pub async fn send(
        &self,
        method: axum::http::Method,
        url: &Url,
        headers: &[(&str, String)],
        form: &[(String, String)],
    ) -> Result<Answer, String> {
        let mut b = axum::http::Request::builder()
            .method(method.clone())
            .uri(url.as_str())
            .header("accept", "application/json");
        for (k, v) in headers {
            b = b.header(*k, v.as_str());
        }
        let body = if form.is_empty() {
            Vec::new()
        } else {
            b = b.header("content-type", "application/x-www-form-urlencoded");
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form.iter())
                .finish()
                .into_bytes()
        };
        let request = b.body(body).map_err(|e| e.to_string())?;
        let sent = format!(
            "{method} {}{}{}",
            redact_url(url),
            if headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            {
                " with Authorization"
            } else {
                ""
            },
            if form.is_empty() {
                String::new()
            } else {
                format!(" [{}]", redact_pairs(form))
            }
        );
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| e.to_string())?;
        Ok(answer(sent, &response))
    }

    /// A token-endpoint-style POST (token, introspection, revocation) by `client`.
    pub async fn post_as(
        &self,
        endpoint: &Url,
        client: &Client,
        params: &[(&str, &str)],
        auth: Auth,
    ) -> Result<Answer, String> {
        let mut form: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut headers = Vec::new();
        let post_only = {
            let m = self.meta_list("token_endpoint_auth_methods_supported");
            !m.is_empty() && !m.iter().any(|x| x == "client_secret_basic")
        };
        match (auth, &client.secret) {
            (Auth::Nothing, _) => {}
            (Auth::WrongSecret, _) => {
                headers.push((
                    "authorization",
                    basic(&client.id, "wrong-secret-from-rp-audit"),
                ));
            }
            (Auth::Post, Some(s)) => {
                form.push(("client_id".into(), client.id.clone()));
                form.push(("client_secret".into(), s.expose().to_string()));
            }
            (Auth::Client, Some(s)) if post_only => {
                form.push(("client_id".into(), client.id.clone()));
                form.push(("client_secret".into(), s.expose().to_string()));
            }
            (Auth::Client, Some(s)) => {
                headers.push(("authorization", basic(&client.id, s.expose())))
            }
            (Auth::Client | Auth::Post, None) => form.push(("client_id".into(), client.id.clone())),
        }
        let answer = self
            .send(axum::http::Method::POST, endpoint, &headers, &form)
            .await?;
        // A client registered for client_secret_post refuses Basic: try the body, as a
        // client that knows its registration would.
        if let (Auth::Client, Some(s)) = (auth, &client.secret)
            && !headers.is_empty()
            && answer.status == 401
            && answer.str("error") == Some("invalid_client")
        {
            form.push(("client_id".into(), client.id.clone()));
            form.push(("client_secret".into(), s.expose().to_string()));
            return self
                .send(axum::http::Method::POST, endpoint, &[], &form)
                .await;
        }
        Ok(answer)
    }

    /// Validate an ID token for `client` with the library (every OIDC Core §3.1.3.7 rule).
    pub async fn validate_id_token(
        &self,
        raw: &str,
        client: &Client,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> oidc_rp::Result<VerifiedIdToken> {
        let algs: Vec<Alg> = {
            let advertised: Vec<Alg> = self
                .meta_list("id_token_signing_alg_values_supported")
                .iter()
                .filter_map(|a| Alg::parse(a))
                .collect();
            if advertised.is_empty() {
                vec![Alg::RS256]
            } else {
                advertised
            }
        };
        let jwks = self
            .jwks
            .as_ref()
            .ok_or_else(|| oidc_rp::Error::BadResponse {
                what: "key set",
                url: self.issuer.clone(),
                reason: "no jwks_uri".into(),
            })?;
        let rules = IdTokenRules {
            client_secret: client.secret.as_ref(),
            access_token,
            ..IdTokenRules::new(
                &self.issuer,
                &client.id,
                &algs,
                match nonce {
                    Some(n) => NonceCheck::Equals(n),
                    None => NonceCheck::NotExpected,
                },
            )
        };
        id_token::validate(
            raw,
            &rules,
            KeySource {
                jwks,
                http: &self.http,
            },
            "ID token",
        )
        .await
    }

    /// Set up the key cache from the metadata.
    pub fn keys(&mut self) {
        if let Some(uri) = self.endpoint("jwks_uri") {
            self.jwks = Some(JwksCache::new(uri, JwksPolicy::default()));
        }
    }

    /// A fresh browser (no provider session).
    pub fn browser(&self) -> Result<Browser, String> {
        Browser::new(&self.http).map_err(|e| e.to_string())
    }
}

/// The claims of a JWT, unverified: for reading values after the library verified the token,
/// or for evidence. `Null` when it is not a JWT with a JSON payload.
pub fn jwt_claims(raw: &str) -> Value {
    raw.trim()
        .split('.')
        .nth(1)
        .and_then(|p| rp_jose::b64::decode(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// HTTP Basic credentials, each part form-encoded first (RFC 6749 §2.3.1).
pub fn basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

fn answer(sent: String, response: &HttpResponse) -> Answer {
    let text = String::from_utf8_lossy(response.body()).into_owned();
    let json: Option<Value> = serde_json::from_slice(response.body()).ok();
    let mut received = format!("HTTP {}", response.status().as_u16());
    if let Some(ct) = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
    {
        received.push_str(&format!(" {}", crate::output::one_line(ct, 60)));
    }
    match &json {
        Some(v) => received.push_str(&format!(" {}", redact_json(v))),
        None if !text.trim().is_empty() => {
            received.push_str(&format!(" {}", crate::output::one_line(text.trim(), 160)))
        }
        None => {}
    }
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        json,
        text,
        evidence: Evidence { sent, received },
    }
}
