//! `rp completions` and `rp man`: generated from the clap definitions (clap_complete,
//! clap_mangen), so they never drift from the real flags.

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::exit::CliError;
use clap::CommandFactory;
use std::io::Write;

/// Print the completion script for a shell.
pub fn completions(args: CompletionsArgs) -> Result<(), CliError> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "rp", &mut out);
    write_stdout(&out)
}

/// Print the man page of rp or of one of its subcommands.
pub fn man(args: ManArgs) -> Result<(), CliError> {
    let root = Cli::command();
    let page = match &args.command {
        None => root,
        Some(name) => {
            let sub = root
                .get_subcommands()
                .find(|c| c.get_name() == name || c.get_all_aliases().any(|a| a == name))
                .cloned()
                .ok_or_else(|| {
                    let names: Vec<&str> = root.get_subcommands().map(|c| c.get_name()).collect();
                    CliError::Usage(format!(
                        "no command `{}`; one of: {}",
                        crate::output::one_line(name, 40),
                        names.join(", ")
                    ))
                })?;
            // The page is rp-NAME(1), and its synopsis says `rp NAME`.
            let full = format!("rp-{}", sub.get_name());
            let version = root.get_version().unwrap_or_default().to_string();
            sub.name(full.clone())
                .bin_name(format!("rp {}", &full[3..]))
                .version(version)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| CliError::Internal(format!("cannot render the man page: {e}")))?;
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`rp man | head`) is not an error of ours.
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::Internal(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}
