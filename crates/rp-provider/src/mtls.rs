//! PKI mutual TLS client authentication, `tls_client_auth` (RFC 8705 §2.1): the client's
//! certificate, presented on the TLS connection, chains to a CA the provider trusts, and its
//! subject matches the one the client registered (§2.1.2: exactly one of
//! `tls_client_auth_subject_dn`, `_san_dns`, `_san_uri`, `_san_ip`, `_san_email`).
//!
//! The TLS listener asks for any certificate and proves only possession of its key
//! (`self_signed_tls_client_auth` needs no CA); the chain is checked here, per client, with
//! rustls's WebPKI verifier. The certificate must be issued by a trusted CA directly (the
//! connection passes the end-entity certificate only).

use crate::fixtures::Client;
use rustls::server::danger::ClientCertVerifier;
use rustls_pki_types::{CertificateDer, UnixTime};
use serde_json::Value;
use std::str::FromStr;
use std::sync::Arc;
use x509_cert::der::Decode;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

/// The CAs whose certificates `tls_client_auth` clients may present.
#[derive(Clone)]
pub struct ClientCas(Arc<dyn ClientCertVerifier>);

impl std::fmt::Debug for ClientCas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientCas")
    }
}

impl ClientCas {
    /// Trust the CA certificates (DER).
    pub fn new(cas: &[CertificateDer<'static>]) -> crate::error::Result<ClientCas> {
        let mut roots = rustls::RootCertStore::empty();
        for ca in cas {
            roots
                .add(ca.clone())
                .map_err(|e| crate::error::Error::Tls(format!("a client CA: {e}")))?;
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .map_err(|e| crate::error::Error::Tls(format!("the client CAs: {e}")))?;
        Ok(ClientCas(verifier))
    }
}

/// The subject properties of RFC 8705 §2.1.2.
pub const SUBJECT_PROPERTIES: [&str; 5] = [
    "tls_client_auth_subject_dn",
    "tls_client_auth_san_dns",
    "tls_client_auth_san_uri",
    "tls_client_auth_san_ip",
    "tls_client_auth_san_email",
];

/// The one subject property a registration names, or why it is not acceptable.
pub fn registered_subject(meta: &serde_json::Map<String, Value>) -> Result<(&str, &str), String> {
    let given: Vec<(&str, &str)> = SUBJECT_PROPERTIES
        .iter()
        .filter_map(|p| meta.get(*p).map(|v| (*p, v)))
        .map(|(p, v)| v.as_str().map(|v| (p, v)).ok_or(p))
        .collect::<Result<_, _>>()
        .map_err(|p| format!("{p} must be a string"))?;
    match given.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!(
            "tls_client_auth needs exactly one of {} (RFC 8705 §2.1.2)",
            SUBJECT_PROPERTIES.join(", ")
        )),
        _ => Err("tls_client_auth takes exactly one subject property (RFC 8705 §2.1.2)".into()),
    }
}

/// RFC 8705 §2.1: `cert` (DER) chains to one of `cas` and has the subject `client`
/// registered.
pub fn authenticate(cas: Option<&ClientCas>, client: &Client, cert: &[u8]) -> Result<(), String> {
    let cas = cas.ok_or("this provider trusts no CA for tls_client_auth (it serves no TLS)")?;
    cas.0
        .verify_client_cert(&CertificateDer::from(cert), &[], UnixTime::now())
        .map_err(|e| format!("the client certificate is not from a trusted CA: {e}"))?;
    let (property, expected) = registered_subject(&client.other)?;
    let parsed = x509_cert::Certificate::from_der(cert)
        .map_err(|e| format!("the client certificate cannot be read: {e}"))?;
    if matches_subject(&parsed, property, expected) {
        Ok(())
    } else {
        Err(format!(
            "the client certificate does not match the registered {property}"
        ))
    }
}

