//! `rp bench`: a load generator for OpenID Providers.
//!
//! It drives any provider whose login is a plain HTML form through complete, validated
//! logins (authorization request, the login form and any consent, the code exchange, and the
//! full ID token validation), or through refresh or client-credentials grants, with a given
//! number of concurrent users. It reports the rate, latency percentiles, errors, its own CPU
//! time per operation, and, given the provider's process id, the provider's CPU time per
//! operation and its resident memory (peak, and sampled every second so that growth over a
//! long run shows).
//!
//! Each simulated user has its own cookie jar; all share one connection pool, as the tabs of
//! a browser do. Nothing is sent to the redirect URI: the walk stops at the provider's
//! redirect and the response is handled in-process, so no listener is involved.

mod procfs;
mod stats;

use crate::cli::{ClientArgs, HttpArgs};
use crate::exit::CliError;
use clap::{Args, ValueEnum};
use oidc_rp::{
    AuthorizationRequest, ClientConfig, ClientCredentialsRequest, HttpClient, RelyingParty, Secret,
};
use oidc_rp_headless::{Browser, Credentials};
use serde_json::json;
use stats::{Latencies, ms};
use std::io::BufRead as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What one operation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// A complete headless login: authorization, forms, code exchange, ID token validation.
    Login,
    /// A refresh_token grant; each user logs in once (offline_access) and refreshes its grant.
    Refresh,
    /// A client_credentials grant.
    ClientCredentials,
}

impl Mode {
    fn noun(self) -> &'static str {
        match self {
            Mode::Login => "logins",
            Mode::Refresh => "refreshes",
            Mode::ClientCredentials => "grants",
        }
    }
}

/// `rp bench`.
#[derive(Debug, Args)]
#[command(
    after_help = "Without --issuer, the bundled provider is started as a child process \
(so that its CPU and memory are measured apart from rp's) with its fixture client rp-demo and \
user alice; rp-service for client-credentials.

CPU figures come from /proc (Linux) in 10 ms ticks: use runs of a few thousand operations.

Examples:
  rp bench                                         2000 logins, 8 users, bundled provider
  rp bench --users 32 --requests 20000 --json
  rp bench --mode refresh --users 8 --duration 30
  rp bench --issuer http://127.0.0.1:3000 --client-id app --client-secret s --username u \\
           --password p --pid 12345 --prompt consent --mode refresh"
)]
pub struct BenchArgs {
    /// What each operation is.
    #[arg(long, value_enum, default_value_t = Mode::Login)]
    pub mode: Mode,
    /// The provider (default: start the bundled provider as a child process).
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Log in as a FAPI 2.0 client: PAR, DPoP (one key), private_key_jwt
    /// (--client-key), the library's FAPI 2.0 switch on. With the bundled provider and no
    /// --client-id: its rp-fapi client and key.
    #[arg(long)]
    pub fapi2: bool,
    /// The user for the login form (default with the bundled provider: alice).
    #[arg(long)]
    pub username: Option<String>,
    /// The password (or set RP_PASSWORD).
    #[arg(
        long,
        env = "RP_PASSWORD",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub password: Option<String>,
    /// Concurrent users.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub users: u32,
    /// Operations to measure (after the warm-up).
    #[arg(long, default_value_t = 2000, conflicts_with = "duration")]
    pub requests: usize,
    /// Measure for this many seconds instead of a number of operations.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<u64>,
    /// Operations run first and not measured (connections, caches, JIT of the provider).
    #[arg(long, default_value_t = 100)]
    pub warmup: usize,
    /// The provider's process id, to report its CPU time and memory.
    #[arg(long)]
    pub pid: Option<u32>,
    /// Scope for logins (refresh mode adds offline_access).
    #[arg(long, default_value = "openid profile email")]
    pub scope: String,
    /// `prompt` for logins (oidc-provider issues refresh tokens only with `consent`).
    #[arg(long)]
    pub prompt: Option<String>,
    /// Also call userinfo in each login.
    #[arg(long)]
    pub userinfo: bool,
    /// Print one JSON object instead of the report.
    #[arg(long)]
    pub json: bool,
    /// Print one line, starting with this label, instead of the report (for tables).
    #[arg(long, conflicts_with = "json")]
    pub label: Option<String>,
    #[command(flatten)]
    pub http: HttpArgs,
}

