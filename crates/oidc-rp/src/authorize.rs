//! The authorization request and the callback that answers it.
//!
//! Every request carries a fresh `state` (RFC 6749 §10.12), `nonce` (OIDC Core §3.1.2.1,
//! sent even in the code flow as the OIDF conformance suite advises) and a PKCE S256
//! challenge (RFC 7636, required by RFC 9700 §2.1.1 and RFC 8252 §8.1). What must be
//! remembered until the callback is an [`AuthTransaction`]: a plain serialisable value the
//! caller keeps (in memory, in a session store), so a service can run on several machines.

use crate::error::{
    AuthorizationError, ConfigError, Error, Result, ValidationError, display_url, truncate,
};
use crate::report::{CheckId, Report};
use crate::secret::Secret;
use oauth2::{CsrfToken, PkceCodeChallenge};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use url::Url;

/// How the provider returns the response (OAuth 2.0 Multiple Response Types §2.1,
/// Form Post Response Mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// The default for `code`: parameters in the redirect URI's query.
    #[default]
    Query,
    /// Parameters in the redirect URI's fragment: the default of the implicit and hybrid
    /// response types (OAuth 2.0 Multiple Response Type Encoding Practices §5), which never
    /// use the query.
    Fragment,
    /// An auto-submitting HTML form POSTed to the redirect URI.
    FormPost,
    /// JARM (JWT Secured Authorization Response Mode): the response as a signed JWT in the
    /// query (`query.jwt`).
    QueryJwt,
    /// JARM, the JWT in an auto-submitting form (`form_post.jwt`).
    FormPostJwt,
}

impl ResponseMode {
    /// The `response_mode` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::Fragment => "fragment",
            ResponseMode::FormPost => "form_post",
            ResponseMode::QueryJwt => "query.jwt",
            ResponseMode::FormPostJwt => "form_post.jwt",
        }
    }

    /// Whether the response comes as a JWT (JARM).
    pub fn is_jwt(self) -> bool {
        matches!(self, ResponseMode::QueryJwt | ResponseMode::FormPostJwt)
    }
}

/// What to ask for.
#[derive(Debug, Clone, Default)]
pub struct AuthorizationRequest {
    /// Scopes; `openid` is added when missing.
    pub scopes: Vec<String>,
    /// `prompt` (`login`, `consent`, `none`, `select_account`).
    pub prompt: Option<String>,
    /// `max_age` in seconds: the ID token must then carry an `auth_time` no older than this.
    pub max_age: Option<u64>,
    /// `login_hint`.
    pub login_hint: Option<String>,
    /// `acr_values`: the ID token's `acr` must then be one of these.
    pub acr_values: Vec<String>,
    /// `ui_locales`.
    pub ui_locales: Option<String>,
    /// `response_mode`; query when absent.
    pub response_mode: Option<ResponseMode>,
    /// The `claims` request parameter (OIDC Core §5.5).
    pub claims: Option<serde_json::Value>,
    /// Any other parameters. Protocol parameters this crate sets itself are refused.
    pub extra: Vec<(String, String)>,
    /// How the parameters reach the provider (the query by default).
    pub delivery: Delivery,
    /// `response_type`: the code flow by default; the implicit and hybrid types return
    /// tokens through the browser (see [`crate::ResponseType`]).
    pub response_type: crate::hybrid::ResponseType,
}

/// How an authorization request reaches the provider. The parameters are the same whatever
/// the delivery: they are assembled first ([`AuthorizationParams`]), then delivered.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Delivery {
    /// In the authorization URL's query (RFC 6749 §4.1.1).
    #[default]
    Query,
    /// In a request object passed by value, `request` (RFC 9101 §5.1): signed with `key`, or
    /// unsigned (`alg: none`) without one.
    ByValue {
        /// The client's signing key.
        key: Option<std::sync::Arc<crate::client_key::ClientKey>>,
    },
    /// In a request object passed by reference, `request_uri` (RFC 9101 §5.2): the caller
    /// serves [`AuthTransaction::request_object`] at `request_uri`, where the provider fetches
    /// it.
    ByReference {
        /// The client's signing key; `None` for `alg: none`.
        key: Option<std::sync::Arc<crate::client_key::ClientKey>>,
        /// Where the object will be served.
        request_uri: String,
    },
    /// Pushed to the provider first (RFC 9126), with client authentication: as form
    /// parameters, or as a signed request object with `key` (RFC 9126 §3, JAR). The
    /// authorization URL then carries only `client_id` and the `request_uri` the provider
    /// returned. Only [`crate::RelyingParty::push_authorization_request`] can deliver it (it
    /// needs a network round trip).
    Pushed {
        /// Sign the pushed parameters as a request object with this key.
        key: Option<std::sync::Arc<crate::client_key::ClientKey>>,
    },
}

