//! The authorization code flow, step by step and bendable: the request with or without PKCE,
//! nonce or the registered redirect URI; the headless walk to the redirect; the code's
//! redemption with any verifier and authentication.

use super::driver::{Answer, Auth, Client, Ctx, Evidence, redact_url};
use oidc_rp::Secret;
use oidc_rp_headless::{self as headless, Browser};
use url::Url;

/// PKCE in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pkce {
    /// S256.
    S256,
    /// plain.
    Plain,
    /// None.
    Without,
}

/// What to ask for.
#[derive(Debug, Clone)]
pub struct AuthOpts {
    /// `scope`.
    pub scope: String,
    /// `prompt`.
    pub prompt: Option<String>,
    /// `max_age`.
    pub max_age: Option<u64>,
    /// Send a nonce.
    pub nonce: bool,
    /// PKCE.
    pub pkce: Pkce,
    /// Another redirect URI than the registered one.
    pub redirect: Option<String>,
    /// `response_type`.
    pub response_type: String,
    /// Other parameters.
    pub extra: Vec<(String, String)>,
    /// Another client_id than the client's.
    pub client_id: Option<String>,
}

impl Default for AuthOpts {
    fn default() -> Self {
        AuthOpts {
            scope: "openid".into(),
            prompt: None,
            max_age: None,
            nonce: true,
            pkce: Pkce::S256,
            redirect: None,
            response_type: "code".into(),
            extra: Vec::new(),
            client_id: None,
        }
    }
}

/// A request on its way.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The authorization URL.
    pub url: Url,
    /// `state`.
    pub state: String,
    /// `nonce`.
    pub nonce: Option<String>,
    /// The PKCE verifier.
    pub verifier: Option<String>,
    /// The redirect URI sent.
    pub redirect: String,
}

/// The authorization request for `client`.
pub fn request(ctx: &Ctx, client: &Client, opts: &AuthOpts) -> Result<Pending, String> {
    let mut url = ctx
        .endpoint("authorization_endpoint")
        .ok_or("the metadata has no authorization_endpoint")?;
    let state = Secret::random(16).expose().to_string();
    let nonce = opts.nonce.then(|| Secret::random(16).expose().to_string());
    let verifier = (opts.pkce != Pkce::Without).then(|| Secret::random(32).expose().to_string());
    let redirect = opts
        .redirect
        .clone()
        .unwrap_or_else(|| ctx.redirect.clone());
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", &opts.response_type)
            .append_pair("client_id", opts.client_id.as_deref().unwrap_or(&client.id))
            .append_pair("redirect_uri", &redirect)
            .append_pair("scope", &opts.scope)
            .append_pair("state", &state);
        if let Some(n) = &nonce {
            q.append_pair("nonce", n);
        }
        match (opts.pkce, &verifier) {
            (Pkce::S256, Some(v)) => {
                let digest = ring::digest::digest(&ring::digest::SHA256, v.as_bytes());
                q.append_pair("code_challenge", &rp_jose::b64::encode(digest.as_ref()))
                    .append_pair("code_challenge_method", "S256");
            }
            (Pkce::Plain, Some(v)) => {
                q.append_pair("code_challenge", v)
                    .append_pair("code_challenge_method", "plain");
            }
            _ => {}
        }
        if let Some(p) = &opts.prompt {
            q.append_pair("prompt", p);
        }
        if let Some(m) = opts.max_age {
            q.append_pair("max_age", &m.to_string());
        }
        for (k, v) in &opts.extra {
            q.append_pair(k, v);
        }
    }
    Ok(Pending {
        url,
        state,
        nonce,
        verifier,
        redirect,
    })
}

/// Where the browser arrived at the redirect URI.
#[derive(Debug, Clone)]
pub struct Arrived {
    /// The response parameters (query, fragment or form post).
    pub params: Vec<(String, String)>,
    /// The request and the arrival.
    pub evidence: Evidence,
}

impl Arrived {
    /// A parameter's value (the first).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// How many times a parameter appears.
    pub fn count(&self, name: &str) -> usize {
        self.params.iter().filter(|(k, _)| k == name).count()
    }
}

/// Walk the pages from the request to its redirect URI, signing in when a form asks (with
/// `credentials`). `Err`: the walk stopped elsewhere (an error page, a login form without
/// credentials), with the reason.
pub async fn authorize(
    ctx: &Ctx,
    browser: &Browser,
    pending: &Pending,
    credentials: bool,
) -> Result<Arrived, String> {
    let who = credentials.then_some(&ctx.user);
    let arrival = headless::walk(browser, &pending.url, &pending.redirect, who)
        .await
        .map_err(|e| e.to_string())?;
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&arrival.params())
        .into_owned()
        .collect();
    Ok(Arrived {
        evidence: Evidence {
            sent: format!("GET {}", redact_url(&pending.url)),
            received: format!(
                "the browser was sent to {} with {}",
                crate::output::one_line(&pending.redirect, 100),
                super::driver::redact_pairs(&params)
            ),
        },
        params,
    })
}

/// Redeem `code` at the token endpoint as `client`.
pub async fn redeem(
    ctx: &Ctx,
    client: &Client,
    code: &str,
    redirect: &str,
    verifier: Option<&str>,
    auth: Auth,
) -> Result<Answer, String> {
    let token = ctx
        .endpoint("token_endpoint")
        .ok_or("the metadata has no token_endpoint")?;
    let mut params = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect),
    ];
    if let Some(v) = verifier {
        params.push(("code_verifier", v));
    }
    ctx.post_as(&token, client, &params, auth).await
}

/// A successful code flow: the arrival, the token response.
#[derive(Debug, Clone)]
pub struct Flow {
    /// The request.
    pub pending: Pending,
    /// The authorization response.
    pub arrived: Arrived,
    /// The token response.
    pub tokens: Answer,
}

impl Flow {
    /// The access token.
    pub fn access_token(&self) -> Option<&str> {
        self.tokens.str("access_token")
    }
    /// The refresh token.
    pub fn refresh_token(&self) -> Option<&str> {
        self.tokens.str("refresh_token")
    }
    /// The ID token.
    pub fn id_token(&self) -> Option<&str> {
        self.tokens.str("id_token")
    }
}

/// Request, walk, redeem. `Err` names the step that failed.
pub async fn code_flow(
    ctx: &Ctx,
    browser: &Browser,
    client: &Client,
    opts: &AuthOpts,
    credentials: bool,
) -> Result<Flow, String> {
    let pending = request(ctx, client, opts)?;
    let arrived = authorize(ctx, browser, &pending, credentials).await?;
    if let Some(e) = arrived.get("error") {
        return Err(format!(
            "the provider answered {e}{}",
            arrived
                .get("error_description")
                .map(|d| format!(" ({})", crate::output::one_line(d, 120)))
                .unwrap_or_default()
        ));
    }
    let code = arrived
        .get("code")
        .ok_or("no code in the authorization response")?;
    let tokens = redeem(
        ctx,
        client,
        code,
        &pending.redirect,
        pending.verifier.as_deref(),
        Auth::Client,
    )
    .await?;
    if tokens.status != 200 || tokens.str("access_token").is_none() {
        return Err(format!(
            "the token request failed: {}",
            tokens.evidence.received
        ));
    }
    Ok(Flow {
        pending,
        arrived,
        tokens,
    })
}
