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
    tmp.write_all(&json)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    tmp.persist(&target)
        .map_err(|e| format!("cannot replace {}: {}", target.display(), e.error))?;
    Ok(target)
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