/// The parameters of an authorization request, in order, before they are delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationParams {
    pairs: Vec<(String, String)>,
}

impl AuthorizationParams {
    /// The parameters.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The value of one parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The claims of a request object carrying these parameters (RFC 9101 §4, OIDC Core
    /// §6.1): every parameter, with `iss` the client and `aud` the issuer; `claims` and
    /// `max_age` as JSON values.
    pub fn request_object_claims(&self, client_id: &str, issuer: &str) -> serde_json::Value {
        let mut object = serde_json::Map::new();
        object.insert("iss".into(), client_id.into());
        object.insert("aud".into(), issuer.into());
        for (k, v) in &self.pairs {
            let value = match k.as_str() {
                "claims" => serde_json::from_str(v).unwrap_or_else(|_| v.as_str().into()),
                "max_age" => v
                    .parse::<u64>()
                    .map(Into::into)
                    .unwrap_or_else(|_| v.as_str().into()),
                _ => v.as_str().into(),
            };
            object.insert(k.clone(), value);
        }
        serde_json::Value::Object(object)
    }
}

impl AuthorizationRequest {
    /// A request for these scopes.
    pub fn with_scopes<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        AuthorizationRequest {
            scopes: scopes.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }
}

/// Parameters this crate sets and a caller must not override through `extra`.
const RESERVED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "acr_values",
    "ui_locales",
    "response_mode",
    "claims",
    "request",
    "request_uri",
];

/// What must be kept between the authorization request and its callback.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthTransaction {
    /// The issuer the request went to.
    pub issuer: String,
    /// The client that asked.
    pub client_id: String,
    /// The redirect URI sent (it must be repeated at the token endpoint).
    pub redirect_uri: String,
    /// `state`.
    pub state: Secret,
    /// `nonce`.
    pub nonce: Secret,
    /// The PKCE verifier.
    pub pkce_verifier: Secret,
    /// `max_age`, when requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// `acr_values`, when requested.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acr_values: Vec<String>,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// The response mode asked for.
    #[serde(default)]
    pub response_mode: ResponseMode,
    /// The request object to serve at the `request_uri` sent (RFC 9101 §5.2), when one was
    /// asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object: Option<Secret>,
    /// The `response_type` asked for.
    #[serde(default)]
    pub response_type: crate::hybrid::ResponseType,
}

