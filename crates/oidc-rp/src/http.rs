//! The one HTTP client every request of this crate goes through.
//!
//! It implements [`oauth2::AsyncHttpClient`], so it can also be handed to `oauth2` and
//! `openidconnect` APIs, and it enforces what those crates leave to the caller:
//!
//! * redirects are never followed (the `oauth2` docs require this: following them turns the
//!   client into an SSRF tool, RFC 9700 §4.11);
//! * connect and total timeouts (10 s and 30 s by default);
//! * a response size cap (1 MiB by default), so a hostile endpoint cannot exhaust memory;
//! * TLS through rustls, always verified; extra roots come from a PEM file, and turning
//!   verification off needs [`HttpConfig::danger_accept_invalid_certs`], which logs a warning
//!   on every client built;
//! * `tracing` events with credentials redacted (see [`crate::Secret`]).

use crate::error::{ConfigError, Error, Result, display_url, truncate};
use crate::secret::{redact_form, redact_json};
use futures_util::StreamExt;
use http::header::{ACCEPT, CONTENT_TYPE};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use url::Url;

/// Settings of an [`HttpClient`].
#[derive(Clone)]
pub struct HttpConfig {
    /// Time allowed to establish a connection (TCP and TLS). Default 10 s.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, body included. Default 30 s.
    pub timeout: Duration,
    /// Largest response body accepted, in bytes. Default 1 MiB.
    pub max_response_bytes: usize,
    /// Extra trusted roots, PEM encoded (a private CA, or the bundled provider's certificate).
    pub extra_roots_pem: Vec<Vec<u8>>,
    /// Accept `http://` URLs on hosts other than loopback. Off by default: OpenID Connect
    /// requires TLS everywhere except on the local machine (RFC 8252 §8.3 for loopback).
    pub allow_insecure_http: bool,
    /// Accept any TLS certificate. Off by default and warned about loudly when on.
    pub danger_accept_invalid_certs: bool,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The client's TLS certificate and private key (PEM, both in one buffer), presented to
    /// servers that ask: mutual TLS client authentication and certificate-bound tokens
    /// (RFC 8705). A secret: never in `Debug` output.
    pub client_identity_pem: Option<crate::secret::Secret>,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("extra_roots", &self.extra_roots_pem.len())
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field(
                "danger_accept_invalid_certs",
                &self.danger_accept_invalid_certs,
            )
            .field("client_identity", &self.client_identity_pem.is_some())
            .finish()
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_response_bytes: 1024 * 1024,
            extra_roots_pem: Vec::new(),
            allow_insecure_http: false,
            danger_accept_invalid_certs: false,
            user_agent: concat!("rp/", env!("CARGO_PKG_VERSION")).to_string(),
            client_identity_pem: None,
        }
    }
}

impl HttpConfig {
    /// Add the certificates of a PEM file to the trusted roots.
    pub fn add_ca_file(&mut self, path: &Path) -> Result<()> {
        let bad = |reason: String| {
            Error::Config(ConfigError::CaFile {
                path: path.display().to_string(),
                reason,
            })
        };
        let pem = std::fs::read(path)
            .map_err(|e| bad(format!("cannot be read ({e}); give a readable PEM file")))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| bad(format!("is not a PEM certificate bundle ({e})")))?;
        if certs.is_empty() {
            return Err(bad(
                "holds no certificate; give a PEM file with at least one CERTIFICATE block".into(),
            ));
        }
        self.extra_roots_pem.push(pem);
        Ok(())
    }
}

/// The HTTP client. Cheap to clone; clones share connections.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: HttpConfig,
    // Built on first use: loading the root store costs more than the rest of start-up.
    client: OnceLock<std::result::Result<reqwest::Client, String>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.config.fmt(f)
    }
}

/// A response: status, headers and the whole (capped) body.
pub type HttpResponse = http::Response<Vec<u8>>;

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new(HttpConfig::default())
    }
}

