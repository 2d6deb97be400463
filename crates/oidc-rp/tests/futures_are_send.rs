//! Every public future of the library is `Send`, so services can `tokio::spawn` it on a
//! multi-threaded runtime. A future that holds a non-`Send` value across an `.await` turns
//! this file into a compile error, which fails `cargo test` (it did once: a form serializer
//! in the token request path). There is nothing to run: the type check is the test.
#![allow(clippy::unwrap_used, dead_code)]

use oidc_rp::{
    AuthTransaction, CallbackParams, ClientConfig, ClientCredentialsRequest, HttpClient,
    RegistrationRequest, RelyingParty, ReplayCache, Secret, TokenExchangeRequest, VerifiedIdToken,
};

fn send<T: Send>(_: T) {}

/// Type-checked, never run.
#[allow(clippy::too_many_arguments)]
fn public_futures_are_send(
    http: &HttpClient,
    rp: &RelyingParty,
    txn: &AuthTransaction,
    callback: &CallbackParams,
    id: &VerifiedIdToken,
    rt: &Secret,
    replay: &ReplayCache,
) {
    send(RelyingParty::discover(
        http,
        "https://op.example",
        ClientConfig::public("c"),
    ));
    send(rp.complete(txn, callback));
    send(rp.refresh(rt, Some(&id.to_stored()), None));
    send(rp.client_credentials(&ClientCredentialsRequest::default()));
    send(rp.exchange(&TokenExchangeRequest::default()));
    send(rp.introspect("t", None));
    send(rp.introspect_jwt("t", None));
    send(rp.revoke("t", None));
    send(rp.userinfo(&oidc_rp::AccessToken::bearer("t"), id));
    send(rp.validate_logout_token("t", replay));
    send(oidc_rp::discovery::discover(http, "https://op.example"));
    send(oidc_rp::discovery::webfinger(http, "acct:a@op.example"));
    send(oidc_rp::registration::register(
        http,
        rp.metadata(),
        &RegistrationRequest::default(),
    ));
}