/// The bundled provider as a child process; killed on drop.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_bundled() -> Result<(Child, String), CliError> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::Usage(format!("cannot find the rp executable: {e}")))?;
    let mut child = std::process::Command::new(exe)
        .arg("provider")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| CliError::Usage(format!("cannot start the bundled provider: {e}")))?;
    let stdout = child.stdout.take();
    let child = Child(child);
    let mut line = String::new();
    if let Some(stdout) = stdout {
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| CliError::Usage(format!("the bundled provider did not start: {e}")))?;
    }
    let issuer = line.trim().to_string();
    if !issuer.starts_with("http") {
        return Err(CliError::Usage(
            "the bundled provider did not print its issuer".into(),
        ));
    }
    Ok((child, issuer))
}

/// Everything a worker needs.
struct Plan {
    mode: Mode,
    rp: RelyingParty,
    http: HttpClient,
    credentials: Option<Credentials>,
    request: AuthorizationRequest,
    redirect_uri: String,
    userinfo: bool,
    fapi2: bool,
}

/// A user's state between operations.
#[derive(Default)]
struct User {
    refresh_token: Option<Secret>,
    id_token: Option<oidc_rp::StoredIdToken>,
}

impl Plan {
    async fn login(&self) -> oidc_rp::Result<oidc_rp::Login> {
        let browser = Browser::new(&self.http)?;
        let (url, txn) = if self.fapi2 {
            self.rp
                .push_authorization_request(&self.request, &self.redirect_uri)
                .await?
        } else {
            self.rp
                .authorization_url(&self.request, &self.redirect_uri)?
        };
        let login =
            oidc_rp_headless::complete(&self.rp, &browser, &url, &txn, self.credentials.as_ref())
                .await?;
        if self.userinfo {
            self.rp
                .userinfo(&login.tokens.access_token(), &login.id_token)
                .await?;
        }
        Ok(login)
    }

    async fn run(&self, user: &mut User) -> oidc_rp::Result<()> {
        match self.mode {
            Mode::Login => self.login().await.map(drop),
            Mode::ClientCredentials => self
                .rp
                .client_credentials(&ClientCredentialsRequest::default())
                .await
                .map(drop),
            Mode::Refresh => {
                let token = match &user.refresh_token {
                    Some(t) => t.clone(),
                    None => {
                        let login = self.login().await?;
                        let Some(rt) = login.tokens.refresh_token() else {
                            return Err(oidc_rp::Error::Unsupported {
                                issuer: self.rp.issuer().to_string(),
                                capability: "a refresh token for this login".into(),
                                detail: Some("offline_access was asked for; some providers also need --prompt consent".into()),
                            });
                        };
                        user.id_token = Some(login.id_token.to_stored());
                        rt.clone()
                    }
                };
                let refreshed = self
                    .rp
                    .refresh(&token, user.id_token.as_ref(), None)
                    .await?;
                user.refresh_token = Some(refreshed.refresh_token);
                if let Some(id) = refreshed.id_token {
                    user.id_token = Some(id.to_stored());
                }
                Ok(())
            }
        }
    }
}

/// What the workers record.
struct Outcome {
    latencies: Vec<Duration>,
    errors: Vec<String>,
}

async fn drive(
    plan: Arc<Plan>,
    stop: Stop,
    progress: Arc<Progress>,
    states: Vec<User>,
) -> (Outcome, Vec<User>) {
    let mut tasks = Vec::new();
    for mut user in states {
        let plan = plan.clone();
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = Vec::new();
            loop {
                let n = progress.claimed.fetch_add(1, Ordering::Relaxed);
                if stop.done(n) {
                    break;
                }
                let started = Instant::now();
                let result = plan.run(&mut user).await;
                progress.completed.fetch_add(1, Ordering::Relaxed);
                match result {
                    Ok(()) => latencies.push(started.elapsed()),
                    Err(e) => {
                        // A failed refresh may have burnt the token: log in again next time.
                        user.refresh_token = None;
                        errors.push(e.to_string());
                    }
                }
            }
            (latencies, errors, user)
        }));
    }
    let mut out = Outcome {
        latencies: Vec::new(),
        errors: Vec::new(),
    };
    let mut states = Vec::new();
    for t in tasks {
        if let Ok((l, e, u)) = t.await {
            out.latencies.extend(l);
            out.errors.extend(e);
            states.push(u);
        }
    }
    (out, states)
}

