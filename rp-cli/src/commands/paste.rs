//! Paste mode (`rp login --paste`): for a terminal whose browser is elsewhere (an SSH
//! session, a container). rp prints the authorization URL; the user logs in with any browser
//! and pastes back the URL it ended on. Nothing listens on the redirect URI, so the browser
//! stops at a connection error with the code in its address bar. The pasted response goes
//! through the same checks as any callback (state, iss, code exchange, ID token).

use crate::exit::CliError;
use oidc_rp::CallbackParams;
use std::io::{BufRead, Read};

/// The longest line read.
const MAX_LINE: u64 = 64 * 1024;

/// Print `url`, read the pasted redirect URL (or its query) from stdin, and parse it.
pub fn read_callback(url: &url::Url, callback_path: &str) -> Result<CallbackParams, CliError> {
    crate::errln!(
        "rp: open this URL in a browser (on any machine) and log in:\n{url}\n\
         rp: the browser then fails to load http://127.0.0.1/...{callback_path}: that is expected.\n\
         rp: paste the whole URL from its address bar here and press Enter:"
    );
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_LINE + 1)
        .read_line(&mut line)
        .map_err(|e| CliError::Usage(format!("cannot read the pasted URL: {e}")))?;
    if line.len() as u64 > MAX_LINE {
        return Err(CliError::Usage("the pasted line is over 64 KiB".into()));
    }
    parse(line.trim(), callback_path)
}

/// A pasted redirect URL (its path must be the redirect URI's), or its query string.
fn parse(text: &str, callback_path: &str) -> Result<CallbackParams, CliError> {
    if text.is_empty() {
        return Err(CliError::Usage(
            "nothing was pasted: paste the URL the browser ended on".into(),
        ));
    }
    if text.starts_with("http://") || text.starts_with("https://") {
        let pasted = url::Url::parse(text)
            .map_err(|e| CliError::Usage(format!("the pasted URL is not a URL: {e}")))?;
        if pasted.path() != callback_path {
            return Err(CliError::Usage(format!(
                "the pasted URL goes to {}, not to the redirect URI's path {callback_path}: paste the URL the browser ended on after logging in",
                crate::output::one_line(pasted.path(), 100)
            )));
        }
        return Ok(CallbackParams::from_redirect_url(&pasted)?);
    }
    if text.contains('=') {
        return Ok(CallbackParams::parse(
            text.trim_start_matches('?').as_bytes(),
        )?);
    }
    Err(CliError::Usage(
        "that is not a redirect URL: paste the whole URL from the address bar (its state is checked, so a code alone is not enough)".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_queries_are_read_and_codes_alone_refused() {
        let p = parse(
            "http://127.0.0.1:9/callback?code=abc&state=xyz",
            "/callback",
        )
        .unwrap();
        assert_eq!(p.state.as_deref(), Some("xyz"));
        let p = parse("?code=abc&state=xyz", "/callback").unwrap();
        assert_eq!(p.state.as_deref(), Some("xyz"));
        assert!(parse("abc", "/callback").is_err());
        assert!(parse("", "/callback").is_err());
        assert!(parse("http://127.0.0.1:9/elsewhere?code=a&state=b", "/callback").is_err());
        assert!(parse("http://127.0.0.1:9/callback?code=a&code=b", "/callback").is_err());
    }
}
