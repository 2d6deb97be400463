//! Form-encoded request parameters (a query string or a form body), parsed once.

/// Form-encoded parameters (a query string or a form body).
///
/// A parameter given twice is refused (RFC 6749 §3.1), except those a specification lets
/// repeat (RFC 8693 §2.1 `audience` and `resource`).
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: std::collections::HashMap<String, Vec<String>>,
}

/// Parameters that may appear more than once.
const REPEATABLE: &[&str] = &["audience", "resource"];

impl Params {
    /// Parse, refusing repeated non-repeatable parameters.
    pub fn parse(raw: &[u8]) -> crate::error::Result<Params> {
        let mut values: std::collections::HashMap<String, Vec<String>> = Default::default();
        for (k, v) in url::form_urlencoded::parse(raw) {
            let entry = values.entry(k.to_string()).or_default();
            if !entry.is_empty() && !REPEATABLE.contains(&k.as_ref()) {
                return Err(crate::error::Error::Params(format!(
                    "the parameter `{k}` appears more than once"
                )));
            }
            entry.push(v.into_owned());
        }
        Ok(Params { values })
    }

    /// The value of a parameter.
    pub fn get(&self, name: &str) -> Option<&String> {
        self.values.get(name).and_then(|v| v.first())
    }

    /// Every value of a repeatable parameter.
    pub fn all(&self, name: &str) -> &[String] {
        self.values.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether a parameter is present.
    pub fn contains_key(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Set a parameter (replacing its values).
    pub fn set(&mut self, name: &str, value: String) {
        self.values.insert(name.to_string(), vec![value]);
    }

    /// Remove a parameter.
    pub fn remove(&mut self, name: &str) {
        self.values.remove(name);
    }
}

/// The values of a space-delimited list parameter (`scope`, `prompt`: RFC 6749 §3.3; OIDC
/// Core §3.1.2.1), empty entries dropped.
pub fn space_list(value: &str) -> Vec<String> {
    value
        .split(' ')
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parse form-encoded parameters (see [`Params`]).
pub fn parse_params(raw: &[u8]) -> crate::error::Result<Params> {
    Params::parse(raw)
}
