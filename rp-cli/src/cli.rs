//! Command-line definitions.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Exit status:
  0  success
  1  internal error
  2  usage error (bad flags, bad URL, unreadable file)
  3  provider unreachable, timed out, or TLS failure (or the Redis of rp web --redis)
  4  provider error response (OAuth error, malformed answer)
  5  validation failure (ID token, state, issuer, userinfo)
  6  no callback arrived before the listener timed out
  7  the provider's login form rejected the username or password
  8  the token cache could not be written or read
  9  conformance tests failed
 10  the provider does not offer what the command needs (an endpoint, a grant)
 11  no valid token: the cached login expired and cannot be refreshed (log in again)
 12  rp audit: the provider failed a check

Examples:
  rp login                                   log in to the embedded provider as alice
  rp login --issuer https://op.example.com --client-id app --client-secret s3cret
  rp login --issuer https://op.example.com --register --username u --password p --json
  rp refresh                                 refresh the cached login's tokens
  rp profiles                                every cached login (show NAME, rm NAME --revoke)
  curl -H \"Authorization: Bearer $(rp token)\" https://api.example.com/
  rp exchange --audience https://api.example.com
  rp client-credentials --issuer https://op.example.com --client-id svc --client-secret s3cret
  rp introspect                              introspect the cached access token
  rp token --id-token | rp decode            a JWT's header and claims, times as dates
  rp userinfo                                call userinfo with it
  rp revoke                                  revoke the cached tokens and forget them
  rp logout                                  log out at the provider (RP-initiated)
  rp listen-logout                           receive back/front-channel logout requests
  rp conformance                             run the OpenID RP certification plans offline
  rp provider --port 9000                    serve the bundled provider
  rp bench --users 32                        load-test a provider with complete logins
  rp web                                     a relying-party web app on http://127.0.0.1:8090/
  rp completions bash                        a completion script (zsh, fish, powershell, elvish)
  rp man login | man -l -                    the man page of a command";

/// rp: an OpenID Connect Relying Party toolkit. Log in to any provider, validate everything.
#[derive(Debug, Parser)]
#[command(name = "rp", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// More diagnostics on stderr (-v: info, -vv: debug, -vvv: trace with secrets redacted).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    /// Log in with the authorization code flow and PKCE, validate everything, cache the tokens.
    #[command(after_help = LOGIN_HELP)]
    Login(LoginArgs),
    /// List, show or remove cached logins (rm --revoke revokes their tokens first).
    Profiles(crate::commands::profiles::ProfilesArgs),
    /// Print a valid token alone, refreshing first when it expires soon (for scripts, kubectl).
    Token(crate::commands::token::TokenArgs),
    /// Refresh the cached tokens (rotation-safe: concurrent runs take turns).
    Refresh(crate::commands::refresh::RefreshArgs),
    /// Exchange a token for another (RFC 8693).
    Exchange(crate::commands::exchange::ExchangeArgs),
    /// Get a token for a client acting on its own behalf (client_credentials, RFC 6749 §4.4).
    ClientCredentials(crate::commands::client_credentials::ClientCredentialsArgs),
    /// Introspect a token (RFC 7662; --jwt for RFC 9701).
    Introspect(crate::commands::introspect::IntrospectArgs),
    /// Revoke tokens (RFC 7009).
    Revoke(crate::commands::revoke::RevokeArgs),
    /// Show a JWT's header and claims (times as dates); --issuer verifies its signature.
    Decode(crate::commands::decode::DecodeArgs),
    /// Call the userinfo endpoint with the cached access token.
    Userinfo(crate::commands::userinfo::UserinfoArgs),
    /// Call an API with the cached access token (Bearer, or DPoP with proofs)
    Call(crate::commands::call::CallArgs),
    /// Log out at the provider (RP-Initiated Logout) and delete the cached tokens.
    Logout(crate::commands::logout::LogoutArgs),
    /// Receive back- and front-channel logout requests for a cached login.
    ListenLogout(crate::commands::listen_logout::ListenLogoutArgs),
    /// Run the OpenID RP conformance plans against the bundled provider's misbehaving instances.
    Conformance(crate::commands::conformance::ConformanceArgs),
    /// Audit an OpenID Provider from the client's side: a scorecard of what it does wrong.
    Audit(crate::commands::audit::AuditArgs),
    /// A relying-party web app on 127.0.0.1: pick a provider, log in, see and use the tokens.
    Web(crate::commands::web::WebArgs),
    /// Load-test a provider: complete logins, refreshes or client-credentials grants.
    Bench(crate::commands::bench::BenchArgs),
    /// Serve the bundled OpenID Provider; prints its issuer URL as the first line on stdout.
    #[command(after_help = PROVIDER_HELP)]
    Provider(ProviderArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
    /// Print the man page of rp, or of one subcommand (roff, for `man -l -`).
    #[command(
        after_help = "Examples:\n  rp man | man -l -\n  rp man login > ~/.local/share/man/man1/rp-login.1"
    )]
    Man(ManArgs),
}

