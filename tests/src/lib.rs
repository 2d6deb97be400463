//! Helpers for the end-to-end tests: the built `rp` binary, the bundled provider on an
//! ephemeral loopback port, and child processes whose stderr can be watched line by line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

/// The `rp` binary of the running test's profile.
///
/// A workspace test crate gets no `CARGO_BIN_EXE_rp`. `cargo test --workspace` builds the
/// binary anyway (rp-cli has integration tests of its own), so it is used as is when no
/// source is newer than it; otherwise (`cargo test -p rp-tests` after an edit) cargo is asked
/// to build it first.
pub fn rp_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("current exe");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test binaries live in <target>/<profile>/deps");
        let bin = profile_dir.join(format!("rp{}", std::env::consts::EXE_SUFFIX));
        if !is_fresh(&bin) {
            let profile = profile_dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("debug");
            let mut cmd = Command::new(env!("CARGO"));
            cmd.args(["build", "--quiet", "-p", "rp-cli", "--bin", "rp"]);
            if profile != "debug" {
                cmd.args(["--profile", profile]);
            }
            let status = cmd.status().expect("run cargo build");
            assert!(status.success(), "cargo build -p rp-cli failed");
        }
        assert!(bin.exists(), "{} was not built", bin.display());
        bin
    })
}

fn newest(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let t = if path.is_dir() {
            newest_opt(&path)
        } else {
            entry.metadata().ok().and_then(|m| m.modified().ok())
        };
        newest = newest.max(t);
    }
    newest
}

fn newest_opt(dir: &Path) -> Option<std::time::SystemTime> {
    newest(dir)
}

fn is_fresh(bin: &Path) -> bool {
    let Some(built) = bin.metadata().ok().and_then(|m| m.modified().ok()) else {
        return false;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    ["rp-cli", "crates", "fixtures", "Cargo.lock"]
        .iter()
        .filter_map(|p| {
            let p = root.join(p);
            if p.is_dir() {
                newest(&p)
            } else {
                p.metadata().ok().and_then(|m| m.modified().ok())
            }
        })
        .all(|t| t <= built)
}

/// A command for `rp` with a private token cache directory.
pub fn rp(cache: &Path) -> Command {
    let mut cmd = Command::new(rp_bin());
    cmd.env("RP_CACHE_DIR", cache)
        // Never the user's own configuration file: a test that wants one writes it.
        .env("RP_CONFIG", cache.join("absent-config.toml"))
        .env_remove("RP_PASSWORD")
        .env_remove("RP_CLIENT_SECRET")
        .env_remove("RP_ISSUER")
        .env_remove("RP_CLIENT_ID")
        .env_remove("RP_SCOPE")
        .env_remove("RP_PROFILE")
        .env_remove("RP_CA_FILE")
        .env_remove("RP_LOG")
        .env_remove("BROWSER")
        .stdin(Stdio::null());
    cmd
}

impl std::fmt::Debug for Watched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Watched(pid {})", self.child.id())
    }
}

/// Run to completion on a blocking thread (so the in-process provider keeps serving).
pub async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("spawn rp"))
        .await
        .expect("join")
}

/// Require a successful exit (the command line and stderr in the failure message).
pub fn succeeded(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Run to completion and require success.
pub async fn output_ok(cmd: Command) -> Output {
    let what = format!("{cmd:?}");
    succeeded(output(cmd).await, &what)
}

/// Run to completion, require success, and parse stdout as JSON.
pub async fn output_json(cmd: Command) -> serde_json::Value {
    json(&output_ok(cmd).await)
}

/// The bundled provider on 127.0.0.1 with an ephemeral port.
pub async fn provider() -> rp_provider::RunningProvider {
    rp_provider::start(rp_provider::ProviderConfig::default())
        .await
        .expect("start provider")
}

/// A child whose stderr lines arrive on a channel.
pub struct Watched {
    /// The process.
    pub child: Child,
    lines: Receiver<String>,
    /// Every stderr line seen so far.
    pub seen: Vec<String>,
}

impl Watched {
    /// Spawn with stderr piped and read by a thread.
    pub fn spawn(mut cmd: Command) -> Watched {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rp");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watched {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// The first stderr line matching `pred` (bounded wait).
    pub async fn line(&mut self, pred: impl Fn(&str) -> bool + Send + 'static) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let remaining = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(
                !remaining.is_zero(),
                "no matching stderr line; saw {:?}",
                self.seen
            );
            let rx = &self.lines;
            let got = tokio::task::block_in_place(|| rx.recv_timeout(remaining));
            match got {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(_) => panic!("stderr ended without a matching line; saw {:?}", self.seen),
            }
        }
    }

    /// Wait for exit; returns (status code, stdout, the rest of stderr).
    pub async fn finish(mut self) -> (i32, String, String) {
        let mut child = self.child;
        let lines = self.lines;
        let (code, stdout, rest) = tokio::task::spawn_blocking(move || {
            let mut stdout = String::new();
            if let Some(mut out) = child.stdout.take() {
                use std::io::Read;
                let _ = out.read_to_string(&mut stdout);
            }
            let status = child.wait().expect("wait");
            let rest: Vec<String> = lines.iter().collect();
            (status.code().unwrap_or(-1), stdout, rest)
        })
        .await
        .expect("join");
        self.seen.extend(rest);
        (code, stdout, self.seen.join("\n"))
    }
}

