//! The binary's own surface: help, version, usage errors and exit statuses.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn rp() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rp"));
    cmd.env_remove("RP_PASSWORD").env_remove("RP_CLIENT_SECRET");
    cmd
}

#[test]
fn version_and_help() {
    let out = rp().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("rp "));
    let out = rp().args(["login", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Examples:") && help.contains("--issuer") && help.contains("--ca-file"));
    let out = rp().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Exit status:"), "{help}");
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let cases: &[&[&str]] = &[
        &["login", "--bogus"],
        &["login", "--issuer", "https://op.example", "--username", "u"],
        &["login", "--issuer", "https://op.example"],
        &["login", "--issuer", "not a url", "--client-id", "c"],
        &["login", "--issuer", "http://op.example", "--client-id", "c"],
        &[
            "login",
            "--issuer",
            "https://op.example",
            "--client-id",
            "c",
            "--ca-file",
            "/nonexistent.pem",
        ],
    ];
    for args in cases {
        let out = rp().args(*args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn unreachable_provider_exits_3() {
    // A port nothing listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = rp()
        .args([
            "login",
            "--issuer",
            &format!("http://127.0.0.1:{port}"),
            "--client-id",
            "c",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("cannot reach"), "{stderr}");
    assert_eq!(
        stderr
            .trim()
            .lines()
            .last()
            .unwrap()
            .matches("rp: error")
            .count(),
        1
    );
}