const COMPLETIONS_HELP: &str = "\
Examples:
  rp completions bash > ~/.local/share/bash-completion/completions/rp
  rp completions zsh > \"${fpath[1]}/_rp\"
  rp completions fish > ~/.config/fish/completions/rp.fish
  rp completions powershell >> $PROFILE";

/// `rp completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `rp man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// A subcommand (default: rp itself).
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

impl Command {
    /// Whether the command was asked for `--json` output: a failure is then one JSON object
    /// on stdout too.
    pub fn json(&self) -> bool {
        match self {
            Command::Login(a) => a.json,
            Command::Token(a) => a.target.json,
            Command::Profiles(a) => a.json,
            Command::Refresh(a) => a.target.json,
            Command::Exchange(a) => a.target.json,
            Command::ClientCredentials(a) => a.target.json,
            Command::Introspect(a) => a.target.json,
            Command::Revoke(a) => a.target.json,
            Command::Decode(a) => a.json,
            Command::Userinfo(a) => a.target.json,
            Command::Call(a) => a.target.json,
            Command::Logout(a) => a.target.json,
            Command::ListenLogout(a) => a.target.json,
            Command::Conformance(a) => a.json,
            Command::Audit(a) => a.json,
            Command::Bench(a) => a.json,
            Command::Web(_) | Command::Provider(_) | Command::Completions(_) | Command::Man(_) => {
                false
            }
        }
    }
}

const LOGIN_HELP: &str = "\
Without --issuer, rp starts its bundled provider in-process and logs in as the fixture user
alice (password wonderland): a complete, validated login with nothing else installed.

Headless: with --username and --password (or RP_PASSWORD), rp fills the provider's HTML login
form itself and follows the redirects to its own loopback listener. Without them it opens your
browser (or prints the URL with --no-browser) and waits for the callback.

Examples:
  rp login
  rp login --issuer https://op.example.com --client-id app --client-secret s3cret
  rp login --issuer http://127.0.0.1:9000 --register --username bob --password builder --json
  RP_PASSWORD=p rp login --issuer https://op.example.com --client-id cli --username u
  rp login --issuer https://op.example.com --client-id cli --no-browser --port 8400
  rp login --issuer https://op.example.com --client-id cli --paste   (browser elsewhere)";

const PROVIDER_HELP: &str = "\
Examples:
  rp provider                       http://127.0.0.1:<ephemeral port>
  rp provider --port 9000 --tls     https, CA certificate in a private directory (see stderr)
  rp provider --port 9000 --tls --ca-out ca.pem
  rp login --issuer https://127.0.0.1:9000 --ca-file ca.pem";

/// Options shared by every command that talks to a provider.
#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// Trust the certificates in this PEM file (a private CA, or `rp provider --tls`'s CA).
    #[arg(long, value_name = "PEM", env = "RP_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Seconds allowed for each HTTP request to the provider.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub http_timeout: u64,
    /// DANGEROUS: accept any TLS certificate. Anyone on the path can then steal the tokens.
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// The client's TLS certificate and private key (one PEM file) for mutual TLS (RFC 8705):
    /// tls_client_auth / self_signed_tls_client_auth, and certificate-bound tokens. A
    /// profile remembers the file's path.
    #[arg(long, value_name = "PEM", env = "RP_CLIENT_CERT")]
    pub client_cert: Option<PathBuf>,
    /// Clock leeway in seconds for every time check (exp, iat, nbf, auth_time with max_age,
    /// a logout token's age); shown in the report.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub clock_skew: u64,
}

impl HttpArgs {
    /// The validation options these flags set.
    pub fn validation(&self) -> oidc_rp::ValidationOptions {
        oidc_rp::ValidationOptions {
            leeway: std::time::Duration::from_secs(self.clock_skew),
            ..Default::default()
        }
    }
}

