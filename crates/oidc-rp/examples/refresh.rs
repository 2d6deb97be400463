//! Keep a session alive with refresh tokens (OIDC Core §12), the way a service does across
//! restarts: the tokens and the ID token are stored after login, read back later, and the
//! refresh is checked against the stored ID token.
//!
//! ```text
//! cargo run -p oidc-rp --example refresh
//! ```
//!
//! It starts the bundled provider in-process and logs `alice` in headless first (a service
//! would have done that in its login handler, as in the `axum_login` example).
//!
//! What it shows:
//! - what to persist: the refresh token (a [`Secret`]: redacted in `Debug` and logs) and a
//!   [`StoredIdToken`], which serialises; a stored token is not a
//!   [`oidc_rp::VerifiedIdToken`] and cannot be mistaken for a fresh login;
//! - `RelyingParty::refresh` checks a new ID token against the stored one (same `iss`,
//!   `sub`, `aud`, `azp`, `auth_time`; OIDC Core §12.2) and says whether the provider
//!   rotated the refresh token;
//! - a refused refresh still hands back a rotated refresh token (`Error::Refresh`), so it
//!   is never lost.
#![allow(clippy::unwrap_used)]

use oidc_rp::{
    AuthorizationRequest, ClientConfig, Error, HttpClient, RelyingParty, Secret, StoredIdToken,
};
use serde::{Deserialize, Serialize};

/// What a service keeps per session.
#[derive(Serialize, Deserialize)]
struct Saved {
    refresh_token: Secret,
    id_token: StoredIdToken,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = rp_provider::start(rp_provider::ProviderConfig::default()).await?;
    let http = HttpClient::default();
    let rp = RelyingParty::discover(
        &http,
        provider.issuer(),
        ClientConfig::confidential("rp-demo", "rp-demo-secret"),
    )
    .await?;

    // 1. Log in (headless here; a browser and a callback handler in a real service).
    let (url, txn) = rp.authorization_url(
        &AuthorizationRequest::with_scopes(["openid", "profile", "offline_access"]),
        "http://127.0.0.1:9/callback",
    )?;
    let credentials = oidc_rp_headless::Credentials {
        username: "alice".into(),
        password: Secret::new("wonderland"),
    };
    let browser = oidc_rp_headless::Browser::new(&http)?;
    let login = oidc_rp_headless::complete(&rp, &browser, &url, &txn, Some(&credentials)).await?;
    let refresh_token = login
        .tokens
        .refresh_token()
        .ok_or("the provider issued no refresh token")?
        .clone();
    println!(
        "logged in as {}; the access token expires in {:?}",
        login.id_token.subject,
        login.tokens.expires_in()
    );

    // 2. Persist. `Secret` serialises its value on purpose (it must survive a restart):
    //    keep this in a store only the service can read.
    let stored = serde_json::to_string(&Saved {
        refresh_token,
        id_token: login.id_token.to_stored(),
    })?;

    // 3. Later (another process, say): read it back and refresh.
    let saved: Saved = serde_json::from_str(&stored)?;
    let refreshed = match rp
        .refresh(&saved.refresh_token, Some(&saved.id_token), None)
        .await
    {
        Ok(refreshed) => refreshed,
        Err(Error::Refresh(refused)) => {
            // The response was refused (its new ID token failed a check), but the provider
            // may already have invalidated the old refresh token: keep the new one.
            let _keep = refused.rotated_refresh_token;
            return Err(refused.cause.into());
        }
        Err(other) => return Err(other.into()),
    };
    println!(
        "refreshed: new access token expires in {:?}; refresh token {}; ID token {}",
        refreshed.tokens.expires_in(),
        if refreshed.rotated { "rotated" } else { "kept" },
        if refreshed.id_token_renewed {
            "renewed"
        } else {
            "unchanged"
        },
    );
    for check in refreshed.report.checks() {
        let mark = if check.passed { "ok  " } else { "FAIL" };
        println!("{mark} {}: {}", check.name, check.detail);
    }
    // Store `refreshed.refresh_token` (and the new ID token, when there is one) for next time.
    let _next = Saved {
        refresh_token: refreshed.refresh_token.clone(),
        id_token: refreshed
            .id_token
            .as_ref()
            .map_or(saved.id_token, |t| t.to_stored()),
    };
    provider.stop().await;
    Ok(())
}
