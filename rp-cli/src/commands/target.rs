//! Which provider, client and cached profile a lifecycle command works on.
//!
//! By default the cached profile from `rp login`: `--profile NAME`, or the profile named after
//! `--issuer`, or the only profile there is. Explicit `--issuer`/`--client-id`/`--client-secret`
//! work without any profile.

use crate::cache::{self, Profile};
use crate::cli::{ClientArgs, HttpArgs};
use crate::exit::CliError;
use clap::Args;
use oidc_rp::{RelyingParty, StoredIdToken};

/// Options shared by refresh, exchange, introspect, revoke and userinfo.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// The cached profile to use (default: the one named after --issuer, or the only one).
    #[arg(long, value_name = "NAME", env = "RP_PROFILE")]
    pub profile: Option<String>,
    /// The issuer (overrides the profile's).
    #[arg(long, value_name = "URL", env = "RP_ISSUER")]
    pub issuer: Option<String>,
    /// A client that overrides the profile's.
    #[command(flatten)]
    pub client: ClientArgs,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub http: HttpArgs,
}

/// The same, for commands that never authenticate the client (userinfo, listen-logout): no
/// client secret or authentication method, so `--help` lists only what applies.
#[derive(Debug, Clone, Args)]
pub struct PublicTargetArgs {
    /// The cached profile to use (default: the one named after --issuer, or the only one).
    #[arg(long, value_name = "NAME", env = "RP_PROFILE")]
    pub profile: Option<String>,
    /// The issuer (overrides the profile's).
    #[arg(long, value_name = "URL", env = "RP_ISSUER")]
    pub issuer: Option<String>,
    /// The client id (overrides the profile's): the audience tokens must name.
    #[arg(long, value_name = "ID", env = "RP_CLIENT_ID")]
    pub client_id: Option<String>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub http: HttpArgs,
}

impl From<PublicTargetArgs> for TargetArgs {
    fn from(p: PublicTargetArgs) -> Self {
        TargetArgs {
            profile: p.profile,
            issuer: p.issuer,
            client: ClientArgs {
                client_id: p.client_id,
                client_secret: None,
                token_auth_method: None,
                client_key: None,
            },
            json: p.json,
            http: p.http,
        }
    }
}

