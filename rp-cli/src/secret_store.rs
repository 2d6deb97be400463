//! Where a profile's secrets live: in its private file (the default), or in the operating
//! system's keyring (`rp login --store keyring`): the Secret Service on Linux and the BSDs,
//! the Keychain on macOS, the Credential Manager on Windows, through the `keyring` crate.
//!
//! With the keyring, the profile file keeps what is not secret (issuer, client id, subject,
//! expiry, how it logged in) and the keyring entry keeps, as one JSON value, the access,
//! refresh and ID tokens, the client secret and the exchanged tokens. Every command reads
//! and writes a profile through [`crate::cache`], which calls [`put`] and [`fill`], so none
//! of them knows where the secrets are.

use crate::cache::{ExchangedToken, Profile, StoredTokens};
use oidc_rp::Secret;
use serde::{Deserialize, Serialize};

/// Where a profile's secrets are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Store {
    /// The profile's own file (mode 0600, in a 0700 directory).
    #[default]
    File,
    /// The operating system's keyring.
    Keyring,
}

impl Store {
    /// Whether this is the default (not written to the file).
    pub fn is_file(&self) -> bool {
        *self == Store::File
    }
}

/// What the keyring entry holds.
#[derive(Serialize, Deserialize)]
struct Secrets {
    tokens: StoredTokens,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    exchanged: Vec<ExchangedToken>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_key: Option<Secret>,
}

/// The entry of a profile: service `rp`, account the profile's name and the cache directory
/// (two caches never share an entry).
fn entry(name: &str) -> Result<keyring::Entry, String> {
    let dir = crate::cache::dir()?;
    keyring::Entry::new("rp", &format!("{name} in {}", dir.display())).map_err(unavailable)
}

fn unavailable(e: keyring::Error) -> String {
    format!(
        "the OS keyring is not available ({e}); log in with --store file, or start a Secret Service (gnome-keyring, KeePassXC)"
    )
}

/// Keep `profile`'s secrets in the keyring and return the profile without them, for its
/// file.
pub fn put(profile: &Profile) -> Result<Profile, String> {
    let secrets = Secrets {
        tokens: profile.tokens.clone(),
        client_secret: profile.client.client_secret.clone(),
        exchanged: profile.exchanged.clone(),
        dpop_key: profile.dpop_key.clone(),
    };
    let json = serde_json::to_string(&secrets).map_err(|e| e.to_string())?;
    entry(&profile.name)?
        .set_password(&json)
        .map_err(unavailable)?;
    let mut bare = profile.clone();
    bare.tokens = StoredTokens {
        access_token: Secret::new(""),
        refresh_token: None,
        id_token: None,
        ..profile.tokens.clone()
    };
    bare.client.client_secret = None;
    bare.exchanged = Vec::new();
    bare.dpop_key = None;
    Ok(bare)
}

/// Put the secrets of a keyring profile back into it.
pub fn fill(profile: &mut Profile) -> Result<(), String> {
    let json = entry(&profile.name)?.get_password().map_err(|e| match e {
        keyring::Error::NoEntry => format!(
            "the keyring holds no tokens for profile `{}` (was it cleared?); log in again",
            profile.name
        ),
        other => unavailable(other),
    })?;
    let secrets: Secrets = serde_json::from_str(&json).map_err(|e| {
        format!(
            "the keyring entry of profile `{}` is corrupt ({e}); log in again",
            profile.name
        )
    })?;
    profile.tokens = secrets.tokens;
    profile.client.client_secret = secrets.client_secret;
    profile.exchanged = secrets.exchanged;
    profile.dpop_key = secrets.dpop_key;
    Ok(())
}

/// Delete a profile's keyring entry (none is fine).
pub fn delete(name: &str) -> Result<(), String> {
    match entry(name)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(unavailable(e)),
    }
}
