//! `rp web`: a relying-party web app on 127.0.0.1, on the same library as the CLI.
//!
//! A landing page to pick a provider (the bundled one, `--provider` ones, or any issuer or
//! `acct:` identifier through WebFinger), dynamic registration or the bundled provider's
//! static client, the authorization code flow with PKCE, an identity page with the validation
//! report, the ID token and userinfo claims and buttons for refresh, introspection, token
//! exchange, userinfo and logout; RP-initiated logout, and the app's own back- and
//! front-channel logout endpoints, which end the matching web sessions.
//!
//! Served by the bundled provider's HTTP stack (axum over hyper, rustls under `--tls`).

mod handlers;
pub mod pages;
pub mod session;
pub mod shared;

use crate::cli::HttpArgs;
use crate::exit::CliError;
use clap::Args;
use oidc_rp::store::{DocumentStore, ReplayStore};
use oidc_rp::{ClientConfig, HttpClient, RelyingParty, ReplayCache};
use rp_provider::bounded::Bounded;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// `rp web`.
#[derive(Debug, Args)]
#[command(
    after_help = "The bundled provider is started in-process and always listed; log in \
there as alice / wonderland or bob / builder.

Examples:
  rp web                                   http://127.0.0.1:8090/
  rp web --tls                             https, with a certificate made at start
  rp web --provider https://op.example.com --provider http://127.0.0.1:3000
  rp web --port 0                          an ephemeral port (the URL is the first stdout line)
  rp web --redis redis://127.0.0.1:6379/ --public-url https://app.example
                                           one of several instances behind one name"
)]
pub struct WebArgs {
    /// Port on 127.0.0.1 (0: an ephemeral port).
    #[arg(long, default_value_t = 8090)]
    pub port: u16,
    /// Serve HTTPS with a certificate made at start; its CA is written to a new private
    /// directory (or to --ca-out).
    #[arg(long)]
    pub tls: bool,
    /// Where to write the CA certificate with --tls (replaced atomically, never through a
    /// symlink).
    #[arg(long, value_name = "PEM", requires = "tls")]
    pub ca_out: Option<std::path::PathBuf>,
    /// A provider to list on the landing page (repeatable); clients are registered
    /// dynamically.
    #[arg(long, value_name = "URL")]
    pub provider: Vec<String>,
    /// The URL the app is reached at when it is behind a reverse proxy: its host is answered
    /// too, and the app's redirect and logout URIs use it (default: http(s)://127.0.0.1:PORT).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// The `response_type` of every login: code (the default), or a hybrid or implicit type
    /// (OIDC Core §3.2, §3.3), whose answer comes in the fragment and is posted back to
    /// `/callback` by the page there.
    #[arg(long, value_name = "TYPE", value_parser = crate::cli::parse_response_type)]
    pub response_type: Option<oidc_rp::ResponseType>,
    /// Keep sessions, registered clients and seen logout tokens in this Redis server
    /// (`redis://[:PASSWORD@]HOST:PORT/DB`), so that every instance started with the same
    /// server, prefix and --public-url acts as one: a login started on one completes on
    /// another, a logout delivered to one ends the session everywhere.
    #[arg(long, value_name = "URL", env = "RP_WEB_REDIS", hide_env_values = true)]
    pub redis: Option<String>,
    /// The prefix of every Redis key (to share one server between apps).
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "rp-web:",
        requires = "redis"
    )]
    pub redis_prefix: String,
    #[command(flatten)]
    pub http: HttpArgs,
}

/// A provider the landing page lists.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The label.
    pub label: String,
    /// Its issuer.
    pub issuer: String,
    /// A static client to use when dynamic registration is not asked for.
    pub static_client: Option<ClientConfig>,
}

/// The app's state.
#[derive(Debug)]
pub struct App {
    /// `http(s)://127.0.0.1:port`, or the `--public-url`.
    pub base: String,
    /// `Host` header values the app answers.
    pub hosts: Vec<String>,
    /// Whether the app is served over TLS.
    pub secure: bool,
    /// The HTTP client for providers.
    pub http: HttpClient,
    /// Listed providers.
    pub providers: Vec<Listed>,
    /// Relying parties in use, per (issuer, client id); the oldest are forgotten first (made
    /// again when needed).
    pub rps: Mutex<Bounded<(String, String), Arc<RelyingParty>>>,
    /// Web sessions and the clients registered dynamically, per issuer.
    pub sessions: session::Sessions,
    /// Logout token `jti`s seen (Back-Channel Logout 1.0 §2.6 step 9).
    pub replay: Arc<dyn ReplayStore>,
    /// Providers' metadata and keys shared with the other instances (`--redis`).
    pub documents: Option<Arc<dyn DocumentStore>>,
    /// The `response_type` of every login.
    pub response_type: oidc_rp::ResponseType,
}

/// The bundled provider's client for this app: exactly this app's URIs.
fn web_client(base: &str, secret: &str) -> rp_provider::fixtures::Client {
    let json = serde_json::json!({
        "client_id": "rp-web",
        "client_secret": secret,
        "client_name": "rp web (static client)",
        "redirect_uris": [format!("{base}/callback")],
        "post_logout_redirect_uris": [format!("{base}/logged-out")],
        "backchannel_logout_uri": format!("{base}/backchannel-logout"),
        "backchannel_logout_session_required": true,
        "frontchannel_logout_uri": format!("{base}/frontchannel-logout"),
        "frontchannel_logout_session_required": true,
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "implicit", "refresh_token", "urn:ietf:params:oauth:grant-type:token-exchange"],
        "response_types": ["code", "code id_token", "code token", "code id_token token", "id_token", "id_token token"],
        "application_type": "web",
        "token_exchange": {
            "subject_token_types": ["urn:ietf:params:oauth:token-type:access_token"],
            "requested_token_types": ["urn:ietf:params:oauth:token-type:access_token"],
            "audiences": ["https://api.rp.example"]
        }
    });
    match serde_json::from_value(json) {
        Ok(c) => c,
        Err(e) => panic!("the rp-web client literal is valid: {e}"),
    }
}