/// Assemble the parameters of `request` and the transaction that answers them.
pub(crate) fn assemble(
    issuer: &str,
    client_id: &str,
    redirect_uri: &str,
    request: &AuthorizationRequest,
) -> Result<(AuthorizationParams, AuthTransaction)> {
    let redirect = Url::parse(redirect_uri).map_err(|e| Error::InvalidUrl {
        url: display_url(redirect_uri),
        reason: e.to_string(),
    })?;
    if redirect.fragment().is_some() {
        return Err(Error::InvalidUrl {
            url: display_url(redirect_uri),
            reason: "a redirect URI has no fragment (RFC 6749 §3.1.2)".into(),
        });
    }
    for (name, _) in &request.extra {
        if RESERVED.contains(&name.as_str()) {
            return Err(Error::Config(ConfigError::ReservedParameter(name.clone())));
        }
    }
    let mut scopes = request.scopes.clone();
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
    let response_type = request.response_type;
    // OAuth 2.0 Multiple Response Type Encoding Practices §5: tokens never travel in a query.
    if !response_type.has_only_code()
        && matches!(
            request.response_mode,
            Some(ResponseMode::Query | ResponseMode::QueryJwt)
        )
    {
        return Err(Error::Config(ConfigError::ResponseMode(format!(
            "response_type {} returns tokens, which must not travel in the query: use fragment or form_post",
            response_type.as_str()
        ))));
    }
    let state = CsrfToken::new_random_len(32);
    let nonce = CsrfToken::new_random_len(32);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256_len(32);

    let mut pairs: Vec<(String, String)> = vec![
        ("response_type".into(), response_type.as_str().into()),
        ("client_id".into(), client_id.into()),
        ("redirect_uri".into(), redirect_uri.into()),
        ("scope".into(), scopes.join(" ")),
        ("state".into(), state.secret().clone()),
        ("nonce".into(), nonce.secret().clone()),
    ];
    // PKCE protects a code (RFC 9700 §2.1.1); the implicit types have none.
    if response_type.has_code() {
        pairs.push(("code_challenge".into(), challenge.as_str().into()));
        pairs.push(("code_challenge_method".into(), "S256".into()));
    }
    let mut push = |k: &str, v: String| pairs.push((k.into(), v));
    if let Some(prompt) = &request.prompt {
        push("prompt", prompt.clone());
    }
    if let Some(max_age) = request.max_age {
        push("max_age", max_age.to_string());
    }
    if let Some(hint) = &request.login_hint {
        push("login_hint", hint.clone());
    }
    if !request.acr_values.is_empty() {
        push("acr_values", request.acr_values.join(" "));
    }
    if let Some(locales) = &request.ui_locales {
        push("ui_locales", locales.clone());
    }
    // The default mode (query for code, fragment for the others) goes unsaid.
    if let Some(mode) = request
        .response_mode
        .filter(|m| *m != response_type.default_mode())
    {
        push("response_mode", mode.as_str().into());
    }
    if let Some(claims) = &request.claims {
        push("claims", claims.to_string());
    }
    for (k, v) in &request.extra {
        pairs.push((k.clone(), v.clone()));
    }
    let txn = AuthTransaction {
        issuer: issuer.to_string(),
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        state: Secret::new(state.secret().clone()),
        nonce: Secret::new(nonce.secret().clone()),
        pkce_verifier: Secret::new(verifier.secret().clone()),
        max_age: request.max_age,
        acr_values: request.acr_values.clone(),
        scopes,
        response_mode: request
            .response_mode
            .unwrap_or(response_type.default_mode()),
        request_object: None,
        response_type,
    };
    Ok((AuthorizationParams { pairs }, txn))
}

/// Deliver assembled parameters to `endpoint` as `delivery` says: the authorization URL to
/// send the user to, and the request object to serve when it goes by reference.
pub(crate) fn deliver(
    endpoint: &Url,
    issuer: &str,
    client_id: &str,
    params: &AuthorizationParams,
    delivery: &Delivery,
) -> Result<(Url, Option<Secret>)> {
    let mut url = endpoint.clone();
    let sign = |key: &Option<std::sync::Arc<crate::client_key::ClientKey>>| -> Result<String> {
        let claims = params.request_object_claims(client_id, issuer);
        match key {
            Some(key) => key.sign("oauth-authz-req+jwt", &claims),
            None => Ok(crate::client_key::unsigned(&claims)),
        }
    };
    // RFC 9101 §5, OIDC Core §6.1: with a request object, the OAuth parameters are repeated
    // in the query so that the request is still an OAuth 2.0 one.
    let repeated = |url: &mut Url, extra: (&str, &str)| {
        let mut q = url.query_pairs_mut();
        for name in ["response_type", "client_id", "redirect_uri", "scope"] {
            if let Some(v) = params.get(name) {
                q.append_pair(name, v);
            }
        }
        q.append_pair(extra.0, extra.1);
    };
    match delivery {
        Delivery::Query => {
            url.query_pairs_mut().extend_pairs(params.pairs.iter());
            Ok((url, None))
        }
        Delivery::ByValue { key } => {
            let jwt = sign(key)?;
            repeated(&mut url, ("request", &jwt));
            Ok((url, None))
        }
        Delivery::ByReference { key, request_uri } => {
            let jwt = sign(key)?;
            repeated(&mut url, ("request_uri", request_uri));
            Ok((url, Some(Secret::new(jwt))))
        }
        Delivery::Pushed { .. } => Err(Error::Config(crate::error::ConfigError::PushRequired)),
    }
}

