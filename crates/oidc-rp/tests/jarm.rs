//! JARM (JWT Secured Authorization Response Mode) against the bundled provider over
//! loopback: the signed response in the query and in a form post, checked before its code is
//! used; a plain response where JARM was asked for is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oidc_rp::{
    AuthorizationRequest, CallbackParams, CheckId, ClientConfig, HttpClient, HttpConfig,
    RelyingParty, ResponseMode,
};
use oidc_rp_headless::{Browser, Credentials};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

async fn setup() -> (rp_provider::RunningProvider, HttpClient, RelyingParty) {
    let op = rp_provider::start(Default::default()).await.unwrap();
    let http = HttpClient::new(HttpConfig::default());
    let rp = RelyingParty::discover(
        &http,
        op.issuer(),
        ClientConfig::confidential("rp-demo", "rp-demo-secret"),
    )
    .await
    .unwrap();
    (op, http, rp)
}

fn alice() -> Credentials {
    Credentials {
        username: "alice".into(),
        password: "wonderland".into(),
    }
}

#[tokio::test]
async fn a_signed_response_is_checked_then_used() {
    let (_op, http, rp) = setup().await;
    for mode in [ResponseMode::QueryJwt, ResponseMode::FormPostJwt] {
        let request = AuthorizationRequest {
            response_mode: Some(mode),
            ..AuthorizationRequest::with_scopes(["openid"])
        };
        let (url, txn) = rp.authorization_url(&request, REDIRECT).unwrap();
        let arrival = oidc_rp_headless::walk(
            &Browser::new(&http).unwrap(),
            &url,
            REDIRECT,
            Some(&alice()),
        )
        .await
        .unwrap();
        let params = CallbackParams::parse(&arrival.params()).unwrap();
        assert!(
            params.response.is_some() && params.code.is_none(),
            "{mode:?}"
        );
        let login = rp.complete(&txn, &params).await.expect("JARM login");
        let jwt_check = login
            .report
            .checks()
            .iter()
            .find(|c| c.id == CheckId::ResponseJwt)
            .expect("the response JWT check");
        assert!(jwt_check.passed);
    }
}

#[tokio::test]
async fn a_plain_or_tampered_response_is_refused_where_jarm_was_asked_for() {
    let (_op, http, rp) = setup().await;
    let request = AuthorizationRequest {
        response_mode: Some(ResponseMode::QueryJwt),
        ..AuthorizationRequest::with_scopes(["openid"])
    };
    let (url, txn) = rp.authorization_url(&request, REDIRECT).unwrap();
    let arrival = oidc_rp_headless::walk(
        &Browser::new(&http).unwrap(),
        &url,
        REDIRECT,
        Some(&alice()),
    )
    .await
    .unwrap();
    let params = CallbackParams::parse(&arrival.params()).unwrap();
    let jwt = params.response.clone().unwrap();
    // An attacker who strips the JWT and sends a bare code and state.
    let bare =
        CallbackParams::parse(format!("code=stolen&state={}", txn.state.expose()).as_bytes())
            .unwrap();
    let err = rp.complete(&txn, &bare).await.expect_err("bare");
    assert_eq!(err.check(), Some(CheckId::ResponseJwt), "{err}");
    // A JWT whose signature is altered.
    let mut parts: Vec<String> = jwt.split('.').map(str::to_string).collect();
    let first = if parts[2].starts_with('A') { 'B' } else { 'A' };
    parts[2] = format!("{first}{}", &parts[2][1..]);
    let tampered =
        CallbackParams::parse(format!("response={}", parts.join(".")).as_bytes()).unwrap();
    let err = rp.complete(&txn, &tampered).await.expect_err("tampered");
    assert_eq!(err.check(), Some(CheckId::Signature), "{err}");
    // The genuine one still works (nothing was consumed by the refusals).
    rp.complete(&txn, &params).await.expect("genuine");
}
