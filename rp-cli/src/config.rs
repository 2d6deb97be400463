//! The configuration file: profiles declared ahead of any login.
//!
//! `$XDG_CONFIG_HOME/rp/config.toml` (the platform's configuration directory elsewhere;
//! `RP_CONFIG` names another file). It declares how each profile logs in, so that
//! `rp login --profile work` works on a fresh machine, and which profile commands use when
//! none is named. Precedence, for every setting: a flag, then its environment variable, then
//! what the profile's last login stored, then this file.
//!
//! ```toml
//! default_profile = "work"
//!
//! [profiles.work]
//! issuer = "https://op.example.com"
//! client_id = "my-cli"
//! scope = "openid offline_access"
//! store = "keyring"
//! ```
//!
//! Secrets never go here: a `client_secret` (or `password`) member is refused with a message
//! saying where a secret goes instead. Unknown members are refused too, so that a typo is
//! not silently ignored.

use crate::exit::CliError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Largest configuration file read (a hand-written file is a few hundred bytes).
const MAX_BYTES: u64 = 256 * 1024;

/// The file's contents.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The profile used when a command names none.
    pub default_profile: Option<String>,
    /// Profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileConfig>,
}

/// How one profile logs in.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProfileConfig {
    /// The issuer.
    pub issuer: Option<String>,
    /// The client id.
    pub client_id: Option<String>,
    /// `client_secret_basic`, `client_secret_post` or `none`.
    pub token_auth_method: Option<String>,
    /// The scope to ask for.
    pub scope: Option<String>,
    /// The exact loopback redirect URI.
    pub redirect_uri: Option<String>,
    /// The callback port.
    pub port: Option<u16>,
    /// A CA certificate file (PEM) to trust.
    pub ca_file: Option<PathBuf>,
    /// Log in with the device grant (RFC 8628).
    #[serde(default)]
    pub device: bool,
    /// Where the tokens are kept: `file` or `keyring`.
    pub store: Option<crate::secret_store::Store>,
    /// Refused with an explanation (see the module documentation).
    client_secret: Option<toml::Value>,
    /// Refused with an explanation.
    password: Option<toml::Value>,
}

/// Where the file is: `RP_CONFIG`, else `rp/config.toml` in the configuration directory.
pub fn path() -> Option<PathBuf> {
    match std::env::var_os("RP_CONFIG") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => dirs::config_dir().map(|d| d.join("rp").join("config.toml")),
    }
}

/// Read the file (an absent file is an empty configuration).
pub fn load() -> Result<Config, CliError> {
    let Some(path) = path() else {
        return Ok(Config::default());
    };
    let text = match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => {
            return Err(CliError::Usage(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
        Ok(m) if m.len() > MAX_BYTES => {
            return Err(CliError::Usage(format!(
                "{} is larger than {} KiB; is it the right file?",
                path.display(),
                MAX_BYTES / 1024
            )));
        }
        Ok(_) => std::fs::read_to_string(&path)
            .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?,
    };
    parse(&text).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

/// Parse a configuration.
pub fn parse(text: &str) -> Result<Config, String> {
    let config: Config = toml::from_str(text).map_err(|e| {
        // The message and the line, not the quoted line itself: a misspelt secret's value
        // must not reach the terminal.
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let message = e.message().trim().replace('\n', " ");
        match line {
            Some(n) => format!("line {n}: {message}"),
            None => message,
        }
    })?;
    for (name, p) in &config.profiles {
        if p.client_secret.is_some() || p.password.is_some() {
            return Err(format!(
                "profile \"{name}\" holds a secret in a plain file; remove it and give it with --client-secret or RP_CLIENT_SECRET (rp login keeps it in the private profile, mode 0600)"
            ));
        }
        if let Some(m) = &p.token_auth_method
            && !["client_secret_basic", "client_secret_post", "none"].contains(&m.as_str())
        {
            return Err(format!(
                "profile \"{name}\": token_auth_method `{m}` is not client_secret_basic, client_secret_post or none"
            ));
        }
    }
    if let Some(d) = &config.default_profile
        && d.is_empty()
    {
        return Err("default_profile is empty".into());
    }
    Ok(config)
}

impl Config {
    /// The declared profile of this name.
    pub fn profile(&self, name: &str) -> Option<&ProfileConfig> {
        self.profiles.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_read() {
        let c = parse(
            r#"
default_profile = "work"
[profiles.work]
issuer = "https://op.example.com"
client_id = "cli"
scope = "openid offline_access"
port = 8400
"#,
        )
        .expect("valid");
        assert_eq!(c.default_profile.as_deref(), Some("work"));
        let w = c.profile("work").expect("declared");
        assert_eq!(w.client_id.as_deref(), Some("cli"));
        assert_eq!(w.port, Some(8400));
    }

    #[test]
    fn secrets_and_typos_are_refused() {
        let e = parse("[profiles.w]\nclient_secret = \"s\"\n").expect_err("secret");
        assert!(e.contains("RP_CLIENT_SECRET"), "{e}");
        let e = parse("[profiles.w]\nisuer = \"x\"\n").expect_err("typo");
        assert!(e.contains("isuer") && e.contains("line 2"), "{e}");
        let e = parse("[profiles.w]\nclent_secret = \"hunter2\"\n").expect_err("typo");
        assert!(!e.contains("hunter2"), "{e}");
        let e = parse("[profiles.w]\ntoken_auth_method = \"private_key_jwt\"\n").expect_err("m");
        assert!(e.contains("private_key_jwt"), "{e}");
        assert!(parse("default_profile = \"\"").is_err());
        assert!(parse("[profiles.w]\nport = 70000\n").is_err());
    }
}
