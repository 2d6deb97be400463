//! `rp audit` proven on the bundled provider: well-behaved, every check passes (or does not
//! apply); with each provider-side flaw switched on (`rp provider --flaw`), exactly the
//! checks meant to catch it fail, and nothing else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rp_provider::flaws::{ALL, Flaw};
use rp_tests::*;
use std::collections::BTreeSet;

async fn audit(flaws: Vec<Flaw>) -> (i32, serde_json::Value) {
    let op = rp_provider::start(rp_provider::ProviderConfig {
        flaws,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp(dir.path());
    cmd.args([
        "audit",
        "--issuer",
        op.issuer(),
        "--client-id",
        "rp-demo",
        "--client-secret",
        "rp-demo-secret",
        "--username",
        "alice",
        "--password",
        "wonderland",
        "--second-client",
        "rp-post:rp-post-secret",
        "--json",
    ]);
    let out = output(cmd).await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), v)
}

fn with(v: &serde_json::Value, verdict: &str) -> BTreeSet<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["verdict"] == verdict)
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_well_behaved_provider_passes_every_check() {
    let (code, v) = audit(Vec::new()).await;
    assert_eq!(code, 0, "{v:#}");
    assert!(v["checks"].as_u64().unwrap() >= 60);
    assert!(with(&v, "fail").is_empty(), "{:?}", with(&v, "fail"));
    assert!(with(&v, "warning").is_empty(), "{:?}", with(&v, "warning"));
    assert!(
        with(&v, "could_not_run").is_empty(),
        "{:?}",
        with(&v, "could_not_run")
    );
    // Each finding names its requirement and where it is required.
    for f in v["findings"].as_array().unwrap() {
        assert!(!f["requirement"].as_str().unwrap().is_empty());
        assert!(!f["spec"].as_str().unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_flaw_fails_exactly_its_checks() {
    let mut wrong = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(4));
    for (flaw, name, checks) in ALL {
        let gate = gate.clone();
        tasks.spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            let (code, v) = audit(vec![*flaw]).await;
            (name, checks, code, with(&v, "fail"))
        });
    }
    while let Some(r) = tasks.join_next().await {
        let (name, checks, code, failed) = r.unwrap();
        let expected: BTreeSet<String> = checks.iter().map(|c| c.to_string()).collect();
        if failed != expected || code != 12 {
            wrong.push(format!(
                "{name}: exit {code}, failed {failed:?}, expected {expected:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