/// A registered client given on the command line.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// The client id of a registered client.
    #[arg(long, value_name = "ID", env = "RP_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The client secret (or set RP_CLIENT_SECRET). Omit for a public client.
    #[arg(
        long,
        value_name = "SECRET",
        allow_hyphen_values = true,
        env = "RP_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// How the client authenticates wherever it does (token, PAR, introspection,
    /// revocation); default: from the secret, key or certificate given and the provider's
    /// metadata.
    #[arg(long, value_name = "METHOD", value_parser = ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth", "none"])]
    pub token_auth_method: Option<String>,
    /// The client's private key (PKCS#8 PEM or a private JWK, RSA or P-256) for
    /// private_key_jwt (RFC 7523),
    /// which it then uses on every call that authenticates (token, PAR, introspection,
    /// revocation). A profile remembers the file's path, never a copy of the key.
    #[arg(long, value_name = "PEM", env = "RP_CLIENT_KEY", alias = "client-jwk")]
    pub client_key: Option<PathBuf>,
}

impl ClientArgs {
    /// The client, when `--client-id` was given.
    pub fn config(&self) -> Option<oidc_rp::ClientConfig> {
        let id = self.client_id.as_ref()?;
        let mut client = match &self.client_secret {
            Some(secret) => oidc_rp::ClientConfig::confidential(id, secret.as_str()),
            None => oidc_rp::ClientConfig::public(id),
        };
        client.token_endpoint_auth_method = self
            .token_auth_method
            .as_deref()
            .and_then(oidc_rp::TokenAuthMethod::parse);
        Some(client)
    }

    /// [`ClientArgs::config`] with the `--client-key` loaded (and private_key_jwt chosen
    /// when no method was named).
    pub fn config_with_key(&self) -> Result<Option<oidc_rp::ClientConfig>, crate::exit::CliError> {
        let Some(mut client) = self.config() else {
            return Ok(None);
        };
        if let Some(path) = &self.client_key {
            client.signing_key = Some(load_client_key(path)?);
            if client.token_endpoint_auth_method.is_none() {
                client.token_endpoint_auth_method = Some(oidc_rp::TokenAuthMethod::PrivateKeyJwt);
            }
        }
        Ok(Some(client))
    }
}

/// Read a small file a flag names (a key, a certificate: a few KiB), at most 256 KiB.
pub fn read_small_file(
    path: &std::path::Path,
    flag: &str,
) -> Result<String, crate::exit::CliError> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(256 * 1024).read_to_string(&mut text))
        .map_err(|e| crate::exit::CliError::Usage(format!("{flag} {}: {e}", path.display())))?;
    Ok(text)
}

/// Read a client's private key file (PEM or JWK).
pub fn load_client_key(
    path: &std::path::Path,
) -> Result<std::sync::Arc<oidc_rp::ClientKey>, crate::exit::CliError> {
    let text = read_small_file(path, "--client-key")?;
    let parsed = if text.trim_start().starts_with('{') {
        oidc_rp::ClientKey::from_jwk(&text)
    } else {
        oidc_rp::ClientKey::from_pem(&text)
    };
    parsed
        .map(std::sync::Arc::new)
        .map_err(|e| crate::exit::CliError::Usage(format!("--client-key {}: {e}", path.display())))
}

/// `--response-type`'s parser.
pub fn parse_response_type(value: &str) -> Result<oidc_rp::ResponseType, String> {
    oidc_rp::ResponseType::parse(value).ok_or_else(|| {
        "one of: code, id_token, \"id_token token\", \"code id_token\", \"code token\", \"code id_token token\"".into()
    })
}

/// How `--request-object` sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RequestObjectMode {
    /// In the `request` parameter.
    Value,
    /// Served by rp at a `request_uri`.
    Reference,
}