/// Whether the provider's metadata accepts `delivery`'s request object: by value only when
/// `request_parameter_supported` is not false, by reference only when
/// `request_uri_parameter_supported` is not false (OIDC Discovery §3), signed with an
/// algorithm it lists in `request_object_signing_alg_values_supported`, and unsigned
/// (`alg: none`, which the caller asks for by giving no key) only when it lists `none`
/// (RFC 9101 §10.1: an unsigned object is no better than the query).
pub(crate) fn check_request_object(
    metadata: &crate::discovery::ProviderMetadata,
    delivery: &Delivery,
) -> Result<()> {
    let (key, flag, flag_name) = match delivery {
        Delivery::Query => return Ok(()),
        Delivery::ByValue { key } => (
            key,
            metadata.request_parameter_supported(),
            "request_parameter_supported",
        ),
        Delivery::ByReference { key, .. } => (
            key,
            metadata.request_uri_parameter_supported(),
            "request_uri_parameter_supported",
        ),
        // Pushed parameters without a key are not a request object.
        Delivery::Pushed { key: None } => return Ok(()),
        Delivery::Pushed { key } => (key, None, ""),
    };
    let refuse = |why: String| Err(Error::Config(ConfigError::RequestObject(why)));
    if flag == Some(false) {
        return refuse(format!("its metadata says {flag_name}: false"));
    }
    let alg = key.as_ref().map_or("none", |k| k.alg());
    let listed: Option<Vec<String>> =
        metadata
            .request_object_signing_alg_values_supported()
            .map(|algs| {
                algs.iter()
                    .filter_map(|a| serde_json::to_value(a).ok())
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            });
    match listed {
        Some(list) if !list.iter().any(|a| a == alg) => refuse(format!(
            "it lists request_object_signing_alg_values_supported {list:?}, without {alg}"
        )),
        None if alg == "none" => refuse(
            "an unsigned one (alg none) needs `none` in its request_object_signing_alg_values_supported"
                .into(),
        ),
        _ => Ok(()),
    }
}

/// Build the authorization URL: assemble, then deliver.
pub(crate) fn build(
    authorization_endpoint: &Url,
    issuer: &str,
    client_id: &str,
    redirect_uri: &str,
    request: &AuthorizationRequest,
) -> Result<(Url, AuthTransaction)> {
    let (params, mut txn) = assemble(issuer, client_id, redirect_uri, request)?;
    let (url, object) = deliver(
        authorization_endpoint,
        issuer,
        client_id,
        &params,
        &request.delivery,
    )?;
    txn.request_object = object;
    Ok((url, txn))
}

/// The parameters of an authorization response (query or form_post body).
#[derive(Clone, Debug, Default)]
pub struct CallbackParams {
    /// `code`.
    pub code: Option<Secret>,
    /// `state`.
    pub state: Option<String>,
    /// `iss` (RFC 9207).
    pub iss: Option<String>,
    /// `error`.
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
    /// `error_uri`.
    pub error_uri: Option<String>,
    /// `session_state` (Session Management 1.0).
    pub session_state: Option<String>,
    /// `response`: the whole response as a signed JWT (JARM).
    pub response: Option<String>,
    /// `id_token`, from the authorization endpoint (implicit and hybrid flows).
    pub id_token: Option<Secret>,
    /// `access_token`, from the authorization endpoint (implicit and hybrid flows).
    pub access_token: Option<Secret>,
    /// `token_type` of that access token.
    pub token_type: Option<String>,
    /// `expires_in` of that access token, as sent.
    pub expires_in: Option<String>,
}

