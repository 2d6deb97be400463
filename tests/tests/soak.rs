//! Soak and fault runs, by hand (ignored by the test command; `RELIABILITY.md` has the
//! figures and the command): thousands of processes on one cached grant, thousands of hostile
//! requests at the callback listener, the provider killed in the middle of a refresh. Each
//! asserts what must hold (no lost token, no torn file, a bounded listener, a one-line error
//! naming the cause) and prints its figures.
//!
//! ```text
//! cargo test --release -p rp-tests --test soak -- --ignored --nocapture --test-threads 1
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rp_tests::*;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The profile files of a cache directory, and anything else found beside them (a temporary
/// file left behind would be a torn write).
fn cache_files(cache: &Path) -> (Vec<std::path::PathBuf>, Vec<std::path::PathBuf>) {
    let mut profiles = Vec::new();
    let mut other = Vec::new();
    for e in std::fs::read_dir(cache.join("profiles")).unwrap() {
        let p = e.unwrap().path();
        match p.extension().and_then(|x| x.to_str()) {
            Some("json") => profiles.push(p),
            Some("lock") => {}
            _ => other.push(p),
        }
    }
    (profiles, other)
}

fn stored_refresh_token(cache: &Path) -> String {
    let (profiles, _) = cache_files(cache);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&profiles[0]).unwrap()).expect("a whole profile");
    v["tokens"]["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_string()
}

async fn login_offline(cache: &Path, issuer: &str) {
    let mut cmd = rp_login(cache, issuer, ("rp-demo", "rp-demo-secret"));
    cmd.args([
        "--headless",
        "--username",
        "alice",
        "--password",
        "wonderland",
        "--scope",
        "openid profile offline_access",
        "--profile",
        "soak",
    ]);
    output_ok(cmd).await;
}

/// `SOAK_REFRESHES` (1,000) `rp refresh` processes on one profile, `SOAK_PARALLEL` (4) at a
/// time. The provider rotates the refresh token on every use and revokes the whole grant when
/// a rotated one comes back (RFC 9700 §4.14.2): a single process that read the profile before
/// another rewrote it would kill the grant. So: every process succeeds, the grant is alive at
/// the end, the file is whole and nothing is left beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "soak run, by hand: see RELIABILITY.md"]
async fn soak_refresh_processes_on_one_profile() {
    let total = count("SOAK_REFRESHES", 1000);
    let parallel = count("SOAK_PARALLEL", 4);
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().to_path_buf();
    login_offline(&cache, op.issuer()).await;
    let first = stored_refresh_token(&cache);

    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(parallel));
    let failures = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..total {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let cache = cache.clone();
        let failures = failures.clone();
        tasks.spawn(async move {
            let mut cmd = rp(&cache);
            cmd.args(["refresh", "--profile", "soak", "--json"]);
            let out = output(cmd).await;
            if !out.status.success() {
                let n = failures.fetch_add(1, Ordering::SeqCst);
                if n < 5 {
                    eprintln!("refresh failed: {}", String::from_utf8_lossy(&out.stderr));
                }
            }
            drop(permit);
        });
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed();

    let (profiles, other) = cache_files(&cache);
    assert_eq!(profiles.len(), 1);
    assert!(other.is_empty(), "left beside the profile: {other:?}");
    let last = stored_refresh_token(&cache);
    assert_ne!(first, last, "rotated");
    // The grant is alive: one more refresh works.
    let mut cmd = rp(&cache);
    cmd.args(["refresh", "--profile", "soak"]);
    output_ok(cmd).await;
    let failed = failures.load(Ordering::SeqCst);
    println!(
        "refresh soak: {total} processes, {parallel} at a time, {failed} failed, {:.1} s ({:.1} ms per refresh), grant alive, profile whole, no stray files",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / total as f64
    );
    assert_eq!(failed, 0);
}

