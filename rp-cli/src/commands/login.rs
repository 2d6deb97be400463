//! `rp login`: discovery, (registration), the loopback listener, the browser or the headless
//! form driver, then every check, userinfo, and the token cache.

use super::flow::{self, Drive, load_jar, save_jar};
use crate::cache::{self, Profile, StoredTokens};
use crate::cli::{LoginArgs, RequestObjectMode};
use crate::exit::CliError;
use crate::listener::{
    BACKCHANNEL_PATH, CALLBACK_PATH, FRONTCHANNEL_PATH, LOGOUT_PATH, Listener, LoopbackHost,
    LoopbackUri,
};
use crate::{output, progress};
use oidc_rp::registration::{self, RegistrationRequest};
use oidc_rp::{
    AuthorizationRequest, ClientConfig, Delivery, ExtraClientMetadata, Login, RelyingParty,
    ResponseMode, Secret, UserInfo, discovery,
};
use oidc_rp_headless::{Browser, Credentials};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The embedded provider's demo client.
const EMBEDDED_CLIENT: (&str, &str) = ("rp-demo", "rp-demo-secret");

/// The scope asked for when neither `--scope` nor the profile says.
pub(crate) const DEFAULT_SCOPE: &str = "openid profile email";

/// Fill what the flags leave out from the profile of an earlier `rp login --profile NAME`
/// (flags win), and return its client unless another one was named.
fn remember(args: &mut LoginArgs) -> Result<Option<ClientConfig>, CliError> {
    let Some(name) = args.profile.clone() else {
        return Ok(None);
    };
    if !cache::exists(&name).map_err(CliError::Cache)? {
        return Ok(None);
    }
    let profile = cache::load(&name).map_err(CliError::Cache)?;
    let same_provider = args.issuer.as_deref().is_none_or(|i| i == profile.issuer);
    if !same_provider {
        return Ok(None);
    }
    args.issuer = Some(profile.issuer.clone());
    if args.http.ca_file.is_none() {
        args.http.ca_file = profile.ca_file.clone();
    }
    if args.http.client_cert.is_none() {
        args.http.client_cert = profile.client_cert_file.clone();
    }
    let settings = profile.login.clone().unwrap_or_default();
    if args.scope.is_none() {
        args.scope = settings.scope.or(profile.tokens.scope.clone());
    }
    if args.redirect_uri.is_none() && args.port == 0 {
        args.redirect_uri = settings.redirect_uri;
        args.port = settings.port.unwrap_or(0);
    }
    let client = match (
        args.client.client_id.is_none() && !args.register,
        &profile.client_key_file,
    ) {
        (false, _) => None,
        (true, None) => Some(profile.client.clone()),
        (true, Some(path)) => {
            let mut c = profile.client.clone();
            c.signing_key = Some(crate::cli::load_client_key(path)?);
            if args.client.client_key.is_none() {
                args.client.client_key = Some(path.clone());
            }
            Some(c)
        }
    };
    progress!(
        "profile \"{name}\": logging in again at {}{}",
        profile.issuer,
        client
            .as_ref()
            .map(|c| format!(" as client {}", c.client_id))
            .unwrap_or_default()
    );
    Ok(client)
}

/// Fill what neither the flags nor the profile's last login say from the configuration
/// file's declaration of the profile, and return its client when none was found before.
fn declared(
    args: &mut LoginArgs,
    config: &crate::config::Config,
    remembered: bool,
) -> Option<ClientConfig> {
    let name = args.profile.clone()?;
    let p = config.profile(&name)?;
    match (&args.issuer, &p.issuer) {
        (None, Some(i)) => args.issuer = Some(i.clone()),
        (Some(given), Some(i)) if given != i => return None,
        _ => {}
    }
    if args.http.ca_file.is_none() {
        args.http.ca_file = p.ca_file.clone();
    }
    if args.scope.is_none() {
        args.scope = p.scope.clone();
    }
    if args.store.is_none() {
        args.store = p.store;
    }
    if p.device {
        args.device = true;
    } else if args.redirect_uri.is_none() && args.port == 0 {
        args.redirect_uri = p.redirect_uri.clone();
        args.port = p.port.unwrap_or(0);
    }
    if remembered || args.client.client_id.is_some() || args.register {
        return None;
    }
    let client = crate::cli::ClientArgs {
        client_id: p.client_id.clone(),
        client_secret: args.client.client_secret.clone(),
        token_auth_method: args
            .client
            .token_auth_method
            .clone()
            .or(p.token_auth_method.clone()),
        client_key: args.client.client_key.clone(),
    };
    let config = client.config();
    if config.is_some() {
        progress!("profile \"{name}\": as declared in the configuration file");
    }
    config
}

