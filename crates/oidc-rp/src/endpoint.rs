//! The one request path for authenticated form POSTs: token (every grant), introspection and
//! revocation all go through [`post_form`], parameterised by endpoint and parameters.
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

/// Which endpoint a request goes to, for errors and logs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Endpoint<'a> {
    pub name: &'static str,
    pub url: &'a Url,
}

/// POST a form with client authentication and return the raw response after checking its
/// status: non-2xx answers become [`Error::Provider`] with the OAuth error members.
pub(crate) async fn post_form_response(
    http: &HttpClient,
    endpoint: Endpoint<'_>,
    client: &ClientConfig,
    method: TokenAuthMethod,
    params: &[(&str, &str)],
) -> Result<HttpResponse> {
    http.check_url(endpoint.url, &format!("{} endpoint", endpoint.name))?;
    let mut body = Serializer::new(String::new());
    for (k, v) in params {
        body.append_pair(k, v);
    }
    let mut request = http::Request::post(endpoint.url.as_str())
        .header(ACCEPT, "application/json")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
    match method {
        TokenAuthMethod::ClientSecretBasic => {
            let secret = client
                .client_secret
                .as_ref()
                .ok_or_else(|| Error::Config("client_secret_basic needs a client secret".into()))?;
            let id: String = byte_serialize(client.client_id.as_bytes()).collect();
            let pw: String = byte_serialize(secret.expose().as_bytes()).collect();
            let credential = STANDARD.encode(format!("{id}:{pw}"));
            request = request.header(AUTHORIZATION, format!("Basic {credential}"));
        }
        TokenAuthMethod::ClientSecretPost => {
            let secret = client
                .client_secret
                .as_ref()
                .ok_or_else(|| Error::Config("client_secret_post needs a client secret".into()))?;
            body.append_pair("client_id", &client.client_id);
            body.append_pair("client_secret", secret.expose());
        }
        TokenAuthMethod::None => {
            body.append_pair("client_id", &client.client_id);
        }
    }
    let request = request
        .body(body.finish().into_bytes())
        .map_err(|e| Error::InvalidUrl {
            url: display_url(endpoint.url.as_str()),
            reason: e.to_string(),
        })?;
    let response = http.execute(request).await?;
    if !response.status().is_success() {
        return Err(provider_error(endpoint.name, &response));
    }
    Ok(response)
}

/// [`post_form_response`], then parse the JSON body as `T`.
pub(crate) async fn post_form<T: serde::de::DeserializeOwned>(
    http: &HttpClient,
    endpoint: Endpoint<'_>,
    what: &'static str,
    client: &ClientConfig,
    method: TokenAuthMethod,
    params: &[(&str, &str)],
) -> Result<T> {
    let response = post_form_response(http, endpoint, client, method, params).await?;
    parse_json(endpoint.url.as_str(), what, &response)
}