/// One hostile request of kind `i % 8`; returns whether the listener answered at all.
async fn hostile(addr: &str, redirect: &str, i: usize) -> bool {
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return false;
    };
    let request: Vec<u8> = match i % 8 {
        // A forged callback: another state (and code).
        0 => format!(
            "GET {}?code=forged{i}&state=s{i} HTTP/1.1\r\nHost: {addr}\r\n\r\n",
            url::Url::parse(redirect).unwrap().path()
        )
        .into_bytes(),
        // Binary noise.
        1 => (0..4096).map(|b| (b * 7 + i) as u8).collect(),
        // A truncated request, then the connection is dropped.
        2 => b"GET /callback?code=x HTTP/1.1\r\nHost: 12".to_vec(),
        // An oversized header.
        3 => format!(
            "GET /callback HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "A".repeat(64 * 1024)
        )
        .into_bytes(),
        // An oversized form post.
        4 => format!(
            "POST /callback HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 300000\r\n\r\n{}",
            "a".repeat(300_000)
        )
        .into_bytes(),
        // Wrong paths and methods.
        5 => b"DELETE /callback HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        6 => format!("GET /../../etc/passwd?{i} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes(),
        // Duplicated parameters and control characters.
        _ => format!(
            "GET /callback?code=a&code=b&state=%1b%5b31m{i}&error=%00 HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        .into_bytes(),
    };
    let _ = s.write_all(&request).await;
    let _ = s.shutdown().await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    !out.is_empty()
}

/// `SOAK_HOSTILE` (10,000) hostile requests at the loopback listener, 32 at a time, then the
/// genuine callback: the login completes, rp never panics, memory and threads stay bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "soak run, by hand: see RELIABILITY.md"]
async fn soak_listener_under_hostile_requests() {
    let total = count("SOAK_HOSTILE", 10_000);
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    cmd.args(["--no-browser", "--timeout", "900", "--json"]);
    let mut rp = Watched::spawn(cmd);
    let pid = rp.child.id();
    let url = url::Url::parse(&rp.line(|l| l.starts_with("http://")).await).unwrap();
    let redirect = query_param(&url, "redirect_uri");
    let addr = format!(
        "127.0.0.1:{}",
        url::Url::parse(&redirect).unwrap().port().unwrap()
    );
    let (rss_before, _, threads_before) = proc_status(pid);

    let started = Instant::now();
    let answered = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Semaphore::new(32));
    let mut tasks = tokio::task::JoinSet::new();
    let mut max_threads = threads_before;
    for i in 0..total {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let (addr, redirect, answered) = (addr.clone(), redirect.clone(), answered.clone());
        tasks.spawn(async move {
            if hostile(&addr, &redirect, i).await {
                answered.fetch_add(1, Ordering::SeqCst);
            }
            drop(permit);
        });
        if i % 500 == 0 {
            max_threads = max_threads.max(proc_status(pid).2);
        }
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed();
    let (rss_after, peak, _) = proc_status(pid);

    let outcome = drive_as_alice(&url, &redirect).await;
    assert_eq!(outcome.status, 200);
    let (code, stdout, stderr) = rp.finish().await;
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    all_checks_passed(&v);
    let answered = answered.load(Ordering::SeqCst);
    println!(
        "listener soak: {total} hostile requests in {:.1} s, {answered} answered; rp RSS {} KiB before, {} KiB after, peak {} KiB; threads {threads_before} before, at most {max_threads}; then the genuine login completed",
        elapsed.as_secs_f64(),
        rss_before,
        rss_after,
        peak
    );
    assert!(
        peak < rss_before + 64 * 1024,
        "memory bounded: peak {peak} KiB"
    );
    assert!(max_threads < 64, "threads bounded: {max_threads}");
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill {sig} {pid}");
}

/// `rp provider` on `port`, logging each request (`-vv`).
fn provider_process(port: u16) -> Watched {
    let mut cmd = std::process::Command::new(rp_bin());
    cmd.args(["provider", "-vv", "--port", &port.to_string()])
        .env("NO_COLOR", "1");
    Watched::spawn(cmd)
}

