//! Session Management 1.0 §5 and OIDC Core §3.1.2.1 through the library against the bundled
//! provider: the silent re-check after `changed` keeps the session for the same user and ends
//! it when the provider's session belongs to someone else; a forged `id_token_hint` is an
//! error, never a verdict about the session.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oidc_rp::session_management::{EndReason, Recheck, recheck_request};
use oidc_rp::{AuthorizationRequest, ClientConfig, Error, HttpClient, Login, RelyingParty, Secret};
use oidc_rp_headless::{self as headless, Browser, Credentials};
use rp_tests::*;

const REDIRECT: &str = "http://127.0.0.1/callback";

async fn sign_in(rp: &RelyingParty, browser: &Browser, user: &str, password: &str) -> Login {
    let (url, txn) = rp
        .authorization_url(&AuthorizationRequest::with_scopes(["openid"]), REDIRECT)
        .unwrap();
    let who = Credentials {
        username: user.into(),
        password: Secret::new(password),
    };
    headless::complete(rp, browser, &url, &txn, Some(&who))
        .await
        .unwrap()
}

async fn recheck(rp: &RelyingParty, browser: &Browser, hint: &str) -> oidc_rp::Result<Login> {
    let request = recheck_request(AuthorizationRequest::with_scopes(["openid"]), Some(hint));
    let (url, txn) = rp.authorization_url(&request, REDIRECT).unwrap();
    headless::complete(rp, browser, &url, &txn, None).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_silent_recheck_keeps_the_same_user_and_ends_for_another() {
    let op = provider().await;
    let http = HttpClient::default();
    let metadata = oidc_rp::discovery::discover(&http, op.issuer())
        .await
        .unwrap();
    let rp = RelyingParty::new(
        http.clone(),
        metadata,
        ClientConfig::confidential("rp-demo", "rp-demo-secret"),
    )
    .unwrap();
    let (alice_browser, bob_browser) = (Browser::new(&http).unwrap(), Browser::new(&http).unwrap());
    let alice = sign_in(&rp, &alice_browser, "alice", "wonderland").await;
    let bob = sign_in(&rp, &bob_browser, "bob", "builder").await;
    assert!(
        alice.session_state.is_some(),
        "the provider has a check_session_iframe"
    );

    // Alice is still signed in at the provider: the session goes on, with a new state.
    let again = recheck(&rp, &alice_browser, alice.id_token.raw.expose()).await;
    match Recheck::judge(again, &alice.id_token.subject).unwrap() {
        Recheck::Continues(login) => {
            assert_eq!(login.id_token.subject, alice.id_token.subject);
            assert!(login.session_state.is_some());
        }
        other => panic!("expected the session to go on: {other:?}"),
    }

    // Bob's RP session, but the browser's provider session is Alice's: the hint makes the
    // provider refuse rather than switch users (OIDC Core §3.1.2.1), and Bob's session ends.
    let crossed = recheck(&rp, &alice_browser, bob.id_token.raw.expose()).await;
    match Recheck::judge(crossed, &bob.id_token.subject).unwrap() {
        Recheck::Ended(EndReason::Provider(code)) => assert_eq!(code, "login_required"),
        other => panic!("expected the session to end: {other:?}"),
    }

    // A hint the provider did not issue: an error, not "the user left".
    let raw = alice.id_token.raw.expose();
    let forged = format!(
        "{}{}",
        &raw[..raw.len() - 2],
        if raw.ends_with("AA") { "BB" } else { "AA" }
    );
    let refused = recheck(&rp, &alice_browser, &forged).await;
    match Recheck::judge(refused, &alice.id_token.subject) {
        Err(Error::Authorization(e)) => assert_eq!(e.error, "invalid_request"),
        other => panic!("expected invalid_request: {other:?}"),
    }
}
