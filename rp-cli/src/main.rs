//! `rp`: an OpenID Connect Relying Party on the command line.

fn main() -> std::process::ExitCode {
    rp_cli::main()
}
