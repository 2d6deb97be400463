//! `rp audit`: test an OpenID Provider from the relying party's side. It drives the provider
//! headless, as a client would, through every check its metadata and the given clients allow,
//! and prints a scorecard: each check's verdict, the evidence (secrets redacted) and the
//! specification that requires it. It never attacks: bounded requests, to the named issuer
//! only, each one a request a normal client could send.

pub mod catalogue;
mod code;
pub mod driver;
mod flow;
mod metadata;
mod registration;
mod session;
mod tokens;

use super::conformance::xml;
use crate::cli::HttpArgs;
use crate::exit::CliError;
use clap::Args;
use driver::{Client, Ctx, Finding, Verdict};
use oidc_rp::Secret;
use oidc_rp_headless::Credentials;
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

/// `rp audit`.
#[derive(Debug, Args)]
#[command(
    after_help = "Each check says what was sent, what came back and what the specification requires.
Verdicts: pass, FAIL, warn (allowed but weak, or a SHOULD not followed), n/a (does not apply
to this provider or these clients), not run (an earlier step failed).

Groups (--group, repeatable): meta, jwks, code, token, idt, userinfo, scope, refuse, prompt,
max-age, hint, claims, refresh, introspect, revoke, logout, reg, hazard.

Examples:
  rp audit --issuer https://op.example --client-id app --client-secret S \\
           --username alice --password wonderland
  rp audit ... --second-client other:SECRET --json
  rp audit ... --junit audit.xml --group refuse --group refresh
  rp provider --flaw reuse-code &   rp audit --issuer http://127.0.0.1:PORT ..."
)]
pub struct AuditArgs {
    /// The provider to audit.
    #[arg(long, value_name = "URL", env = "RP_ISSUER")]
    pub issuer: String,
    /// A registered client (with the redirect URI below).
    #[arg(long, value_name = "ID", env = "RP_CLIENT_ID")]
    pub client_id: String,
    /// Its secret (or set RP_CLIENT_SECRET); omit for a public client.
    #[arg(
        long,
        value_name = "SECRET",
        env = "RP_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// A user of the provider.
    #[arg(long, value_name = "NAME")]
    pub username: String,
    /// The user's password (or set RP_PASSWORD).
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "RP_PASSWORD",
        hide_env_values = true
    )]
    pub password: String,
    /// A second client, ID:SECRET (ID alone for a public one), registered with the same
    /// redirect URI: enables the cross-client checks.
    /// (Or set RP_SECOND_CLIENT, which keeps the secret out of the process list.)
    #[arg(
        long,
        value_name = "ID:SECRET",
        env = "RP_SECOND_CLIENT",
        hide_env_values = true
    )]
    pub second_client: Option<String>,
    /// The redirect URI registered for the clients (nothing needs to listen there).
    #[arg(long, value_name = "URI", default_value = "http://127.0.0.1/callback")]
    pub redirect_uri: String,
    /// The post-logout redirect URI registered for the client.
    #[arg(long, value_name = "URI", default_value = "http://127.0.0.1/logout")]
    pub post_logout_redirect_uri: String,
    /// Show only these groups of checks (repeatable; all run regardless).
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,
    /// One JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write JUnit XML here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    #[command(flatten)]
    pub http: HttpArgs,
}

fn client(spec: &str) -> Client {
    match spec.split_once(':') {
        Some((id, secret)) => Client {
            id: id.to_string(),
            secret: Some(Secret::new(secret)),
        },
        None => Client {
            id: spec.to_string(),
            secret: None,
        },
    }
}

/// Run every check; the findings in catalogue order.
pub async fn audit(mut ctx: Ctx) -> Vec<Finding> {
    if !metadata::discovery(&mut ctx).await {
        return ctx.findings();
    }
    metadata::jwks(&ctx).await;
    let Some(session) = code::login(&ctx).await else {
        return ctx.findings();
    };
    code::tolerances(&ctx, &session).await;
    code::refusals(&ctx, &session).await;
    session::prompts(&ctx, &session).await;
    session::hints(&ctx, &session).await;
    tokens::refreshes(&ctx, &session).await;
    tokens::introspection_and_revocation(&ctx, &session).await;
    tokens::hazards(&ctx, &session).await;
    code::response_types(&ctx, &session).await;
    registration::run(&ctx).await;
    session::logout(&ctx).await;
    ctx.findings()
}

