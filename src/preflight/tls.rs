//! A TLS handshake with a DC's LDAPS port that keeps what it saw: whether the certificate chain
//! and name verified (against the configured CA file or the system trust store), and the leaf
//! certificate's subject, issuer, names and validity, so the report can say *why* it failed
//! (wrong CA, expired, wrong name) and when a good certificate expires.
//!
//! Invariants: the verdict is rustls's own verification (the same the connector applies), never
//! a weaker one; the leaf certificate is captured before verification so a failure still shows
//! what the DC presented; every step is bounded by the timeout.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// What the leaf certificate says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// DNS names and IP addresses of the subjectAltName extension.
    pub names: Vec<String>,
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
}

/// The outcome of one handshake.
#[derive(Debug, Clone)]
pub struct Probe {
    /// `None`: verified; else rustls's reason.
    pub error: Option<String>,
    /// The leaf certificate, when the DC sent one.
    pub certificate: Option<CertInfo>,
}

#[derive(Debug)]
struct Capture {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<Option<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut s) = self.seen.lock() {
            *s = Some(end_entity.clone().into_owned());
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn roots(ca_file: Option<&Path>) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("the CA file '{}' cannot be read: {e}", path.display()))?;
            for c in certs {
                let c = c.map_err(|e| format!("the CA file '{}': {e}", path.display()))?;
                roots
                    .add(c)
                    .map_err(|e| format!("the CA file '{}': {e}", path.display()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for c in found.certs {
                let _ = roots.add(c);
            }
        }
    }
    if roots.is_empty() {
        return Err(match ca_file {
            Some(p) => format!("the CA file '{}' holds no certificate", p.display()),
            None => "the system trust store is empty".into(),
        });
    }
    Ok(roots)
}

/// Parse a DER certificate's subject, issuer, names and validity.
pub fn cert_info(der: &[u8]) -> Option<CertInfo> {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => names.push((*d).to_owned()),
                GeneralName::IPAddress(ip) => match ip.len() {
                    4 => {
                        let b: [u8; 4] = (*ip).try_into().ok()?;
                        names.push(std::net::Ipv4Addr::from(b).to_string());
                    }
                    16 => {
                        let b: [u8; 16] = (*ip).try_into().ok()?;
                        names.push(std::net::Ipv6Addr::from(b).to_string());
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
    Some(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        names,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
    })
}

/// Connect to `host:port`, handshake as a client that trusts `ca_file` (or the system roots)
/// and expects `host`'s name, and report what happened. `Err` when TCP itself fails.
pub async fn probe(
    host: &str,
    port: u16,
    ca_file: Option<&Path>,
    timeout: Duration,
) -> Result<Probe, String> {
    let roots = roots(ca_file)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let capture = Arc::new(Capture {
        inner,
        seen: Mutex::new(None),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(capture.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| format!("'{host}' is not a host name or address: {e}"))?;
    let tcp = tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port)))
        .await
        .map_err(|_| format!("no TCP connection to {host}:{port} within {timeout:?}"))?
        .map_err(|e| format!("no TCP connection to {host}:{port}: {e}"))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let error = match tokio::time::timeout(timeout, connector.connect(name, tcp)).await {
        Err(_) => Some(format!("no TLS handshake within {timeout:?}")),
        Ok(Err(e)) => Some(e.to_string()),
        Ok(Ok(_)) => None,
    };
    let certificate = capture
        .seen
        .lock()
        .ok()
        .and_then(|s| s.as_ref().and_then(|c| cert_info(c)));
    Ok(Probe { error, certificate })
}
