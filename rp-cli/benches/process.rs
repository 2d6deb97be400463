//! The `rp` binary as a process, the way scripts and CI run it:
//!
//! - `rp --version`: start-up and exit, the floor of every invocation;
//! - `rp login` headless against a running bundled provider: discovery, the login form, the
//!   code exchange, the ID token validation, userinfo, and the token cache written (0600,
//!   atomically), in a fresh process each time;
//! - `rp token` with a valid cached token (what kubectl runs before every command: one file
//!   read, no lock, no network), and `rp token --min-ttl 86400`, which refreshes every time
//!   (lock, discovery, the refresh grant, the new ID token validated, the profile written);
//! - `node -e ''` when Node.js is installed: the start-up of an empty Node process, the floor
//!   under any Node RP's cold login (openid-client's measured 300 ms included).
//!
//! Run: `cargo bench -p rp-cli --bench process`
#![allow(clippy::unwrap_used, missing_debug_implementations)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::process::{Command, Stdio};

fn run(cmd: &mut Command) {
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

fn bench(c: &mut Criterion) {
    let rp = env!("CARGO_BIN_EXE_rp");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let op = runtime
        .block_on(rp_provider::start(rp_provider::ProviderConfig::default()))
        .unwrap();
    let cache = tempfile::tempdir().unwrap();

    let mut group = c.benchmark_group("process");
    group.bench_function("rp --version", |b| {
        b.iter(|| run(Command::new(rp).arg("--version")))
    });
    group.bench_function("rp login (headless, running provider)", |b| {
        b.iter(|| {
            run(Command::new(rp)
                .env("RP_CACHE_DIR", cache.path())
                .args(["login", "--issuer", op.issuer()])
                .args([
                    "--client-id",
                    "rp-demo",
                    "--client-secret",
                    "rp-demo-secret",
                ])
                .args(["--username", "alice", "--password", "wonderland"]))
        })
    });
    // A profile with a refresh token for the `rp token` rows.
    run(Command::new(rp)
        .env("RP_CACHE_DIR", cache.path())
        .args(["login", "--issuer", op.issuer(), "--profile", "tok"])
        .args([
            "--client-id",
            "rp-demo",
            "--client-secret",
            "rp-demo-secret",
        ])
        .args(["--username", "alice", "--password", "wonderland"])
        .args(["--scope", "openid offline_access"]));
    group.bench_function("rp token (valid cached token)", |b| {
        b.iter(|| {
            run(Command::new(rp).env("RP_CACHE_DIR", cache.path()).args([
                "token",
                "--profile",
                "tok",
            ]))
        })
    });
    group.bench_function("rp token (refreshed first)", |b| {
        b.iter(|| {
            run(Command::new(rp).env("RP_CACHE_DIR", cache.path()).args([
                "token",
                "--profile",
                "tok",
                "--min-ttl",
                "86400",
            ]))
        })
    });
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if node {
        group.bench_function("node -e '' (for comparison)", |b| {
            b.iter(|| run(Command::new("node").args(["-e", ""])))
        });
    }
    group.finish();
    drop(op);
}

criterion_group!(benches, bench);
criterion_main!(benches);
