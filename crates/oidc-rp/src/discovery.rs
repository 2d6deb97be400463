//! Provider discovery: OpenID Connect Discovery 1.0 with an RFC 8414 fallback.
//!
//! The document is parsed into `openidconnect`'s [`openidconnect::ProviderMetadata`] with the
//! extra members later specifications added ([`ExtraProviderMetadata`]). Its `issuer` must be
//! exactly the issuer asked for (Discovery §4.3, RFC 8414 §3.3): a mismatch is reported with
//! both values.

use crate::error::{Error, Result, display_url, truncate};
use crate::http::{HttpClient, parse_json, provider_error};
use crate::store::{DocumentStore, SharedDocument};
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use url::Url;

/// Provider metadata members defined after OpenID Connect Discovery 1.0.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct ExtraProviderMetadata {
    /// RP-Initiated Logout 1.0 §2.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
    /// RFC 8414 §2 / RFC 7662.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
    /// RFC 8414 §2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// RFC 8414 §2 / RFC 7009.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// RFC 8414 §2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// RFC 9701 §7: algorithms of signed introspection responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_signing_alg_values_supported: Option<Vec<String>>,
    /// RFC 9207 §3: the provider sends `iss` in authorization responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// RFC 8414 §2 (PKCE methods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// Front-Channel Logout 1.0 §3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_supported: Option<bool>,
    /// Front-Channel Logout 1.0 §3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_session_supported: Option<bool>,
    /// Back-Channel Logout 1.0 §2.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_supported: Option<bool>,
    /// Back-Channel Logout 1.0 §2.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_session_supported: Option<bool>,
    /// Session Management 1.0 §3.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_session_iframe: Option<String>,
    /// RFC 8628 §4: the device authorization endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<String>,
    /// RFC 9126 §5: the pushed authorization request endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// RFC 9126 §5: authorization requests must be pushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_pushed_authorization_requests: Option<bool>,
    /// RFC 8705 §5: endpoints to use instead when authenticating with mutual TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls_endpoint_aliases: Option<serde_json::Map<String, serde_json::Value>>,
    /// RFC 8705 §3.3: access tokens are bound to the client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_certificate_bound_access_tokens: Option<bool>,
    /// JARM §3: the algorithms authorization responses are signed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_signing_alg_values_supported: Option<Vec<String>>,
    /// RFC 9449 §5.1: the DPoP proof algorithms the provider accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
}

impl openidconnect::AdditionalProviderMetadata for ExtraProviderMetadata {}

/// Provider metadata: `openidconnect`'s type with our extra members.
pub type ProviderMetadata = openidconnect::ProviderMetadata<
    ExtraProviderMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// Discover a provider: fetch and check its metadata (see [`fetch`]). Nothing is cached
/// process-wide: a [`crate::RelyingParty`] holds the document it was made with, so two
/// relying parties with different TLS settings never share one.
///
/// ```no_run
/// # async fn f() -> oidc_rp::Result<()> {
/// use oidc_rp::{HttpClient, discovery};
/// let metadata = discovery::discover(&HttpClient::default(), "https://op.example.com").await?;
/// println!("authorize at {}", metadata.authorization_endpoint().url());
/// # Ok(()) }
/// ```
pub async fn discover(http: &HttpClient, issuer: &str) -> Result<Arc<ProviderMetadata>> {
    Ok(Arc::new(fetch(http, issuer).await?))
}

/// Discover through a [`DocumentStore`] shared by several instances: metadata another
/// instance fetched less than `max_age` ago is used, checked again as if just fetched (its
/// `issuer` must be exactly `issuer`); else it is fetched ([`fetch`]) and shared. A store that
/// fails is passed over (logged), never trusted blindly: the document comes from the provider.
///
/// ```no_run
/// # async fn f(shared: &dyn oidc_rp::store::DocumentStore) -> oidc_rp::Result<()> {
/// use oidc_rp::{HttpClient, discovery};
/// let max_age = std::time::Duration::from_secs(3600);
/// let metadata = discovery::discover_shared(&HttpClient::default(), "https://op.example.com", shared, max_age).await?;
/// # let _ = metadata; Ok(()) }
/// ```
pub async fn discover_shared(
    http: &HttpClient,
    issuer: &str,
    store: &dyn DocumentStore,
    max_age: std::time::Duration,
) -> Result<Arc<ProviderMetadata>> {
    let key = format!("metadata {issuer}");
    let now = crate::time::unix_now();
    match store.get_document(&key).await {
        Ok(Some(doc))
            if (0..max_age.as_secs() as i64).contains(&now.saturating_sub(doc.fetched_at)) =>
        {
            match shared_metadata(http, issuer, &doc.body) {
                Ok(metadata) => return Ok(Arc::new(metadata)),
                Err(e) => {
                    tracing::warn!(target: "rp::discovery", "the shared metadata of {issuer} is refused: {e}; fetching it")
                }
            }
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(target: "rp::discovery", "the shared document store failed: {e}; fetching the metadata")
        }
    }
    let metadata = fetch(http, issuer).await?;
    match serde_json::to_string(&metadata) {
        Ok(body) => {
            let doc = SharedDocument {
                body,
                fetched_at: now,
            };
            let expires = now.saturating_add(max_age.as_secs() as i64);
            if let Err(e) = store.put_document(&key, &doc, expires).await {
                tracing::warn!(target: "rp::discovery", "could not share the metadata of {issuer}: {e}");
            }
        }
        Err(e) => {
            tracing::warn!(target: "rp::discovery", "could not share the metadata of {issuer}: {e}")
        }
    }
    Ok(Arc::new(metadata))
}

