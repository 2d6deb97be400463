//! `rp login --store keyring` against a real Secret Service: gnome-keyring on a private D-Bus
//! session bus, in a temporary home, started by each test and stopped when it ends
//! (`tests/keyring/install.sh` installs Debian's packages first).
//!
//! Without them these tests are skipped with the reason on stderr, unless
//! `RP_REQUIRE_KEYRING=1` is set (as `.ci/run` does): then a missing Secret Service fails them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rp_tests::*;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// A session bus with an unlocked gnome-keyring on it; both stop on drop.
struct SecretService {
    bus: Child,
    address: String,
    home: tempfile::TempDir,
}

impl Drop for SecretService {
    fn drop(&mut self) {
        // gnome-keyring-daemon leaves when its bus goes away.
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

impl SecretService {
    /// The environment a process needs to reach this Secret Service (and nothing else).
    fn env(&self, cmd: &mut Command) {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("HOME", self.home.path().join("home"))
            .env("XDG_RUNTIME_DIR", self.home.path().join("run"));
    }

    /// What secret-tool finds for rp's entries.
    fn entries(&self) -> String {
        let mut cmd = Command::new("secret-tool");
        cmd.args(["search", "--all", "service", "rp"]);
        self.env(&mut cmd);
        let out = cmd.output().unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

fn installed() -> &'static Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("keyring/install.sh");
        let out = Command::new("sh")
            .arg(script)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run tests/keyring/install.sh: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    })
}

fn secret_service(test: &str) -> Option<SecretService> {
    if let Err(why) = installed() {
        if std::env::var("RP_REQUIRE_KEYRING").is_ok_and(|v| v == "1") {
            panic!("RP_REQUIRE_KEYRING=1 and no Secret Service can be had: {why}");
        }
        let _ = writeln!(
            std::io::stderr(),
            "keyring test {test} SKIPPED: {why} (set RP_REQUIRE_KEYRING=1 to make this an error)"
        );
        return None;
    }
    let home = tempfile::tempdir().unwrap();
    for d in ["home", "run"] {
        std::fs::create_dir(home.path().join(d)).unwrap();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            home.path().join("run"),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();
    }
    let mut bus = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon");
    // The address is printed once the bus listens.
    let mut address = String::new();
    BufReader::new(bus.stdout.take().unwrap())
        .read_line(&mut address)
        .unwrap();
    let service = SecretService {
        bus,
        address: address.trim().to_string(),
        home,
    };
    // --unlock creates and unlocks the login keyring with the password on stdin; the command
    // returns once the daemon serves the bus.
    let mut keyring = Command::new("gnome-keyring-daemon");
    keyring
        .args(["--unlock", "--components=secrets"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    service.env(&mut keyring);
    let mut child = keyring.spawn().expect("gnome-keyring-daemon");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"keyring-test-password")
        .unwrap();
    assert!(
        child.wait().unwrap().success(),
        "gnome-keyring-daemon failed"
    );
    Some(service)
}

fn profile_file(cache: &Path) -> PathBuf {
    std::fs::read_dir(cache.join("profiles"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a profile file")
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_live_in_the_keyring_and_every_command_finds_them() {
    let Some(ss) = secret_service("tokens_live_in_the_keyring_and_every_command_finds_them") else {
        return;
    };
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut login = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    ss.env(&mut login);
    login
        .args(["--username", "alice", "--password", "wonderland", "--json"])
        .args([
            "--profile",
            "k",
            "--scope",
            "openid offline_access",
            "--store",
            "keyring",
        ]);
    let v = output_json(login).await;
    let access = v["token_response"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let refresh = v["token_response"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();

    // The file holds no secret at all; the keyring entry exists.
    let file = std::fs::read_to_string(profile_file(dir.path())).unwrap();
    for secret in [access.as_str(), refresh.as_str(), "rp-demo-secret"] {
        assert!(!file.contains(secret), "a secret is in the file: {file}");
    }
    assert!(file.contains("\"store\": \"keyring\""), "{file}");
    assert!(ss.entries().contains("k in "), "{}", ss.entries());

    // rp token reads it back; a refresh writes the rotated token back to the keyring.
    let mut token = rp(dir.path());
    ss.env(&mut token);
    token.args(["token", "--profile", "k"]);
    assert_eq!(
        String::from_utf8(output_ok(token).await.stdout)
            .unwrap()
            .trim(),
        access
    );
    let mut refresh_cmd = rp(dir.path());
    ss.env(&mut refresh_cmd);
    refresh_cmd.args(["refresh", "--profile", "k", "--json"]);
    let r = output_json(refresh_cmd).await;
    let new_access = r["token_response"]["access_token"].as_str().unwrap();
    assert_ne!(new_access, access);
    let mut token = rp(dir.path());
    ss.env(&mut token);
    token.args(["token", "--profile", "k"]);
    assert_eq!(
        String::from_utf8(output_ok(token).await.stdout)
            .unwrap()
            .trim(),
        new_access
    );
    let file = std::fs::read_to_string(profile_file(dir.path())).unwrap();
    assert!(
        !file.contains(new_access),
        "the refreshed token leaked into the file"
    );

    // rm deletes the keyring entry with the file.
    let mut rm = rp(dir.path());
    ss.env(&mut rm);
    rm.args(["profiles", "rm", "k"]);
    output_ok(rm).await;
    assert!(!ss.entries().contains("k in "), "{}", ss.entries());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_secret_service_the_keyring_store_says_what_to_do() {
    let op = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut login = rp_login(dir.path(), op.issuer(), ("rp-demo", "rp-demo-secret"));
    login
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .args(["--username", "alice", "--password", "wonderland"])
        .args(["--profile", "k", "--store", "keyring"]);
    let out = output(login).await;
    assert_eq!(out.status.code(), Some(8), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--store file"), "{stderr}");
    // Nothing half-written: no profile file.
    let profiles = dir.path().join("profiles");
    let files: Vec<_> = std::fs::read_dir(&profiles)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    assert!(files.is_empty(), "{files:?}");
}
