//! `response_type` (OAuth 2.0 Multiple Response Type Encoding Practices; OIDC Core §3):
//! the code flow, the implicit types (`id_token`, `id_token token`) and the hybrid ones
//! (`code id_token`, `code token`, `code id_token token`). A value is a set of words.

/// What the authorization endpoint returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResponseKinds {
    /// A code.
    pub code: bool,
    /// An ID token.
    pub id_token: bool,
    /// An access token.
    pub token: bool,
}

impl ResponseKinds {
    /// `code`.
    pub const CODE: ResponseKinds = ResponseKinds {
        code: true,
        id_token: false,
        token: false,
    };

    /// Parse a value; `None` for a word repeated, an unknown word, or `token` alone (an
    /// OAuth implicit grant without OpenID, which this provider does not serve).
    pub fn parse(value: &str) -> Option<ResponseKinds> {
        let mut kinds = ResponseKinds::default();
        for word in value.split(' ').filter(|w| !w.is_empty()) {
            let slot = match word {
                "code" => &mut kinds.code,
                "id_token" => &mut kinds.id_token,
                "token" => &mut kinds.token,
                _ => return None,
            };
            if *slot {
                return None;
            }
            *slot = true;
        }
        let token_alone = kinds.token && !kinds.code && !kinds.id_token;
        (kinds != ResponseKinds::default() && !token_alone).then_some(kinds)
    }

    /// Anything beyond a code comes through the browser.
    pub fn is_code_only(self) -> bool {
        self == ResponseKinds::CODE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_sets_of_known_words() {
        let p = |v| ResponseKinds::parse(v);
        assert_eq!(p("code"), Some(ResponseKinds::CODE));
        assert_eq!(p("token id_token code"), p("code id_token token"));
        assert!(p("code id_token").is_some_and(|k| k.code && k.id_token && !k.token));
        assert_eq!(p("token"), None);
        assert_eq!(p("code code"), None);
        assert_eq!(p("code none"), None);
        assert_eq!(p(""), None);
    }
}