impl CallbackParams {
    /// Parse form-encoded parameters (a query string or a form_post body).
    ///
    /// A parameter given twice is refused (RFC 6749 §3.1: "parameters MUST NOT be included
    /// more than once"), so two different values can never be read by two different checks.
    ///
    /// ```
    /// use oidc_rp::CallbackParams;
    /// let params = CallbackParams::parse(b"code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj")?;
    /// assert_eq!(params.state.as_deref(), Some("af0ifjsldkj"));
    /// assert!(CallbackParams::parse(b"code=a&code=b").is_err()); // RFC 6749 §3.1
    /// # Ok::<(), oidc_rp::Error>(())
    /// ```
    pub fn parse(form: &[u8]) -> Result<Self> {
        let mut p = CallbackParams::default();
        for (name, value) in url::form_urlencoded::parse(form) {
            let value = value.into_owned();
            let slot = match name.as_ref() {
                "code" | "id_token" | "access_token" => {
                    let slot = match name.as_ref() {
                        "code" => &mut p.code,
                        "id_token" => &mut p.id_token,
                        _ => &mut p.access_token,
                    };
                    if slot.is_some() {
                        return Err(duplicate(&name));
                    }
                    *slot = Some(Secret::new(value));
                    continue;
                }
                "token_type" => &mut p.token_type,
                "expires_in" => &mut p.expires_in,
                "state" => &mut p.state,
                "iss" => &mut p.iss,
                "error" => &mut p.error,
                "error_description" => &mut p.error_description,
                "error_uri" => &mut p.error_uri,
                "session_state" => &mut p.session_state,
                "response" => &mut p.response,
                _ => continue,
            };
            if slot.is_some() {
                return Err(duplicate(&name));
            }
            *slot = Some(value);
        }
        Ok(p)
    }

    /// Parse the parameters of a full redirect URL (as pasted by a user, or seen by a
    /// driver): its fragment when it has one (the implicit and hybrid default), else its query.
    pub fn from_redirect_url(url: &Url) -> Result<Self> {
        match url.fragment().filter(|f| !f.is_empty()) {
            Some(fragment) => CallbackParams::parse(fragment.as_bytes()),
            None => CallbackParams::parse(url.query().unwrap_or("").as_bytes()),
        }
    }
}

fn duplicate(name: &str) -> Error {
    Error::BadResponse {
        what: "authorization response",
        url: "the redirect URI".into(),
        reason: format!("the parameter `{name}` appears more than once (RFC 6749 §3.1)"),
    }
}

impl AuthTransaction {
    /// True when the callback's `state` is this transaction's (constant-time comparison).
    pub fn state_matches(&self, state: Option<&str>) -> bool {
        state.is_some_and(|s| bool::from(s.as_bytes().ct_eq(self.state.expose().as_bytes())))
    }

    /// Check a callback against this transaction: `state`, then the RFC 9207 `iss`
    /// parameter, then an `error`, then the presence of a code.
    ///
    /// `iss_required` is the provider's `authorization_response_iss_parameter_supported`:
    /// when it is true a missing `iss` is an error (RFC 9207 §2.4), and a present `iss` must
    /// always equal the issuer. An `error` response is returned as
    /// [`Error::Authorization`] only after `state` and `iss` held, so a forged error cannot
    /// cancel someone's login.
    pub fn check_callback(
        &self,
        params: &CallbackParams,
        iss_required: bool,
        report: &mut Report,
    ) -> Result<Secret> {
        self.check_origin(params, iss_required, report)?;
        match &params.code {
            Some(code) if !code.expose().is_empty() => {
                report.pass(CheckId::Code, "present");
                Ok(code.clone())
            }
            _ => Err(fail(
                report,
                CheckId::Code,
                "the response carries neither a code nor an error".into(),
            )),
        }
    }