/// Metadata read back from a shared store: the issuer passes the same URL policy as for a
/// fetch, and the document must name exactly that issuer.
fn shared_metadata(http: &HttpClient, issuer: &str, body: &str) -> Result<ProviderMetadata> {
    issuer_url(http, issuer)?;
    let metadata: ProviderMetadata =
        serde_json::from_str(body).map_err(|e| Error::BadResponse {
            what: "shared discovery document",
            url: display_url(issuer),
            reason: e.to_string(),
        })?;
    if metadata.issuer().as_str() != issuer {
        return Err(Error::IssuerMismatch {
            expected: issuer.to_string(),
            found: metadata.issuer().to_string(),
            url: display_url(issuer),
        });
    }
    Ok(metadata)
}

/// The two places metadata can live for an issuer: the OpenID location
/// (`{issuer}/.well-known/openid-configuration`, Discovery §4) and the RFC 8414 location
/// (`/.well-known/oauth-authorization-server{path}`, RFC 8414 §3.1).
///
/// ```
/// let issuer = url::Url::parse("https://op.example/tenant").unwrap();
/// let (oidc, oauth) = oidc_rp::discovery::metadata_urls(&issuer);
/// assert_eq!(oidc.as_str(), "https://op.example/tenant/.well-known/openid-configuration");
/// assert_eq!(oauth.as_str(), "https://op.example/.well-known/oauth-authorization-server/tenant");
/// ```
pub fn metadata_urls(issuer: &Url) -> (Url, Url) {
    let mut oidc = issuer.clone();
    let path = issuer.path().trim_end_matches('/');
    oidc.set_path(&format!("{path}/.well-known/openid-configuration"));
    let mut oauth = issuer.clone();
    oauth.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    (oidc, oauth)
}

/// The issuer as a URL, as every discovery path takes it: absolute, without query or fragment
/// (Discovery §2), and allowed by the HTTP client's policy (https, or loopback).
fn issuer_url(http: &HttpClient, issuer: &str) -> Result<Url> {
    let url = Url::parse(issuer).map_err(|e| Error::InvalidUrl {
        url: display_url(issuer),
        reason: format!("{e}; give the issuer as an absolute URL such as https://op.example.com"),
    })?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::InvalidUrl {
            url: display_url(issuer),
            reason: "an issuer has no query or fragment (OpenID Connect Discovery 1.0 §2)".into(),
        });
    }
    http.check_url(&url, "issuer")?;
    Ok(url)
}

/// Fetch and check a discovery document, bypassing the cache.
pub async fn fetch(http: &HttpClient, issuer: &str) -> Result<ProviderMetadata> {
    let (oidc_url, oauth_url) = metadata_urls(&issuer_url(http, issuer)?);

    let response = http.get(&oidc_url, "application/json").await?;
    let (url, response, rfc8414) = if response.status().is_success() {
        (oidc_url, response, false)
    } else if response.status().is_client_error() {
        tracing::debug!(
            target: "rp::discovery",
            status = response.status().as_u16(),
            "no OpenID configuration; trying RFC 8414 metadata"
        );
        let fallback = http.get(&oauth_url, "application/json").await?;
        if !fallback.status().is_success() {
            return Err(Error::BadResponse {
                what: "discovery document",
                url: display_url(oidc_url.as_str()),
                reason: format!(
                    "HTTP {} there and HTTP {} at the RFC 8414 location {}; is `{issuer}` really the issuer?",
                    response.status().as_u16(),
                    fallback.status().as_u16(),
                    display_url(oauth_url.as_str())
                ),
            });
        }
        (oauth_url, fallback, true)
    } else {
        return Err(provider_error("discovery", &response));
    };

    check_document(issuer, &url, &response, rfc8414)
}

