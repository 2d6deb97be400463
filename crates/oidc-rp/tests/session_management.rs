//! Session Management 1.0 against the bundled provider over loopback: the authorization
//! response's `session_state` is kept with the login, and is the hash the provider's
//! `check_session_iframe` recomputes (client id, the RP's origin, the browser state, salt).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use oidc_rp::{AuthorizationRequest, ClientConfig, HttpClient, HttpConfig, RelyingParty};
use oidc_rp_headless::{Browser, Credentials};

#[tokio::test]
async fn session_state_is_kept_and_names_this_session() {
    let op = rp_provider::start(Default::default()).await.unwrap();
    let http = HttpClient::new(HttpConfig::default());
    let rp = RelyingParty::discover(
        &http,
        op.issuer(),
        ClientConfig::confidential("rp-demo", "rp-demo-secret"),
    )
    .await
    .unwrap();
    assert_eq!(
        rp.metadata()
            .additional_metadata()
            .check_session_iframe
            .as_deref(),
        Some(format!("{}/check_session", op.issuer()).as_str())
    );
    let redirect = "http://127.0.0.1:9/callback";
    let (url, txn) = rp
        .authorization_url(&AuthorizationRequest::with_scopes(["openid"]), redirect)
        .unwrap();
    let creds = Credentials {
        username: "alice".into(),
        password: "wonderland".into(),
    };
    let login =
        oidc_rp_headless::complete(&rp, &Browser::new(&http).unwrap(), &url, &txn, Some(&creds))
            .await
            .unwrap();
    let state = login.session_state.expect("session_state");
    let (hash, salt) = state.rsplit_once('.').unwrap();
    let sid = login.id_token.sid.expect("sid");
    let input = format!("rp-demo http://127.0.0.1:9 {sid} {salt}");
    let expected = ring::digest::digest(&ring::digest::SHA256, input.as_bytes());
    assert_eq!(
        hash,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(expected.as_ref())
    );
}