/// What the app keeps: in this process, or in Redis with `--redis`.
struct Shared {
    sessions: session::Sessions,
    replay: Arc<dyn ReplayStore>,
    documents: Option<Arc<dyn DocumentStore>>,
}

/// The sessions, the replay store and the document store: in this process, or in Redis
/// with `--redis`.
async fn shared_state(args: &WebArgs) -> Result<Shared, CliError> {
    let Some(url) = &args.redis else {
        return Ok(Shared {
            sessions: session::Sessions::default(),
            replay: Arc::new(ReplayCache::default()),
            documents: None,
        });
    };
    // The URL may carry a password: it is never shown.
    let shown = url::Url::parse(url)
        .map(|mut u| {
            let _ = u.set_password(None);
            let _ = u.set_username("");
            u.to_string()
        })
        .map_err(|e| CliError::Usage(format!("--redis is not a URL: {e}")))?;
    let unreachable = |why: String| {
        CliError::Unreachable(format!(
            "cannot use Redis at {shown}: {why}; start redis-server or fix --redis"
        ))
    };
    let store = oidc_rp::store::redis::RedisStore::connect(url, &args.redis_prefix)
        .await
        .map_err(|e| {
            unreachable(match e {
                oidc_rp::Error::Store { reason } => reason,
                other => other.to_string(),
            })
        })?;
    let state = shared::RedisState::new(store.connection(), &args.redis_prefix);
    crate::errln!(
        "rp web: sessions, clients, seen logout tokens and provider documents are in Redis at {shown} under \"{}\"",
        crate::term::inline(&args.redis_prefix)
    );
    let store = Arc::new(store);
    Ok(Shared {
        sessions: session::Sessions::Redis(state),
        replay: store.clone(),
        documents: Some(store),
    })
}

/// Run the app until interrupted.
pub async fn run(args: WebArgs) -> Result<(), CliError> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port)))
        .await
        .map_err(|e| {
            CliError::Usage(format!(
                "cannot listen on 127.0.0.1:{}: {e}; choose another --port",
                args.port
            ))
        })?;
    let port = listener
        .local_addr()
        .map_err(|e| CliError::Internal(e.to_string()))?
        .port();
    let scheme = if args.tls { "https" } else { "http" };
    // Requests must name one of these hosts (DNS rebinding: see handlers::host_check).
    let mut hosts = vec![
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ];
    let base = match &args.public_url {
        Some(public) => {
            let url = url::Url::parse(public)
                .map_err(|e| CliError::Usage(format!("--public-url {public}: {e}")))?;
            let host = url
                .host_str()
                .ok_or_else(|| CliError::Usage(format!("--public-url {public} has no host")))?;
            hosts.push(match url.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_string(),
            });
            if let Some(p) = url.port_or_known_default() {
                hosts.push(format!("{host}:{p}"));
            }
            public.trim_end_matches('/').to_string()
        }
        None => format!("{scheme}://127.0.0.1:{port}"),
    };
    let (tls, ca_pem) = if args.tls {
        let generated = rp_provider::tls::generate()?;
        let path = rp_provider::tls::write_ca(&generated.ca_pem, args.ca_out.as_deref())?;
        crate::errln!(
            "rp web: the certificate's CA is in {} (trust it in the browser, or accept the warning)",
            path.display()
        );
        (Some(generated.config), Some(generated.ca_pem))
    } else {
        (None, None)
    };

    // The bundled provider, with a static client for exactly this app.
    let secret = oidc_rp::Secret::random(24).expose().to_string();
    let mut fixtures = rp_provider::fixtures::Fixtures::embedded();
    fixtures.clients.push(web_client(&base, &secret));
    let bundled = rp_provider::start(rp_provider::ProviderConfig {
        fixtures,
        outbound_ca_pem: ca_pem,
        ..Default::default()
    })
    .await?;

    let mut providers = vec![Listed {
        label: "Bundled provider (alice / wonderland)".into(),
        issuer: bundled.issuer().to_string(),
        static_client: Some(ClientConfig::confidential("rp-web", secret.as_str())),
    }];
    for p in &args.provider {
        url::Url::parse(p)
            .map_err(|e| CliError::Usage(format!("--provider {p} is not a URL: {e}")))?;
        providers.push(Listed {
            label: p.clone(),
            issuer: p.trim_end_matches('/').to_string(),
            static_client: None,
        });
    }
    let shared = shared_state(&args).await?;
    let app = Arc::new(App {
        base: base.clone(),
        hosts,
        secure: args.tls,
        http: super::http_client(&args.http)?,
        providers,
        rps: Mutex::new(Bounded::new(session::PROVIDERS)),
        sessions: shared.sessions,
        replay: shared.replay,
        documents: shared.documents,
        response_type: args.response_type.unwrap_or_default(),
    });
    crate::outln!("{base}/");
    crate::errln!(
        "rp web: listening on {base}/ (bound to 127.0.0.1:{port}; bundled provider at {}); Ctrl-C to stop",
        bundled.issuer()
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(rp_provider::server::serve(
        listener,
        handlers::router(app),
        tls,
        stopped,
    ));
    let _ = tokio::signal::ctrl_c().await;
    let _ = stop.send(true);
    let _ = server.await;
    drop(bundled);
    Ok(())
}