/// The profile a command should use, if any.
pub fn profile_name(args: &TargetArgs) -> Result<Option<String>, CliError> {
    if let Some(p) = &args.profile {
        return Ok(Some(p.clone()));
    }
    let profiles = cache::list().map_err(CliError::Cache)?;
    if args.issuer.is_none()
        && let Some(default) = crate::config::load()?.default_profile
    {
        return Ok(Some(default));
    }
    if let Some(issuer) = &args.issuer {
        return Ok(profiles
            .iter()
            .find(|p| &p.name == issuer)
            .map(|p| p.name.clone()));
    }
    match profiles.as_slice() {
        [] => {
            if args.client.client_id.is_some() {
                return Err(CliError::Usage("--client-id needs --issuer".into()));
            }
            Err(CliError::Usage(
                "no cached login: run `rp login` first, or give --issuer and --client-id".into(),
            ))
        }
        [only] => Ok(Some(only.name.clone())),
        many => Err(CliError::Usage(format!(
            "several cached profiles ({}); choose one with --profile",
            many.iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The profile a command works on, read after its lock (when asked for) is held.
#[derive(Debug)]
pub struct Opened {
    /// The profile's name, when one is used.
    pub name: Option<String>,
    /// The profile.
    pub profile: Option<Profile>,
    /// Held until the command ends, for commands that write the profile back.
    pub lock: Option<cache::ProfileLock>,
}

/// Find, lock (when `write`) and read the profile. With an explicit token and `--issuer` and
/// no `--profile`, no profile is used.
pub async fn open(
    args: &TargetArgs,
    explicit_token: bool,
    write: bool,
) -> Result<Opened, CliError> {
    let name = if explicit_token && args.profile.is_none() && args.issuer.is_some() {
        None
    } else {
        profile_name(args)?
    };
    let lock = match (&name, write) {
        (Some(n), true) => Some(lock(n).await?),
        _ => None,
    };
    // Read only once the lock is held: a concurrent refresh may just have rotated the tokens.
    let profile = load(&name)?;
    Ok(Opened {
        name,
        profile,
        lock,
    })
}

/// The usage error of commands given neither `--token` nor a cached profile.
pub fn no_token() -> CliError {
    CliError::Usage("give --token or use a cached profile".into())
}

/// Load a profile (for commands that only read it).
pub fn load(name: &Option<String>) -> Result<Option<Profile>, CliError> {
    name.as_deref().map(load_named).transpose()
}

/// Load the profile `name`; a usage error naming `rp login` when there is none.
pub fn load_named(name: &str) -> Result<Profile, CliError> {
    if !cache::exists(name).map_err(CliError::Cache)? {
        return Err(CliError::Usage(format!(
            "no cached login for profile `{name}`; run `rp login --profile {name} ...` first"
        )));
    }
    cache::load(name).map_err(CliError::Cache)
}

/// Wait for a profile's lock off the async threads.
pub async fn lock(name: &str) -> Result<cache::ProfileLock, CliError> {
    let name = name.to_string();
    tokio::task::spawn_blocking(move || cache::lock(&name))
        .await
        .map_err(|e| CliError::Internal(e.to_string()))?
        .map_err(CliError::Cache)
}

/// Discover the provider and set up the client from the flags and the profile.
pub async fn connect(
    args: &TargetArgs,
    profile: Option<&Profile>,
) -> Result<RelyingParty, CliError> {
    let issuer = args
        .issuer
        .clone()
        .or_else(|| profile.map(|p| p.issuer.clone()))
        .ok_or_else(|| CliError::Usage("give --issuer, or use a cached profile".into()))?;
    let client = match (args.client.config_with_key()?, profile) {
        (Some(c), _) => c,
        (None, Some(p)) => {
            let mut c = p.client.clone();
            if let Some(path) = &p.client_key_file {
                c.signing_key = Some(crate::cli::load_client_key(path)?);
            }
            c
        }
        (None, None) => {
            return Err(CliError::Usage(
                "say which client to use: --client-id (and --client-secret), or a cached profile"
                    .into(),
            ));
        }
    };
    let mut http_args = args.http.clone();
    if http_args.ca_file.is_none() {
        http_args.ca_file = profile.and_then(|p| p.ca_file.clone());
    }
    if http_args.client_cert.is_none() {
        http_args.client_cert = profile.and_then(|p| p.client_cert_file.clone());
    }
    let http = super::http_client(&http_args)?;
    let rp = RelyingParty::discover(&http, &issuer, client)
        .await?
        .with_options(args.http.validation());
    // Tokens bound to a DPoP key at login are presented with proofs of that key.
    match profile.and_then(|p| p.dpop_key.as_ref()) {
        Some(key) => {
            let key = oidc_rp::dpop::DpopKey::from_pkcs8_b64(key.expose())?;
            Ok(rp.with_decorator(std::sync::Arc::new(oidc_rp::dpop::Dpop::new(key))))
        }
        None => Ok(rp),
    }
}

/// The profile's ID token, as validated at login.
pub fn stored_id_token(profile: &Profile) -> Option<StoredIdToken> {
    let raw = profile.tokens.id_token.clone()?;
    Some(StoredIdToken::new(raw, profile.id_token_claims.clone()))
}

/// Print a command's `--json` result on stdout: `fields` plus the `issuer` and `profile`
/// every command on a profile reports.
pub fn print_result(issuer: &str, profile: Option<&str>, mut fields: serde_json::Value) {
    fields["issuer"] = issuer.into();
    fields["profile"] = profile.into();
    crate::rawln!("{fields}");
}

/// A NumericDate as RFC 3339 UTC (`2026-11-30T18:00:00Z`); `None` when it is no
/// representable date.
pub fn rfc3339(t: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Seconds from now until `t`, for humans.
pub fn until(t: i64) -> String {
    let d = t - oidc_rp::time::unix_now();
    if d == 0 {
        "now".into()
    } else if d > 0 {
        format!("in {d} s")
    } else {
        format!("{} s ago", -d)
    }
}