fn no_client() -> CliError {
    CliError::Usage(
        "say which client to use: --client-id ID (with --client-secret for a confidential client), or --register".into(),
    )
}

/// The client to log in as, when none is registered now: the flags', else the profile's,
/// else (with the bundled provider) its demo client.
fn chosen_client(
    args: &LoginArgs,
    remembered: Option<ClientConfig>,
    embedded: bool,
) -> Result<ClientConfig, CliError> {
    match (args.client.config_with_key()?, remembered) {
        (Some(c), _) | (None, Some(c)) => Ok(c),
        (None, None) if embedded => Ok(ClientConfig::confidential(
            EMBEDDED_CLIENT.0,
            EMBEDDED_CLIENT.1,
        )),
        (None, None) => Err(no_client()),
    }
}

/// Run the command.
pub async fn run(mut args: LoginArgs) -> Result<(), CliError> {
    let config = crate::config::load()?;
    if args.profile.is_none() && args.issuer.is_none() {
        args.profile = config.default_profile.clone();
    }
    let remembered = remember(&mut args)?;
    let remembered = match remembered {
        Some(c) => {
            declared(&mut args, &config, true);
            Some(c)
        }
        None => declared(&mut args, &config, false),
    };
    let embedded = match &args.issuer {
        Some(_) => None,
        None => {
            let running = rp_provider::start(rp_provider::ProviderConfig {
                // A device login against the bundled provider need not wait 5 s a poll.
                device_interval: 1,
                ..Default::default()
            })
            .await?;
            progress!("started the bundled provider at {}", running.issuer());
            Some(running)
        }
    };
    let issuer = match (&args.issuer, &embedded) {
        (Some(i), _) => i.clone(),
        (None, Some(p)) => p.issuer().to_string(),
        (None, None) => unreachable!("either an issuer or the embedded provider"),
    };
    let http = super::http_client(&args.http)?;

    let credentials = match (&args.username, &args.password, &embedded) {
        (Some(u), Some(p), _) => Some(Credentials {
            username: u.clone(),
            password: Secret::new(p.clone()),
        }),
        (Some(u), None, _) => Some(Credentials {
            username: u.clone(),
            password: prompt_password(u)?,
        }),
        (None, _, Some(provider)) => {
            let user =
                provider.op().users.first().ok_or_else(|| {
                    CliError::Internal("the bundled provider has no users".into())
                })?;
            Some(Credentials {
                username: user.username.clone(),
                password: Secret::new(user.password.clone()),
            })
        }
        (None, _, None) => None,
    };

    if !args.register
        && args.client.client_id.is_none()
        && remembered.is_none()
        && embedded.is_none()
    {
        return Err(no_client());
    }

    progress!("discovering {issuer}");
    let metadata = discovery::discover(&http, &issuer).await?;

    if args.device {
        let client = chosen_client(&args, remembered, embedded.is_some())?;
        let rp =
            RelyingParty::new(http.clone(), metadata, client)?.with_options(args.http.validation());
        let (rp, dpop_key) = with_dpop(rp, &args)?;
        let login = super::device::login(&rp, &http, &args, credentials).await?;
        let (login, userinfo) = with_userinfo(&rp, login, &args).await?;
        let logout = LogoutSetup {
            post_logout_redirect_uri: None,
            listener_port: None,
        };
        return conclude(
            &args,
            &rp,
            embedded.is_some(),
            login,
            userinfo,
            logout,
            dpop_key,
        )
        .await;
    }

    // The redirect URI: `--redirect-uri` exactly (a provider that registered a fixed one),
    // else http://127.0.0.1:PORT/callback on --port or an ephemeral port (RFC 8252 §7.3).
    let fixed = args
        .redirect_uri
        .as_deref()
        .map(LoopbackUri::parse)
        .transpose()
        .map_err(|e| CliError::Usage(format!("redirect URI: {e}")))?;
    let (host, port, callback_path) = match &fixed {
        Some(f) => (f.host, f.port.unwrap_or(0), f.path.clone()),
        None => (LoopbackHost::Ipv4, args.port, CALLBACK_PATH.to_string()),
    };
    let listener = Listener::bind_host(host, port).map_err(|e| {
        CliError::Usage(format!(
            "cannot listen on {}:{port}: {e}; choose another {}",
            host.as_uri_host(),
            if fixed.is_some() {
                "--redirect-uri port"
            } else {
                "--port"
            }
        ))
    })?;
    let redirect_uri = match fixed.and_then(|f| f.exact) {
        Some(exact) => exact,
        None => listener.uri(&callback_path),
    };

    let logout_port = match args.logout_listener {
        Some(0) => Some(
            Listener::bind(0)
                .map(|l| l.addr().port())
                .map_err(|e| CliError::Usage(format!("cannot find a free port: {e}")))?,
        ),
        other => other,
    };
    let logout_uri = |path: &str| logout_port.map(|p| format!("http://127.0.0.1:{p}{path}"));
    let post_logout_redirect_uri = listener.uri(LOGOUT_PATH);
    let client = if args.register {
        progress!("registering a client (RFC 7591)");
        let client = registration::register(
            &http,
            &metadata,
            &RegistrationRequest {
                redirect_uris: vec![redirect_uri.clone()],
                client_name: Some("rp command-line".into()),
                native: true,
                extra: ExtraClientMetadata {
                    post_logout_redirect_uris: Some(vec![post_logout_redirect_uri.clone()]),
                    backchannel_logout_uri: logout_uri(BACKCHANNEL_PATH),
                    backchannel_logout_session_required: logout_port.map(|_| true),
                    frontchannel_logout_uri: logout_uri(FRONTCHANNEL_PATH),
                    frontchannel_logout_session_required: logout_port.map(|_| true),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await?;
        progress!("registered client {}", client.client_id);
        client
    } else {
        chosen_client(&args, remembered, embedded.is_some())?
    };
    let rp =
        RelyingParty::new(http.clone(), metadata, client)?.with_options(args.http.validation());
    let (rp, dpop_key) = with_dpop(rp, &args)?;
    let rp = if args.fapi2 {
        let rp = rp.with_fapi2()?;
        progress!("FAPI 2.0: pushed request, DPoP-bound tokens, private_key_jwt, iss required");
        rp
    } else {
        rp
    };

    let mut request = AuthorizationRequest {
        scopes: args
            .scope
            .as_deref()
            .unwrap_or(DEFAULT_SCOPE)
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        prompt: args.prompt.clone(),
        max_age: args.max_age,
        login_hint: args.login_hint.clone(),
        acr_values: args
            .acr_values
            .as_deref()
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
        response_mode: match (args.jarm, args.form_post) {
            (true, true) => Some(ResponseMode::FormPostJwt),
            (true, false) => Some(ResponseMode::QueryJwt),
            (false, true) => Some(ResponseMode::FormPost),
            (false, false) => None,
        },
        response_type: args.response_type.unwrap_or_default(),
        ..Default::default()
    };
    if request.response_type.is_implicit() {
        crate::errln!(
            "rp: warning: the implicit flow ({}) is discouraged (RFC 9700 §2.1.2): tokens travel through the browser, unbound; use the code flow where the provider allows",
            request.response_type
        );
    }
    if !request.response_type.has_only_code() && !args.form_post {
        listener.relay_fragment();
    }
    for p in &args.params {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("--param `{p}` is not NAME=VALUE")))?;
        request.extra.push((k.to_string(), v.to_string()));
    }
    let must_push = rp
        .metadata()
        .additional_metadata()
        .require_pushed_authorization_requests
        == Some(true);
    let pushing = args.par || must_push || args.fapi2;
    let object_path = format!("/request/{}", Secret::random(24).expose());
    request.delivery = delivery(&args, &rp, pushing, &listener.uri(&object_path))?;
    let (url, txn) = if pushing {
        progress!("pushing the authorization request (RFC 9126)");
        rp.push_authorization_request(&request, &redirect_uri)
            .await?
    } else {
        rp.authorization_url(&request, &redirect_uri)?
    };
    if let Some(object) = &txn.request_object {
        progress!("serving the signed request object once at {object_path} (RFC 9101 §5.2)");
        listener.serve_request_object_once(&object_path, object.clone());
    }

    let jar = load_jar(args.cookie_jar.as_deref())?;
    let outcome = if args.paste {
        // Nothing listens: the browser shows a connection error at once, with the redirect
        // URL (and its code) in the address bar for the user to copy.
        drop(listener);
        let params = super::paste::read_callback(&url, &callback_path)?;
        finish(&rp, &txn, &params, &args).await
    } else {
        // Wait for the callback on a blocking thread while the browser or the driver logs in.
        let timeout = Duration::from_secs(args.timeout.max(1));
        let drive = match credentials {
            Some(creds) => {
                progress!("logging in headless as {}", creds.username);
                Drive::Headless {
                    browser: Browser::with_jar(&http, jar.clone())?,
                    credentials: Some(creds),
                }
            }
            None if args.headless => Drive::Headless {
                browser: Browser::with_jar(&http, jar.clone())?,
                credentials: None,
            },
            None => Drive::User {
                print_only: args.no_browser,
                command: args.browser_command.clone(),
            },
        };
        let arrived = flow::walk(
            Arc::new(listener),
            &callback_path,
            // JARM: the state is inside the signed response, checked by the library once the
            // JWT verified; the listener cannot read it before.
            (!txn.response_mode.is_jwt()).then(|| txn.state.clone()),
            timeout,
            &url,
            drive,
            flow::Purpose::Login,
        )
        .await?;

        // Validate, answer the browser with the outcome, then report.
        let outcome = match arrived.incoming.params() {
            Ok(params) => finish(&rp, &txn, &params, &args).await,
            Err(e) => Err(e.into()),
        };
        match &outcome {
            Ok((login, _)) => {
                let detail = format!(
                    "rp validated the login of {} at {}.",
                    login.id_token.subject,
                    rp.issuer()
                );
                arrived
                    .respond_then_finish(200, "Login complete", &detail)
                    .await
            }
            Err(e) => {
                let detail = e.to_string();
                arrived
                    .respond_then_finish(400, "Login failed", &detail)
                    .await
            }
        }
        outcome
    };
    save_jar(args.cookie_jar.as_deref(), &jar)?;
    let (login, userinfo) = outcome?;
    let logout = LogoutSetup {
        post_logout_redirect_uri: args.register.then_some(post_logout_redirect_uri),
        listener_port: logout_port,
    };
    conclude(
        &args,
        &rp,
        embedded.is_some(),
        login,
        userinfo,
        logout,
        dpop_key,
    )
    .await
}

/// How the authorization request travels: `--request-object` signs it with the client's key
/// (RFC 9101), by value or by reference at `object_uri`; a pushed request (RFC 9126) is the
/// signed object itself, or the plain parameters.
fn delivery(
    args: &LoginArgs,
    rp: &RelyingParty,
    pushing: bool,
    object_uri: &str,
) -> Result<Delivery, CliError> {
    let Some(mode) = args.request_object else {
        return Ok(if pushing {
            Delivery::Pushed { key: None }
        } else {
            Delivery::Query
        });
    };
    let key = rp.client().signing_key.clone().ok_or_else(|| {
        CliError::Usage(
            "--request-object needs the client's signing key: give --client-key PEM|JWK".into(),
        )
    })?;
    Ok(match (pushing, mode) {
        (true, RequestObjectMode::Value) => Delivery::Pushed { key: Some(key) },
        (true, RequestObjectMode::Reference) => {
            return Err(CliError::Usage(
                "a pushed request is already by reference (its request_uri comes from the provider): use --request-object value with --par or --fapi2".into(),
            ));
        }
        (false, RequestObjectMode::Value) => Delivery::ByValue { key: Some(key) },
        (false, RequestObjectMode::Reference) => Delivery::ByReference {
            key: Some(key),
            request_uri: object_uri.to_string(),
        },
    })
}

/// With `--dpop`: a new key, and the relying party presenting proofs of it; the key (a
/// secret) is returned to be kept with the profile.
fn with_dpop(
    rp: RelyingParty,
    args: &LoginArgs,
) -> Result<(RelyingParty, Option<Secret>), CliError> {
    let key = match (&args.dpop_key, args.dpop.as_deref()) {
        (Some(path), _) => {
            let pem = crate::cli::read_small_file(path, "--dpop-key")?;
            oidc_rp::dpop::DpopKey::from_pem(&pem)
                .map_err(|e| CliError::Usage(format!("--dpop-key {}: {e}", path.display())))?
        }
        (None, None) if args.fapi2 => oidc_rp::dpop::DpopKey::generate_es256()?,
        (None, None) => return Ok((rp, None)),
        (None, Some("EdDSA")) => oidc_rp::dpop::DpopKey::generate_eddsa()?,
        (None, Some(_)) => oidc_rp::dpop::DpopKey::generate_es256()?,
    };
    progress!(
        "binding the tokens to {} {} DPoP key (RFC 9449), thumbprint {}",
        if args.dpop_key.is_some() {
            "the given"
        } else {
            "a new"
        },
        key.alg(),
        key.thumbprint()
    );
    let kept = key.to_pkcs8_b64().clone();
    Ok((
        rp.with_decorator(Arc::new(oidc_rp::dpop::Dpop::new(key))),
        Some(kept),
    ))
}

/// After a validated login: cache it (under the profile's lock), warn about what the
/// provider left out, and print the report.
async fn conclude(
    args: &LoginArgs,
    rp: &RelyingParty,
    embedded: bool,
    login: Login,
    userinfo: Option<UserInfo>,
    logout: LogoutSetup,
    dpop_key: Option<Secret>,
) -> Result<(), CliError> {
    let no_token = login.tokens.access_token.expose().is_empty();
    let cache_file = if embedded || args.no_cache || no_token {
        if embedded {
            progress!("not caching: the bundled provider stops with this command");
        } else if no_token && !args.no_cache {
            progress!("not caching: response_type id_token issues no access token");
        }
        None
    } else {
        // Under the profile's lock, like every command that writes it.
        let name = args
            .profile
            .clone()
            .unwrap_or_else(|| rp.issuer().to_string());
        let _lock = super::target::lock(&name).await?;
        replace_other_login(&name, rp, args).await;
        Some(save_profile(args, rp, &login, logout, dpop_key)?)
    };
    let scope = args.scope.as_deref().unwrap_or(DEFAULT_SCOPE);
    if scope.split_whitespace().any(|s| s == "offline_access")
        && login.tokens.refresh_token().is_none()
    {
        // OIDC Core §11: a provider may ignore offline_access unless prompt=consent was sent
        // (oidc-provider does, silently), or unless the client may use refresh_token.
        let hint = if args
            .prompt
            .as_deref()
            .is_some_and(|p| p.contains("consent"))
        {
            "check that the client is allowed the refresh_token grant"
        } else {
            "retry with --prompt consent (OIDC Core §11), and check that the client is allowed the refresh_token grant"
        };
        progress!("warning: offline_access was asked for but no refresh token came back; {hint}");
    }
    print(args, rp, &login, userinfo.as_ref(), cache_file.as_ref());
    Ok(())
}

async fn finish(
    rp: &RelyingParty,
    txn: &oidc_rp::AuthTransaction,
    params: &oidc_rp::CallbackParams,
    args: &LoginArgs,
) -> Result<(Login, Option<UserInfo>), CliError> {
    let login = rp.complete(txn, params).await?;
    with_userinfo(rp, login, args).await
}

/// Call userinfo after a login (unless asked not to, or the provider has none), its checks
/// added to the login's report.
pub(crate) async fn with_userinfo(
    rp: &RelyingParty,
    mut login: Login,
    args: &LoginArgs,
) -> Result<(Login, Option<UserInfo>), CliError> {
    // response_type=id_token issues no access token: there is nothing to call userinfo with.
    let no_token = login.tokens.access_token.expose().is_empty();
    let userinfo = if args.no_userinfo || no_token || rp.metadata().userinfo_endpoint().is_none() {
        None
    } else {
        let info = rp
            .userinfo(&login.tokens.access_token(), &login.id_token)
            .await
            .map_err(|e| e.after(&login.report))?;
        login.report.extend(info.report.clone());
        Some(info)
    };
    Ok((login, userinfo))
}

/// A login saved under a profile that held another client's (or provider's) login: say so,
/// and revoke the replaced tokens where the provider can (RFC 7009), so that replacing a
/// profile does not leave a live refresh token nobody holds any more. Failing to revoke is
/// a warning: the new login stands.
async fn replace_other_login(name: &str, rp: &RelyingParty, args: &LoginArgs) {
    let Ok(true) = cache::exists(name) else {
        return;
    };
    let Ok(old) = cache::load(name) else {
        return;
    };
    if old.issuer == rp.issuer() && old.client.client_id == rp.client().client_id {
        return;
    }
    progress!(
        "profile \"{name}\" held a login of client {} at {}; replacing it",
        crate::term::inline(&old.client.client_id),
        crate::term::inline(&old.issuer)
    );
    if old.tokens.refresh_token.is_none() {
        return;
    }
    let mut http = args.http.clone();
    http.ca_file = old.ca_file.clone();
    match super::profiles::revoke_tokens(&old, http).await {
        Ok(revoked) => progress!(
            "revoked the replaced login's {} at {}",
            revoked.join(" and "),
            old.issuer
        ),
        Err(e) => progress!(
            "warning: could not revoke the replaced login's tokens ({e}); revoke them at {} if it matters",
            old.issuer
        ),
    }
}

/// What `rp logout` and `rp listen-logout` need to know about the client's registration.
struct LogoutSetup {
    post_logout_redirect_uri: Option<String>,
    listener_port: Option<u16>,
}

fn save_profile(
    args: &LoginArgs,
    rp: &RelyingParty,
    login: &Login,
    logout: LogoutSetup,
    dpop_key: Option<Secret>,
) -> Result<std::path::PathBuf, CliError> {
    let now = oidc_rp::time::unix_now();
    let tokens = &login.tokens;
    let name = args
        .profile
        .clone()
        .unwrap_or_else(|| rp.issuer().to_string());
    // Logging in again with the same client keeps what its registration set up for logout.
    let earlier = cache::exists(&name)
        .ok()
        .filter(|e| *e)
        .and_then(|_| cache::load(&name).ok())
        .filter(|p| p.issuer == rp.issuer() && p.client.client_id == rp.client().client_id);
    let logout = LogoutSetup {
        post_logout_redirect_uri: logout
            .post_logout_redirect_uri
            .or_else(|| earlier.as_ref()?.post_logout_redirect_uri.clone()),
        listener_port: logout
            .listener_port
            .or_else(|| earlier.as_ref()?.logout_listener_port),
    };
    // The store: as asked, else as the profile had it (whatever client it was for).
    let before = cache::exists(&name)
        .ok()
        .filter(|e| *e)
        .and_then(|_| cache::load_meta(&name).ok())
        .map(|p| p.store);
    let store = args.store.or(before).unwrap_or_default();
    if before == Some(crate::secret_store::Store::Keyring)
        && store != crate::secret_store::Store::Keyring
    {
        crate::secret_store::delete(&name).map_err(CliError::Cache)?;
    }
    let profile = Profile {
        client_cert_file: args.http.client_cert.clone(),
        client_key_file: args.client.client_key.clone().or_else(|| {
            // A re-login with the remembered client keeps its key file.
            cache::load_meta(&name)
                .ok()
                .filter(|p| p.client.client_id == rp.client().client_id)
                .and_then(|p| p.client_key_file)
        }),
        dpop_key,
        store,
        name,
        issuer: rp.issuer().to_string(),
        client: rp.client().clone(),
        ca_file: args.http.ca_file.clone(),
        sub: login.id_token.subject.clone(),
        id_token_claims: login.id_token.claims(),
        tokens: StoredTokens::from_response(tokens, Some(login.id_token.raw.clone()), now),
        updated_at: now,
        exchanged: Vec::new(),
        post_logout_redirect_uri: logout.post_logout_redirect_uri,
        logout_listener_port: logout.listener_port,
        login: Some(cache::LoginSettings {
            scope: args.scope.clone(),
            redirect_uri: args.redirect_uri.clone(),
            port: (args.port != 0).then_some(args.port),
        }),
    };
    cache::save(&profile).map_err(CliError::Cache)
}

fn print(
    args: &LoginArgs,
    rp: &RelyingParty,
    login: &Login,
    userinfo: Option<&UserInfo>,
    cache_file: Option<&std::path::PathBuf>,
) {
    if args.json {
        let out = json!({
            "issuer": rp.issuer(),
            "client_id": rp.client().client_id,
            "subject": login.id_token.subject,
            "profile": cache_file.map(|_| args.profile.clone().unwrap_or_else(|| rp.issuer().to_string())),
            "cache_file": cache_file,
            "checks": login.report,
            "id_token_claims": login.id_token.claims(),
            "userinfo": userinfo.map(|u| &u.claims),
            "token_response": token_response_json(&login.tokens),
        });
        crate::rawln!("{out}");
        return;
    }
    let who = login
        .id_token
        .claim("name")
        .or_else(|| userinfo.and_then(|u| u.claims.get("name").cloned()))
        .and_then(|v| v.as_str().map(|n| format!(" ({})", crate::term::inline(n))))
        .unwrap_or_default();
    crate::outln!(
        "Logged in to {} as {}{who}: every check passed.\n",
        rp.issuer(),
        crate::term::inline(&login.id_token.subject)
    );
    crate::outln!("Checks:\n{}", output::report(&login.report));
    crate::outln!(
        "ID token claims:\n{}",
        output::claims(&login.id_token.claims())
    );
    if let Some(info) = userinfo {
        crate::outln!(
            "Userinfo{}:\n{}",
            if info.signed { " (signed JWT)" } else { "" },
            output::claims(&info.claims)
        );
    }
    let tokens = &login.tokens;
    crate::outln!(
        "Tokens: access token{}{}",
        tokens
            .expires_in()
            .map(|d| format!(" (expires in {} s)", d.as_secs()))
            .unwrap_or_default(),
        if tokens.refresh_token().is_some() {
            ", refresh token"
        } else {
            ""
        }
    );
    if let Some(path) = cache_file {
        crate::outln!(
            "Cached in profile \"{}\": {}",
            args.profile
                .clone()
                .unwrap_or_else(|| rp.issuer().to_string()),
            path.display()
        );
    }
}

/// The token response as JSON, with `token_type` in its registered spelling (`oauth2`
/// normalises it to lower case).
pub fn token_response_json(tokens: &oidc_rp::TokenResponse) -> serde_json::Value {
    let mut v = serde_json::to_value(tokens).unwrap_or_default();
    if tokens.is_bearer() {
        v["token_type"] = json!("Bearer");
    }
    v
}

/// Ask for the password of `username` on the terminal, without echo (the prompt goes to the
/// terminal, never to stdout). Without a terminal, say how to give it instead.
fn prompt_password(username: &str) -> Result<Secret, CliError> {
    use std::io::IsTerminal;
    let no_tty = || {
        CliError::Usage(
            "--username needs a password: pass --password, set RP_PASSWORD, or run on a terminal to be asked".into(),
        )
    };
    if !std::io::stdin().is_terminal() && !std::io::stderr().is_terminal() {
        return Err(no_tty());
    }
    let prompt = format!("Password for {}: ", crate::term::inline(username));
    match rpassword::prompt_password(prompt) {
        Ok(p) if !p.is_empty() => Ok(Secret::new(p)),
        Ok(_) => Err(CliError::Usage("no password was typed".into())),
        Err(_) => Err(no_tty()),
    }
}
