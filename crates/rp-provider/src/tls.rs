//! A throwaway certificate authority and server certificate, made at start for `--tls`.
//! The CA certificate is written to a file so clients can trust it (`rp login --ca-file`).

use crate::error::Error;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;

/// The server's TLS configuration and the CA certificate (PEM) that issued its certificate.
pub struct Generated {
    /// For the acceptor.
    pub config: Arc<rustls::ServerConfig>,
    /// PEM of the CA certificate.
    pub ca_pem: String,
    /// The CA, which also issues client certificates for `tls_client_auth`.
    pub ca: Arc<Issuer>,
}

/// The throwaway CA: its certificate and key.
pub struct Issuer {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Issuer {
    /// The CA certificate (DER).
    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// A client certificate and its key (PEM, the two in one text, as `rp --client-cert`
    /// reads them) with the subject `CN=<common_name>`, for `tls_client_auth` clients
    /// registered with `tls_client_auth_subject_dn` `CN=<common_name>` (RFC 8705 §2.1).
    pub fn client_certificate(&self, common_name: &str) -> crate::error::Result<String> {
        let err = |e: rcgen::Error| Error::Tls(format!("certificate generation failed: {e}"));
        let key = KeyPair::generate().map_err(err)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &self.cert, &self.key).map_err(err)?;
        Ok(format!("{}{}", cert.pem(), key.serialize_pem()))
    }
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Issuer")
    }
}

impl std::fmt::Debug for Generated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Generated TLS configuration")
    }
}

/// Make a CA and a certificate for `127.0.0.1`, `::1` and `localhost`.
pub fn generate() -> crate::error::Result<Generated> {
    let err = |e: rcgen::Error| Error::Tls(format!("certificate generation failed: {e}"));
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "rp bundled provider test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key).map_err(err)?;

    let key = KeyPair::generate().map_err(err)?;
    let mut params = CertificateParams::new(vec![
        "127.0.0.1".to_string(),
        "::1".to_string(),
        "localhost".to_string(),
    ])
    .map_err(err)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "rp bundled provider");
    let cert = params.signed_by(&key, &ca, &ca_key).map_err(err)?;

    let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone(), ca.der().clone()];
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let crypto = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(crypto.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_client_cert_verifier(Arc::new(AnyClientCertificate(crypto)))
        .with_single_cert(chain, private)
        .map_err(|e| Error::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Generated {
        config: Arc::new(config),
        ca_pem: ca.pem(),
        ca: Arc::new(Issuer {
            cert: ca,
            key: ca_key,
        }),
    })
}

/// Asks for a client certificate and accepts any (or none): RFC 8705 §2.2 self-signed
/// certificates are matched against the client's registration by the token endpoint, not by
/// a CA. The TLS handshake still proves the client holds the certificate's private key (the
/// signatures below are verified).
#[derive(Debug)]
struct AnyClientCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::server::danger::ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        Ok(rustls::server::danger::ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Write the CA certificate where clients can read it, safely on a shared machine:
///
/// * at `path` when given: a new file in the same directory, synced, then renamed over
///   `path` (a symlink there is replaced, never followed; a crash leaves no half-written
///   file);
/// * otherwise in a fresh private directory (mode 0700, a random name under the temporary
///   directory) as `ca.pem`, created new (mode 0600). A fixed name in the shared temporary
///   directory would let another local user create it first, or plant a symlink, and so
///   choose the CA this user's clients trust.
pub fn write_ca(
    pem: &str,
    path: Option<&std::path::Path>,
) -> crate::error::Result<std::path::PathBuf> {
    use std::io::Write as _;
    match path {
        Some(path) => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => std::path::Path::new("."),
            };
            let mut tmp = tempfile::Builder::new()
                .prefix(".rp-ca-")
                .tempfile_in(dir)
                .map_err(|e| {
                    Error::Tls(format!("cannot create a file in {}: {e}", dir.display()))
                })?;
            tmp.write_all(pem.as_bytes())
                .and_then(|()| tmp.as_file().sync_all())
                .map_err(|e| Error::Tls(format!("cannot write the CA certificate: {e}")))?;
            tmp.persist(path)
                .map_err(|e| Error::Tls(format!("cannot write {}: {}", path.display(), e.error)))?;
            Ok(path.to_path_buf())
        }
        None => {
            let mut builder = tempfile::Builder::new();
            builder.prefix("rp-ca-");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                builder.permissions(std::fs::Permissions::from_mode(0o700));
            }
            let dir = builder
                .tempdir()
                .map_err(|e| Error::Tls(format!("cannot create a private directory: {e}")))?
                .keep();
            let path = dir.join("ca.pem");
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options
                .open(&path)
                .map_err(|e| Error::Tls(format!("cannot create {}: {e}", path.display())))?;
            file.write_all(pem.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::Tls(format!("cannot write {}: {e}", path.display())))?;
            Ok(path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_ca_goes_to_a_private_place_and_never_through_a_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let path = write_ca("PEM", None).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(mode(&path), 0o600);
        assert_ne!(path.parent().unwrap(), std::env::temp_dir());
        let _ = std::fs::remove_dir_all(path.parent().unwrap());

        // A symlink planted at the requested path is replaced, its target left alone.
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "untouched").unwrap();
        let planted = dir.path().join("ca.pem");
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        write_ca("PEM", Some(&planted)).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
        assert!(
            !std::fs::symlink_metadata(&planted)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&planted).unwrap(), "PEM");
    }
}
