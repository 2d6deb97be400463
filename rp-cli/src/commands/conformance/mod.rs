//! `rp conformance`: the OpenID Foundation's RP certification plans, run offline against the
//! bundled provider's misbehaving instances (or a provider started elsewhere with
//! `rp provider --conformance`), in seconds.

pub mod exec;
pub mod plans;

use crate::cli::HttpArgs;
use crate::exit::CliError;
use crate::progress;
use clap::Args;
use exec::RunResult;
use futures_util::StreamExt;
use oidc_rp::HttpClient;
use plans::Plan;
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

/// `rp conformance`.
#[derive(Debug, Args)]
#[command(
    after_help = "Plans: basic, config, dynamic, form-post-basic, rp-initiated-logout,
front-channel-logout, back-channel-logout, refresh-token, extra, all (the default).

Each test runs the library's real login (discovery, registration when the plan asks for it,
the authorization request, the callback checks, the token exchange, ID token validation,
userinfo, refresh, logout) against an OP instance at /<plan>-<run>/<test-id> that misbehaves as the
test requires, and passes when the RP accepts what it must accept and refuses what it must
refuse on the specific check, with the provider's record of requests agreeing.

Examples:
  rp conformance
  rp conformance --plan basic --plan config --json
  rp conformance --test oidcc-client-test-nonce-invalid
  rp conformance --list --plan basic
  rp conformance --junit conformance.xml
  rp provider --conformance --port 9000 &  rp conformance --base http://127.0.0.1:9000"
)]
pub struct ConformanceArgs {
    /// A plan to run (repeatable; default all).
    #[arg(long = "plan", value_name = "NAME")]
    pub plans: Vec<String>,
    /// Run only this test id (repeatable).
    #[arg(long = "test", value_name = "ID")]
    pub tests: Vec<String>,
    /// A provider started with `rp provider --conformance` (default: start one in-process).
    #[arg(long, value_name = "URL")]
    pub base: Option<String>,
    /// One JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write JUnit XML here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Tests run at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub concurrency: usize,
    /// List the plans' test ids (with --plan: those plans') and what each expects, and exit.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub http: HttpArgs,
}

/// The plans named on the command line.
pub fn select_plans(names: &[String]) -> Result<Vec<Plan>, CliError> {
    if names.is_empty() || names.iter().any(|n| n == "all") {
        return Ok(Plan::ALL.to_vec());
    }
    names
        .iter()
        .map(|n| {
            Plan::parse(n).ok_or_else(|| {
                CliError::Usage(format!(
                    "unknown plan `{n}`; plans: {}, all",
                    Plan::ALL.map(|p| p.name()).join(", ")
                ))
            })
        })
        .collect()
}

/// Refuse a test id that no plan has, naming the nearest one (a typo is the usual cause).
fn check_test_ids(ids: &[String]) -> Result<(), CliError> {
    let known: Vec<&'static str> = plans::runs(&Plan::ALL)
        .into_iter()
        .map(|(_, c)| c.id)
        .collect();
    for id in ids {
        if known.contains(&id.as_str()) {
            continue;
        }
        let nearest = known
            .iter()
            .map(|k| (strsim::damerau_levenshtein(id, k), *k))
            .min()
            .filter(|(d, k)| *d <= (k.len() / 3).max(2));
        return Err(CliError::Usage(match nearest {
            Some((_, k)) => format!(
                "no conformance test `{}`; did you mean `{k}`? (rp conformance --list shows them all)",
                crate::output::one_line(id, 80)
            ),
            None => format!(
                "no conformance test `{}` (rp conformance --list shows them all)",
                crate::output::one_line(id, 80)
            ),
        }));
    }
    Ok(())
}

/// Run the plans' tests against the provider at `base`, `concurrency` at a time.
pub async fn run_plans(
    http: &HttpClient,
    base: &str,
    plans: &[Plan],
    only: &[String],
    concurrency: usize,
) -> Vec<RunResult> {
    run_weakened(http, base, plans, only, concurrency, &[]).await
}

/// [`run_plans`] with the library's `skip` checks turned off: the proof that the runner tests
/// the library (exactly the tests of a skipped rule must fail). Never reachable from the CLI.
pub async fn run_weakened(
    http: &HttpClient,
    base: &str,
    plans: &[Plan],
    only: &[String],
    concurrency: usize,
    skip: &[oidc_rp::CheckId],
) -> Vec<RunResult> {
    let runs: Vec<_> = plans::runs(plans)
        .into_iter()
        .filter(|(_, c)| only.is_empty() || only.iter().any(|t| t == c.id))
        .collect();
    let run_id = oidc_rp::Secret::random(6).expose().to_lowercase();
    // One instance per run: the response type is part of the alias.
    let aliases: Vec<String> = runs
        .iter()
        .map(|(plan, case)| {
            let kind: String = case
                .response_type
                .as_str()
                .split(' ')
                .map(|w| &w[..1])
                .collect();
            format!(
                "{}-{kind}-{}",
                plan.name(),
                run_id.replace(['-', '_', '.'], "x")
            )
        })
        .collect();
    let mut results: Vec<RunResult> = futures_util::stream::iter(runs.iter().zip(aliases.iter()))
        .map(|((plan, case), alias)| exec::run(http, base, alias, *plan, case, skip))
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let order = |r: &RunResult| {
        runs.iter()
            .position(|(p, c)| {
                p.name() == r.plan && c.id == r.id && c.response_type.as_str() == r.response_type
            })
            .unwrap_or(usize::MAX)
    };
    results.sort_by_key(order);
    results
}

