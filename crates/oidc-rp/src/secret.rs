//! Secrets that must never reach logs, `Debug` output or error messages.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A secret string (client secret, PKCE verifier, nonce, password, raw token).
///
/// `Debug` and `Display` print `[redacted]`; only [`Secret::expose`] gives the value.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wrap a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// A fresh random value: `bytes` bytes from the operating system's generator, base64url
    /// encoded (state, nonce, session ids, CSRF tokens).
    pub fn random(bytes: usize) -> Self {
        Secret(
            oauth2::CsrfToken::new_random_len(bytes as u32)
                .secret()
                .clone(),
        )
    }

    /// The value. Call only where it is sent or compared, never where it is printed.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

/// Parameter and member names whose values are credentials.
const SECRET_NAMES: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "id_token_hint",
    "logout_token",
    "code",
    "code_verifier",
    "client_secret",
    "client_assertion",
    "password",
    "subject_token",
    "actor_token",
    "token",
    "registration_access_token",
    "request",
    "assertion",
    "device_code",
];

/// True when a form parameter or JSON member of this name carries a credential.
pub fn is_secret_name(name: &str) -> bool {
    SECRET_NAMES.contains(&name)
}

/// A form-encoded string (query or body) with the values of credential parameters replaced.
pub fn redact_form(form: &str) -> String {
    form.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_name(name) => format!("{name}=[redacted]"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A JSON document with credential members replaced, for trace logs.
pub fn redact_json(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut value) => {
            redact_value(&mut value);
            value.to_string()
        }
        Err(_) => format!("[{} bytes, not JSON]", body.len()),
    }
}

fn redact_value(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (name, member) in map.iter_mut() {
                if is_secret_name(name) {
                    *member = serde_json::Value::String("[redacted]".into());
                } else {
                    redact_value(member);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn forms_and_json_are_redacted() {
        assert_eq!(
            redact_form("grant_type=authorization_code&code=abc&code_verifier=xyz&client_id=c"),
            "grant_type=authorization_code&code=[redacted]&code_verifier=[redacted]&client_id=c"
        );
        let j =
            redact_json(br#"{"access_token":"a","nested":{"refresh_token":"r"},"scope":"openid"}"#);
        assert!(!j.contains("\"a\"") && !j.contains("\"r\""));
        assert!(j.contains("openid"));
    }
}