/// stdout as JSON.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Assert that a JSON report has checks and that every one passed (naming the first that did
/// not).
pub fn all_checks_passed(v: &serde_json::Value) {
    let checks = v["checks"].as_array().expect("a checks array");
    assert!(!checks.is_empty(), "no checks in {v}");
    for c in checks {
        assert_eq!(c["passed"], true, "{c}");
    }
}

/// The exit code and stderr, for assertions.
pub fn failure(out: &Output) -> (i32, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Walk a login like a browser would, as alice (the real user, in tests where `rp` only
/// listens), until the redirect reaches `redirect_uri`.
pub async fn drive_as_alice(url: &url::Url, redirect_uri: &str) -> oidc_rp_headless::Outcome {
    let browser = oidc_rp_headless::Browser::new(&oidc_rp::HttpClient::default()).expect("browser");
    oidc_rp_headless::drive(
        &browser,
        url,
        redirect_uri,
        Some(&oidc_rp_headless::Credentials {
            username: "alice".into(),
            password: oidc_rp::Secret::new("wonderland"),
        }),
    )
    .await
    .expect("the login completes")
}

/// Run `rp ARGS --json`, require success, and parse stdout.
pub async fn run_json<S: AsRef<std::ffi::OsStr>>(cache: &Path, args: &[S]) -> serde_json::Value {
    let mut cmd = rp(cache);
    cmd.args(args).arg("--json");
    output_json(cmd).await
}

/// Run `rp ARGS` expecting a failure: (exit status, stderr).
pub async fn run_failing<S: AsRef<std::ffi::OsStr>>(cache: &Path, args: &[S]) -> (i32, String) {
    let mut cmd = rp(cache);
    cmd.args(args);
    failure(&output(cmd).await)
}

/// `rp web --port 0`, killed when dropped.
#[derive(Debug)]
pub struct WebApp {
    /// The process and its stderr.
    pub watched: Watched,
    /// `http://127.0.0.1:PORT`, or the `--public-url`.
    pub base: String,
    /// `http://127.0.0.1:PORT`: where this instance listens.
    pub bound: String,
    /// The in-process bundled provider's issuer.
    pub issuer: String,
}

impl Drop for WebApp {
    fn drop(&mut self) {
        let _ = self.watched.child.kill();
        let _ = self.watched.child.wait();
    }
}

/// Start `rp web --port 0` and read its URLs from its "listening on" line.
pub async fn start_web(cache: &Path) -> WebApp {
    start_web_with(cache, &[]).await
}

/// [`start_web`] with more arguments.
pub async fn start_web_with(cache: &Path, extra: &[&str]) -> WebApp {
    let mut cmd = rp(cache);
    cmd.args(["web", "--port", "0"]).args(extra);
    let mut watched = Watched::spawn(cmd);
    // "rp web: listening on BASE/ (bound to 127.0.0.1:P; bundled provider at http://127.0.0.1:Q); ..."
    let line = watched.line(|l| l.contains("listening on")).await;
    let after = |marker: &str| line.split(marker).nth(1).unwrap_or_default().to_string();
    let base = after("listening on ")
        .split('/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    let issuer = after("bundled provider at ")
        .split(')')
        .next()
        .unwrap_or_default()
        .to_string();
    let bound = format!(
        "http://{}",
        after("bound to ").split(';').next().unwrap_or_default()
    );
    assert!(
        base.starts_with("http") && issuer.starts_with("http"),
        "{line}"
    );
    WebApp {
        watched,
        base,
        bound,
        issuer,
    }
}

/// A loopback port free a moment ago (for a server a test starts on a port it must know
/// in advance).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `rp login --register` then `rp logout` (profile `cli`, headless) in the provider session
/// of `jar` (its cookies, written next to `cache`): the provider then sends a logout token to
/// every other client signed in to that session.
pub async fn cli_logs_in_and_out(cache: &Path, issuer: &str, jar: &oidc_rp_headless::CookieJar) {
    let jar_file = cache.with_extension("jar.json");
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    std::fs::write(&jar_file, jar.to_json().unwrap()).unwrap();
    let mut cmd = rp(cache);
    cmd.args(["login", "--issuer", issuer, "--register", "--headless"])
        .args(["--profile", "cli", "--cookie-jar"])
        .arg(&jar_file);
    output_ok(cmd).await;
    let mut cmd = rp(cache);
    cmd.args(["logout", "--profile", "cli", "--headless", "--cookie-jar"])
        .arg(&jar_file);
    output_ok(cmd).await;
}

/// The body of a GET by `client`.
pub async fn get_text(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// A browser for `rp web`'s own pages: cookies kept, redirects not followed.
pub fn web_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The CSRF token of the first form of an `rp web` page.
pub fn form_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

/// The `Location` of a redirect.
pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_string()
}

/// `rp listen-logout --profile PROFILE --once --json` (60 s at most), once it listens.
pub async fn listen_logout_once(cache: &Path, profile: &str) -> Watched {
    let mut cmd = rp(cache);
    cmd.args(["listen-logout", "--profile", profile])
        .args(["--once", "--timeout", "60", "--json"]);
    let mut listener = Watched::spawn(cmd);
    listener
        .line(|l| l.contains("listening for logout requests"))
        .await;
    listener
}

/// `rp login --issuer ISSUER --client-id ID --client-secret SECRET`, for more arguments.
pub fn rp_login(cache: &Path, issuer: &str, client: (&str, &str)) -> Command {
    let mut cmd = rp(cache);
    cmd.args(["login", "--issuer", issuer]).args([
        "--client-id",
        client.0,
        "--client-secret",
        client.1,
    ]);
    cmd
}

/// The value of a query parameter (the `redirect_uri` of an authorization URL rp printed).
pub fn query_param(url: &url::Url, name: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("{url} has no {name}"))
        .1
        .into_owned()
}

/// A loopback HTTP server answering fixed documents by path, for providers that behave in
/// ways the bundled one does not (metadata split across documents, odd error pages, hostile
/// text). `{base}` in a body is replaced by the server's own `http://127.0.0.1:PORT`. Every
/// request is counted per path.
#[derive(Debug, Clone)]
pub struct StaticServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    hits: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

/// One answer of a [`StaticServer`]: status, content type, body.
pub type Answer = (u16, &'static str, String);

/// A full answer: status, headers, body.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

type Handler = dyn Fn(&str, &url::Url) -> Option<Reply> + Send + Sync;

impl StaticServer {
    /// Serve `routes` (path without query → answer); anything else is a 404.
    pub async fn start(routes: Vec<(&str, Answer)>) -> StaticServer {
        let routes: std::collections::HashMap<String, Answer> = routes
            .into_iter()
            .map(|(p, a)| (p.to_string(), a))
            .collect();
        StaticServer::start_fn(move |_, url| {
            let (status, ct, body) = routes.get(url.path())?.clone();
            Some(Reply {
                status,
                headers: vec![("content-type".into(), ct.into())],
                body,
            })
        })
        .await
    }

    /// Serve what `handler` answers for (method, URL); `None` is a 404.
    pub async fn start_fn(
        handler: impl Fn(&str, &url::Url) -> Option<Reply> + Send + Sync + 'static,
    ) -> StaticServer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handler: std::sync::Arc<Handler> = std::sync::Arc::new(handler);
        let hits = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
        let counted = hits.clone();
        let own = base.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (handler, counted, own) = (handler.clone(), counted.clone(), own.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::with_capacity(4096);
                    let mut chunk = [0u8; 4096];
                    // Headers, then as much body as Content-Length says (bounded).
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        if buf.len() > 64 * 1024 {
                            return;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let length = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0)
                        .min(1 << 20);
                    while buf.len() < head_end + length {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let mut words = head.split_whitespace();
                    let method = words.next().unwrap_or("GET").to_string();
                    let target = words.next().unwrap_or("/");
                    let url = url::Url::parse(&format!("{own}{target}"))
                        .unwrap_or_else(|_| url::Url::parse(&own).unwrap());
                    *counted
                        .lock()
                        .unwrap()
                        .entry(url.path().to_string())
                        .or_default() += 1;
                    let reply = handler(&method, &url).unwrap_or(Reply {
                        status: 404,
                        headers: vec![("content-type".into(), "text/plain".into())],
                        body: "not found".into(),
                    });
                    let body = reply.body.replace("{base}", &own);
                    let mut resp = format!("HTTP/1.1 {} X\r\n", reply.status);
                    for (k, v) in &reply.headers {
                        resp.push_str(&format!("{k}: {}\r\n", v.replace("{base}", &own)));
                    }
                    resp.push_str(&format!(
                        "content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    ));
                    let _ = stream.write_all(resp.as_bytes()).await;
                });
            }
        });
        StaticServer { base, hits }
    }

    /// Requests received on `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// A minimal OpenID discovery document for a [`StaticServer`] (`{base}` is its issuer), with
/// `extra` members merged in.
pub fn openid_configuration(extra: serde_json::Value) -> String {
    let mut doc = serde_json::json!({
        "issuer": "{base}",
        "authorization_endpoint": "{base}/authorize",
        "token_endpoint": "{base}/token",
        "jwks_uri": "{base}/jwks",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            doc.insert(k.clone(), v.clone());
        }
    }
    doc.to_string()
}

/// Resident memory (now and high-water mark, KiB) and threads of a process.
pub fn proc_status(pid: u32) -> (u64, u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"), field("Threads:"))
}
