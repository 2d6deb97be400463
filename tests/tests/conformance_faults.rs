//! The honest proof that the conformance runner tests the library: with one rule of the library
//! turned off (explicitly, in the validation options of the runner's relying parties: there is
//! no process-wide switch), exactly the tests of that rule fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oidc_rp::{CheckId, HttpClient};
use rp_cli::commands::conformance::{plans::Plan, run_plans, run_weakened};

#[tokio::test(flavor = "multi_thread")]
async fn weakening_a_check_fails_its_test() {
    let op = rp_provider::start(rp_provider::ProviderConfig {
        conformance: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let http = HttpClient::default();
    let failing = |results: &[rp_cli::commands::conformance::exec::RunResult]| -> Vec<String> {
        results
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.id.to_string())
            .collect()
    };

    let sound = run_plans(&http, op.issuer(), &[Plan::Basic], &[], 8).await;
    assert_eq!(failing(&sound), Vec::<String>::new());

    for (check, test) in [
        (CheckId::Nonce, "oidcc-client-test-nonce-invalid"),
        (CheckId::Signature, "oidcc-client-test-invalid-sig-rs256"),
        (CheckId::Issuer, "oidcc-client-test-invalid-iss"),
    ] {
        let weak = run_weakened(&http, op.issuer(), &[Plan::Basic], &[], 8, &[check]).await;
        assert_eq!(failing(&weak), vec![test.to_string()], "with {check:?} off");
        let r = weak.iter().find(|r| r.id == test).unwrap();
        assert_eq!(r.outcome, "accepted");
    }
}
