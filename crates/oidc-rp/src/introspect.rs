//! Token introspection (RFC 7662), and its signed JWT response (RFC 9701).
//!
//! `active: false` is a normal answer (the token is unknown, expired, revoked, or not for
//! this client), not an error.

use crate::endpoint::Call;
use crate::error::{Error, Result, display_url};
use crate::jose::Alg;
use crate::jwt::{
    Checker, KeySource, SignaturePolicy, TypRule, aud_contains, string_claim, verify_signed,
};
use crate::report::{CheckId, Report};
use crate::secret::Secret;
use crate::time::{Clock, numeric_date_value};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// An introspection response (RFC 7662 §2.2). Unknown members are kept in `extra`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IntrospectionResponse {
    /// Whether the token is active.
    pub active: bool,
    /// Space-separated scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client the token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// A human-readable identifier of the resource owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The token's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// Expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issue time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Not-before time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Audiences (a string or an array on the wire).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub aud: Vec<String>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(a)) => vec![a],
        Some(OneOrMany::Many(v)) => v,
    })
}

/// What the JWT response (RFC 9701) is checked against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JwtRules<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub allowed_algs: &'a [Alg],
    pub client_secret: Option<&'a Secret>,
    pub clock: Clock,
}

fn params<'t>(token: &'t str, hint: Option<&'t str>) -> Vec<(&'static str, &'t str)> {
    let mut params = vec![("token", token)];
    if let Some(h) = hint {
        params.push(("token_type_hint", h));
    }
    params
}

pub(crate) async fn introspect(
    call: Call<'_>,
    token: &str,
    hint: Option<&str>,
) -> Result<IntrospectionResponse> {
    call.json("introspection response", &params(token, hint))
        .await
}

/// Introspect asking for a signed response, then validate it: `typ` must be
/// `token-introspection+jwt`, the signature must verify, `iss` must be the issuer, `aud` the
/// client, `iat` present (RFC 9701 §5, §8.1).
pub(crate) async fn introspect_jwt(
    call: Call<'_>,
    token: &str,
    hint: Option<&str>,
    rules: JwtRules<'_>,
    keys: KeySource<'_>,
) -> Result<(IntrospectionResponse, Report)> {
    let response = call
        .post(&params(token, hint), "application/token-introspection+jwt")
        .await?;
    read_jwt_response(call.url, &response, rules, keys).await
}

/// Check a signed introspection response (RFC 9701 §5): separate from the request so that
/// what a provider sends can be checked (and fuzzed) without a network.
pub(crate) async fn read_jwt_response(
    endpoint: &url::Url,
    response: &crate::http::HttpResponse,
    rules: JwtRules<'_>,
    keys: KeySource<'_>,
) -> Result<(IntrospectionResponse, Report)> {
    let url = display_url(endpoint.as_str());
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/token-introspection+jwt") {
        return Err(Error::BadResponse {
            what: "introspection response",
            url,
            reason: format!(
                "a signed response was asked for (RFC 9701) but the content type is `{content_type}`"
            ),
        });
    }
    let raw = String::from_utf8_lossy(response.body()).trim().to_string();
    let mut c = Checker::new("introspection response");
    let policy = SignaturePolicy {
        allowed_algs: rules.allowed_algs,
        client_secret: rules.client_secret,
        typ: TypRule::Exactly("token-introspection+jwt"),
    };
    let (_, payload) = verify_signed(&raw, &policy, keys, &mut c).await?;
    let claims: Map<String, Value> = serde_json::from_slice(&payload).map_err(|e| {
        c.fail(
            CheckId::Format,
            format!("the claims are not a JSON object: {e}"),
        )
    })?;
    c.issuer(string_claim(&claims, "iss"), rules.issuer)?;
    if !aud_contains(claims.get("aud"), rules.client_id) {
        return Err(c.fail(CheckId::Audience, "aud does not name this client"));
    }
    c.report.pass(CheckId::Audience, "is this client");
    match claims.get("iat").map(numeric_date_value) {
        Some(Ok(iat)) if rules.clock.not_after_now(iat) => c.report.pass(
            CheckId::IssuedAt,
            format!("present ({})", rules.clock.note()),
        ),
        Some(Ok(iat)) => {
            return Err(c.fail(
                CheckId::IssuedAt,
                format!(
                    "iat is {} s in the future ({})",
                    rules.clock.until(iat),
                    rules.clock.note()
                ),
            ));
        }
        Some(Err(e)) => return Err(c.fail(CheckId::IssuedAt, e.message("iat"))),
        None => return Err(c.fail(CheckId::IssuedAt, "iat is missing")),
    }
    let body = claims
        .get("token_introspection")
        .cloned()
        .ok_or_else(|| c.fail(CheckId::Format, "token_introspection is missing"))?;
    let parsed: IntrospectionResponse = serde_json::from_value(body).map_err(|e| {
        c.fail(
            CheckId::Format,
            format!("token_introspection is malformed: {e}"),
        )
    })?;
    Ok((parsed, c.report))
}