/// `rp login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The provider's issuer URL. Without it, the bundled provider is started in-process.
    #[arg(long, value_name = "URL", env = "RP_ISSUER")]
    pub issuer: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Register a new client dynamically (RFC 7591) instead of using --client-id.
    #[arg(long, conflicts_with = "client_id")]
    pub register: bool,
    /// Scopes to request (default: the profile's, else "openid profile email").
    #[arg(long, env = "RP_SCOPE")]
    pub scope: Option<String>,
    /// Callback port on 127.0.0.1 (default: an ephemeral port).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub port: u16,
    /// The exact redirect URI to send and listen on, for a provider that registered a fixed
    /// one: http on 127.0.0.1, [::1] or localhost, with a port and a path
    /// (e.g. http://localhost:8400/oauth2/callback); sent exactly as given.
    #[arg(long, value_name = "URI", conflicts_with = "port")]
    pub redirect_uri: Option<String>,
    /// Profile name for the token cache (default: the issuer). A profile that exists is
    /// logged in to again as it was (issuer, client, scope, redirect, CA file); flags given
    /// override it.
    #[arg(long, value_name = "NAME", env = "RP_PROFILE")]
    pub profile: Option<String>,
    /// Print one JSON object on stdout instead of the report.
    #[arg(long)]
    pub json: bool,
    /// Print the authorization URL instead of opening a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Open the authorization URL with this command instead of the default browser (the URL
    /// replaces `%s`, or is appended); `$BROWSER` is honoured without it.
    #[arg(long, value_name = "CMD", conflicts_with = "no_browser")]
    pub browser_command: Option<String>,
    /// Walk the provider's pages without a browser even without --username (single sign-on
    /// with --cookie-jar, or prompt=none); a login form is then an error.
    #[arg(long, conflicts_with = "no_browser")]
    pub headless: bool,
    /// Paste mode, for a browser on another machine: print the authorization URL and read
    /// back the URL the browser ends on (nothing listens on the redirect URI).
    #[arg(long, conflicts_with_all = ["headless", "username", "browser_command", "no_browser"])]
    pub paste: bool,
    /// Where the profile's tokens and client secret are kept: `file` (its private file, the
    /// default) or `keyring` (the OS keyring: Secret Service, macOS Keychain, Windows
    /// Credential Manager). A profile keeps its choice on later logins.
    #[arg(long, value_name = "WHERE", env = "RP_STORE")]
    pub store: Option<crate::secret_store::Store>,
    /// Bind the tokens to a new DPoP key (RFC 9449) of this algorithm: ES256 (the default
    /// when the flag is given bare) or EdDSA. The key is kept with the profile, and every
    /// later command presents the tokens with proofs of it.
    #[arg(long, value_name = "ALG", num_args = 0..=1, default_missing_value = "ES256", value_parser = ["ES256", "EdDSA"], conflicts_with = "dpop_key")]
    pub dpop: Option<String>,
    /// Bind the tokens to this DPoP key instead of a new one: a PKCS#8 PEM file, P-256
    /// (ES256), Ed25519 (EdDSA) or RSA (PS256). The profile keeps a copy (mode 0600) for
    /// later commands.
    #[arg(long, value_name = "PEM", env = "RP_DPOP_KEY")]
    pub dpop_key: Option<PathBuf>,
    /// Send the authorization request as a request object signed with --client-key
    /// (RFC 9101, JAR): `value` (the `request` parameter), or `reference` (`request_uri`:
    /// rp serves it once on its loopback listener, at an unguessable path, for the provider
    /// to fetch). With --par or --fapi2, the pushed request is the signed object.
    #[arg(long, value_name = "HOW", conflicts_with_all = ["paste", "device"])]
    pub request_object: Option<RequestObjectMode>,
    /// The FAPI 2.0 Security Profile: push the request (PAR), bind the tokens with DPoP
    /// (ES256 unless --dpop says), authenticate with private_key_jwt (--client-key), require
    /// the `iss` response parameter and PS256/ES256/EdDSA ID tokens; a provider or client that
    /// cannot meet it is refused, naming what is missing.
    #[arg(long, conflicts_with_all = ["device", "register"])]
    pub fapi2: bool,
    /// `response_type`: code (the default and the one to use), or the hybrid `code id_token`,
    /// `code token`, `code id_token token`, or the implicit `id_token`, `id_token token`
    /// (discouraged by RFC 9700 §2.1.2). Their response comes in the fragment (or a form
    /// post with --form-post), and the ID token from the authorization endpoint is checked
    /// first: nonce, c_hash, at_hash.
    #[arg(long, value_name = "TYPE", value_parser = parse_response_type, conflicts_with_all = ["device", "jarm", "fapi2"])]
    pub response_type: Option<oidc_rp::ResponseType>,
    /// Ask for a signed authorization response (JARM: response_mode query.jwt, or
    /// form_post.jwt with --form-post); its signature, iss, aud and exp are checked before
    /// its code is used.
    #[arg(long)]
    pub jarm: bool,
    /// Push the authorization request first (RFC 9126, PAR), with client authentication; the
    /// browser then carries only client_id and request_uri. Automatic when the provider
    /// requires it.
    #[arg(long)]
    pub par: bool,
    /// Device login (RFC 8628), for a machine whose browser is elsewhere: show a code and a
    /// URL to open on any device, and wait for the approval there. With --username, rp
    /// approves on the verification page itself (for tests and CI).
    #[arg(long, conflicts_with_all = ["paste", "register", "redirect_uri", "port", "form_post", "browser_command", "headless", "prompt", "max_age", "par"])]
    pub device: bool,
    /// With --device, also show the verification URL as a QR code (for a phone).
    #[arg(long, requires = "device")]
    pub qr: bool,
    /// Log in headless: fill the provider's HTML login form with this username (or set
    /// RP_USERNAME).
    #[arg(long, value_name = "USER", env = "RP_USERNAME")]
    pub username: Option<String>,
    /// The password for --username (or set RP_PASSWORD; on a terminal, rp asks for it
    /// without echo when neither is given).
    #[arg(
        long,
        value_name = "PASSWORD",
        allow_hyphen_values = true,
        env = "RP_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// Seconds to wait for the callback.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub timeout: u64,
    /// `prompt` (none, login, consent, select_account).
    #[arg(long)]
    pub prompt: Option<String>,
    /// `max_age` in seconds; the ID token's auth_time is then checked.
    #[arg(long, value_name = "SECS")]
    pub max_age: Option<u64>,
    /// `login_hint`.
    #[arg(long)]
    pub login_hint: Option<String>,
    /// `acr_values` (space-separated); the ID token's acr is then checked.
    #[arg(long)]
    pub acr_values: Option<String>,
    /// Ask for `response_mode=form_post`.
    #[arg(long)]
    pub form_post: bool,
    /// Extra authorization parameter NAME=VALUE (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Do not call the userinfo endpoint.
    #[arg(long)]
    pub no_userinfo: bool,
    /// Do not cache the tokens.
    #[arg(long)]
    pub no_cache: bool,
    /// Keep the provider's cookies in this file (read before, written after), so that several
    /// headless runs share one provider session (single sign-on, single logout).
    #[arg(long, value_name = "FILE")]
    pub cookie_jar: Option<PathBuf>,
    /// With --register, also register back- and front-channel logout URIs on a loopback
    /// listener at this port (default: a free port), for `rp listen-logout`.
    #[arg(long, value_name = "PORT", num_args = 0..=1, default_missing_value = "0")]
    pub logout_listener: Option<u16>,
    #[command(flatten)]
    pub http: HttpArgs,
}

