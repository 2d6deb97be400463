//! What a service keeps of a login or a refresh: the stored forms round-trip through serde
//! (a database row, a session store, a cookie sealed with [`crate::seal`]) and are plainly not
//! fresh verifications: the checks they passed come with them, as a record.
//!
//! [`Login`] and [`Refreshed`] serialise as these stored forms, so what a service writes is
//! what it reads back:
//!
//! ```no_run
//! # fn f(login: &oidc_rp::Login) -> serde_json::Result<()> {
//! use oidc_rp::stored::StoredLogin;
//! let row = serde_json::to_string(login)?;
//! let back: StoredLogin = serde_json::from_str(&row)?;
//! assert_eq!(back.id_token.subject(), Some(login.id_token.subject.as_str()));
//! let hint = back.id_token.raw.expose(); // for id_token_hint at logout
//! # Ok(()) }
//! ```

use crate::id_token::StoredIdToken;
use crate::report::Report;
use crate::rp::{Login, Refreshed};
use crate::secret::Secret;
use crate::token::{AccessToken, TokenResponse};
use serde::{Deserialize, Serialize};

/// A login as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredLogin {
    /// The token response.
    pub tokens: TokenResponse,
    /// The ID token, with its claims and the checks it passed.
    pub id_token: StoredIdToken,
    /// `session_state` (Session Management 1.0), when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_state: Option<String>,
    /// Every check the login passed.
    #[serde(default)]
    pub report: Report,
    /// When it was stored (seconds since the epoch).
    pub stored_at: i64,
}

impl StoredLogin {
    /// The access token with its type.
    pub fn access_token(&self) -> AccessToken {
        self.tokens.access_token()
    }

    /// The refresh token, when one was issued.
    pub fn refresh_token(&self) -> Option<&Secret> {
        self.tokens.refresh_token()
    }
}

/// A refresh as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRefresh {
    /// The token response.
    pub tokens: TokenResponse,
    /// The new ID token, when the response carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<StoredIdToken>,
    /// The refresh token to use next.
    pub refresh_token: Secret,
    /// Whether the provider rotated the refresh token.
    pub rotated: bool,
    /// The checks made on the response.
    #[serde(default)]
    pub report: Report,
    /// When it was stored (seconds since the epoch).
    pub stored_at: i64,
}

impl Login {
    /// The access token with its type, for [`crate::RelyingParty::userinfo`] and friends.
    pub fn access_token(&self) -> AccessToken {
        self.tokens.access_token()
    }

    /// The refresh token, when one was issued.
    pub fn refresh_token(&self) -> Option<&Secret> {
        self.tokens.refresh_token()
    }

    /// What to keep of this login.
    pub fn to_stored(&self) -> StoredLogin {
        StoredLogin {
            tokens: self.tokens.clone(),
            id_token: self.id_token.to_stored(),
            session_state: self.session_state.clone(),
            report: self.report.clone(),
            stored_at: crate::time::unix_now(),
        }
    }
}

impl Refreshed {
    /// The access token with its type.
    pub fn access_token(&self) -> AccessToken {
        self.tokens.access_token()
    }

    /// What to keep of this refresh.
    pub fn to_stored(&self) -> StoredRefresh {
        StoredRefresh {
            tokens: self.tokens.clone(),
            id_token: self.id_token.as_ref().map(|t| t.to_stored()),
            refresh_token: self.refresh_token.clone(),
            rotated: self.rotated,
            report: self.report.clone(),
            stored_at: crate::time::unix_now(),
        }
    }
}

impl Serialize for Login {
    /// As a [`StoredLogin`] (the raw ID token included, for `id_token_hint`).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_stored().serialize(s)
    }
}

impl Serialize for Refreshed {
    /// As a [`StoredRefresh`].
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_stored().serialize(s)
    }
}
