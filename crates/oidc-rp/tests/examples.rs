//! The examples in `examples/` are documentation that runs: each one logs in (or refreshes,
//! or receives a logout token) against the bundled provider and exits 0 only when every step
//! succeeded. `cargo test` builds them; this runs them and checks what they print.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

/// Beside this test binary: `target/<profile>/deps/examples-…` → `target/<profile>/examples/`.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let path = dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo test -p oidc-rp` (which builds the examples) or \
         `cargo build -p oidc-rp --examples` first",
        path.display()
    );
    path
}

async fn run(name: &str) -> String {
    let mut command = tokio::process::Command::new(example(name));
    command.kill_on_drop(true).env_remove("OIDC_ISSUER");
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .unwrap_or_else(|_| panic!("example {name} did not finish within 120 s"))
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "example {name} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn axum_login_signs_alice_in_with_every_check_passed() {
    let out = run("axum_login").await;
    assert!(out.contains("callback answered 200"), "{out}");
    assert!(out.contains("signed in as 248289761001"), "{out}");
    assert!(out.contains("ok   signature:"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
}

#[tokio::test]
async fn refresh_checks_the_new_id_token_against_the_stored_one() {
    let out = run("refresh").await;
    assert!(out.contains("refresh token rotated"), "{out}");
    assert!(
        out.contains("ok   refresh consistency: same iss, sub, aud, azp and auth_time"),
        "{out}"
    );
}

#[tokio::test]
async fn backchannel_logout_ends_the_session_and_refuses_the_replay() {
    let out = run("backchannel_logout").await;
    assert!(out.contains("accepted; 0 local sessions left"), "{out}");
    assert!(
        out.contains("ok   events: the back-channel logout event"),
        "{out}"
    );
    assert!(out.contains("replayed token refused"), "{out}");
    assert!(out.contains("jti"), "{out}");
}

/// The service example: a sealed-cookie login, the login stored and read back, a refresh from
/// it, and a replayed callback answered 400 by its error class.
#[cfg(feature = "redis")]
#[tokio::test]
async fn service_stores_the_login_refreshes_and_refuses_a_replayed_callback() {
    let out = run("service").await;
    assert!(
        out.contains("callback: 200 signed in as 248289761001"),
        "{out}"
    );
    assert!(out.contains("POST /refresh: 200 refreshed"), "{out}");
    assert!(out.contains("the callback replayed: 400"), "{out}");
}