/// Parse and check a discovery document fetched from `url` for `issuer`: JSON (by content
/// type), an object, `issuer` exactly the one asked for (Discovery §4.3, RFC 8414 §3.3), the
/// members the OpenID metadata type requires; an RFC 8414 document (`rfc8414`) gets the
/// OpenID defaults for the members it may lack. What [`fetch`] does with the response it
/// gets; public for callers that fetch or store documents themselves.
///
/// ```
/// # use oidc_rp::discovery::check_document;
/// let doc = br#"{"issuer":"https://op.example","authorization_endpoint":"https://op.example/a",
///   "jwks_uri":"https://op.example/jwks","response_types_supported":["code"],
///   "subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}"#;
/// let response = http::Response::builder()
///     .header("content-type", "application/json")
///     .body(doc.to_vec())
///     .unwrap();
/// let url = url::Url::parse("https://op.example/.well-known/openid-configuration").unwrap();
/// assert!(check_document("https://op.example", &url, &response, false).is_ok());
/// assert!(check_document("https://op.example/other", &url, &response, false).is_err());
/// ```
pub fn check_document(
    issuer: &str,
    url: &Url,
    response: &crate::HttpResponse,
    rfc8414: bool,
) -> Result<ProviderMetadata> {
    let mut doc: serde_json::Value = parse_json(url.as_str(), "discovery document", response)?;
    let Some(object) = doc.as_object_mut() else {
        return Err(Error::BadResponse {
            what: "discovery document",
            url: display_url(url.as_str()),
            reason: "not a JSON object".into(),
        });
    };
    let found = object
        .get("issuer")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    match found {
        None => {
            return Err(Error::BadResponse {
                what: "discovery document",
                url: display_url(url.as_str()),
                reason: "it has no `issuer`".into(),
            });
        }
        Some(found) if found != issuer => {
            return Err(Error::IssuerMismatch {
                expected: issuer.to_string(),
                found,
                url: display_url(url.as_str()),
            });
        }
        Some(_) => {}
    }
    if rfc8414 {
        // RFC 8414 documents need not carry the OpenID-only members openidconnect requires;
        // their OpenID defaults apply (Discovery §3: RS256 MUST be supported).
        object
            .entry("subject_types_supported")
            .or_insert_with(|| serde_json::json!(["public"]));
        object
            .entry("id_token_signing_alg_values_supported")
            .or_insert_with(|| serde_json::json!(["RS256"]));
    }
    serde_json::from_value(doc).map_err(|e| Error::BadResponse {
        what: "discovery document",
        url: display_url(url.as_str()),
        reason: e.to_string(),
    })
}

/// The members of an RFC 8414 authorization server metadata document that an OpenID document
/// may lack: providers such as django-oauth-toolkit list their introspection, revocation and
/// registration endpoints only there. Read when an operation needs an endpoint the OpenID
/// document does not name; the OpenID document wins where both name one.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct AuthServerMetadata {
    /// RFC 8414 §2 `issuer` (checked to be exactly the issuer).
    pub issuer: String,
    /// RFC 7591 `registration_endpoint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    /// RFC 7662 `introspection_endpoint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
    /// RFC 8414 §2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// RFC 7009 `revocation_endpoint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// RFC 8414 §2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// RFC 9701 §7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_signing_alg_values_supported: Option<Vec<String>>,
    /// Not an RFC 8414 member, but some providers list it there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
    /// RFC 8628 §4 `device_authorization_endpoint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<String>,
    /// RFC 9126 §5 `pushed_authorization_request_endpoint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<String>,
}

/// Fetch the RFC 8414 document of `issuer` (`/.well-known/oauth-authorization-server{path}`),
/// with the same exact issuer check as discovery (RFC 8414 §3.3). `None` when the provider
/// serves none (HTTP 404 or another client error).
pub async fn authorization_server_metadata(
    http: &HttpClient,
    issuer: &str,
) -> Result<Option<AuthServerMetadata>> {
    let issuer_url = Url::parse(issuer).map_err(|e| Error::InvalidUrl {
        url: display_url(issuer),
        reason: e.to_string(),
    })?;
    http.check_url(&issuer_url, "issuer")?;
    let (_, url) = metadata_urls(&issuer_url);
    let response = http.get(&url, "application/json").await?;
    if response.status().is_client_error() {
        return Ok(None);
    }
    if !response.status().is_success() {
        return Err(provider_error("discovery", &response));
    }
    let doc: AuthServerMetadata = parse_json(url.as_str(), "RFC 8414 metadata", &response)?;
    if doc.issuer != issuer {
        return Err(Error::IssuerMismatch {
            expected: issuer.to_string(),
            found: doc.issuer,
            url: display_url(url.as_str()),
        });
    }
    Ok(Some(doc))
}

/// The WebFinger relation of OpenID Connect issuers (Discovery §2).
pub const ISSUER_REL: &str = "http://openid.net/specs/connect/1.0/issuer";

