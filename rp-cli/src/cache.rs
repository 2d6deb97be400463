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
    /// The access token with its type.
    pub fn access(&self) -> oidc_rp::AccessToken {
        oidc_rp::AccessToken {
            value: self.access_token.clone(),
            token_type: oidc_rp::TokenType::parse(&self.token_type),
        }
    }

    /// What a token response (from a login or a refresh) leaves to cache, received at `now`.
    pub fn from_response(
        tokens: &oidc_rp::TokenResponse,
        id_token: Option<Secret>,
        now: i64,
    ) -> StoredTokens {
        StoredTokens {
            access_token: tokens.access_token.clone(),
            token_type: tokens.token_type.as_str().to_string(),
            refresh_token: tokens.refresh_token().cloned(),
            id_token,
            expires_at: tokens.expires_in().map(|d| now + d.as_secs() as i64),
            scope: tokens.scope.clone(),
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
    /// How `rp login` logged in, so that `rp login --profile NAME` alone does it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<LoginSettings>,
    /// The client's TLS certificate file (mutual TLS): its path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_file: Option<PathBuf>,
    /// The client's private key file (private_key_jwt): its path, never a copy of the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key_file: Option<PathBuf>,
    /// The DPoP key (RFC 9449) the tokens are bound to, PKCS#8 base64url (a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_key: Option<Secret>,
    /// Where the secrets are: this file, or the OS keyring ([`crate::secret_store`]).
    #[serde(default, skip_serializing_if = "crate::secret_store::Store::is_file")]
    pub store: crate::secret_store::Store,
}

/// The settings of the login that made a profile (the issuer, client and CA file are the
/// profile's own fields).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoginSettings {
    /// The scope requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The exact redirect URI given with `--redirect-uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// The callback port given with `--port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// An exclusive lock on a profile, held while it is read, used with the provider, and
/// written back: two `rp refresh` runs on one profile then take turns, and the second uses
/// the refresh token the first one received instead of the rotated-away one (whose reuse a
/// provider following RFC 9700 §4.14.2 punishes by revoking the whole grant).
///
/// Lock files of removed profiles are deleted (see [`sweep_stale_locks`]); deleting a lock
/// file is safe because [`lock`] checks, once it holds the lock, that the file it locked is
/// still the one at the path, and starts again when it is not.
#[derive(Debug)]
pub struct ProfileLock {
    file: std::fs::File,
    path: PathBuf,
}

impl ProfileLock {
    /// Delete the lock file while still holding it (the profile is gone): whoever waits on
    /// it finds it unlinked and opens a new one.
    pub fn remove(self) {
        if same_file(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether `file` is the file now at `path` (not a deleted or replaced one).
fn same_file(file: &std::fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::symlink_metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

/// Delete the lock files of profiles that no longer exist, each only when it can be locked
/// at once (nobody is using it). Returns how many were deleted.
pub fn sweep_stale_locks() -> usize {
    let Ok(dir) = dir().map(|d| d.join("profiles")) else {
        return 0;
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let p = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_file())
            || p.extension().is_none_or(|x| x != "lock")
            || p.with_extension("json").exists()
        {
            continue;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
        }
        let Ok(file) = options.open(&p) else {
            continue;
        };
        if file.try_lock().is_ok()
            && !p.with_extension("json").exists()
            && same_file(&file, &p)
            && std::fs::remove_file(&p).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// Open a file for writing without following a symlink at its path (O_NOFOLLOW), creating it
/// with mode 0600 when missing.
fn open_nofollow(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    options.open(path)
}

/// Wait for the lock of a profile (blocking).
pub fn lock(name: &str) -> Result<ProfileLock, String> {
    let target = path(name)?;
    let parent = target
        .parent()
        .ok_or_else(|| "bad cache path".to_string())?;
    private_dir(parent)?;
    let lock_path = target.with_extension("lock");
    // A file deleted as stale between the open and the lock is not the lock any more: open
    // the one now there. Bounded: each round needs another process to delete the file in
    // that very instant.
    for _ in 0..16 {
        let file = open_nofollow(&lock_path).map_err(|e| {
            format!(
                "cannot open {} (a symlink there is refused): {e}",
                lock_path.display()
            )
        })?;
        file.lock()
            .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
        if same_file(&file, &lock_path) {
            return Ok(ProfileLock {
                file,
                path: lock_path,
            });
        }
    }
    Err(format!(
        "cannot lock {}: it keeps being deleted",
        lock_path.display()
    ))
}

/// Every cached profile.
pub fn list() -> Result<Vec<Profile>, String> {
    let dir = dir()?.join("profiles");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut out: Vec<Profile> = Vec::new();
    for entry in entries.flatten() {
        let p = entry.path();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file
            && p.extension().is_some_and(|x| x == "json")
            && let Ok(profile) =
                serde_json::from_slice::<Profile>(&std::fs::read(&p).unwrap_or_default())
            && !out.iter().any(|o| o.name == profile.name)
        {
            out.push(profile);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Delete a profile's file (and its file under the naming of earlier versions).
pub fn remove(name: &str) -> Result<bool, String> {
    let mut removed = false;
    if let Ok(p) = read_profile(&path(name)?, name)
        && p.store == crate::secret_store::Store::Keyring
    {
        crate::secret_store::delete(name)?;
    }
    for p in [path(name)?, legacy_path(name)?] {
        match std::fs::remove_file(&p) {
            Ok(()) => removed = true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot delete {}: {e}", p.display())),
        }
    }
    Ok(removed)
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

/// A readable, file-system-safe prefix of a profile name.
fn slug(name: &str, max: usize) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect()
}

/// The file of a profile: a readable slug and 128 bits of the SHA-256 of the name, so two
/// names never share a file (the 32-bit hash used before collided within a second of
/// searching, and one profile's command then read another's tokens). The name stored in the
/// file is checked on load as well.
pub fn path(name: &str) -> Result<PathBuf, String> {
    let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
    let hex: String = digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(dir()?
        .join("profiles")
        .join(format!("{}-{hex}.json", slug(name, 48))))
}

/// FNV-1a, 64 bits: the hash of the file names of earlier versions.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

/// The file name earlier versions used (read once, then replaced on the next save).
fn legacy_path(name: &str) -> Result<PathBuf, String> {
    Ok(dir()?
        .join("profiles")
        .join(format!("{}-{:08x}.json", slug(name, 80), fnv(name) as u32)))
}

/// Whether a profile is cached.
pub fn exists(name: &str) -> Result<bool, String> {
    Ok(path(name)?.is_file() || legacy_path(name)?.is_file())
}

/// Create the cache directory (0700) and check it is a directory of ours, not a symlink.
fn private_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!(
            "{} is not a directory (a symlink there is refused); remove it",
            dir.display()
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return Err(format!(
                "{} belongs to another user; refusing to keep tokens there (set RP_CACHE_DIR)",
                dir.display()
            ));
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot make {} private: {e}", dir.display()))?;
    }
    Ok(())
}

/// Write a profile atomically with mode 0600; returns its path.
pub fn save(profile: &Profile) -> Result<PathBuf, String> {
    let target = path(&profile.name)?;
    let parent = target
        .parent()
        .ok_or_else(|| "bad cache path".to_string())?;
    private_dir(parent)?;
    let json = match profile.store {
        crate::secret_store::Store::File => serde_json::to_vec_pretty(profile),
        crate::secret_store::Store::Keyring => {
            serde_json::to_vec_pretty(&crate::secret_store::put(profile)?)
        }
    }
    .map_err(|e| e.to_string())?;
    write_private(&target, &json)?;
    // The file of an earlier version's naming is superseded.
    let _ = std::fs::remove_file(legacy_path(&profile.name)?);
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

/// Read a profile: its file (or the file of an earlier version's naming), whose stored name
/// must be the one asked for.
pub fn load(name: &str) -> Result<Profile, String> {
    let current = path(name)?;
    let p = if current.is_file() {
        current
    } else {
        let legacy = legacy_path(name)?;
        if legacy.is_file() { legacy } else { current }
    };
    let mut profile = read_profile(&p, name)?;
    if profile.store == crate::secret_store::Store::Keyring {
        crate::secret_store::fill(&mut profile)?;
    }
    Ok(profile)
}

/// A profile's file alone, without its secrets when they are in the keyring (for what is not
/// secret: its store, issuer, client id).
pub fn load_meta(name: &str) -> Result<Profile, String> {
    read_profile(&path(name)?, name)
}

/// Read the profile file `p`, which must hold profile `name`.
fn read_profile(p: &Path, name: &str) -> Result<Profile, String> {
    let bytes = std::fs::read(p).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("no cached login for profile `{name}`; run `rp login` first")
        } else {
            format!("cannot read {}: {e}", p.display())
        }
    })?;
    parse_profile(&bytes, name).map_err(|e| format!("{}: {e}", p.display()))
}

/// A profile file's contents, which must hold profile `name`: whatever the bytes (a file
/// edited by hand, truncated by a full disk, or planted), an answer, never a panic.
pub fn parse_profile(bytes: &[u8], name: &str) -> Result<Profile, String> {
    let profile: Profile =
        serde_json::from_slice(bytes).map_err(|e| format!("corrupt ({e}); log in again"))?;
    if profile.name != name {
        return Err(format!(
            "holds profile `{}`, not `{name}`; refusing to use it (remove the file)",
            crate::term::inline(&profile.name)
        ));
    }
    Ok(profile)
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

    proptest::proptest! {
        /// Two different names never share a file, whatever they are (the slug alone maps
        /// many names to one prefix; the 128-bit hash tells them apart).
        #[test]
        fn distinct_names_get_distinct_files(a in ".{0,120}", b in ".{0,120}") {
            proptest::prop_assume!(a != b);
            proptest::prop_assert_ne!(path(&a).unwrap(), path(&b).unwrap());
        }
    }

    /// A large sample of names built to share slugs (only the unsafe characters differ):
    /// 200,000 names, 200,000 files.
    #[test]
    fn a_large_sample_of_look_alike_names_never_collides() {
        let mut files = std::collections::HashSet::new();
        let unsafe_chars = ['/', '?', ':', '#', ' ', '@', '%', '*'];
        let mut names = 0;
        for i in 0..25_000u32 {
            for c in unsafe_chars {
                let name = format!("https://op.example/tenant{c}{i}");
                names += 1;
                files.insert(path(&name).unwrap());
            }
        }
        assert_eq!(files.len(), names);
    }

    #[test]
    fn names_that_collided_before_do_not_now() {
        // Two names with the same 80-character slug and the same 32-bit FNV hash (found by
        // a search over random suffixes): the old naming put both in one file, and a command
        // on one profile read the other's tokens.
        let prefix = format!("https://op.example/{}", "t".repeat(61));
        let (a, b) = (format!("{prefix}as2773s6oh"), format!("{prefix}274v4gty4x"));
        assert_eq!(legacy_path(&a).unwrap(), legacy_path(&b).unwrap());
        assert_ne!(path(&a).unwrap(), path(&b).unwrap());
    }

    #[test]
    fn a_file_holding_another_profile_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.json");
        let profile = serde_json::json!({
            "name": "b", "issuer": "https://op.example", "client": {"client_id": "c"},
            "sub": "u", "id_token_claims": {}, "updated_at": 0,
            "tokens": {"access_token": "at", "token_type": "Bearer"},
        });
        std::fs::write(&file, profile.to_string()).unwrap();
        assert_eq!(read_profile(&file, "b").unwrap().name, "b");
        let e = read_profile(&file, "a").unwrap_err();
        assert!(e.contains("holds profile `b`, not `a`"), "{e}");
    }
}
