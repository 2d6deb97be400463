//! The configuration file (`$XDG_CONFIG_HOME/rp/config.toml`, here `RP_CONFIG`): profiles
//! declared before any login, the default profile, the precedence flag > environment >
//! stored profile > file, and secrets refused.
#![allow(clippy::unwrap_used)]

use rp_tests::*;
use std::path::Path;

fn write_config(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn alice(cmd: &mut std::process::Command) {
    cmd.args(["--username", "alice", "--password", "wonderland", "--json"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declared_profile_logs_in_with_no_connection_flag() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "default_profile = \"work\"\n\n[profiles.work]\nissuer = \"{}\"\nclient_id = \"rp-public\"\nscope = \"openid email offline_access\"\n",
            op.issuer()
        ),
    );
    let mut login = rp(dir.path());
    login
        .env("RP_CONFIG", &config)
        .args(["login", "--profile", "work"]);
    alice(&mut login);
    let v = output_json(login).await;
    assert_eq!(v["issuer"], op.issuer());
    assert_eq!(v["client_id"], "rp-public");
    assert_eq!(v["token_response"]["scope"], "openid email offline_access");
    // A second login elsewhere: now two profiles; commands without --profile use the default.
    let mut other = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    other.env("RP_CONFIG", &config).args(["--profile", "other"]);
    alice(&mut other);
    output_ok(other).await;
    let mut token = rp(dir.path());
    token.env("RP_CONFIG", &config).args(["token", "--json"]);
    let t = output_json(token).await;
    assert_eq!(t["profile"], "work", "{t}");
}

#[tokio::test(flavor = "multi_thread")]
async fn flags_beat_the_environment_which_beats_the_file() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[profiles.p]\nissuer = \"{}\"\nclient_id = \"rp-public\"\nscope = \"openid email\"\n",
            op.issuer()
        ),
    );
    let scope_of =
        |v: &serde_json::Value| v["token_response"]["scope"].as_str().unwrap().to_string();
    let mut env = rp(dir.path());
    env.env("RP_CONFIG", &config)
        .env("RP_SCOPE", "openid profile")
        .args(["login", "--profile", "p", "--no-cache"]);
    alice(&mut env);
    assert_eq!(scope_of(&output_json(env).await), "openid profile");
    let mut flag = rp(dir.path());
    flag.env("RP_CONFIG", &config)
        .env("RP_SCOPE", "openid profile")
        .args(["login", "--profile", "p", "--no-cache", "--scope", "openid"]);
    alice(&mut flag);
    assert_eq!(scope_of(&output_json(flag).await), "openid");
    let mut file = rp(dir.path());
    file.env("RP_CONFIG", &config)
        .args(["login", "--profile", "p", "--no-cache"]);
    alice(&mut file);
    assert_eq!(scope_of(&output_json(file).await), "openid email");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_or_a_typo_in_the_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (text, says) in [
        (
            "[profiles.p]\nclient_secret = \"hunter2\"\n",
            "RP_CLIENT_SECRET",
        ),
        ("[profiles.p]\nissuer_url = \"x\"\n", "issuer_url"),
    ] {
        let config = write_config(dir.path(), text);
        let mut cmd = rp(dir.path());
        cmd.env("RP_CONFIG", &config)
            .args(["login", "--profile", "p"]);
        let out = output(cmd).await;
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(says) && !stderr.contains("hunter2"),
            "{stderr}"
        );
    }
}
