//! Pushed authorization requests (RFC 9126): the parameters go to the provider over the back
//! channel, with client authentication, and the browser carries only `client_id` and the
//! `request_uri` the provider returned. Nothing in the front channel can then be read or
//! altered, and the provider authenticates the client before the user sees anything.

use crate::authorize::{self, AuthTransaction, AuthorizationRequest, Delivery};
use crate::error::{ConfigError, Error, Result, display_url};
use crate::rp::RelyingParty;
use serde::Deserialize;
use url::Url;

/// The provider's answer (RFC 9126 §2.2).
#[derive(Deserialize)]
struct Pushed {
    request_uri: Option<String>,
    expires_in: Option<serde_json::Value>,
}

impl RelyingParty {
    /// Push the authorization request (RFC 9126 §2) and return the authorization URL that
    /// carries only `client_id` and `request_uri`, with the transaction to keep. Signs the
    /// pushed parameters as a request object when `request.delivery` is
    /// [`Delivery::Pushed`] with a key.
    ///
    /// ```no_run
    /// # async fn f(rp: &oidc_rp::RelyingParty) -> oidc_rp::Result<()> {
    /// use oidc_rp::AuthorizationRequest;
    /// let (url, txn) = rp
    ///     .push_authorization_request(
    ///         &AuthorizationRequest::with_scopes(["openid"]),
    ///         "http://127.0.0.1:8400/callback",
    ///     )
    ///     .await?;
    /// // Send the browser to `url` (it holds no parameter but client_id and request_uri).
    /// # let _ = (url, txn); Ok(()) }
    /// ```
    pub async fn push_authorization_request(
        &self,
        request: &AuthorizationRequest,
        redirect_uri: &str,
    ) -> Result<(Url, AuthTransaction)> {
        let (mut endpoint, auth) = self
            .supplemented(
                "pushed_authorization_request_endpoint",
                "pushed authorization requests (RFC 9126)",
                |m| (m.pushed_authorization_request_endpoint.clone(), None),
            )
            .await?;
        if let Some(alias) = self.mtls_alias("pushed_authorization_request_endpoint") {
            endpoint = alias;
        }
        let authorization_endpoint = self.metadata().authorization_endpoint().url().clone();
        self.http()
            .check_url(&authorization_endpoint, "authorization endpoint")?;
        let request = self.decorated_request(request);
        let request = request.as_ref();
        let (params, txn) = authorize::assemble(
            self.issuer(),
            &self.client().client_id,
            redirect_uri,
            request,
        )?;
        let key = match &request.delivery {
            Delivery::Pushed { key } => key.clone(),
            Delivery::Query => None,
            _ => return Err(Error::Config(ConfigError::PushRequired)),
        };
        authorize::check_request_object(self.metadata(), &Delivery::Pushed { key: key.clone() })?;
        // RFC 9126 §3: a signed request object, or the parameters themselves.
        let object;
        let form: Vec<(&str, &str)> = match &key {
            Some(key) => {
                object = key.sign(
                    "oauth-authz-req+jwt",
                    &params.request_object_claims(&self.client().client_id, self.issuer()),
                )?;
                vec![("request", object.as_str())]
            }
            None => params
                .pairs()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
        };
        let call = self.call("pushed authorization request", &endpoint, auth.as_ref());
        let pushed: Pushed = call.json("pushed authorization response", &form).await?;
        let bad = |reason: &str| Error::BadResponse {
            what: "pushed authorization response",
            url: display_url(endpoint.as_str()),
            reason: reason.to_string(),
        };
        let request_uri = pushed
            .request_uri
            .filter(|u| !u.is_empty() && u.len() <= 2048 && !u.chars().any(char::is_control))
            .ok_or_else(|| bad("request_uri is missing, empty or not a plain URI"))?;
        match pushed.expires_in {
            Some(serde_json::Value::Number(n)) if n.as_u64().is_some_and(|s| s > 0) => {}
            _ => return Err(bad("expires_in is missing or not a positive number")),
        }
        let mut url = authorization_endpoint;
        url.query_pairs_mut()
            .append_pair("client_id", &self.client().client_id)
            .append_pair("request_uri", &request_uri);
        Ok((url, txn))
    }
}
