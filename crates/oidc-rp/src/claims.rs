//! Claims in the caller's own types: [`StandardClaims`] (OIDC Core §5.1) or any struct, read
//! from a verified or stored ID token or from userinfo with `claims_as`.
//!
//! ```
//! use oidc_rp::claims::StandardClaims;
//! let claims = serde_json::json!({
//!     "sub": "248289761001", "name": "Alice", "email": "alice@example.com",
//!     "email_verified": true, "address": {"country": "NZ"}, "x-extra": 1
//! });
//! let c: StandardClaims = serde_json::from_value(claims).unwrap();
//! assert_eq!(c.email.as_deref(), Some("alice@example.com"));
//! assert_eq!(c.address.unwrap().country.as_deref(), Some("NZ"));
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The standard claims of OIDC Core §5.1. Every member is optional but `sub`; members a
/// provider sends with the wrong JSON type make the conversion fail rather than vanish.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StandardClaims {
    /// `sub`.
    pub sub: String,
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `given_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// `family_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// `middle_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// `nickname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// `preferred_username` (not unique, not stable: never a key, OIDC Core §5.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// `profile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// `picture`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// `website`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// `email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `email_verified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// `gender`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// `birthdate` (YYYY-MM-DD, or YYYY, or 0000-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    /// `zoneinfo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    /// `locale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// `phone_number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// `phone_number_verified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_verified: Option<bool>,
    /// `address` (§5.1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// `updated_at` (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
}

/// The `address` claim (OIDC Core §5.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// `formatted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// `street_address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// `locality`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// `region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `postal_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// `country`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// Read claims as `T`.
pub(crate) fn claims_as<T: DeserializeOwned>(claims: &Map<String, Value>) -> crate::Result<T> {
    T::deserialize(Value::Object(claims.clone())).map_err(|e| {
        crate::Error::Config(crate::error::ConfigError::Claims(crate::error::truncate(
            &e.to_string(),
            200,
        )))
    })
}

impl crate::VerifiedIdToken {
    /// The claims as the caller's type (parsed from the claims as sent).
    ///
    /// ```no_run
    /// # fn f(login: &oidc_rp::Login) -> oidc_rp::Result<()> {
    /// let me: oidc_rp::claims::StandardClaims = login.id_token.claims_as()?;
    /// # Ok(()) }
    /// ```
    pub fn claims_as<T: DeserializeOwned>(&self) -> crate::Result<T> {
        claims_as(&self.claims())
    }
}

impl crate::StoredIdToken {
    /// The claims as the caller's type.
    pub fn claims_as<T: DeserializeOwned>(&self) -> crate::Result<T> {
        claims_as(&self.claims)
    }
}

impl crate::UserInfo {
    /// The claims as the caller's type.
    pub fn claims_as<T: DeserializeOwned>(&self) -> crate::Result<T> {
        claims_as(&self.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrongly_typed_claim_is_an_error_not_a_silent_none() {
        let mut m = Map::new();
        m.insert("sub".into(), Value::from("s"));
        m.insert("email_verified".into(), Value::from("yes"));
        assert!(claims_as::<StandardClaims>(&m).is_err());
        m.insert("email_verified".into(), Value::from(true));
        let c: StandardClaims = claims_as(&m).unwrap();
        assert_eq!(c.email_verified, Some(true));
    }
}