/// `SOAK_KILLS` (40) times: the provider killed (SIGKILL) at a random moment of an
/// `rp refresh` (uniform over the time a refresh takes). Whatever the moment, rp either
/// finished (the rotated refresh token is in the file) or says in one line which request
/// found the provider gone (exit 3) and keeps the newest refresh token it received (the one
/// it had, or the rotated one when the token response arrived before the provider died); the
/// profile file is always whole, with nothing beside it. Half the kills land at a random
/// moment, half the moment the token request reaches the provider. The moments are told apart by the URL in rp's
/// message (discovery, token endpoint, JWKS).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "fault run, by hand: see RELIABILITY.md"]
async fn soak_provider_killed_mid_refresh() {
    let kills = count("SOAK_KILLS", 40);
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().to_path_buf();

    // How long a refresh takes here, to spread the kills over it.
    let mut op = provider_process(port);
    op.line(move |l| l.contains(&format!("127.0.0.1:{port}")))
        .await;
    login_offline(&cache, &issuer).await;
    let t = Instant::now();
    let mut cmd = rp(&cache);
    cmd.args(["refresh", "--profile", "soak"]);
    output_ok(cmd).await;
    let span = t.elapsed().mul_f64(1.2);
    signal(op.child.id(), "-KILL");
    let _ = op.finish().await;

    let mut outcomes: std::collections::BTreeMap<String, usize> = Default::default();
    for i in 0..kills {
        let mut op = provider_process(port);
        op.line(move |l| l.contains(&format!("127.0.0.1:{port}")))
            .await;
        login_offline(&cache, &issuer).await;
        let before = stored_refresh_token(&cache);
        let mut cmd = rp(&cache);
        cmd.args(["refresh", "--profile", "soak"]);
        // The login's own token request, answered, before the refresh starts.
        op.line(|l| l.contains("answered") && l.contains("/token"))
            .await;
        let t = Instant::now();
        let refresh = Watched::spawn(cmd);
        if i % 2 == 0 {
            // The fault's moment (not a synchronisation): a pseudo-random point of the span.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos() as u64;
            let at = span.mul_f64(((nanos ^ (i as u64 * 2_654_435_761)) % 1000) as f64 / 1000.0);
            tokio::time::sleep(at).await;
        } else {
            // The moment the refresh's token request reaches the provider.
            op.line(|l| l.contains("request") && l.contains("/token"))
                .await;
        }
        let at = t.elapsed();
        signal(op.child.id(), "-KILL");
        let _ = op.finish().await;
        let (code, _, stderr) = refresh.finish().await;
        let (profiles, other) = cache_files(&cache);
        assert!(other.is_empty(), "{other:?}");
        assert_eq!(profiles.len(), 1);
        let after = stored_refresh_token(&cache);
        let outcome = match code {
            0 => {
                assert_ne!(
                    after, before,
                    "a completed refresh stored the rotated token"
                );
                "completed before the kill".to_string()
            }
            // The token response arrived (the provider rotated the refresh token) and the
            // provider died before its keys were fetched to check the new ID token: the
            // rotated refresh token is saved, said so on its own line, then the error.
            3 if stderr.contains("new refresh token is saved") => {
                assert_ne!(after, before, "the rotated token is saved: {stderr}");
                let error = stderr.trim().lines().last().unwrap_or("");
                assert!(error.contains("cannot reach"), "{stderr}");
                let step = if error.contains("jwks") {
                    "the JWKS fetch"
                } else {
                    "another request"
                };
                format!(
                    "failed cleanly at {step} after the token response, rotated token saved (exit 3)"
                )
            }
            3 => {
                assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
                assert_eq!(after, before, "the refresh token is kept: {stderr}");
                let step = if stderr.contains("openid-configuration") {
                    "discovery"
                } else if stderr.contains("/token") {
                    "the token request"
                } else if stderr.contains("jwks") {
                    "the JWKS fetch"
                } else {
                    "another request"
                };
                format!("failed cleanly at {step} (exit 3)")
            }
            _ => panic!("exit {code}: {stderr}"),
        };
        if i < 3 || !outcomes.contains_key(&outcome) {
            println!("kill {i} at {at:?}: {outcome}: {}", stderr.trim());
        }
        *outcomes.entry(outcome).or_default() += 1;
    }
    println!("provider killed {kills} times over a {span:?} refresh: {outcomes:?}");

    // After a restart the grant is gone (the bundled provider keeps it in memory): rp says so.
    let mut op = provider_process(port);
    op.line(move |l| l.contains(&format!("127.0.0.1:{port}")))
        .await;
    let before = stored_refresh_token(&cache);
    let mut cmd = rp(&cache);
    cmd.args(["refresh", "--profile", "soak"]);
    let (code, stderr) = failure(&output(cmd).await);
    println!("after a restart: exit {code}: {stderr}");
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("invalid_grant"), "{stderr}");
    assert!(stderr.contains("log in again"), "{stderr}");
    assert_eq!(
        stored_refresh_token(&cache),
        before,
        "the file is untouched"
    );
    signal(op.child.id(), "-KILL");
    let _ = op.finish().await;
}
