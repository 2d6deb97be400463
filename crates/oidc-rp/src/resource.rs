//! Calling a resource server (an API) with an access token (RFC 6750 §2.1, RFC 9449 §7):
//! through the one request path, so a DPoP-bound token goes with a proof that carries its
//! hash (`ath`) and the server's nonce, and a `use_dpop_nonce` challenge is retried once.
//! The answer is returned as it came (any status): judging it is the API's business.

use crate::endpoint::send;
use crate::error::{Error, Result, display_url};
use crate::http::HttpResponse;
use crate::rp::RelyingParty;
use crate::token::AccessToken;
use url::Url;

impl RelyingParty {
    /// Send `method` to `url` with `access_token` (`Authorization: Bearer` or `DPoP`, with a
    /// proof when the token is DPoP-bound), and an optional JSON body.
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty, login: &oidc_rp::Login) -> oidc_rp::Result<()> {
    /// let url = url::Url::parse("https://api.example.com/accounts").unwrap();
    /// let answer = rp
    ///     .call_resource(http::Method::GET, &url, &login.tokens.access_token(), None)
    ///     .await?;
    /// println!("{} {}", answer.status(), String::from_utf8_lossy(answer.body()));
    /// # Ok(()) }
    /// ```
    pub async fn call_resource(
        &self,
        method: http::Method,
        url: &Url,
        access_token: &AccessToken,
        json_body: Option<&serde_json::Value>,
    ) -> Result<HttpResponse> {
        self.http().check_url(url, "resource URL")?;
        let body = json_body.map(|b| b.to_string().into_bytes());
        send(self.http(), self.decorator(), Some(access_token), || {
            let mut request = http::Request::builder()
                .method(method.clone())
                .uri(url.as_str())
                .header(http::header::AUTHORIZATION, access_token.authorization())
                .header(http::header::ACCEPT, "application/json, */*;q=0.5");
            if body.is_some() {
                request = request.header(http::header::CONTENT_TYPE, "application/json");
            }
            request
                .body(body.clone().unwrap_or_default())
                .map_err(|e| Error::InvalidUrl {
                    url: display_url(url.as_str()),
                    reason: e.to_string(),
                })
        })
        .await
    }
}
