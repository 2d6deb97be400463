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

/// Colour on a terminal only, and never with NO_COLOR; piped output has no escape at all.
#[tokio::test(flavor = "multi_thread")]
async fn colour_only_on_a_terminal_and_never_with_no_color() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let line = format!(
        "{} login --issuer {} --client-id rp-demo --client-secret rp-demo-secret --username alice --password wonderland --no-cache",
        rp_bin().display(),
        op.issuer()
    );
    let cache = dir.path().to_path_buf();
    let on_terminal = move |no_color: Option<&str>| {
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"])
            .env("RP_CACHE_DIR", &cache)
            .env("TERM", "xterm")
            .env_remove("NO_COLOR")
            .stdin(Stdio::null());
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = tokio::task::spawn_blocking(move || (on_terminal(None), on_terminal(Some("1"))))
        .await
        .unwrap();
    assert!(coloured.0.contains("\x1b[32m✓\x1b[0m"), "{}", coloured.0);
    assert!(
        !coloured.1.contains("\x1b[32m"),
        "NO_COLOR was ignored: {}",
        coloured.1
    );
    let mut piped = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    piped.args([
        "--username",
        "alice",
        "--password",
        "wonderland",
        "--no-cache",
    ]);
    let out = output_ok(piped).await;
    assert!(!out.stdout.contains(&0x1b), "an escape in piped output");
}