/// Operations claimed and completed so far.
#[derive(Default)]
struct Progress {
    claimed: AtomicUsize,
    completed: AtomicUsize,
}

/// When to stop claiming operations.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Count(usize),
    At(Instant),
}

impl Stop {
    fn done(self, n: usize) -> bool {
        match self {
            Stop::Count(total) => n >= total,
            Stop::At(deadline) => Instant::now() >= deadline,
        }
    }
}

/// One per-second sample of the run.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Duration,
    done: usize,
    op: Option<procfs::Usage>,
}

/// Run the command.
pub async fn run(args: BenchArgs) -> Result<(), CliError> {
    let http = super::http_client(&args.http)?;
    let (child, issuer) = match &args.issuer {
        Some(i) => (None, i.clone()),
        None => {
            let (c, i) = start_bundled()?;
            (Some(c), i)
        }
    };
    let pid = args.pid.or(child.as_ref().map(|c| c.0.id()));
    let bundled = child.is_some();
    let client = match (args.client.config_with_key()?, bundled, args.mode) {
        (Some(c), _, _) => c,
        (None, true, _) if args.fapi2 => {
            let mut c = ClientConfig::public("rp-fapi");
            c.token_endpoint_auth_method = Some(oidc_rp::TokenAuthMethod::PrivateKeyJwt);
            c.signing_key = Some(std::sync::Arc::new(oidc_rp::ClientKey::from_pem(
                rp_provider::fixtures::FAPI_CLIENT_KEY_PEM,
            )?));
            c
        }
        (None, true, Mode::ClientCredentials) => {
            ClientConfig::confidential("rp-service", "rp-service-secret")
        }
        (None, true, _) => ClientConfig::confidential("rp-demo", "rp-demo-secret"),
        (None, false, _) => {
            return Err(CliError::Usage(
                "say which client to use: --client-id (and --client-secret)".into(),
            ));
        }
    };
    let credentials = match (&args.username, &args.password, bundled) {
        (Some(u), Some(p), _) => Some(Credentials {
            username: u.clone(),
            password: Secret::new(p.as_str()),
        }),
        (None, None, true) => Some(Credentials {
            username: "alice".into(),
            password: Secret::new("wonderland"),
        }),
        (Some(_), None, _) => {
            return Err(CliError::Usage(
                "--username needs --password (or RP_PASSWORD)".into(),
            ));
        }
        _ if args.mode == Mode::ClientCredentials => None,
        _ => {
            return Err(CliError::Usage(
                "give --username and --password for the provider's login form".into(),
            ));
        }
    };
    let mut rp = RelyingParty::discover(&http, &issuer, client).await?;
    if args.fapi2 {
        let key = oidc_rp::dpop::DpopKey::generate_es256()?;
        rp = rp
            .with_decorator(Arc::new(oidc_rp::dpop::Dpop::new(key)))
            .with_fapi2()?;
    }
    let mut scopes: Vec<String> = args.scope.split_whitespace().map(str::to_string).collect();
    if args.mode == Mode::Refresh && !scopes.iter().any(|s| s == "offline_access") {
        scopes.push("offline_access".into());
    }
    let plan = Arc::new(Plan {
        mode: args.mode,
        rp,
        http,
        credentials,
        request: AuthorizationRequest {
            scopes,
            prompt: args.prompt.clone(),
            ..Default::default()
        },
        // Never contacted: the walk stops at the provider's redirect to it.
        redirect_uri: "http://127.0.0.1:9/callback".into(),
        userinfo: args.userinfo,
        fapi2: args.fapi2,
    });

    // Warm-up: connections, the JWKS, and (refresh mode) each user's login.
    let states: Vec<User> = (0..args.users).map(|_| User::default()).collect();
    let warmup = if args.mode == Mode::Refresh {
        args.warmup.max(args.users as usize)
    } else {
        args.warmup
    };
    let (warm, states) = drive(
        plan.clone(),
        Stop::Count(warmup),
        Arc::new(Progress::default()),
        states,
    )
    .await;
    if let Some(e) = warm.errors.first()
        && warm.latencies.is_empty()
    {
        return Err(CliError::Usage(format!(
            "every warm-up operation failed; the first: {e}"
        )));
    }

    // The measured run, sampled every second.
    let progress = Arc::new(Progress::default());
    let stop = match args.duration {
        Some(s) => Stop::At(Instant::now() + Duration::from_secs(s.max(1))),
        None => Stop::Count(args.requests),
    };
    let me = std::process::id();
    let rp_before = procfs::usage(me);
    let op_before = pid.and_then(procfs::usage);
    let started = Instant::now();
    let (finished, mut finished_rx) = tokio::sync::oneshot::channel::<()>();
    let sampler = {
        let progress = progress.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => samples.push(Sample {
                        at: started.elapsed(),
                        done: progress.completed.load(Ordering::Relaxed),
                        op: pid.and_then(procfs::usage),
                    }),
                    _ = &mut finished_rx => break,
                }
            }
            samples
        })
    };
    let (outcome, _) = drive(plan.clone(), stop, progress, states).await;
    let elapsed = started.elapsed();
    let rp_after = procfs::usage(me);
    let op_after = pid.and_then(procfs::usage);
    let _ = finished.send(());
    let samples = sampler.await.unwrap_or_default();
    drop(child);
    let measured = Measured {
        outcome,
        elapsed,
        rp: (rp_before, rp_after),
        op: (op_before, op_after),
        samples,
    };
    report(&args, &issuer, pid, bundled, &measured)
}

