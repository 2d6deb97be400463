//! The token cache: one JSON file per profile under the user's cache directory
//! (`$RP_CACHE_DIR`, else e.g. `~/.cache/rp`), written atomically (a temporary file in the same
//! directory, synced, then renamed) with mode 0600 in a 0700 directory, so a crash never leaves
//! a half-written file and other users cannot read the tokens.

use oidc_rp::{ClientConfig, Secret};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Tokens as cached.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTokens {
    /// Access token.
    pub access_token: Secret,
    /// Token type.
    pub token_type: String,
    /// Refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// The compact ID token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
    /// Access token expiry (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Granted scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl StoredTokens {
    /// What a token response (from a login or a refresh) leaves to cache, received at `now`.
    pub fn from_response(
        tokens: &oidc_rp::TokenResponse,
        id_token: Option<Secret>,
        now: i64,
    ) -> StoredTokens {
        use oidc_rp::oauth2::TokenResponse as _;
        StoredTokens {
            access_token: Secret::new(tokens.access_token().secret().as_str()),
            token_type: "Bearer".into(),
            refresh_token: tokens
                .refresh_token()
                .map(|r| Secret::new(r.secret().as_str())),
            id_token,
            expires_at: tokens.expires_in().map(|d| now + d.as_secs() as i64),
            scope: oidc_rp::token::scope_string(tokens),
        }
    }
}

/// A token obtained by token exchange (RFC 8693), kept with the profile it came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExchangedToken {
    /// The issued token.
    pub token: Secret,
    /// `issued_token_type`.
    pub issued_token_type: String,
    /// `token_type`.
    pub token_type: String,
    /// Expiry (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Audiences asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    /// Resources asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<String>,
    /// Scope granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// When it was obtained.
    pub obtained_at: i64,
}

/// How many exchanged tokens a profile keeps (newest first).
pub const MAX_EXCHANGED: usize = 10;

/// One cached login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    /// Profile name.
    pub name: String,
    /// Issuer.
    pub issuer: String,
    /// The client (with its secret: the file is private).
    pub client: ClientConfig,
    /// CA file trusted at login, reused by later commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The ID token's `sub`.
    pub sub: String,
    /// The validated ID token's claims.
    pub id_token_claims: Map<String, Value>,
    /// The tokens.
    pub tokens: StoredTokens,
    /// When this profile was written (seconds since the epoch).
    pub updated_at: i64,
    /// Tokens obtained by exchange, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchanged: Vec<ExchangedToken>,
    /// The post-logout redirect URI registered for this client (dynamic registration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_logout_redirect_uri: Option<String>,
    /// The port of the registered back- and front-channel logout URIs (`rp listen-logout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_listener_port: Option<u16>,
}

/// An exclusive lock on a profile, held while it is read, used with the provider, and
/// written back: two `rp refresh` runs on one profile then take turns, and the second uses
/// the refresh token the first one received instead of the rotated-away one (whose reuse a
/// provider following RFC 9700 §4.14.2 punishes by revoking the whole grant).
#[derive(Debug)]
pub struct ProfileLock {
    _file: std::fs::File,
}

/// Wait for the lock of a profile (blocking).
pub fn lock(name: &str) -> Result<ProfileLock, String> {
    let target = path(name)?;
    let parent = target
        .parent()
        .ok_or_else(|| "bad cache path".to_string())?;
    private_dir(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let lock_path = target.with_extension("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
    file.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    Ok(ProfileLock { _file: file })
}

/// Every cached profile.
pub fn list() -> Result<Vec<Profile>, String> {
    let dir = dir()?.join("profiles");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let p = entry.path();
        if p.extension().is_some_and(|x| x == "json")
            && let Ok(profile) =
                serde_json::from_slice::<Profile>(&std::fs::read(&p).unwrap_or_default())
        {
            out.push(profile);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Delete a profile's file.
pub fn remove(name: &str) -> Result<bool, String> {
    let p = path(name)?;
    match std::fs::remove_file(&p) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!("cannot delete {}: {e}", p.display())),
    }
}

/// The cache directory.
pub fn dir() -> Result<PathBuf, String> {
    if let Some(d) = std::env::var_os("RP_CACHE_DIR") {
        return Ok(PathBuf::from(d));
    }
    dirs::cache_dir()
        .map(|d| d.join("rp"))
        .ok_or_else(|| "no cache directory is known for this user; set RP_CACHE_DIR".to_string())
}

/// FNV-1a, 64 bits: stable across toolchains, enough to keep slugs of long names distinct.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

/// The file of a profile.
pub fn path(name: &str) -> Result<PathBuf, String> {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    Ok(dir()?
        .join("profiles")
        .join(format!("{slug}-{:08x}.json", fnv(name) as u32)))
}

fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Write a profile atomically with mode 0600; returns its path.
pub fn save(profile: &Profile) -> Result<PathBuf, String> {
    let target = path(&profile.name)?;
    let parent = target
        .parent()
        .ok_or_else(|| "bad cache path".to_string())?;
    private_dir(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let json = serde_json::to_vec_pretty(profile).map_err(|e| e.to_string())?;
    write_private(&target, &json)?;
    Ok(target)
}

/// Replace `target` atomically (a temporary file in the same directory, synced, renamed) with
/// mode 0600, so a crash never leaves a half-written file.
pub fn write_private(target: &Path, bytes: &[u8]) -> Result<(), String> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".profile-")
        .tempfile_in(parent)
        .map_err(|e| format!("cannot create a file in {}: {e}", parent.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| e.to_string())?;
    }
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    tmp.persist(target)
        .map_err(|e| format!("cannot replace {}: {}", target.display(), e.error))?;
    Ok(())
}

/// Read a profile.
pub fn load(name: &str) -> Result<Profile, String> {
    let p = path(name)?;
    let bytes = std::fs::read(&p).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("no cached login for profile `{name}`; run `rp login` first")
        } else {
            format!("cannot read {}: {e}", p.display())
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| format!("{} is corrupt ({e}); log in again", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_and_distinct() {
        let a = path("https://op.example/a").unwrap();
        let b = path("https://op.example/a?").unwrap();
        assert_ne!(a, b);
        let name = a.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("https___op.example_a-"), "{name}");
        assert!(!name.contains('/'));
    }
}
