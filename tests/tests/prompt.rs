//! `rp login --username` without a password asks for it on the terminal, without echo; with
//! no terminal it says how to give it. The terminal is a real pseudo-terminal (`script`).
#![allow(clippy::unwrap_used)]

use rp_tests::*;
use std::io::Write;
use std::process::{Command, Stdio};

#[tokio::test(flavor = "multi_thread")]
async fn the_password_is_asked_for_on_the_terminal_without_echo() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let line = format!(
        "{} login --issuer {} --client-id rp-demo --client-secret rp-demo-secret --username alice --no-userinfo",
        rp_bin().display(),
        op.issuer()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env("RP_CACHE_DIR", dir.path())
        .env_remove("RP_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"wonderland\n")
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(screen.contains("Password for alice: "), "{screen}");
    assert!(screen.contains("every check passed"), "{screen}");
    // Typed ahead, the password may reach the terminal before echo is off; it is never
    // printed by rp itself after the prompt.
    let after = screen.split("Password for alice: ").nth(1).unwrap();
    assert!(!after.contains("wonderland"), "{screen}");

    // No terminal: a usage error that says how to give the password.
    let (code, stderr) = run_failing(
        dir.path(),
        &[
            "login",
            "--issuer",
            op.issuer(),
            "--client-id",
            "rp-demo",
            "--client-secret",
            "rp-demo-secret",
            "--username",
            "alice",
        ],
    )
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("RP_PASSWORD"), "{stderr}");
}
