//! JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1).

use std::fmt;

/// A JWS algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
    /// HMAC SHA-256 keyed with the client secret.
    HS256,
    /// HMAC SHA-384 keyed with the client secret.
    HS384,
    /// HMAC SHA-512 keyed with the client secret.
    HS512,
    /// Unsecured JWS (RFC 7518 §3.6).
    None,
}

impl Alg {
    /// Every algorithm, in the order above.
    pub const ALL: [Alg; 13] = [
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::ES256,
        Alg::ES384,
        Alg::EdDSA,
        Alg::HS256,
        Alg::HS384,
        Alg::HS512,
        Alg::None,
    ];

    /// Parse a JOSE `alg` value; `None` for algorithms not listed here.
    pub fn parse(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::EdDSA => "EdDSA",
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
            Alg::None => "none",
        }
    }

    /// True for the HMAC algorithms, keyed with a shared secret, never with a JWKS entry.
    pub fn is_symmetric(self) -> bool {
        matches!(self, Alg::HS256 | Alg::HS384 | Alg::HS512)
    }

    /// The hash of the algorithm (for Ed25519, SHA-512: OIDC Core §3.1.3.6 takes "the hash
    /// algorithm used in the alg Header Parameter"). `None` for `none`.
    pub fn digest(self) -> Option<&'static ring::digest::Algorithm> {
        Some(match self {
            Alg::RS256 | Alg::PS256 | Alg::ES256 | Alg::HS256 => &ring::digest::SHA256,
            Alg::RS384 | Alg::PS384 | Alg::ES384 | Alg::HS384 => &ring::digest::SHA384,
            Alg::RS512 | Alg::PS512 | Alg::HS512 | Alg::EdDSA => &ring::digest::SHA512,
            Alg::None => return None,
        })
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in Alg::ALL {
            assert_eq!(Alg::parse(alg.name()), Some(alg));
        }
        assert_eq!(Alg::parse("ES512"), None);
        assert_eq!(Alg::parse("NONE"), None);
    }
}
