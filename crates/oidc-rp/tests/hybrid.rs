//! The implicit and hybrid flows (OIDC Core §3.2, §3.3) against the bundled provider over
//! loopback: every response type, in the fragment and in a form post; the front-channel ID
//! token checked (nonce, c_hash, at_hash) before anything is redeemed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oidc_rp::{
    AuthorizationRequest, CallbackParams, CheckId, ClientConfig, HttpClient, HttpConfig, Login,
    RelyingParty, ResponseMode, ResponseType,
};
use oidc_rp_headless::{Browser, Credentials};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

async fn setup() -> (rp_provider::RunningProvider, HttpClient, RelyingParty) {
    let op = rp_provider::start(Default::default()).await.unwrap();
    let http = HttpClient::new(HttpConfig::default());
    let rp = RelyingParty::discover(
        &http,
        op.issuer(),
        ClientConfig::confidential("rp-hybrid", "rp-hybrid-secret"),
    )
    .await
    .unwrap();
    (op, http, rp)
}

async fn login(
    rp: &RelyingParty,
    http: &HttpClient,
    kind: ResponseType,
    mode: Option<ResponseMode>,
    tamper: impl FnOnce(&mut CallbackParams),
) -> oidc_rp::Result<Login> {
    let request = AuthorizationRequest {
        response_type: kind,
        response_mode: mode,
        ..AuthorizationRequest::with_scopes(["openid", "email"])
    };
    let (url, txn) = rp.authorization_url(&request, REDIRECT).unwrap();
    assert_eq!(
        url.query_pairs().any(|(k, _)| k == "code_challenge"),
        kind.has_code(),
        "PKCE only where a code comes back"
    );
    let arrival = oidc_rp_headless::walk(
        &Browser::new(http).unwrap(),
        &url,
        REDIRECT,
        Some(&Credentials {
            username: "alice".into(),
            password: "wonderland".into(),
        }),
    )
    .await
    .unwrap();
    let mut params = CallbackParams::parse(&arrival.params()).unwrap();
    assert_eq!(params.code.is_some(), kind.has_code(), "{kind}");
    assert_eq!(params.id_token.is_some(), kind.has_id_token(), "{kind}");
    assert_eq!(params.access_token.is_some(), kind.has_token(), "{kind}");
    tamper(&mut params);
    rp.complete(&txn, &params).await
}

fn passed(login: &Login, id: CheckId) -> bool {
    login.report.checks().iter().any(|c| c.id == id && c.passed)
}

#[tokio::test]
async fn every_response_type_in_the_fragment_and_in_a_form_post() {
    let (_op, http, rp) = setup().await;
    for kind in ResponseType::ALL {
        for mode in [None, Some(ResponseMode::FormPost)] {
            let login = login(&rp, &http, kind, mode, |_| {})
                .await
                .unwrap_or_else(|e| panic!("{kind} {mode:?}: {e}"));
            assert_eq!(login.id_token.subject, "248289761001");
            if kind.has_code() && kind.has_id_token() {
                assert!(passed(&login, CheckId::CHash), "{kind}: c_hash checked");
            }
            if kind == ResponseType::IdToken {
                assert!(login.tokens.access_token.expose().is_empty());
            } else {
                assert!(!login.tokens.access_token.expose().is_empty(), "{kind}");
            }
        }
    }
}

#[tokio::test]
async fn tokens_in_the_query_are_refused_before_anything_is_sent() {
    let (_op, _http, rp) = setup().await;
    let request = AuthorizationRequest {
        response_type: ResponseType::CodeIdToken,
        response_mode: Some(ResponseMode::Query),
        ..AuthorizationRequest::with_scopes(["openid"])
    };
    assert!(rp.authorization_url(&request, REDIRECT).is_err());
}

/// A substituted code (another login's) no longer matches the front-channel ID token's
/// c_hash (OIDC Core §3.3.2.11): refused before the code is redeemed; a substituted access
/// token fails at_hash; a missing front-channel ID token is refused.
#[tokio::test]
async fn substituted_or_missing_front_channel_values_are_refused() {
    let (_op, http, rp) = setup().await;
    let check = |r: oidc_rp::Result<Login>| r.err().and_then(|e| e.check());
    let swapped = check(
        login(&rp, &http, ResponseType::CodeIdToken, None, |p| {
            p.code = Some(oidc_rp::Secret::new("another-login-s-code"))
        })
        .await,
    );
    assert_eq!(swapped, Some(CheckId::CHash));
    let token = check(
        login(&rp, &http, ResponseType::IdTokenToken, None, |p| {
            p.access_token = Some(oidc_rp::Secret::new("another-token"))
        })
        .await,
    );
    assert_eq!(token, Some(CheckId::AtHash));
    let gone = check(
        login(&rp, &http, ResponseType::CodeIdToken, None, |p| {
            p.id_token = None
        })
        .await,
    );
    assert_eq!(gone, Some(CheckId::Code));
}

/// RFC 9207 with an ID token in the response: oidc-provider sends no `iss` parameter beside
/// a front-channel ID token, whose own `iss` is checked first; without an ID token a
/// missing `iss` stays refused where the provider advertises the parameter.
#[tokio::test]
async fn a_front_channel_id_token_stands_for_the_iss_parameter() {
    let (_op, http, rp) = setup().await;
    let ok = login(&rp, &http, ResponseType::CodeIdToken, None, |p| {
        p.iss = None
    })
    .await;
    assert!(ok.is_ok(), "{:?}", ok.err());
    for kind in [ResponseType::Code, ResponseType::CodeToken] {
        let refused = login(&rp, &http, kind, None, |p| p.iss = None).await;
        assert_eq!(
            refused.err().and_then(|e| e.check()),
            Some(CheckId::IssParameter),
            "{kind}"
        );
    }
}
