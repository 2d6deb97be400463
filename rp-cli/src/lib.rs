//! The `rp` command: clap definitions and one module per subcommand over the `oidc-rp` library
//! and the bundled provider. The binary's `main` calls [`main`].

pub mod cache;
pub mod cli;
pub mod commands;
pub mod exit;
pub mod listener;
pub mod output;

use clap::Parser;
use std::process::ExitCode;
use std::time::Duration;

/// Parse the command line, run the command, and turn the outcome into an exit status.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rp: error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::code::INTERNAL);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            cli::Command::Login(args) => commands::login::run(args).await,
            cli::Command::Provider(args) => commands::provider::run(args).await,
        }
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::from(exit::code::OK),
        Err(e) => {
            eprintln!("rp: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => {
            "debug,hyper=info,hyper_util=info,reqwest=info,rustls=info,html5ever=info,selectors=info"
        }
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
