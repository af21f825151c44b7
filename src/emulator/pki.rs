//! The emulator's keys and certificates: a local CA and a loopback server certificate for HTTPS,
//! the RSA key that signs access tokens (published as a JWKS), and the pre-registered
//! application's client certificate.
//!
//! Invariants: generated once per state directory and reloaded afterwards, so a CA a client was
//! told to trust stays valid across restarts; the CA's private key never leaves the state
//! directory; everything uses aws-lc-rs (no ring, no OpenSSL).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, KeyPair as _, RsaKeyPair};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_RSA_SHA256, RsaKeySize, SanType,
};

use super::EmulatorError;
use super::util::{b64url, pem_block, rsa_components};

/// File names inside the state directory.
const CA_CERT: &str = "ca.pem";
const CA_KEY: &str = "ca-key.pem";
const SERVER_CERT: &str = "server.pem";
const SERVER_KEY: &str = "server-key.pem";
const SIGNING_KEY: &str = "token-signing-key.pem";
const APP_CERT: &str = "app-cert.pem";
const APP_KEY: &str = "app-key.pem";

/// Key material loaded or generated at start.
pub struct Pki {
    /// The local CA certificate clients must trust (PEM).
    pub ca_pem: String,
    /// The server certificate (PEM) for localhost, 127.0.0.1 and ::1.
    pub server_cert_pem: String,
    /// Its private key (PKCS#8 PEM).
    pub server_key_pem: String,
    /// The pre-registered application's certificate (PEM).
    pub app_cert_pem: String,
    /// Its private key (PKCS#8 PEM).
    pub app_key_pem: String,
    /// Signs issued tokens (RS256).
    pub signer: Arc<TokenSigner>,
}

/// The token-signing key and its public JWK.
pub struct TokenSigner {
    key: RsaKeyPair,
    /// Key id (`kid`), the base64url SHA-256 of the public key.
    pub kid: String,
    n: String,
    e: String,
}

impl TokenSigner {
    fn from_pkcs8(der: &[u8]) -> Result<Self, EmulatorError> {
        let key = RsaKeyPair::from_pkcs8(der)
            .map_err(|e| EmulatorError::Crypto(format!("token signing key: {e}")))?;
        let public = key.public_key().as_ref().to_vec();
        let (n, e) = rsa_components(&public)
            .ok_or_else(|| EmulatorError::Crypto("token signing key: bad public key".into()))?;
        Ok(Self {
            kid: b64url(&digest::digest(&digest::SHA256, &public).as_ref()[..16]),
            n: b64url(&n),
            e: b64url(&e),
            key,
        })
    }

    /// RS256 signature over `msg`.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, EmulatorError> {
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                msg,
                &mut sig,
            )
            .map_err(|e| EmulatorError::Crypto(format!("signing: {e}")))?;
        Ok(sig)
    }

    /// Check an RS256 signature made by this key.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        signature::UnparsedPublicKey::new(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            self.key.public_key().as_ref(),
        )
        .verify(msg, sig)
        .is_ok()
    }

    /// The public key as a JSON Web Key.
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": self.n, "e": self.e,
        })
    }
}

/// SHA-1 and SHA-256 thumbprints (raw bytes) of a DER certificate.
pub fn thumbprints(cert_der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    (
        digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der)
            .as_ref()
            .to_vec(),
        digest::digest(&digest::SHA256, cert_der).as_ref().to_vec(),
    )
}

fn crypto(what: &str) -> impl Fn(rcgen::Error) -> EmulatorError + '_ {
    move |e| EmulatorError::Crypto(format!("{what}: {e}"))
}

fn read(dir: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(name)).ok()
}

fn write(dir: &Path, name: &str, content: &str) -> Result<(), EmulatorError> {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, content).map_err(|e| EmulatorError::Io(path.clone(), e))?;
    if name.contains("key") {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| EmulatorError::Io(path, e))?;
    }
    Ok(())
}

