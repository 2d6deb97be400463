//! Every public future of the headless driver is `Send`, so a load generator can spawn it on
//! a multi-threaded runtime. The type check is the test.
#![allow(clippy::unwrap_used, dead_code)]

use oidc_rp::{AuthTransaction, RelyingParty};
use oidc_rp_headless::{Browser, Credentials};

fn send<T: Send>(_: T) {}

/// Type-checked, never run.
fn public_futures_are_send(
    rp: &RelyingParty,
    txn: &AuthTransaction,
    browser: &Browser,
    url: &url::Url,
    creds: &Credentials,
) {
    send(oidc_rp_headless::walk(
        browser,
        url,
        "http://127.0.0.1/cb",
        Some(creds),
    ));
    send(oidc_rp_headless::drive(
        browser,
        url,
        "http://127.0.0.1/cb",
        Some(creds),
    ));
    send(oidc_rp_headless::complete(
        rp,
        browser,
        url,
        txn,
        Some(creds),
    ));
}
