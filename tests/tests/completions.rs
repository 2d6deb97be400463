//! `rp completions` and `rp man`, generated from the clap definitions, used as a shell and
//! `man` would use them.
#![allow(clippy::unwrap_used)]

use rp_tests::*;

/// Bash completes subcommands and flags from the generated script.
#[tokio::test]
async fn bash_completes_subcommands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let script = output_ok({
        let mut c = rp(dir.path());
        c.args(["completions", "bash"]);
        c
    })
    .await
    .stdout;
    let path = dir.path().join("rp.bash");
    std::fs::write(&path, &script).unwrap();
    let complete = |words: &str| {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source '{}'; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); \
                     _rp rp \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
                     printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                path.display()
            ))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let subcommands = complete("rp lo");
    assert!(
        subcommands.lines().any(|l| l == "login") && subcommands.lines().any(|l| l == "logout"),
        "{subcommands}"
    );
    let flags = complete("rp login --clock");
    assert!(flags.lines().any(|l| l == "--clock-skew"), "{flags}");
}

/// Every shell clap_complete knows gets a script that names every subcommand.
#[tokio::test]
async fn every_shell_gets_a_script() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = output_ok({
            let mut c = rp(dir.path());
            c.args(["completions", shell]);
            c
        })
        .await;
        let text = String::from_utf8(out.stdout).unwrap();
        for sub in ["login", "refresh", "listen-logout", "conformance"] {
            assert!(text.contains(sub), "{shell} lacks {sub}");
        }
    }
    let (code, stderr) = run_failing(dir.path(), &["completions", "tcsh"]).await;
    assert_eq!(code, 2, "{stderr}");
}

/// The man pages are roff with the real flags; a mistyped command is a usage error.
#[tokio::test]
async fn man_pages_for_rp_and_each_command() {
    let dir = tempfile::tempdir().unwrap();
    let page = |args: &'static [&'static str]| {
        let mut c = rp(dir.path());
        c.args(args);
        output_ok(c)
    };
    let root = String::from_utf8(page(&["man"]).await.stdout).unwrap();
    assert!(root.contains(".TH rp 1"), "{root}");
    assert!(root.contains("listen\\-logout"), "{root}");
    let login = String::from_utf8(page(&["man", "login"]).await.stdout).unwrap();
    assert!(login.contains(".TH rp-login 1"), "{login}");
    assert!(login.contains("\\-\\-clock\\-skew"), "{login}");
    let (code, stderr) = run_failing(dir.path(), &["man", "logn"]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("one of: login"), "{stderr}");
}
