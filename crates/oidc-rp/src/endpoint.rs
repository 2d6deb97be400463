//! The one request path for authenticated form POSTs: token (every grant), introspection and
//! revocation all go through [`Call`], parameterised by endpoint and parameters.
//!
//! Client authentication follows RFC 6749 §2.3.1: for `client_secret_basic` the id and secret
//! are form-encoded before being joined and base64-encoded (not plain Basic auth).

use crate::client::{ClientConfig, TokenAuthMethod};
use crate::error::{Error, Result, display_url};
use crate::http::{HttpClient, HttpResponse, parse_json, provider_error};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use url::Url;
use url::form_urlencoded::{Serializer, byte_serialize};

/// An authenticated call to one endpoint.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    /// The HTTP client.
    pub http: &'a HttpClient,
    /// The endpoint's name, for errors ("token", "introspection", ...).
    pub name: &'static str,
    /// The endpoint.
    pub url: &'a Url,
    /// The client.
    pub client: &'a ClientConfig,
    /// How it authenticates there.
    pub method: TokenAuthMethod,
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
        // Built in a plain function: the form serializer is not `Send`, and must not live
        // across an await (callers spawn these futures on multi-threaded runtimes).
        let request = self.request(params, accept)?;
        let response = self.http.execute(request).await?;
        if !response.status().is_success() {
            return Err(provider_error(self.name, &response));
        }
        Ok(response)
    }

    fn request(&self, params: &[(&str, &str)], accept: &str) -> Result<http::Request<Vec<u8>>> {
        self.http
            .check_url(self.url, &format!("{} endpoint", self.name))?;
        let mut body = Serializer::new(String::new());
        for (k, v) in params {
            body.append_pair(k, v);
        }
        let mut request = http::Request::post(self.url.as_str())
            .header(ACCEPT, accept)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        let secret = || {
            self.client.client_secret.as_ref().ok_or_else(|| {
                Error::Config(format!("{} needs a client secret", self.method.name()))
            })
        };
        match self.method {
            TokenAuthMethod::ClientSecretBasic => {
                let id: String = byte_serialize(self.client.client_id.as_bytes()).collect();
                let pw: String = byte_serialize(secret()?.expose().as_bytes()).collect();
                let credential = STANDARD.encode(format!("{id}:{pw}"));
                request = request.header(AUTHORIZATION, format!("Basic {credential}"));
            }
            TokenAuthMethod::ClientSecretPost => {
                body.append_pair("client_id", &self.client.client_id);
                body.append_pair("client_secret", secret()?.expose());
            }
            TokenAuthMethod::None => {
                body.append_pair("client_id", &self.client.client_id);
            }
            TokenAuthMethod::ClientSecretJwt | TokenAuthMethod::PrivateKeyJwt => {
                // RFC 7523 §3: iss = sub = client_id, aud = this endpoint, a fresh jti, a short
                // lifetime.
                let now = crate::jwt::unix_now();
                let claims = serde_json::json!({
                    "iss": self.client.client_id,
                    "sub": self.client.client_id,
                    "aud": self.url.as_str(),
                    "jti": oauth2::CsrfToken::new_random_len(16).secret(),
                    "iat": now,
                    "exp": now + 60,
                });
                let assertion = if self.method == TokenAuthMethod::ClientSecretJwt {
                    crate::client_key::sign_hs256(secret()?.expose(), "JWT", &claims)?
                } else {
                    let key = self.client.signing_key.as_ref().ok_or_else(|| {
                        Error::Config("private_key_jwt needs the client's private key".into())
                    })?;
                    key.sign("JWT", &claims)?
                };
                body.append_pair("client_id", &self.client.client_id);
                body.append_pair(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                );
                body.append_pair("client_assertion", &assertion);
            }
        }
        request
            .body(body.finish().into_bytes())
            .map_err(|e| Error::InvalidUrl {
                url: display_url(self.url.as_str()),
                reason: e.to_string(),
            })
    }
}
