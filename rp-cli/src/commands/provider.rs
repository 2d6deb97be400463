//! `rp provider`: serve the bundled OpenID Provider until interrupted.

use crate::cli::ProviderArgs;
use crate::exit::CliError;
use crate::progress;
use rp_provider::{Fixtures, ProviderConfig};
use std::io::Write;
use std::net::SocketAddr;

/// Run the command.
pub async fn run(args: ProviderArgs) -> Result<(), CliError> {
    let fixtures = match &args.fixtures {
        Some(dir) => Fixtures::from_dir(dir)?,
        None => Fixtures::embedded(),
    };
    let mut outbound = rp_provider::outbound::OutboundPolicy::loopback();
    for pattern in &args.allow_outbound {
        outbound
            .allow(pattern)
            .map_err(|e| CliError::Usage(format!("--allow-outbound: {e}")))?;
    }
    let users: Vec<String> = fixtures
        .users
        .iter()
        .map(|u| format!("{}/{}", u.username, u.password))
        .collect();
    for name in &args.issue_client_cert {
        let plain = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !name.starts_with('.');
        if !plain {
            return Err(CliError::Usage(format!(
                "--issue-client-cert `{name}`: use letters, digits, '-', '_' and '.' (at most 64)"
            )));
        }
    }
    let client_ca_pem = match &args.client_ca {
        Some(path) => Some(crate::cli::read_small_file(path, "--client-ca")?),
        None => None,
    };
    if args.flaws.iter().any(|f| f == "list") {
        for (_, name, checks) in rp_provider::flaws::ALL {
            crate::outln!("{name:<22} caught by {}", checks.join(", "));
        }
        return Ok(());
    }
    let flaws = args
        .flaws
        .iter()
        .map(|n| {
            rp_provider::flaws::Flaw::parse(n).ok_or_else(|| {
                CliError::Usage(format!(
                    "unknown flaw `{}`; rp provider --flaw list names them",
                    crate::output::one_line(n, 40)
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !flaws.is_empty() {
        crate::progress!(
            "WARNING: this provider is deliberately flawed ({}); for auditing tools only",
            args.flaws.join(", ")
        );
    }
    let running = rp_provider::start(ProviderConfig {
        flaws,
        bind: SocketAddr::from(([127, 0, 0, 1], args.port)),
        tls: args.tls,
        ca_file: args.ca_out.clone(),
        fixtures,
        conformance: args.conformance,
        outbound_ca_pem: None,
        outbound,
        client_ca_pem,
        device_interval: i64::from(args.device_interval),
    })
    .await?;
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{}", running.issuer());
    let _ = stdout.flush();
    progress!(
        "bundled provider at {} (users {}; client rp-demo / rp-demo-secret); Ctrl-C stops it",
        running.issuer(),
        users.join(", ")
    );
    if args.conformance {
        progress!(
            "conformance instances: {}/<test-id> and {}/<alias>/<test-id> (see `rp conformance --help`)",
            running.issuer(),
            running.issuer()
        );
    }
    if let Some(ca) = running.ca_file() {
        progress!("CA certificate: {} (pass it to --ca-file)", ca.display());
        let dir = ca.parent().unwrap_or(std::path::Path::new("."));
        for name in &args.issue_client_cert {
            let pem = running
                .client_certificate(name)
                .transpose()?
                .ok_or_else(|| CliError::Internal("no CA to issue from".into()))?;
            let path = dir.join(format!("client-{name}.pem"));
            crate::cache::write_private(&path, pem.as_bytes()).map_err(CliError::Cache)?;
            progress!(
                "client certificate CN={name}: {} (pass it to --client-cert)",
                path.display()
            );
        }
    }
    wait_for_signal().await;
    running.stop().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