/// Run the command.
pub async fn run(args: AuditArgs) -> Result<(), CliError> {
    let groups: Vec<String> = args.groups.clone();
    for g in &groups {
        if !catalogue::CHECKS
            .iter()
            .any(|c| c.id.split('.').next() == Some(g.as_str()))
        {
            return Err(CliError::Usage(format!(
                "unknown group `{}`; see rp audit --help",
                crate::output::one_line(g, 40)
            )));
        }
    }
    let issuer = args.issuer.trim_end_matches('/').to_string();
    let http = super::http_client(&args.http)?;
    let ctx = Ctx::new(
        http,
        issuer.clone(),
        Client {
            id: args.client_id.clone(),
            secret: args.client_secret.as_deref().map(Secret::new),
        },
        args.second_client.as_deref().map(client),
        Credentials {
            username: args.username.clone(),
            password: Secret::new(&args.password),
        },
        args.redirect_uri.clone(),
        args.post_logout_redirect_uri.clone(),
    );
    let started = Instant::now();
    if !args.json {
        crate::progress!("auditing {issuer} as client {}", args.client_id);
    }
    let all = audit(ctx).await;
    let elapsed = started.elapsed();
    let shown: Vec<&Finding> = all
        .iter()
        .filter(|f| {
            groups.is_empty()
                || groups
                    .iter()
                    .any(|g| f.id.split('.').next() == Some(g.as_str()))
        })
        .collect();
    let count = |v: Verdict| shown.iter().filter(|f| f.verdict == v).count();
    let failed = count(Verdict::Fail);
    if let Some(path) = &args.junit {
        crate::cache::write_private(path, junit(&shown, elapsed.as_secs_f64()).as_bytes())
            .map_err(CliError::Cache)?;
    }
    if args.json {
        crate::rawln!(
            "{}",
            json!({
                "issuer": issuer,
                "checks": shown.len(),
                "pass": count(Verdict::Pass),
                "fail": failed,
                "warning": count(Verdict::Warning),
                "not_applicable": count(Verdict::NotApplicable),
                "could_not_run": count(Verdict::CouldNotRun),
                "ms": elapsed.as_millis(),
                "findings": shown,
            })
        );
    } else {
        crate::outln!("{}", scorecard(&shown));
        crate::outln!(
            "{} checks: {} pass, {failed} fail, {} warning, {} n/a, {} not run ({} ms)",
            shown.len(),
            count(Verdict::Pass),
            count(Verdict::Warning),
            count(Verdict::NotApplicable),
            count(Verdict::CouldNotRun),
            elapsed.as_millis()
        );
    }
    if failed > 0 {
        return Err(CliError::AuditFailed(format!(
            "{failed} audit check(s) failed"
        )));
    }
    Ok(())
}

/// The human scorecard: one line per check; failures and warnings get a paragraph with what
/// was sent, what came back and what is required.
pub fn scorecard(findings: &[&Finding]) -> String {
    let width = findings.iter().map(|f| f.id.len()).max().unwrap_or(10);
    let mut out = String::new();
    let mut group = "";
    for f in findings {
        let g = f.id.split('.').next().unwrap_or("");
        if g != group {
            if !group.is_empty() {
                out.push('\n');
            }
            group = g;
        }
        out.push_str(&format!(
            "{:<7} {:width$}  {}\n",
            f.verdict.label(),
            f.id,
            crate::term::inline(&crate::output::one_line(&f.detail, 110))
        ));
        if matches!(f.verdict, Verdict::Fail | Verdict::Warning) {
            if let Some(ev) = &f.evidence {
                out.push_str(&format!(
                    "        sent:     {}\n        received: {}\n",
                    crate::term::inline(&ev.sent),
                    crate::term::inline(&ev.received)
                ));
            }
            out.push_str(&format!(
                "        required: {} ({})\n",
                f.requirement, f.spec
            ));
        }
    }
    out
}

/// JUnit XML: a test case per check; failures fail, n/a and not run are skipped.
pub fn junit(findings: &[&Finding], seconds: f64) -> String {
    let failures = findings
        .iter()
        .filter(|f| f.verdict == Verdict::Fail)
        .count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites><testsuite name=\"rp audit\" tests=\"{}\" failures=\"{failures}\" time=\"{seconds:.3}\">\n",
        findings.len()
    );
    for f in findings {
        out.push_str(&format!(
            "  <testcase classname=\"{}\" name=\"{}\">",
            xml(f.id.split('.').next().unwrap_or("")),
            xml(f.id)
        ));
        match f.verdict {
            Verdict::Fail => out.push_str(&format!(
                "<failure message=\"{}\">{} ({})</failure>",
                xml(&f.detail),
                xml(f.requirement),
                xml(f.spec)
            )),
            Verdict::NotApplicable | Verdict::CouldNotRun => {
                out.push_str(&format!("<skipped message=\"{}\"/>", xml(&f.detail)))
            }
            _ => {}
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("</testsuite></testsuites>\n");
    out
}
