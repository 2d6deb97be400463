//! The userinfo endpoint (OIDC Core §5.3): JSON or a signed JWT, whose `sub` must be the
//! ID token's (§5.3.4: otherwise "the UserInfo Response values MUST NOT be used").

use crate::endpoint::{RequestDecorator, send};
use crate::error::{Error, Result, display_url};
use crate::http::{HttpClient, parse_json, provider_error};
use crate::jose::Alg;
use crate::jwt::{Checker, KeySource, SignaturePolicy, TypRule, verify_signed};
use crate::report::{CheckId, Report};
use crate::secret::Secret;
use crate::token::AccessToken;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

/// Userinfo claims, checked. It round-trips through serde (a web session keeps it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserInfo {
    /// The claims.
    pub claims: Map<String, Value>,
    /// Whether the response was a signed JWT.
    pub signed: bool,
    /// The checks made.
    pub report: Report,
}

/// What a userinfo response is checked against.
#[derive(Debug, Clone, Copy)]
pub struct UserinfoRules<'a> {
    /// The ID token's `sub`; `None` when no ID token is at hand (then it is not compared).
    pub expected_sub: Option<&'a str>,
    /// The issuer (a signed response's `iss`, when present, must equal it).
    pub issuer: &'a str,
    /// The client (a signed response's `aud`, when present, must contain it).
    pub client_id: &'a str,
    /// The registered `userinfo_signed_response_alg`: a JSON answer is then refused.
    pub signed_alg: Option<Alg>,
    /// The client secret, for HMAC-signed responses.
    pub client_secret: Option<&'a Secret>,
    /// Send the token in a form body (RFC 6750 §2.2) instead of the header (§2.1).
    pub token_in_body: bool,
}

/// Build the userinfo request: the token in the `Authorization` header with its scheme
/// (RFC 6750 §2.1, RFC 9449 §7.1), never the query; or in a form body (RFC 6750 §2.2).
fn request(
    endpoint: &Url,
    access_token: &AccessToken,
    in_body: bool,
) -> Result<http::Request<Vec<u8>>> {
    let request = if in_body {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("access_token", access_token.expose())
            .finish();
        http::Request::post(endpoint.as_str())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(ACCEPT, "application/json, application/jwt")
            .body(body.into_bytes())
    } else {
        http::Request::get(endpoint.as_str())
            .header(AUTHORIZATION, access_token.authorization())
            .header(ACCEPT, "application/json, application/jwt")
            .body(Vec::new())
    };
    request.map_err(|e| Error::InvalidUrl {
        url: display_url(endpoint.as_str()),
        reason: e.to_string(),
    })
}

/// Call userinfo with an access token, through the one request path.
pub(crate) async fn fetch(
    http: &HttpClient,
    decorator: Option<&dyn RequestDecorator>,
    endpoint: &Url,
    access_token: &AccessToken,
    rules: UserinfoRules<'_>,
    keys: KeySource<'_>,
) -> Result<UserInfo> {
    http.check_url(endpoint, "userinfo endpoint")?;
    let response = send(http, decorator, Some(access_token), || {
        request(endpoint, access_token, rules.token_in_body)
    })
    .await?;
    if !response.status().is_success() {
        return Err(provider_error("userinfo", &response));
    }
    read_response(endpoint, &response, rules, keys).await
}

/// Check a successful userinfo response: a signed JWT (by its content type) or JSON, and its
/// `sub` (§5.3.2, §5.3.4). Separate from the request so that what a provider sends can be
/// checked (and fuzzed) without a network.
pub(crate) async fn read_response(
    endpoint: &Url,
    response: &crate::http::HttpResponse,
    rules: UserinfoRules<'_>,
    keys: KeySource<'_>,
) -> Result<UserInfo> {
    let is_jwt = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/jwt")
        });
    let mut c = Checker::new("userinfo response");
    let (claims, signed) = if is_jwt {
        let raw = std::str::from_utf8(response.body()).map_err(|_| Error::BadResponse {
            what: "signed userinfo response",
            url: display_url(endpoint.as_str()),
            reason: "not UTF-8".into(),
        })?;
        let allowed: Vec<Alg> = match rules.signed_alg {
            Some(alg) => vec![alg],
            None => vec![Alg::RS256, Alg::ES256, Alg::EdDSA, Alg::PS256],
        };
        let policy = SignaturePolicy {
            allowed_algs: &allowed,
            client_secret: rules.client_secret,
            typ: TypRule::NotForeign,
        };
        let (_, payload) = verify_signed(raw.trim(), &policy, keys, &mut c).await?;
        let claims: Map<String, Value> = serde_json::from_slice(&payload).map_err(|e| {
            c.fail(
                CheckId::Format,
                format!("the claims are not a JSON object: {e}"),
            )
        })?;
        // §5.3.2: a signed response SHOULD contain iss and aud; when present they must be right.
        if let Some(iss) = claims.get("iss")
            && iss.as_str() != Some(rules.issuer)
        {
            return Err(c.fail(
                CheckId::UserinfoClaims,
                format!("iss is {iss}, not {}", rules.issuer),
            ));
        }
        if let Some(aud) = claims.get("aud")
            && !crate::jwt::aud_contains(Some(aud), rules.client_id)
        {
            return Err(c.fail(
                CheckId::UserinfoClaims,
                format!("aud is {aud}, without this client"),
            ));
        }
        c.report.pass(
            CheckId::UserinfoClaims,
            "iss and aud, where present, name the issuer and this client",
        );
        (claims, true)
    } else {
        if let Some(alg) = rules.signed_alg {
            return Err(c.fail(
                CheckId::Signature,
                format!("the client registered userinfo_signed_response_alg {alg} but the response is not a JWT"),
            ));
        }
        let claims: Map<String, Value> =
            parse_json(endpoint.as_str(), "userinfo response", response)?;
        (claims, false)
    };
    match (
        claims.get("sub").and_then(Value::as_str),
        rules.expected_sub,
    ) {
        (Some(_), None) => {
            c.report
                .pass(CheckId::UserinfoSub, "not compared: no ID token at hand");
        }
        (Some(sub), Some(expected)) if sub == expected => {
            c.report
                .pass(CheckId::UserinfoSub, "equals the ID token's sub");
        }
        (Some(sub), Some(expected)) => {
            return Err(c.fail(
                CheckId::UserinfoSub,
                format!(
                    "sub is `{}` but the ID token's is `{}`; these claims may be another user's",
                    crate::error::truncate(sub, 80),
                    expected
                ),
            ));
        }
        (None, _) => return Err(c.fail(CheckId::UserinfoSub, "the response has no sub")),
    }
    Ok(UserInfo {
        claims,
        signed,
        report: c.report,
    })
}