    /// The checks every authorization response passes first, whatever it carries: `state`,
    /// the RFC 9207 `iss` parameter, then an `error` (see [`AuthTransaction::check_callback`]).
    pub fn check_origin(
        &self,
        params: &CallbackParams,
        iss_required: bool,
        report: &mut Report,
    ) -> Result<()> {
        match params.state.as_deref() {
            None => {
                return Err(fail(
                    report,
                    CheckId::State,
                    "the response carries no state; it does not answer this request".into(),
                ));
            }
            Some(s) if !self.state_matches(Some(s)) => {
                return Err(fail(
                    report,
                    CheckId::State,
                    "the response's state is not the one sent: a forged, replayed or stale response".into(),
                ));
            }
            Some(_) => report.pass(CheckId::State, "equals the state sent"),
        }
        match params.iss.as_deref() {
            Some(iss) if iss != self.issuer => {
                return Err(fail(
                    report,
                    CheckId::IssParameter,
                    format!(
                        "iss is `{}` but the request went to `{}` (mix-up attack?)",
                        truncate(iss, 200),
                        self.issuer
                    ),
                ));
            }
            Some(_) => report.pass(CheckId::IssParameter, "equals the issuer"),
            // The mix-up defence RFC 9207 adds is already in a response that carries an ID
            // token: its `iss` is checked before anything else in the response is used, and
            // OpenID providers (oidc-provider) send no `iss` parameter beside one.
            None if iss_required
                && self.response_type.has_id_token()
                && params.id_token.is_some() =>
            {
                report.pass(
                    CheckId::IssParameter,
                    "not sent; the front-channel ID token's iss, checked before use, stands for it",
                )
            }
            None if iss_required => {
                return Err(fail(
                    report,
                    CheckId::IssParameter,
                    "the provider advertises authorization_response_iss_parameter_supported but sent no iss".into(),
                ));
            }
            None => report.pass(
                CheckId::IssParameter,
                "not sent; the provider does not advertise RFC 9207",
            ),
        }
        if let Some(error) = &params.error {
            return Err(Error::Authorization(AuthorizationError {
                error: truncate(error, 80),
                description: params
                    .error_description
                    .as_deref()
                    .map(|d| truncate(d, 300)),
                uri: params.error_uri.as_deref().map(|u| truncate(u, 200)),
            }));
        }
        Ok(())
    }
}

