//! `rp decode`: a JWT's header and claims, times as dates and relative to now; with
//! `--issuer`, the signature verified against that issuer's keys. Without it the output says,
//! every time, that the signature was not checked: a decoded token proves nothing.

use crate::cli::HttpArgs;
use crate::exit::CliError;
use clap::Args;
use oidc_rp::jwt::{KeySource, SignaturePolicy, TypRule};
use oidc_rp::keys::{JwksCache, JwksPolicy};
use oidc_rp::{Alg, discovery};
use serde_json::{Map, Value, json};
use std::io::Read;

/// The longest token read (from the argument or stdin).
const MAX_TOKEN: usize = 1024 * 1024;

/// Claims that hold NumericDates (RFC 7519 §2), shown as dates.
const TIME_CLAIMS: &[&str] = &["exp", "iat", "nbf", "auth_time", "updated_at"];

/// `rp decode`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  rp decode eyJhbGciOi...
  rp token --id-token | rp decode
  rp decode --issuer https://op.example.com eyJhbGciOi...   verify the signature too
  rp decode --json - < token.txt")]
pub struct DecodeArgs {
    /// The token (a compact JWS); `-` or nothing reads it from stdin.
    #[arg(value_name = "TOKEN|-", allow_hyphen_values = true)]
    pub token: Option<String>,
    /// Verify the signature with this issuer's keys (its discovery document and JWKS). No
    /// claim is checked: decode says who signed, not what the token is good for.
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub http: HttpArgs,
}

/// Run the command.
pub async fn run(args: DecodeArgs) -> Result<(), CliError> {
    let raw = read_token(args.token.as_deref())?;
    let jws =
        rp_jose::Compact::parse(&raw).map_err(|e| CliError::Usage(format!("not a JWT: {e}")))?;
    let header: Value = serde_json::from_slice(&jws.header_json)
        .map_err(|e| CliError::Usage(format!("the header is not JSON: {e}")))?;
    let claims: Map<String, Value> = serde_json::from_slice(&jws.payload).map_err(|_| {
        CliError::Usage("the payload is not a JSON object (an encrypted or non-JWT payload)".into())
    })?;
    let signature = match &args.issuer {
        None => None,
        Some(issuer) => Some(verify(&args, issuer, &raw).await),
    };
    let now = oidc_rp::time::unix_now();
    if args.json {
        let times: Map<String, Value> = TIME_CLAIMS
            .iter()
            .filter_map(|n| {
                let t = oidc_rp::time::numeric_date_value(claims.get(*n)?).ok()?;
                Some((
                    (*n).to_string(),
                    json!({"date": date(t), "relative": relative(t - now)}),
                ))
            })
            .collect();
        let signature = match &signature {
            None => json!({"checked": false}),
            Some(Ok(detail)) => json!({"checked": true, "valid": true, "detail": detail}),
            Some(Err(e)) => json!({"checked": true, "valid": false, "detail": e.to_string()}),
        };
        crate::rawln!(
            "{}",
            json!({"header": header, "claims": claims, "times": times, "signature": signature})
        );
    } else {
        crate::outln!("Header:");
        if let Value::Object(h) = &header {
            for (k, v) in h {
                crate::outln!("  {k}: {}", show(v));
            }
        }
        crate::outln!("Claims:");
        for (k, v) in &claims {
            let when = TIME_CLAIMS
                .contains(&k.as_str())
                .then(|| oidc_rp::time::numeric_date_value(v).ok())
                .flatten()
                .map(|t| format!(" ({}, {})", date(t), relative(t - now)))
                .unwrap_or_default();
            crate::outln!("  {k}: {}{when}", show(v));
        }
        match &signature {
            None => crate::outln!(
                "Signature: NOT checked (give --issuer URL to verify it with the provider's keys)"
            ),
            Some(Ok(detail)) => crate::outln!("Signature: {detail}"),
            Some(Err(_)) => {}
        }
    }
    match signature {
        Some(Err(e)) => Err(e),
        _ => Ok(()),
    }
}

/// Verify with the issuer's JWKS; the detail names the algorithm, the key and the issuer.
async fn verify(args: &DecodeArgs, issuer: &str, raw: &str) -> Result<String, CliError> {
    let http = super::http_client(&args.http)?;
    let metadata = discovery::discover(&http, issuer).await?;
    let jwks = JwksCache::new(metadata.jwks_uri().url().clone(), JwksPolicy::default());
    // Asymmetric algorithms only: an HMAC key is a client's secret, not the issuer's.
    let algs: Vec<Alg> = Alg::ALL
        .into_iter()
        .filter(|a| !a.is_symmetric() && *a != Alg::None)
        .collect();
    let policy = SignaturePolicy {
        allowed_algs: &algs,
        client_secret: None,
        typ: TypRule::Any,
    };
    let (alg, _, report) = oidc_rp::jwt::verify_signature(
        raw,
        &policy,
        KeySource {
            jwks: &jwks,
            http: &http,
        },
    )
    .await?;
    let key = report
        .checks()
        .iter()
        .find(|c| c.id == oidc_rp::CheckId::Key)
        .map(|c| c.detail.to_string())
        .unwrap_or_default();
    Ok(format!(
        "valid {alg} signature by {} ({key}); claims NOT validated",
        metadata.issuer().as_str()
    ))
}

fn read_token(arg: Option<&str>) -> Result<String, CliError> {
    let text = match arg {
        Some(t) if t != "-" => t.to_string(),
        _ => {
            let mut buf = Vec::new();
            std::io::stdin()
                .take(MAX_TOKEN as u64 + 1)
                .read_to_end(&mut buf)
                .map_err(|e| CliError::Usage(format!("cannot read the token from stdin: {e}")))?;
            if buf.len() > MAX_TOKEN {
                return Err(CliError::Usage("the token on stdin is over 1 MiB".into()));
            }
            String::from_utf8(buf)
                .map_err(|_| CliError::Usage("the token on stdin is not UTF-8".into()))?
        }
    };
    let token = text.trim().to_string();
    if token.is_empty() {
        return Err(CliError::Usage(
            "no token: give it as an argument or on stdin".into(),
        ));
    }
    Ok(token)
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `2026-11-30T18:00:00Z`, or the number when it is not a representable date.
fn date(t: i64) -> String {
    super::target::rfc3339(t).unwrap_or_else(|| t.to_string())
}

/// "in 9 min", "3 h ago", "now".
fn relative(delta: i64) -> String {
    let n = delta.unsigned_abs();
    let amount = match n {
        0 => return "now".into(),
        1..120 => format!("{n} s"),
        120..7_200 => format!("{} min", n / 60),
        7_200..172_800 => format!("{} h", n / 3_600),
        _ => format!("{} days", n / 86_400),
    };
    if delta > 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative(0), "now");
        assert_eq!(relative(540), "in 9 min");
        assert_eq!(relative(-3 * 3_600), "3 h ago");
        assert_eq!(relative(45), "in 45 s");
        assert_eq!(relative(-400_000), "4 days ago");
        assert_eq!(
            relative(i64::MIN),
            format!("{} days ago", i64::MIN.unsigned_abs() / 86_400)
        );
    }

    #[test]
    fn dates_are_rfc3339_or_the_number() {
        assert_eq!(date(0), "1970-01-01T00:00:00Z");
        assert_eq!(date(i64::MAX), i64::MAX.to_string());
    }
}
