//! `rp call URL`: call an API with the profile's access token, as curl would with
//! `-H "Authorization: Bearer ..."`, but with DPoP proofs (and the nonce retry) when the
//! token is DPoP-bound (`rp refresh` first when it has expired). The body goes to stdout as sent (control characters made visible on a terminal), the status to
//! stderr; a non-2xx answer exits 4.

use super::target::{self, PublicTargetArgs, TargetArgs};
use crate::exit::CliError;
use clap::Args;
use serde_json::json;

/// `rp call`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  rp call https://api.example.com/accounts --profile bank
  rp call https://api.example.com/payments --method POST --data '{\"amount\": 10}'
  rp call https://api.example.com/me --json      (status, headers and body as JSON)")]
pub struct CallArgs {
    /// The API's URL.
    pub url: String,
    #[command(flatten)]
    pub target: PublicTargetArgs,
    /// The HTTP method.
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// A JSON body to send (Content-Type: application/json).
    #[arg(long, value_name = "JSON")]
    pub data: Option<String>,
}

/// Run the command.
pub async fn run(args: CallArgs) -> Result<(), CliError> {
    let targs: TargetArgs = args.target.clone().into();
    let target::Opened { name, profile, .. } = target::open(&targs, false, false).await?;
    let profile = profile.ok_or_else(target::no_token)?;
    let rp = target::connect(&targs, Some(&profile)).await?;
    let url = url::Url::parse(&args.url)
        .map_err(|e| CliError::Usage(format!("{}: not a URL ({e})", args.url)))?;
    let method = hyper::Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| CliError::Usage(format!("--method {}: not an HTTP method", args.method)))?;
    let body = match &args.data {
        Some(d) => Some(
            serde_json::from_str::<serde_json::Value>(d)
                .map_err(|e| CliError::Usage(format!("--data is not JSON: {e}")))?,
        ),
        None => None,
    };
    let answer = rp
        .call_resource(method, &url, &profile.tokens.access(), body.as_ref())
        .await?;
    let status = answer.status().as_u16();
    let text = String::from_utf8_lossy(answer.body());
    if targs.json {
        let body_json = serde_json::from_slice::<serde_json::Value>(answer.body()).ok();
        target::print_result(
            rp.issuer(),
            name.as_deref(),
            json!({
                "status": status,
                "content_type": answer.headers().get(hyper::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
                "body": body_json.unwrap_or_else(|| json!(text)),
            }),
        );
    } else {
        use std::io::{IsTerminal, Write};
        crate::errln!("rp: HTTP {status}");
        let mut out = std::io::stdout();
        if out.is_terminal() {
            let _ = writeln!(out, "{}", crate::term::clean(&text));
        } else {
            let _ = out.write_all(answer.body());
        }
    }
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(CliError::Rp(oidc_rp::Error::Provider(
            oidc_rp::ProviderError {
                endpoint: "resource",
                status,
                error: None,
                description: Some(format!(
                    "{} answered HTTP {status}",
                    oidc_rp::error::display_url(url.as_str())
                )),
                uri: None,
            },
        )))
    }
}
