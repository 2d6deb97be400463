//! Which provider, client and cached profile a lifecycle command works on.
//!
//! By default the cached profile from `rp login`: `--profile NAME`, or the profile named after
//! `--issuer`, or the only profile there is. Explicit `--issuer`/`--client-id`/`--client-secret`
//! work without any profile.

use crate::cache::{self, Profile};
use crate::cli::HttpArgs;
use crate::exit::CliError;
use clap::Args;
use oidc_rp::{ClientConfig, RelyingParty, Secret, VerifiedIdToken};

/// Options shared by refresh, exchange, introspect, revoke and userinfo.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// The cached profile to use (default: the one named after --issuer, or the only one).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The issuer (overrides the profile's).
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// The client id (overrides the profile's client).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// The client secret for --client-id (or set RP_CLIENT_SECRET).
    #[arg(
        long,
        value_name = "SECRET",
        env = "RP_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// How --client-id authenticates: client_secret_basic, client_secret_post or none.
    #[arg(long, value_name = "METHOD", value_parser = ["client_secret_basic", "client_secret_post", "none"])]
    pub token_auth_method: Option<String>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub http: HttpArgs,
}

/// The profile a command should use, if any.
pub fn profile_name(args: &TargetArgs) -> Result<Option<String>, CliError> {
    if let Some(p) = &args.profile {
        return Ok(Some(p.clone()));
    }
    let profiles = cache::list().map_err(CliError::Cache)?;
    if let Some(issuer) = &args.issuer {
        return Ok(profiles
            .iter()
            .find(|p| &p.name == issuer)
            .map(|p| p.name.clone()));
    }
    match profiles.as_slice() {
        [] => {
            if args.client_id.is_some() {
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

/// Load a profile (for commands that only read it).
pub fn load(name: &Option<String>) -> Result<Option<Profile>, CliError> {
    let Some(name) = name else { return Ok(None) };
    if !cache::path(name).map_err(CliError::Cache)?.exists() {
        return Err(CliError::Usage(format!(
            "no cached login for profile `{name}`; run `rp login --profile {name} ...` first"
        )));
    }
    cache::load(name).map(Some).map_err(CliError::Cache)
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
    let client = match (&args.client_id, profile) {
        (Some(id), _) => {
            let mut c = match &args.client_secret {
                Some(s) => ClientConfig::confidential(id, s.as_str()),
                None => ClientConfig::public(id),
            };
            c.token_endpoint_auth_method = args
                .token_auth_method
                .as_deref()
                .and_then(oidc_rp::TokenAuthMethod::parse);
            c
        }
        (None, Some(p)) => p.client.clone(),
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
    let http = super::http_client(&http_args)?;
    Ok(RelyingParty::discover(&http, &issuer, client).await?)
}

/// The profile's ID token, as validated at login.
pub fn stored_id_token(profile: &Profile) -> Result<Option<VerifiedIdToken>, CliError> {
    let Some(raw) = &profile.tokens.id_token else {
        return Ok(None);
    };
    let claims = serde_json::to_string(&profile.id_token_claims)
        .map_err(|e| CliError::Cache(e.to_string()))?;
    Ok(Some(VerifiedIdToken::from_storage(
        Secret::new(raw.expose()),
        &claims,
    )?))
}

/// Print a JSON value on stdout.
pub fn print_json(value: &serde_json::Value) {
    crate::outln!("{value}");
}

/// Seconds from now until `t`, for humans.
pub fn until(t: i64) -> String {
    let d = t - oidc_rp::jwt::unix_now();
    if d == 0 {
        "now".into()
    } else if d > 0 {
        format!("in {d} s")
    } else {
        format!("{} s ago", -d)
    }
}
