//! The `rp` command: clap definitions and one module per subcommand over the `oidc-rp` library
//! and the bundled provider. The binary's `main` calls [`main`].

// The doc comments of the clap definitions are the command's help text, written for a
// terminal: `[::1]` and `/<test-id>` there are literal text, not links or HTML.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

/// A line of human output on stdout, with control characters made visible
/// ([`term::clean`]); never panics (a closed stdout, `rp ... | head`, is not an error of ours).
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let _ = writeln!(
            std::io::stdout(),
            "{}",
            $crate::term::paint($crate::term::clean(&text))
        );
    }};
}

/// A line on stdout exactly as given: JSON (`--json`), or a token for a script.
#[macro_export]
macro_rules! rawln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// A line on stderr with control characters made visible; never panics.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let _ = writeln!(std::io::stderr(), "{}", $crate::term::clean(&text));
    }};
}

pub mod cache;
pub mod cli;
pub mod commands;
pub mod config;
pub mod exit;
pub mod listener;
pub mod output;
pub mod secret_store;
pub mod term;

use clap::Parser;
use std::process::ExitCode;
use std::time::Duration;

/// Parse the command line, run the command, and turn the outcome into an exit status.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_tracing(cli.verbose);
    let json = cli.command.json();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            crate::errln!("rp: error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::code::INTERNAL);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            cli::Command::Login(args) => commands::login::run(args).await,
            cli::Command::Provider(args) => commands::provider::run(args).await,
            cli::Command::Refresh(args) => commands::refresh::run(args).await,
            cli::Command::Token(args) => commands::token::run(args).await,
            cli::Command::Profiles(args) => commands::profiles::run(args).await,
            cli::Command::Decode(args) => commands::decode::run(args).await,
            cli::Command::Exchange(args) => commands::exchange::run(args).await,
            cli::Command::ClientCredentials(args) => commands::client_credentials::run(args).await,
            cli::Command::Bench(args) => commands::bench::run(args).await,
            cli::Command::Web(args) => commands::web::run(args).await,
            cli::Command::Introspect(args) => commands::introspect::run(args).await,
            cli::Command::Revoke(args) => commands::revoke::run(args).await,
            cli::Command::Userinfo(args) => commands::userinfo::run(args).await,
            cli::Command::Call(args) => commands::call::run(args).await,
            cli::Command::Logout(args) => commands::logout::run(args).await,
            cli::Command::ListenLogout(args) => commands::listen_logout::run(args).await,
            cli::Command::Conformance(args) => commands::conformance::run(args).await,
            cli::Command::Audit(args) => commands::audit::run(args).await,
            cli::Command::Completions(args) => commands::completions::completions(args),
            cli::Command::Man(args) => commands::completions::man(args),
        }
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::from(exit::code::OK),
        Err(e) => {
            let report = match &e {
                exit::CliError::Rp(err) => err.validation().map(|v| &v.report),
                _ => None,
            };
            // A conformance run or an audit printed its own JSON result before failing.
            if json
                && !matches!(
                    e,
                    exit::CliError::Failed(_) | exit::CliError::AuditFailed(_)
                )
            {
                // Scripts read stdout: the failure is one object there too, with the checks
                // made up to the one that failed.
                crate::rawln!(
                    "{}",
                    serde_json::json!({
                        "ok": false,
                        "error": {
                            "message": e.to_string(),
                            "exit_code": e.exit_code(),
                            "check": match &e {
                                exit::CliError::Rp(err) => err.check().map(|c| c.name()),
                                _ => None,
                            },
                            "hint": e.hint(),
                        },
                        "checks": report,
                    })
                );
            } else if let Some(report) = report {
                crate::errln!("Checks:\n{}", output::report(report));
            }
            // One line, whatever a provider put in the message.
            crate::errln!("rp: error: {}", term::inline(&e.to_string()));
            if let Some(hint) = e.hint() {
                crate::errln!("rp: hint: {hint}");
            }
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
