//! The one request path: token (every grant), introspection, revocation and userinfo requests
//! all go through [`send`], which lets a [`RequestDecorator`] add headers (a DPoP proof) and
//! retry once on its say-so (a nonce challenge). Authenticated form POSTs are a [`Call`]:
//! an endpoint, the form, and the client's [`ClientAuth`].

use crate::client_auth::ClientAuth;
use crate::error::{Error, Result, display_url};
use crate::http::{HttpClient, HttpResponse, parse_json, provider_error};
use crate::token::AccessToken;
use http::header::{ACCEPT, CONTENT_TYPE};
use url::Url;
use url::form_urlencoded::Serializer;

/// Something that adds to every request a relying party sends, and may ask for one retry.
///
/// The seam for sender-constrained tokens: a DPoP implementation (RFC 9449) adds a fresh
/// proof to each request and, when the server answers with a `DPoP-Nonce` challenge, asks
/// for the request to be sent once more with a proof that carries the nonce. Both methods
/// do nothing by default.
pub trait RequestDecorator: Send + Sync + std::fmt::Debug {
    /// Add headers to a request about to be sent. `access_token` is the token the request
    /// presents (userinfo, a resource server), if any; it is called again for a retry.
    fn decorate(
        &self,
        request: &mut http::Request<Vec<u8>>,
        access_token: Option<&AccessToken>,
    ) -> Result<()> {
        let _ = (request, access_token);
        Ok(())
    }

    /// Whether to send the request to `uri` once more after this response (at most once).
    /// Called for every response, so a decorator can also note what the server sends along
    /// (a new `DPoP-Nonce`).
    fn should_retry(&self, uri: &http::Uri, response: &HttpResponse) -> bool {
        let _ = (uri, response);
        false
    }

    /// The `token_type` that tokens issued through this decorator must have (`DPoP` when it
    /// adds proofs, RFC 9449 §5); `None`: `Bearer`, as without a decorator.
    fn token_type(&self) -> Option<&str> {
        None
    }

    /// Parameters it adds to every authorization request (by query, request object or
    /// pushed): `dpop_jkt` for DPoP (RFC 9449 §10), binding the code to its key.
    fn authorization_params(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The algorithm of the proofs it adds (`ES256`, ...), when it sender-constrains tokens.
    fn proof_alg(&self) -> Option<&str> {
        None
    }
}

/// Send a request built by `build` (called again for a retry), through `decorator`.
pub(crate) async fn send(
    http: &HttpClient,
    decorator: Option<&dyn RequestDecorator>,
    access_token: Option<&AccessToken>,
    build: impl Fn() -> Result<http::Request<Vec<u8>>>,
) -> Result<HttpResponse> {
    let attempt = || -> Result<http::Request<Vec<u8>>> {
        let mut request = build()?;
        if let Some(d) = decorator {
            d.decorate(&mut request, access_token)?;
        }
        Ok(request)
    };
    let request = attempt()?;
    let uri = request.uri().clone();
    let response = http.execute(request).await?;
    match decorator {
        Some(d) if d.should_retry(&uri, &response) => {
            let response = http.execute(attempt()?).await?;
            // Seen, for what it carries (a nonce), though no second retry follows.
            let _ = d.should_retry(&uri, &response);
            Ok(response)
        }
        _ => Ok(response),
    }
}

/// An authenticated call to one endpoint.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    /// The HTTP client.
    pub http: &'a HttpClient,
    /// The endpoint's name, for errors ("token", "introspection", ...).
    pub name: &'static str,
    /// The endpoint.
    pub url: &'a Url,
    /// The client's id.
    pub client_id: &'a str,
    /// How it authenticates there.
    pub auth: &'a dyn ClientAuth,
    /// What decorates every request.
    pub decorator: Option<&'a dyn RequestDecorator>,
}

impl Call<'_> {
    /// POST the form and parse the JSON answer as `T` (`what` names it in errors).
    pub async fn json<T: serde::de::DeserializeOwned>(
        &self,
        what: &'static str,
        params: &[(&str, &str)],
    ) -> Result<T> {
        let response = self.post(params, "application/json").await?;
        parse_json(self.url.as_str(), what, &response)
    }

    /// POST the form and return the raw answer after checking its status: non-2xx answers
    /// become [`Error::Provider`] with the OAuth error members (RFC 6749 §5.2).
    pub async fn post(&self, params: &[(&str, &str)], accept: &str) -> Result<HttpResponse> {
        self.http
            .check_url(self.url, &format!("{} endpoint", self.name))?;
        let response = send(self.http, self.decorator, None, || {
            self.request(params, accept)
        })
        .await?;
        if !response.status().is_success() {
            return Err(provider_error(self.name, &response));
        }
        Ok(response)
    }

    /// The form POST, authenticated. Built in a plain function: the form serializer is not
    /// `Send`, and must not live across an await (callers spawn these futures on
    /// multi-threaded runtimes).
    fn request(&self, params: &[(&str, &str)], accept: &str) -> Result<http::Request<Vec<u8>>> {
        let mut headers = http::HeaderMap::new();
        let mut auth_params: Vec<(String, String)> = Vec::new();
        self.auth.apply(
            self.client_id,
            self.url.as_str(),
            &mut headers,
            &mut auth_params,
        )?;
        let mut body = Serializer::new(String::new());
        for (k, v) in params {
            body.append_pair(k, v);
        }
        // A member the form already has with the same value (`client_id` in a pushed
        // request of a public client) is not sent twice (RFC 6749 §3.2).
        for (k, v) in &auth_params {
            if !params.iter().any(|(pk, pv)| pk == k && pv == v) {
                body.append_pair(k, v);
            }
        }
        let mut request = http::Request::post(self.url.as_str())
            .header(ACCEPT, accept)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        request
            .body(body.finish().into_bytes())
            .map_err(|e| Error::InvalidUrl {
                url: display_url(self.url.as_str()),
                reason: e.to_string(),
            })
    }
}