/// Run the command.
pub async fn run(args: ConformanceArgs) -> Result<(), CliError> {
    let plans = select_plans(&args.plans)?;
    if args.list {
        for (plan, case) in plans::runs(&plans) {
            let expect = match case.expect {
                plans::Expect::Accept => "accept".to_string(),
                plans::Expect::Reject(check) => format!("reject on {}", check.name()),
            };
            crate::outln!(
                "{:<22} {:<20} {:<52} {expect}",
                plan.name(),
                case.response_type.as_str(),
                case.id
            );
        }
        return Ok(());
    }
    check_test_ids(&args.tests)?;
    let started = Instant::now();
    let embedded = match &args.base {
        Some(_) => None,
        None => Some(
            rp_provider::start(rp_provider::ProviderConfig {
                conformance: true,
                ..Default::default()
            })
            .await?,
        ),
    };
    let base = match (&args.base, &embedded) {
        (Some(b), _) => b.trim_end_matches('/').to_string(),
        (None, Some(p)) => p.issuer().to_string(),
        (None, None) => unreachable!("a base or the embedded provider"),
    };
    let http = super::http_client(&args.http)?;
    if !args.json {
        progress!("running {} plan(s) against {base}", plans.len());
    }
    let results = run_plans(&http, &base, &plans, &args.tests, args.concurrency).await;
    if results.is_empty() {
        return Err(CliError::Usage("no test matches --plan/--test".into()));
    }
    let elapsed = started.elapsed();
    let failed = results.iter().filter(|r| !r.passed).count();
    let passed = results.len() - failed;
    if let Some(path) = &args.junit {
        crate::cache::write_private(path, junit(&results, elapsed.as_secs_f64()).as_bytes())
            .map_err(CliError::Cache)?;
    }
    if args.json {
        crate::rawln!(
            "{}",
            json!({
                "base": base,
                "plans": plans.iter().map(|p| p.name()).collect::<Vec<_>>(),
                "passed": passed,
                "failed": failed,
                "ms": elapsed.as_millis(),
                "results": results,
            })
        );
    } else {
        crate::outln!("{}", table(&results));
        crate::outln!(
            "{passed} passed, {failed} failed ({} ms)",
            elapsed.as_millis()
        );
    }
    if failed > 0 {
        return Err(CliError::Failed(format!(
            "{failed} conformance test(s) failed"
        )));
    }
    Ok(())
}

fn table(results: &[RunResult]) -> String {
    let w = |f: &dyn Fn(&RunResult) -> usize| results.iter().map(f).max().unwrap_or(0);
    let wp = w(&|r| r.plan.len()).max(4);
    let wt = w(&|r| r.response_type.len()).max(4);
    let wi = w(&|r| r.id.len()).max(4);
    let wo = w(&|r| r.old.len()).max(6);
    let we = w(&|r| r.expectation.len()).max(6);
    let wr = w(&|r| r.outcome.len()).max(7);
    let mut out = format!(
        "{:wp$}  {:wt$}  {:wi$}  {:wo$}  {:we$}  {:wr$}  {:>5}  result / reason\n",
        "plan", "type", "test", "old id", "expect", "outcome", "ms"
    );
    for r in results {
        let mark = if r.passed { "PASS" } else { "FAIL" };
        let reason = crate::output::one_line(&r.reason, 100);
        out.push_str(&format!(
            "{:wp$}  {:wt$}  {:wi$}  {:wo$}  {:we$}  {:wr$}  {:>5}  {mark} {reason}\n",
            r.plan, r.response_type, r.id, r.old, r.expectation, r.outcome, r.ms
        ));
    }
    out
}

/// Text escaped for XML attributes and content (the JUnit reports of conformance and audit).
pub(crate) fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML (one suite, one test case per run).
pub fn junit(results: &[RunResult], seconds: f64) -> String {
    let failures = results.iter().filter(|r| !r.passed).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites><testsuite name=\"rp conformance\" tests=\"{}\" failures=\"{failures}\" time=\"{seconds:.3}\">\n",
        results.len()
    );
    for r in results {
        out.push_str(&format!(
            "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
            xml(r.plan),
            xml(&if r.response_type == "code" {
                r.id.to_string()
            } else {
                format!("{} [{}]", r.id, r.response_type)
            }),
            r.ms as f64 / 1000.0
        ));
        if !r.passed {
            out.push_str(&format!(
                "<failure message=\"{}\">expected {}, got {}</failure>",
                xml(&r.reason),
                xml(&r.expectation),
                xml(&r.outcome)
            ));
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("</testsuite></testsuites>\n");
    out
}
