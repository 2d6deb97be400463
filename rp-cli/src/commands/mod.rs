//! One module per subcommand.

pub mod audit;
pub mod bench;
pub mod call;
pub mod client_credentials;
pub mod completions;
pub mod conformance;
pub mod decode;
pub mod device;
pub mod exchange;
pub mod flow;
pub mod introspect;
pub mod listen_logout;
pub mod login;
pub mod logout;
pub mod paste;
pub mod profiles;
pub mod provider;
pub mod refresh;
pub mod revoke;
pub mod target;
pub mod token;
pub mod userinfo;
pub mod web;

use crate::cli::HttpArgs;
use crate::exit::CliError;
use oidc_rp::{HttpClient, HttpConfig};
use std::time::Duration;

/// The HTTP client for a command's `--ca-file`, `--http-timeout` and `--insecure-skip-tls-verify`.
pub fn http_client(args: &HttpArgs) -> Result<HttpClient, CliError> {
    let mut config = HttpConfig {
        timeout: Duration::from_secs(args.http_timeout.max(1)),
        connect_timeout: Duration::from_secs(args.http_timeout.clamp(1, 10)),
        danger_accept_invalid_certs: args.insecure_skip_tls_verify,
        ..HttpConfig::default()
    };
    if let Some(ca) = &args.ca_file {
        config.add_ca_file(ca)?;
    }
    if let Some(path) = &args.client_cert {
        let pem = crate::cli::read_small_file(path, "--client-cert")?;
        if !pem.contains("CERTIFICATE-----") || !pem.contains("PRIVATE KEY-----") {
            return Err(CliError::Usage(format!(
                "--client-cert {}: needs the certificate and its private key, both PEM, in one file",
                path.display()
            )));
        }
        config.client_identity_pem = Some(oidc_rp::Secret::new(pem));
    }
    if args.insecure_skip_tls_verify {
        crate::errln!(
            "rp: WARNING: --insecure-skip-tls-verify is on: TLS certificates are NOT checked; anyone on the network path can impersonate the provider and steal your tokens"
        );
    }
    Ok(HttpClient::new(config))
}

/// Progress on stderr.
#[macro_export]
macro_rules! progress {
    ($($arg:tt)*) => { $crate::errln!("rp: {}", format!($($arg)*)) };
}