/// `rp provider`.
#[derive(Debug, Args)]
pub struct ProviderArgs {
    /// Port on 127.0.0.1 (default: ephemeral).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Serve HTTPS with a certificate made at start; the CA is written to a file.
    #[arg(long)]
    pub tls: bool,
    /// Where to write the CA certificate with --tls (default: ca.pem in a new private
    /// directory; replaced atomically, never through a symlink).
    #[arg(long, value_name = "PEM", requires = "tls")]
    pub ca_out: Option<PathBuf>,
    /// Also serve the misbehaving conformance instances under /<test-id> (for
    /// `rp conformance --base`).
    #[arg(long)]
    pub conformance: bool,
    /// Read users.json, clients.json and keys/ from this directory instead of the built-in set.
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// Also let the provider send its own requests (back-channel logout, request objects) to
    /// HOST, HOST:PORT or ADDRESS/PREFIX (repeatable; default: loopback, ports 1024 and up).
    #[arg(long, value_name = "TARGET")]
    pub allow_outbound: Vec<String>,
    /// Seconds a device login (RFC 8628) must wait between polls; faster polls are told to
    /// slow_down.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub device_interval: u32,
    /// With --tls: also trust the CA certificates in this PEM file for tls_client_auth
    /// clients (RFC 8705 §2.1), beside the provider's own CA.
    #[arg(long, value_name = "PEM", requires = "tls")]
    pub client_ca: Option<PathBuf>,
    /// With --tls: issue a client certificate with the subject CN=NAME from the provider's
    /// CA, for a tls_client_auth client registered with tls_client_auth_subject_dn
    /// CN=NAME; written (certificate and key, mode 0600) beside the CA file as
    /// client-NAME.pem, for `rp login --client-cert` (repeatable).
    #[arg(long, value_name = "NAME", requires = "tls")]
    pub issue_client_cert: Vec<String>,
    /// DELIBERATELY FLAWED: serve with this provider-side flaw, to see `rp audit` catch it
    /// (repeatable; `--flaw list` names them all).
    #[arg(long = "flaw", value_name = "NAME")]
    pub flaws: Vec<String>,
}
