//! The library's extension points, exercised against a loopback server: a request decorator
//! that adds a header to every request and retries once on a nonce challenge (the DPoP seam,
//! RFC 9449 §8), and a client authentication of the caller's own (an open `ClientAuth`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oidc_rp::{
    ClientAuth, ClientConfig, ClientCredentialsRequest, HttpClient, RelyingParty, RequestDecorator,
};
use rp_tests::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Default)]
struct NonceDecorator {
    decorated: AtomicUsize,
}

impl RequestDecorator for NonceDecorator {
    fn decorate(
        &self,
        request: &mut http::Request<Vec<u8>>,
        _: Option<&oidc_rp::AccessToken>,
    ) -> oidc_rp::Result<()> {
        let n = self.decorated.fetch_add(1, Ordering::SeqCst);
        request
            .headers_mut()
            .insert("x-proof", http::HeaderValue::from(n));
        Ok(())
    }

    fn should_retry(&self, _: &http::Uri, response: &oidc_rp::HttpResponse) -> bool {
        response.headers().contains_key("dpop-nonce")
    }
}

#[derive(Debug)]
struct HeaderAuth;

impl ClientAuth for HeaderAuth {
    fn method(&self) -> &str {
        "x_custom"
    }

    fn apply(
        &self,
        client_id: &str,
        _: &str,
        headers: &mut http::HeaderMap,
        _: &mut Vec<(String, String)>,
    ) -> oidc_rp::Result<()> {
        headers.insert("x-client", http::HeaderValue::from_str(client_id).unwrap());
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decorator_adds_headers_and_retries_once_on_a_nonce_challenge() {
    let token_requests = Arc::new(AtomicUsize::new(0));
    let seen = token_requests.clone();
    let op = StaticServer::start_fn(move |_, url| match url.path() {
        "/.well-known/openid-configuration" => Some(Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: openid_configuration(serde_json::json!({})),
        }),
        "/token" => {
            // The first request is challenged (RFC 9449 §8), the second answered.
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                Some(Reply {
                    status: 400,
                    headers: vec![
                        ("content-type".into(), "application/json".into()),
                        ("dpop-nonce".into(), "n-1".into()),
                    ],
                    body: r#"{"error":"use_dpop_nonce"}"#.into(),
                })
            } else {
                Some(Reply {
                    status: 200,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: r#"{"access_token":"at","token_type":"Bearer","expires_in":60}"#.into(),
                })
            }
        }
        _ => None,
    })
    .await;
    let decorator = Arc::new(NonceDecorator::default());
    let client = ClientConfig::confidential("svc", "secret").with_auth(Arc::new(HeaderAuth));
    let rp = RelyingParty::discover(&HttpClient::default(), &op.base, client)
        .await
        .unwrap()
        .with_decorator(decorator.clone());
    let tokens = rp
        .client_credentials(&ClientCredentialsRequest::default())
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at");
    assert_eq!(token_requests.load(Ordering::SeqCst), 2, "one retry");
    assert_eq!(
        decorator.decorated.load(Ordering::SeqCst),
        2,
        "both decorated"
    );
}
