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
    let running = rp_provider::start(ProviderConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], args.port)),
        tls: args.tls,
        ca_file: args.ca_out.clone(),
        fixtures,
        conformance: args.conformance,
        outbound_ca_pem: None,
        outbound,
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