/// A finished run.
struct Measured {
    outcome: Outcome,
    elapsed: Duration,
    rp: (Option<procfs::Usage>, Option<procfs::Usage>),
    op: (Option<procfs::Usage>, Option<procfs::Usage>),
    samples: Vec<Sample>,
}

fn cpu_per_op(usage: (Option<procfs::Usage>, Option<procfs::Usage>), ops: usize) -> Option<f64> {
    let (Some(a), Some(b)) = usage else {
        return None;
    };
    (ops > 0).then(|| ms(b.cpu.saturating_sub(a.cpu)) / ops as f64)
}

const MIB: f64 = 1024.0 * 1024.0;

fn report(
    args: &BenchArgs,
    issuer: &str,
    pid: Option<u32>,
    bundled: bool,
    m: &Measured,
) -> Result<(), CliError> {
    let ok = m.outcome.latencies.len();
    let failed = m.outcome.errors.len();
    let lat = Latencies::new(m.outcome.latencies.clone());
    let rate = ok as f64 / m.elapsed.as_secs_f64().max(1e-9);
    let rp_cpu = cpu_per_op(m.rp, ok + failed);
    let op_cpu = cpu_per_op(m.op, ok + failed);
    let op_end = m.op.1;
    // Per-second rates and the provider's memory over the run.
    let mut timeline = Vec::new();
    let mut prev = (Duration::ZERO, 0usize);
    for s in &m.samples {
        let secs = (s.at - prev.0).as_secs_f64().max(1e-9);
        timeline.push(json!({
            "t_s": (s.at.as_secs_f64() * 10.0).round() / 10.0,
            "rate": ((s.done - prev.1) as f64 / secs).round(),
            "op_rss_mib": s.op.map(|u| (u.rss as f64 / MIB * 10.0).round() / 10.0),
        }));
        prev = (s.at, s.done);
    }
    let rss_series: Vec<u64> = m
        .samples
        .iter()
        .filter_map(|s| s.op.map(|u| u.rss))
        .collect();
    let mut first_errors: Vec<&String> = Vec::new();
    for e in &m.outcome.errors {
        if !first_errors.contains(&e) && first_errors.len() < 3 {
            first_errors.push(e);
        }
    }
    if args.json {
        crate::rawln!(
            "{}",
            json!({
                "mode": args.mode.noun(),
                "issuer": issuer,
                "bundled_provider": bundled,
                "provider_pid": pid,
                "users": args.users,
                "ok": ok,
                "errors": failed,
                "first_errors": first_errors,
                "seconds": m.elapsed.as_secs_f64(),
                "rate_per_s": rate,
                "latency_ms": {
                    "p50": ms(lat.percentile(50.0)),
                    "p90": ms(lat.percentile(90.0)),
                    "p99": ms(lat.percentile(99.0)),
                    "max": ms(lat.max()),
                },
                "rp_cpu_ms_per_op": rp_cpu,
                "op_cpu_ms_per_op": op_cpu,
                "op_rss_mib": op_end.map(|u| u.rss as f64 / MIB),
                "op_peak_rss_mib": op_end.map(|u| u.peak_rss as f64 / MIB),
                "timeline": timeline,
            })
        );
    } else if let Some(label) = &args.label {
        let cpu = |v: Option<f64>| {
            v.map(|v| format!("{v:.3} ms"))
                .unwrap_or_else(|| "n/a".into())
        };
        crate::outln!(
            "{label:<40} {rate:>7.0}/s  p50 {:>6.2} ms  p99 {:>6.2} ms  rp CPU {}  OP CPU {}  OP peak {}  errors {failed}",
            ms(lat.percentile(50.0)),
            ms(lat.percentile(99.0)),
            cpu(rp_cpu),
            cpu(op_cpu),
            op_end
                .map(|u| format!("{:.1} MiB", u.peak_rss as f64 / MIB))
                .unwrap_or_else(|| "n/a".into()),
        );
    } else {
        let noun = args.mode.noun();
        crate::outln!(
            "rp bench: {ok} {noun} against {issuer}{} with {} users in {:.2} s",
            if bundled { " (bundled provider)" } else { "" },
            args.users,
            m.elapsed.as_secs_f64()
        );
        crate::outln!("  rate      {rate:.0} {noun}/s");
        crate::outln!(
            "  latency   p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
            ms(lat.percentile(50.0)),
            ms(lat.percentile(90.0)),
            ms(lat.percentile(99.0)),
            ms(lat.max())
        );
        crate::outln!("  errors    {failed}");
        for e in &first_errors {
            crate::outln!("            {e}");
        }
        let per = |v: Option<f64>| match v {
            Some(v) => format!("{v:.3} ms per operation"),
            None => "n/a (no /proc)".into(),
        };
        crate::outln!("  rp CPU    {}", per(rp_cpu));
        match (pid, op_end) {
            (Some(pid), Some(end)) => {
                crate::outln!("  OP CPU    {} (pid {pid})", per(op_cpu));
                let (lo, hi) = (
                    rss_series.iter().min().copied().unwrap_or(end.rss),
                    rss_series.iter().max().copied().unwrap_or(end.rss),
                );
                crate::outln!(
                    "  OP memory {:.1} MiB resident at the end, {:.1}-{:.1} MiB during the run, peak {:.1} MiB",
                    end.rss as f64 / MIB,
                    lo as f64 / MIB,
                    hi as f64 / MIB,
                    end.peak_rss as f64 / MIB
                );
            }
            _ => crate::outln!("  OP CPU    n/a (give --pid)"),
        }
        if timeline.len() >= 2 {
            let rates: Vec<String> = timeline
                .iter()
                .map(|t| t["rate"].as_f64().unwrap_or(0.0).to_string())
                .collect();
            crate::outln!("  per second {}", rates.join(" "));
        }
    }
    if failed > 0 {
        return Err(CliError::Usage(format!(
            "{failed} of {} operations failed; the first: {}",
            ok + failed,
            first_errors.first().map(|s| s.as_str()).unwrap_or("")
        )));
    }
    Ok(())
}