fn generate_tls(dir: &Path) -> Result<(), EmulatorError> {
    let ca_key = KeyPair::generate().map_err(crypto("CA key"))?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, "hybridsync tenant emulator local CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).map_err(crypto("CA certificate"))?;
    let issuer = Issuer::new(ca, &ca_key);

    let server_key = KeyPair::generate().map_err(crypto("server key"))?;
    let mut server = CertificateParams::default();
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server.subject_alt_names = vec![
        SanType::DnsName(
            "localhost"
                .to_string()
                .try_into()
                .map_err(crypto("server name"))?,
        ),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ];
    server.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.use_authority_key_identifier_extension = true;
    let server_cert = server
        .signed_by(&server_key, &issuer)
        .map_err(crypto("server certificate"))?;

    write(dir, CA_KEY, &ca_key.serialize_pem())?;
    write(dir, SERVER_KEY, &server_key.serialize_pem())?;
    write(dir, SERVER_CERT, &server_cert.pem())?;
    // The CA last: its presence marks a complete set.
    write(dir, CA_CERT, &ca_cert.pem())
}

fn rsa_key() -> Result<KeyPair, EmulatorError> {
    KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).map_err(crypto("RSA key"))
}

fn generate_app_cert(dir: &Path) -> Result<(), EmulatorError> {
    let key = rsa_key()?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "hybridsync-emulator-app");
    let cert = params
        .self_signed(&key)
        .map_err(crypto("app certificate"))?;
    write(dir, APP_KEY, &key.serialize_pem())?;
    write(dir, APP_CERT, &cert.pem())
}

impl Pki {
    /// Load the key material from `dir`, generating whatever is missing.
    pub fn load_or_create(dir: &Path) -> Result<Self, EmulatorError> {
        std::fs::create_dir_all(dir).map_err(|e| EmulatorError::Io(dir.to_path_buf(), e))?;
        // A first start generates two RSA keys (token signing, the app's certificate), the
        // slow part of starting (≈ 0.3–0.7 s each): they are made on two threads while the
        // ECDSA CA and server certificate are made on this one.
        let need_signing = read(dir, SIGNING_KEY).is_none();
        let need_app = read(dir, APP_CERT).is_none() || read(dir, APP_KEY).is_none();
        let need_tls = read(dir, CA_CERT).is_none()
            || read(dir, SERVER_CERT).is_none()
            || read(dir, SERVER_KEY).is_none();
        std::thread::scope(|scope| -> Result<(), EmulatorError> {
            let signing = need_signing
                .then(|| scope.spawn(|| write(dir, SIGNING_KEY, &rsa_key()?.serialize_pem())));
            let app = need_app.then(|| scope.spawn(|| generate_app_cert(dir)));
            if need_tls {
                generate_tls(dir)?;
            }
            for handle in [signing, app].into_iter().flatten() {
                handle.join().map_err(|_| {
                    EmulatorError::Crypto("key generation thread panicked".into())
                })??;
            }
            Ok(())
        })?;
        let load = |name: &str| {
            read(dir, name).ok_or_else(|| {
                EmulatorError::Crypto(format!("{} is unreadable", dir.join(name).display()))
            })
        };
        let signing_pem = load(SIGNING_KEY)?;
        let signing_der = pem_block(&signing_pem, "PRIVATE KEY")
            .ok_or_else(|| EmulatorError::Crypto("token signing key is not PKCS#8 PEM".into()))?;
        Ok(Self {
            ca_pem: load(CA_CERT)?,
            server_cert_pem: load(SERVER_CERT)?,
            server_key_pem: load(SERVER_KEY)?,
            app_cert_pem: load(APP_CERT)?,
            app_key_pem: load(APP_KEY)?,
            signer: Arc::new(TokenSigner::from_pkcs8(&signing_der)?),
        })
    }

    /// A rustls server configuration for the loopback certificate (HTTP/2 and HTTP/1.1).
    pub fn server_config(&self) -> Result<rustls::ServerConfig, EmulatorError> {
        let tls = |e: rustls::Error| EmulatorError::Crypto(format!("TLS: {e}"));
        let cert = pem_block(&self.server_cert_pem, "CERTIFICATE")
            .ok_or_else(|| EmulatorError::Crypto("server certificate is not PEM".into()))?;
        let ca = pem_block(&self.ca_pem, "CERTIFICATE")
            .ok_or_else(|| EmulatorError::Crypto("CA certificate is not PEM".into()))?;
        let key = pem_block(&self.server_key_pem, "PRIVATE KEY")
            .ok_or_else(|| EmulatorError::Crypto("server key is not PKCS#8 PEM".into()))?;
        let chain = vec![
            rustls::pki_types::CertificateDer::from(cert),
            rustls::pki_types::CertificateDer::from(ca),
        ];
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.into());
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(tls)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(tls)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}