/// A failed check of the authorization response, recorded in the report.
pub(crate) fn fail(report: &mut Report, check: CheckId, detail: String) -> Error {
    report.fail(check, detail.clone());
    Error::Validation(ValidationError {
        subject: "authorization response",
        check,
        detail,
        report: report.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txn() -> (Url, AuthTransaction) {
        build(
            &Url::parse("https://op.example/authorize?tenant=a").unwrap(),
            "https://op.example",
            "client",
            "http://127.0.0.1:5000/callback",
            &AuthorizationRequest {
                scopes: vec!["profile".into()],
                max_age: Some(60),
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn url_has_every_protection() {
        let (url, t) = txn();
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["tenant"], "a");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["scope"], "openid profile");
        assert_eq!(q["state"], t.state.expose());
        assert_eq!(q["nonce"], t.nonce.expose());
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["max_age"], "60");
        assert!(q["code_challenge"].len() >= 43);
        assert!(t.state.expose().len() >= 43);
        let (_, t2) = txn();
        assert_ne!(t.state, t2.state);
        assert_ne!(t.nonce, t2.nonce);
    }

    #[test]
    fn reserved_extra_parameters_are_refused() {
        let err = build(
            &Url::parse("https://op.example/authorize").unwrap(),
            "https://op.example",
            "c",
            "http://127.0.0.1/cb",
            &AuthorizationRequest {
                extra: vec![("state".into(), "x".into())],
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("`state`"));
    }

    #[test]
    fn the_same_parameters_go_by_value_or_by_reference() {
        let endpoint = Url::parse("https://op.example/authorize").unwrap();
        let request = AuthorizationRequest {
            scopes: vec!["profile".into()],
            max_age: Some(60),
            ..Default::default()
        };
        let (params, _) =
            assemble("https://op.example", "c", "http://127.0.0.1/cb", &request).unwrap();
        let claims = params.request_object_claims("c", "https://op.example");
        assert_eq!(claims["aud"], "https://op.example");
        assert_eq!(claims["max_age"], 60);
        assert_eq!(claims["code_challenge_method"], "S256");
        let (by_value, object) = deliver(
            &endpoint,
            "https://op.example",
            "c",
            &params,
            &Delivery::ByValue { key: None },
        )
        .unwrap();
        assert!(object.is_none());
        let q: std::collections::HashMap<_, _> = by_value.query_pairs().into_owned().collect();
        assert!(q["request"].ends_with('.'), "unsigned: alg none");
        assert!(!q.contains_key("state"), "only in the object");
        let (by_ref, object) = deliver(
            &endpoint,
            "https://op.example",
            "c",
            &params,
            &Delivery::ByReference {
                key: None,
                request_uri: "https://rp.example/r/1".into(),
            },
        )
        .unwrap();
        assert!(object.is_some());
        assert!(by_ref.as_str().contains("request_uri=https"));
    }

    fn check(t: &AuthTransaction, query: &str, iss_required: bool) -> Result<Secret> {
        t.check_callback(
            &CallbackParams::parse(query.as_bytes())?,
            iss_required,
            &mut Report::new(),
        )
    }

    #[test]
    fn callback_checks() {
        let (_, t) = txn();
        let s = t.state.expose().to_string();
        let ok = check(
            &t,
            &format!("code=abc&state={s}&iss=https%3A%2F%2Fop.example"),
            true,
        )
        .unwrap();
        assert_eq!(ok.expose(), "abc");
        check(&t, &format!("code=abc&state={s}"), false).unwrap();

        let e = check(&t, "code=abc&state=other", false).unwrap_err();
        assert_eq!(e.check(), Some(CheckId::State));
        let e = check(&t, "code=abc", false).unwrap_err();
        assert_eq!(e.check(), Some(CheckId::State));
        let e = check(&t, &format!("code=abc&state={s}"), true).unwrap_err();
        assert_eq!(e.check(), Some(CheckId::IssParameter));
        let e = check(
            &t,
            &format!("code=abc&state={s}&iss=https%3A%2F%2Fevil.example"),
            false,
        )
        .unwrap_err();
        assert_eq!(e.check(), Some(CheckId::IssParameter));
        let e = check(
            &t,
            &format!("error=access_denied&error_description=no&state={s}"),
            false,
        )
        .unwrap_err();
        assert!(
            matches!(e, Error::Authorization(ref a) if a.error == "access_denied"),
            "{e}"
        );
        // A forged error with a wrong state is a state failure, not an authorization error.
        let e = check(&t, "error=access_denied&state=x", false).unwrap_err();
        assert_eq!(e.check(), Some(CheckId::State));
        let e = check(&t, &format!("state={s}"), false).unwrap_err();
        assert_eq!(e.check(), Some(CheckId::Code));
        let e = check(&t, &format!("code=a&code=b&state={s}"), false).unwrap_err();
        assert!(e.to_string().contains("more than once"));
    }

    fn metadata_with(extra: serde_json::Value) -> crate::discovery::ProviderMetadata {
        let mut doc = serde_json::json!({
            "issuer": "https://op.example",
            "authorization_endpoint": "https://op.example/authorize",
            "jwks_uri": "https://op.example/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        });
        for (k, v) in extra.as_object().unwrap() {
            doc[k] = v.clone();
        }
        serde_json::from_value(doc).unwrap()
    }

    /// RFC 9101 §10.1 and OIDC Discovery §3: an unsigned object only where the provider lists
    /// `none`; a signed one only with an algorithm it lists; by value or reference not where
    /// it says it takes none.
    #[test]
    fn request_objects_the_provider_rules_out_are_refused() {
        use serde_json::json;
        let key = std::sync::Arc::new(
            crate::client_key::ClientKey::from_pem(include_str!(
                "../../../fixtures/client-keys/rp-fapi.pem"
            ))
            .unwrap(),
        );
        let unsigned = Delivery::ByValue { key: None };
        let signed = Delivery::ByValue {
            key: Some(key.clone()),
        };
        let by_ref = Delivery::ByReference {
            key: Some(key.clone()),
            request_uri: "https://rp.example/r".into(),
        };
        let refused = |m: &crate::discovery::ProviderMetadata, d: &Delivery| {
            matches!(
                check_request_object(m, d),
                Err(Error::Config(ConfigError::RequestObject(_)))
            )
        };
        let silent = metadata_with(json!({}));
        assert!(refused(&silent, &unsigned));
        assert!(!refused(&silent, &signed));
        assert!(!refused(&silent, &by_ref));
        let with_none = metadata_with(
            json!({"request_object_signing_alg_values_supported": ["none", "RS256"]}),
        );
        assert!(!refused(&with_none, &unsigned));
        assert!(refused(&with_none, &signed), "ES256 is not listed");
        let no_value = metadata_with(json!({"request_parameter_supported": false}));
        assert!(refused(&no_value, &signed));
        assert!(!refused(&no_value, &by_ref));
        let no_ref = metadata_with(json!({"request_uri_parameter_supported": false}));
        assert!(refused(&no_ref, &by_ref));
        assert!(!refused(&no_ref, &Delivery::Query));
        assert!(!refused(&no_ref, &Delivery::Pushed { key: None }));
    }
}