impl HttpClient {
    /// A client with these settings. Nothing is loaded until the first request.
    ///
    /// ```
    /// use oidc_rp::{HttpClient, HttpConfig};
    /// use std::time::Duration;
    /// let mut config = HttpConfig {
    ///     timeout: Duration::from_secs(5),
    ///     max_response_bytes: 256 * 1024,
    ///     ..HttpConfig::default()
    /// };
    /// // config.add_ca_file(std::path::Path::new("/etc/my-ca.pem"))?; // a private CA
    /// let http = HttpClient::new(config);
    /// # let _ = http;
    /// ```
    pub fn new(config: HttpConfig) -> Self {
        HttpClient {
            inner: Arc::new(Inner {
                config,
                client: OnceLock::new(),
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    /// The `reqwest` builder with this client's TLS settings, timeouts and redirect policy (off).
    fn builder(&self) -> reqwest::ClientBuilder {
        let c = &self.inner.config;
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(c.connect_timeout)
            .timeout(c.timeout)
            .user_agent(c.user_agent.clone())
            .use_rustls_tls()
            .tls_built_in_root_certs(true);
        for pem in &c.extra_roots_pem {
            if let Ok(certs) = reqwest::Certificate::from_pem_bundle(pem) {
                for cert in certs {
                    b = b.add_root_certificate(cert);
                }
            }
        }
        if let Some(pem) = &c.client_identity_pem {
            match reqwest::Identity::from_pem(pem.expose().as_bytes()) {
                Ok(identity) => b = b.identity(identity),
                Err(e) => tracing::error!("the TLS client certificate is unusable: {e}"),
            }
        }
        if c.danger_accept_invalid_certs {
            tracing::warn!(
                "TLS certificate verification is OFF: anyone on the network path can impersonate the provider and steal tokens"
            );
            b = b.danger_accept_invalid_certs(true);
        }
        b
    }

    fn client(&self) -> Result<&reqwest::Client> {
        self.inner
            .client
            .get_or_init(|| self.builder().build().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::Config(ConfigError::HttpClient(e.clone())))
    }

    /// Refuse plain-HTTP URLs except on loopback (OpenID Connect Core §16.17, RFC 8252 §8.3),
    /// unless [`HttpConfig::allow_insecure_http`] is set.
    pub fn check_url(&self, url: &Url, what: &str) -> Result<()> {
        check_secure_url(url, what, self.inner.config.allow_insecure_http)
    }

    /// Send a request and read the whole response, within the size cap.
    pub async fn execute(&self, request: http::Request<Vec<u8>>) -> Result<HttpResponse> {
        let started = Instant::now();
        let method = request.method().clone();
        let shown_url = display_url(&request.uri().to_string());
        if tracing::enabled!(tracing::Level::TRACE) {
            let body = request.body();
            let is_form = request.headers().get(CONTENT_TYPE).is_some_and(|v| {
                v.as_bytes()
                    .starts_with(b"application/x-www-form-urlencoded")
            });
            let shown_body = if is_form {
                redact_form(&String::from_utf8_lossy(body))
            } else if body.is_empty() {
                String::new()
            } else {
                redact_json(body)
            };
            let query = request.uri().query().map(redact_form).unwrap_or_default();
            tracing::trace!(target: "rp::http", %method, url = %shown_url, query = %query, body = %shown_body, "request");
        }
        let client = self.client()?;
        let req = reqwest::Request::try_from(request).map_err(|e| Error::InvalidUrl {
            url: shown_url.clone(),
            reason: e.to_string(),
        })?;
        let response = client
            .execute(req)
            .await
            .map_err(|e| self.map_error(&shown_url, &e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self.read_body(&shown_url, response).await?;
        tracing::debug!(
            target: "rp::http",
            %method,
            url = %shown_url,
            status = status.as_u16(),
            bytes = body.len(),
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "response"
        );
        if tracing::enabled!(tracing::Level::TRACE) {
            tracing::trace!(target: "rp::http", body = %redact_json(&body), "response body");
        }
        let mut out = http::Response::new(body);
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }

    async fn read_body(&self, url: &str, response: reqwest::Response) -> Result<Vec<u8>> {
        let limit = self.inner.config.max_response_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(Error::ResponseTooLarge {
                url: url.to_string(),
                limit,
            });
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.map_error(url, &e))?;
            if body.len() + chunk.len() > limit {
                return Err(Error::ResponseTooLarge {
                    url: url.to_string(),
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn map_error(&self, url: &str, e: &reqwest::Error) -> Error {
        let chain = error_chain(e);
        let lower = chain.to_lowercase();
        if e.is_timeout() || lower.contains("timed out") {
            let seconds = if e.is_connect() {
                self.inner.config.connect_timeout
            } else {
                self.inner.config.timeout
            }
            .as_secs();
            return Error::Timeout {
                url: url.to_string(),
                seconds,
            };
        }
        if lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("handshake")
            || lower.contains("unknownissuer")
        {
            return Error::Tls {
                url: url.to_string(),
                reason: deepest(e),
            };
        }
        if e.is_builder() {
            return Error::InvalidUrl {
                url: url.to_string(),
                reason: deepest(e),
            };
        }
        Error::Unreachable {
            url: url.to_string(),
            reason: deepest(e),
        }
    }

    /// GET a JSON document and deserialize it. `what` names it in errors.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
        what: &'static str,
        endpoint: &'static str,
    ) -> Result<T> {
        let response = self.get(url, "application/json").await?;
        if !response.status().is_success() {
            return Err(provider_error(endpoint, &response));
        }
        parse_json(url.as_str(), what, &response)
    }

    /// GET with an `Accept` header.
    pub async fn get(&self, url: &Url, accept: &str) -> Result<HttpResponse> {
        let request = http::Request::get(url.as_str())
            .header(ACCEPT, accept)
            .body(Vec::new())
            .map_err(|e| Error::InvalidUrl {
                url: display_url(url.as_str()),
                reason: e.to_string(),
            })?;
        self.execute(request).await
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for HttpClient {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Error>> + Send + 'c>>;

    fn call(&'c self, request: http::Request<Vec<u8>>) -> Self::Future {
        Box::pin(self.execute(request))
    }
}

/// See [`HttpClient::check_url`].
pub fn check_secure_url(url: &Url, what: &str, allow_insecure_http: bool) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure_http || is_loopback(url) => Ok(()),
        "http" => Err(Error::InvalidUrl {
            url: display_url(url.as_str()),
            reason: format!(
                "the {what} must use https (plain http is only allowed for 127.0.0.1, [::1] and localhost)"
            ),
        }),
        other => Err(Error::InvalidUrl {
            url: display_url(url.as_str()),
            reason: format!("the {what} must be an https URL, not {other}:"),
        }),
    }
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Parse a JSON body, insisting on a JSON content type when one is given.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    url: &str,
    what: &'static str,
    response: &HttpResponse,
) -> Result<T> {
    if let Some(ct) = response.headers().get(CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim();
        if !(essence == "application/json" || essence.ends_with("+json")) {
            return Err(Error::BadResponse {
                what,
                url: display_url(url),
                reason: format!("content type is `{essence}`, expected application/json"),
            });
        }
    }
    serde_json::from_slice(response.body()).map_err(|e| Error::BadResponse {
        what,
        url: display_url(url),
        reason: format!("malformed JSON: {e}"),
    })
}

/// Turn a non-success response into a [`ProviderError`](crate::ProviderError), reading the
/// OAuth error members (RFC 6749 §5.2) when the body has them.
pub(crate) fn provider_error(endpoint: &'static str, response: &HttpResponse) -> Error {
    #[derive(serde::Deserialize)]
    struct OAuthError {
        error: Option<String>,
        error_description: Option<String>,
        error_uri: Option<String>,
    }
    let parsed: Option<OAuthError> = serde_json::from_slice(response.body()).ok();
    let (error, description, uri) = match parsed {
        Some(e) => (e.error, e.error_description, e.error_uri),
        None => {
            // RFC 6750 §3: resource servers put the error in WWW-Authenticate.
            let www = response
                .headers()
                .get(http::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(parse_www_authenticate)
                .unwrap_or_default();
            let text = String::from_utf8_lossy(response.body());
            let snippet = (!text.trim().is_empty()).then(|| truncate(&text, 200));
            (www.0, www.1.or(snippet), None)
        }
    };
    Error::Provider(crate::error::ProviderError {
        endpoint,
        status: response.status().as_u16(),
        error: error.map(|e| truncate(&e, 80)),
        description: description.map(|d| truncate(&d, 300)),
        uri: uri.map(|u| truncate(&u, 200)),
    })
}

fn parse_www_authenticate(value: &str) -> (Option<String>, Option<String>) {
    let mut error = None;
    let mut description = None;
    for part in value.split(',') {
        let part = part.trim().trim_start_matches("Bearer").trim();
        if let Some((k, v)) = part.split_once('=') {
            let v = v.trim().trim_matches('"').to_string();
            match k.trim() {
                "error" => error = Some(v),
                "error_description" => description = Some(v),
                _ => {}
            }
        }
    }
    (error, description)
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn deepest(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    truncate(&last, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback() {
        let ok = [
            "https://op.example",
            "http://127.0.0.1:8080/x",
            "http://[::1]/",
            "http://localhost:1",
        ];
        for u in ok {
            check_secure_url(&Url::parse(u).unwrap(), "issuer", false).unwrap();
        }
        let err = check_secure_url(&Url::parse("http://op.example").unwrap(), "issuer", false)
            .unwrap_err();
        assert!(err.to_string().contains("must use https"), "{err}");
        check_secure_url(&Url::parse("http://op.example").unwrap(), "issuer", true).unwrap();
        assert!(
            check_secure_url(&Url::parse("ftp://op.example").unwrap(), "issuer", true).is_err()
        );
    }

    #[test]
    fn www_authenticate_is_read() {
        let (e, d) =
            parse_www_authenticate(r#"Bearer error="invalid_token", error_description="expired""#);
        assert_eq!(e.as_deref(), Some("invalid_token"));
        assert_eq!(d.as_deref(), Some("expired"));
    }
}
