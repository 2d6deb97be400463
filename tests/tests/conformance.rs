//! `rp conformance` end to end: every plan passes against the bundled provider.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rp_tests::*;

#[tokio::test(flavor = "multi_thread")]
async fn every_plan_passes() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("conformance.xml");
    let mut cmd = rp(dir.path());
    cmd.args(["conformance", "--json", "--junit"]).arg(&junit);
    let out = output(cmd).await;
    let v = json(&out);
    let failed: Vec<_> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] != true)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(out.status.success());
    assert_eq!(v["failed"], 0);
    let plans: Vec<&str> = v["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for plan in [
        "basic",
        "config",
        "dynamic",
        "form-post-basic",
        "rp-initiated-logout",
        "front-channel-logout",
        "back-channel-logout",
        "refresh-token",
        "extra",
    ] {
        assert!(plans.contains(&plan), "{plan}");
        assert!(
            v["results"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["plan"] == plan),
            "{plan} ran"
        );
    }
    assert!(v["passed"].as_u64().unwrap() >= 70);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuite name=\"rp conformance\"") && xml.contains("failures=\"0\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_single_test_and_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp(dir.path());
    cmd.args(["conformance", "--test", "oidcc-client-test-nonce-invalid"]);
    let out = output_ok(cmd).await;
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("reject (nonce)") && table.contains("PASS"),
        "{table}"
    );
    assert!(table.contains("2 passed, 0 failed"), "{table}");

    let mut cmd = rp(dir.path());
    cmd.args(["conformance", "--plan", "nope"]);
    let (code, stderr) = failure(&output(cmd).await);
    assert_eq!(code, 2, "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn against_a_provider_started_elsewhere() {
    let op = rp_provider::start(rp_provider::ProviderConfig {
        conformance: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp(dir.path());
    cmd.args([
        "conformance",
        "--plan",
        "back-channel-logout",
        "--base",
        op.issuer(),
        "--json",
    ]);
    assert_eq!(output_json(cmd).await["passed"], 8);
}

/// A mistyped test id is a usage error naming the nearest id; `--list` shows them all.
#[tokio::test]
async fn a_mistyped_test_id_gets_the_nearest_one() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = run_failing(
        dir.path(),
        &["conformance", "--test", "oidcc-client-test-nonce-invalud"],
    )
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("did you mean `oidcc-client-test-nonce-invalid`?"),
        "{stderr}"
    );
    let mut list = rp(dir.path());
    list.args(["conformance", "--list", "--plan", "basic"]);
    let text = String::from_utf8(output_ok(list).await.stdout).unwrap();
    assert!(
        text.lines().any(
            |l| l.contains("oidcc-client-test-nonce-invalid") && l.ends_with("reject on nonce")
        ),
        "{text}"
    );
}
