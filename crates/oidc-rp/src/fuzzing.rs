//! Entry points for the fuzz targets (`fuzz/`) and their committed regression inputs, replayed
//! on stable by the tests: what a provider sends, checked by the same code as in a real
//! exchange, without a network. Not part of the API: hidden, and free to change.

use crate::error::Result;
use crate::http::HttpResponse;
use crate::introspect::{IntrospectionResponse, JwtRules, read_jwt_response};
use crate::jose::Alg;
use crate::jwt::KeySource;
use crate::report::Report;
use crate::secret::Secret;
use crate::userinfo::{UserInfo, UserinfoRules, read_response};
use std::time::Duration;

fn response(content_type: &str, body: &[u8]) -> HttpResponse {
    let mut r = http::Response::new(body.to_vec());
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    r
}

fn url(issuer: &str, path: &str) -> url::Url {
    url::Url::parse(issuer)
        .and_then(|u| u.join(path))
        .unwrap_or_else(|_| url::Url::parse("https://op.invalid/").expect("a fixed URL"))
}

/// A userinfo response with this content type and body, for `client_id` at `issuer`, the ID
/// token's `sub` being `expected_sub`.
#[allow(clippy::too_many_arguments)]
pub async fn userinfo_response(
    content_type: &str,
    body: &[u8],
    issuer: &str,
    client_id: &str,
    expected_sub: Option<&str>,
    signed_alg: Option<Alg>,
    client_secret: Option<&Secret>,
    keys: KeySource<'_>,
) -> Result<UserInfo> {
    let rules = UserinfoRules {
        expected_sub,
        issuer,
        client_id,
        signed_alg,
        client_secret,
        token_in_body: false,
    };
    read_response(
        &url(issuer, "/userinfo"),
        &response(content_type, body),
        rules,
        keys,
    )
    .await
}

/// A signed introspection response (RFC 9701) with this content type and body.
pub async fn introspection_jwt_response(
    content_type: &str,
    body: &[u8],
    issuer: &str,
    client_id: &str,
    allowed_algs: &[Alg],
    client_secret: Option<&Secret>,
    keys: KeySource<'_>,
) -> Result<(IntrospectionResponse, Report)> {
    let rules = JwtRules {
        issuer,
        client_id,
        allowed_algs,
        client_secret,
        clock: crate::time::Clock::new(None, Duration::from_secs(60)),
    };
    read_jwt_response(
        &url(issuer, "/introspect"),
        &response(content_type, body),
        rules,
        keys,
    )
    .await
}

/// A discovery document with this content type and body, for `issuer`.
pub fn discovery_document(
    content_type: &str,
    body: &[u8],
    issuer: &str,
    rfc8414: bool,
) -> Result<crate::ProviderMetadata> {
    crate::discovery::check_document(
        issuer,
        &url(issuer, "/.well-known/openid-configuration"),
        &response(content_type, body),
        rfc8414,
    )
}
