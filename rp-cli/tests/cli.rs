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

#[test]
fn tokens_secrets_and_passwords_may_start_with_a_hyphen() {
    // base64url tokens start with '-' one time in 64; a flag parser must not read them as
    // options. Nothing listens on port 1: the run gets as far as the network (exit 3), not a
    // usage error (exit 2).
    let cases: &[&[&str]] = &[
        &[
            "introspect",
            "--token",
            "-2x-CO-UGwjL8",
            "--client-secret",
            "-s3",
        ],
        &["revoke", "--token", "-2x", "--client-secret", "-s3"],
        &["userinfo", "--token", "-2x"],
        &["refresh", "--token", "-2x", "--client-secret", "-s3"],
        &[
            "exchange",
            "--subject-token",
            "-2x",
            "--client-secret",
            "-s3",
        ],
    ];
    for args in cases {
        let out = rp()
            .args(*args)
            .args(["--issuer", "http://127.0.0.1:1", "--client-id", "c"])
            .env(
                "RP_CACHE_DIR",
                std::env::temp_dir().join("rp-cli-test-empty-cache"),
            )
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
    }
    let out = rp()
        .args([
            "login",
            "--issuer",
            "http://127.0.0.1:1",
            "--client-id",
            "c",
        ])
        .args(["--username", "u", "--password", "-p4ss"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Help lists what applies: commands that never authenticate the client have no client
/// secret or authentication method, and refuse them; those that do, list them.
#[test]
fn help_lists_only_the_options_that_apply() {
    for cmd in ["userinfo", "listen-logout"] {
        let out = rp().args([cmd, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("--client-id"), "{cmd}: {help}");
        for absent in ["--client-secret", "--token-auth-method"] {
            assert!(!help.contains(absent), "{cmd} lists {absent}: {help}");
        }
        let out = rp().args([cmd, "--client-secret", "s"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd}");
    }
    for cmd in ["refresh", "introspect", "revoke", "exchange"] {
        let out = rp().args([cmd, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("--client-secret"), "{cmd}: {help}");
    }
    let out = rp().args(["login", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--device", "--store", "--paste", "--redirect-uri"] {
        assert!(help.contains(flag), "login lacks {flag}");
    }
}