/// Normalise a user input for WebFinger (Discovery §2.1): `user@host` becomes
/// `acct:user@host`; a URL without scheme gets `https://`. Returns the resource and the host
/// (with port) to ask.
pub fn webfinger_resource(input: &str) -> Result<(String, String)> {
    let input = input.trim();
    let bad = |reason: &str| Error::InvalidUrl {
        url: truncate(input, 100),
        reason: reason.into(),
    };
    if let Some(acct) = input
        .strip_prefix("acct:")
        .or_else(|| (!input.contains("://") && input.contains('@')).then_some(input))
    {
        let host = acct
            .rsplit_once('@')
            .map(|(_, h)| h)
            .filter(|h| !h.is_empty());
        let host = host.ok_or_else(|| bad("an acct: identifier needs user@host"))?;
        return Ok((format!("acct:{acct}"), host.to_string()));
    }
    let with_scheme = if input.contains("://") {
        input.to_string()
    } else {
        format!("https://{input}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| bad(&e.to_string()))?;
    url.set_fragment(None);
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => return Err(bad("no host")),
    };
    Ok((url.to_string(), host))
}

/// Find the issuer of a user identifier or URL with WebFinger (RFC 7033, OpenID Connect
/// Discovery 1.0 §2). The answer's `href` must pass the same https rule as any issuer.
///
/// ```no_run
/// # async fn f() -> oidc_rp::Result<()> {
/// use oidc_rp::{HttpClient, discovery};
/// let http = HttpClient::default();
/// let issuer = discovery::webfinger(&http, "alice@example.com").await?;
/// let metadata = discovery::discover(&http, &issuer).await?;
/// # let _ = metadata; Ok(()) }
/// ```
pub async fn webfinger(http: &HttpClient, input: &str) -> Result<String> {
    let (resource, host) = webfinger_resource(input)?;
    let mut url = Url::parse(&format!("https://{host}/.well-known/webfinger")).map_err(|e| {
        Error::InvalidUrl {
            url: truncate(&host, 100),
            reason: e.to_string(),
        }
    })?;
    if crate::http::is_loopback(&url) {
        // No TLS on the local machine (RFC 8252 §8.3); everywhere else WebFinger is https.
        let _ = url.set_scheme("http");
    }
    url.query_pairs_mut()
        .append_pair("resource", &resource)
        .append_pair("rel", ISSUER_REL);
    #[derive(Deserialize)]
    struct Link {
        rel: Option<String>,
        href: Option<String>,
    }
    #[derive(Deserialize)]
    struct Jrd {
        #[serde(default)]
        links: Vec<Link>,
    }
    let response = http
        .get(&url, "application/jrd+json, application/json")
        .await?;
    if !response.status().is_success() {
        return Err(provider_error("webfinger", &response));
    }
    let jrd: Jrd = parse_json(url.as_str(), "WebFinger answer", &response)?;
    let href = jrd
        .links
        .into_iter()
        .find(|l| l.rel.as_deref() == Some(ISSUER_REL))
        .and_then(|l| l.href)
        .ok_or_else(|| Error::BadResponse {
            what: "WebFinger answer",
            url: display_url(url.as_str()),
            reason: format!("no link with rel {ISSUER_REL}"),
        })?;
    let issuer = Url::parse(&href).map_err(|e| Error::InvalidUrl {
        url: truncate(&href, 200),
        reason: e.to_string(),
    })?;
    http.check_url(&issuer, "issuer found by WebFinger")?;
    Ok(href)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_locations() {
        let (o, a) = metadata_urls(&Url::parse("https://op.example/tenant/a/").unwrap());
        assert_eq!(
            o.as_str(),
            "https://op.example/tenant/a/.well-known/openid-configuration"
        );
        assert_eq!(
            a.as_str(),
            "https://op.example/.well-known/oauth-authorization-server/tenant/a"
        );
        let (o, a) = metadata_urls(&Url::parse("https://op.example").unwrap());
        assert_eq!(
            o.as_str(),
            "https://op.example/.well-known/openid-configuration"
        );
        assert_eq!(
            a.as_str(),
            "https://op.example/.well-known/oauth-authorization-server"
        );
    }

    #[test]
    fn webfinger_normalisation() {
        let r = |s| webfinger_resource(s).unwrap();
        assert_eq!(
            r("alice@op.example"),
            ("acct:alice@op.example".into(), "op.example".into())
        );
        assert_eq!(
            r("acct:a.b@127.0.0.1:8080"),
            ("acct:a.b@127.0.0.1:8080".into(), "127.0.0.1:8080".into())
        );
        assert_eq!(
            r("op.example/joe"),
            ("https://op.example/joe".into(), "op.example".into())
        );
        assert_eq!(
            r("http://127.0.0.1:9/x/y"),
            ("http://127.0.0.1:9/x/y".into(), "127.0.0.1:9".into())
        );
        assert!(webfinger_resource("acct:nohost@").is_err());
    }
}
