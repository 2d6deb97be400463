//! `rp bench`, the load generator: small runs in each mode against the bundled provider
//! (started by rp bench itself as a child process), checking the counts and the report, not
//! the speed (speed goes to BENCHMARKS.md, never into assertions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rp_tests::*;

async fn bench(cache: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let all = [&["bench", "--warmup", "3", "--users", "3"][..], args].concat();
    run_json(cache, &all).await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_mode_completes_its_operations_and_reports_the_provider() {
    let dir = tempfile::tempdir().unwrap();
    for (mode, noun) in [
        ("login", "logins"),
        ("refresh", "refreshes"),
        ("client-credentials", "grants"),
    ] {
        let v = bench(dir.path(), &["--mode", mode, "--requests", "30"]).await;
        assert_eq!(v["mode"], noun);
        assert_eq!(v["ok"], 30, "{v}");
        assert_eq!(v["errors"], 0, "{v}");
        assert_eq!(v["bundled_provider"], true);
        let lat = &v["latency_ms"];
        assert!(lat["p50"].as_f64().unwrap() > 0.0);
        assert!(lat["p50"].as_f64() <= lat["p99"].as_f64());
        assert!(lat["p99"].as_f64() <= lat["max"].as_f64());
        if cfg!(target_os = "linux") {
            // The child provider's CPU and memory are read from /proc.
            assert!(v["provider_pid"].as_u64().is_some());
            assert!(v["op_cpu_ms_per_op"].is_number(), "{v}");
            assert!(v["op_peak_rss_mib"].as_f64().unwrap() > 1.0, "{v}");
            assert!(v["rp_cpu_ms_per_op"].is_number(), "{v}");
        }
    }
    // Nothing is cached: the generator's logins are not the user's.
    assert!(!dir.path().join("profiles").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_fails_the_run_without_echoing_it() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp(dir.path());
    cmd.args(["bench", "--issuer", op.issuer()])
        .args([
            "--client-id",
            "rp-demo",
            "--client-secret",
            "bench-guess-51c2",
        ])
        .args(["--username", "alice", "--password", "wonderland"])
        .args(["--requests", "5", "--warmup", "2", "--users", "1"]);
    let (code, stderr) = failure(&output(cmd).await);
    assert_ne!(code, 0);
    assert!(stderr.contains("invalid_client"), "{stderr}");
    assert!(!stderr.contains("bench-guess-51c2"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn fapi2_logins_under_load() {
    let dir = tempfile::tempdir().unwrap();
    // PAR, DPoP and private_key_jwt on every login, with the bundled provider's rp-fapi.
    let v = bench(dir.path(), &["--fapi2", "--requests", "20"]).await;
    assert_eq!(v["ok"], 20, "{v}");
    assert_eq!(v["errors"], 0, "{v}");
}