fn matches_subject(cert: &x509_cert::Certificate, property: &str, expected: &str) -> bool {
    let tbs = &cert.tbs_certificate;
    if property == "tls_client_auth_subject_dn" {
        // RFC 4514 strings, compared as names (the same attributes in the same order).
        return x509_cert::name::Name::from_str(expected).is_ok_and(|n| n == tbs.subject);
    }
    let names = tbs
        .extensions
        .iter()
        .flatten()
        .filter(|e| e.extn_id == const_oid_san())
        .filter_map(|e| SubjectAltName::from_der(e.extn_value.as_bytes()).ok())
        .flat_map(|san| san.0);
    names.into_iter().any(|name| match (property, name) {
        ("tls_client_auth_san_dns", GeneralName::DnsName(d)) => {
            d.as_str().eq_ignore_ascii_case(expected)
        }
        ("tls_client_auth_san_uri", GeneralName::UniformResourceIdentifier(u)) => {
            u.as_str() == expected
        }
        ("tls_client_auth_san_email", GeneralName::Rfc822Name(m)) => {
            m.as_str().eq_ignore_ascii_case(expected)
        }
        ("tls_client_auth_san_ip", GeneralName::IpAddress(ip)) => {
            expected.parse::<std::net::IpAddr>().is_ok_and(|e| match e {
                std::net::IpAddr::V4(v4) => ip.as_bytes() == v4.octets(),
                std::net::IpAddr::V6(v6) => ip.as_bytes() == v6.octets(),
            })
        }
        _ => false,
    })
}

fn const_oid_san() -> x509_cert::der::oid::ObjectIdentifier {
    // id-ce-subjectAltName (RFC 5280 §4.2.1.6).
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("2.5.29.17")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_pki_client_registers_exactly_one_subject() {
        let meta = |v: Value| v.as_object().unwrap().clone();
        let one = meta(json!({"tls_client_auth_san_dns": "rp.example"}));
        assert_eq!(
            registered_subject(&one).unwrap(),
            ("tls_client_auth_san_dns", "rp.example")
        );
        assert!(registered_subject(&meta(json!({}))).is_err());
        assert!(
            registered_subject(&meta(json!({
                "tls_client_auth_subject_dn": "CN=a",
                "tls_client_auth_san_dns": "a"
            })))
            .is_err()
        );
        assert!(registered_subject(&meta(json!({"tls_client_auth_san_ip": 1}))).is_err());
    }

    #[test]
    fn subjects_and_alternative_names_match_exactly() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["rp.example".to_string()]).unwrap();
        params.subject_alt_names.extend([
            rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()),
            rcgen::SanType::Rfc822Name("rp@example.com".try_into().unwrap()),
            rcgen::SanType::URI("https://rp.example/client".try_into().unwrap()),
        ]);
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Example");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "rp client");
        let cert = params.self_signed(&key).unwrap();
        let parsed = x509_cert::Certificate::from_der(cert.der()).unwrap();
        let m = |p: &str, v: &str| matches_subject(&parsed, p, v);
        assert!(m("tls_client_auth_subject_dn", "CN=rp client,O=Example"));
        assert!(!m("tls_client_auth_subject_dn", "CN=rp client"));
        assert!(!m("tls_client_auth_subject_dn", "CN=someone,O=Example"));
        assert!(m("tls_client_auth_san_dns", "RP.example"));
        assert!(!m("tls_client_auth_san_dns", "other.example"));
        assert!(m("tls_client_auth_san_ip", "127.0.0.1"));
        assert!(!m("tls_client_auth_san_ip", "127.0.0.2"));
        assert!(m("tls_client_auth_san_email", "rp@example.com"));
        assert!(m("tls_client_auth_san_uri", "https://rp.example/client"));
        assert!(!m("tls_client_auth_san_uri", "https://rp.example/"));
        // A DNS name is no URI, nor the other way round.
        assert!(!m("tls_client_auth_san_uri", "rp.example"));
    }
}
