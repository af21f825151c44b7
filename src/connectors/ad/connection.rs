//! One LDAP session with a domain controller: TCP, TLS (LDAPS or StartTLS, verified against the
//! configured CA file or the system roots), a simple bind, and the operations the connector
//! uses, each under a timeout.
//!
//! Invariants: TLS with certificate verification unless the configuration explicitly says
//! otherwise, and then every connection logs a warning; the password is only ever handed to
//! the bind and never appears in an error or a log line; every operation (including the
//! connect, the TLS handshake and the bind) is bounded by the timeout, and a timeout or a broken
//! connection marks the session dead so callers open a new one; referrals are never chased
//! (ldap3 does not follow them, and search references are dropped by the search adapter).

use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ldap3::controls::RawControl;
use ldap3::{
    Ldap, LdapConnAsync, LdapConnSettings, LdapError, LdapResult, Mod, ResultEntry, Scope,
};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::dirsync;
use super::entry::{self, RawEntry};
use super::error::AdError;
use crate::config::model::TlsMode;
use crate::domain::Secret;

/// How to reach and authenticate to the DCs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// LDAPS, StartTLS or plain LDAP.
    pub tls: TlsMode,
    /// CA certificates (PEM) that verify the DCs; `None`: the system trust store.
    pub ca_file: Option<PathBuf>,
    /// Verify the DC's certificate and name (turning it off is a warned opt-in).
    pub verify_certificate: bool,
    /// Bind name: `user@realm`, `DOMAIN\user` or a DN.
    pub bind_name: String,
    /// The bind password.
    pub password: Secret,
    /// Bound on every network operation.
    pub timeout: Duration,
}

/// A DC's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Endpoint {
    /// `host`, `host:port`, `[v6]:port` or a bare IPv6 address; `default_port` when none.
    pub fn parse(text: &str, default_port: u16) -> Result<Self, AdError> {
        let text = text.trim();
        let bad = || AdError::Config(format!("'{text}' is not a host or host:port"));
        if text.is_empty() {
            return Err(bad());
        }
        if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(bad)?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad())?,
                None if after.is_empty() => default_port,
                None => return Err(bad()),
            };
            return Ok(Self {
                host: host.to_owned(),
                port,
            });
        }
        match text.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => Ok(Self {
                host: host.to_owned(),
                port: port.parse().map_err(|_| bad())?,
            }),
            _ => Ok(Self {
                host: text.to_owned(),
                port: default_port,
            }),
        }
    }

    /// The LDAP URL for `mode`.
    pub fn url(&self, mode: TlsMode) -> String {
        let scheme = match mode {
            TlsMode::Ldaps => "ldaps",
            TlsMode::Starttls | TlsMode::Plain => "ldap",
        };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// A rustls configuration trusting exactly the certificates in `ca_file`.
pub fn tls_config(ca_file: &std::path::Path) -> Result<Arc<rustls::ClientConfig>, AdError> {
    let bad = |detail: String| {
        AdError::Config(format!(
            "CA file '{}' cannot be used: {detail}",
            ca_file.display()
        ))
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca_file).map_err(|e| bad(e.to_string()))?;
    for cert in certs {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("it holds no PEM certificate".into()));
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A bound LDAP session.
pub struct Session {
    ldap: Ldap,
    url: String,
    timeout: Duration,
    encrypted: bool,
    dead: bool,
}

/// An error for a search whose result code is not success.
pub fn check_search(base: &str, filter: &str, result: &LdapResult) -> Result<(), AdError> {
    match result.rc {
        0 => Ok(()),
        10 => Err(AdError::Ldap {
            operation: format!("searching {filter} below '{base}'"),
            code: 10,
            text: format!(
                "the DC referred the search to {} (referrals are not followed: configure a DC \
                 of that domain)",
                result.refs.join(", ")
            ),
        }),
        code => Err(AdError::Ldap {
            operation: format!("searching {filter} below '{base}'"),
            code,
            text: result.text.clone(),
        }),
    }
}

fn ldap_error(url: &str, operation: &str, e: LdapError) -> AdError {
    match e {
        LdapError::LdapResult { result } => AdError::Ldap {
            operation: operation.to_owned(),
            code: result.rc,
            text: result.text,
        },
        other => AdError::Dropped {
            url: url.to_owned(),
            operation: operation.to_owned(),
            detail: other.to_string(),
        },
    }
}

impl Session {
    /// Connect to `endpoint` and bind.
    pub async fn open(settings: &Settings, endpoint: &Endpoint) -> Result<Session, AdError> {
        let url = endpoint.url(settings.tls);
        let mut conn = LdapConnSettings::new().set_conn_timeout(settings.timeout);
        match settings.tls {
            TlsMode::Plain => tracing::warn!(
                url = %url,
                "LDAP without TLS: the bind password and directory data cross the network in clear"
            ),
            TlsMode::Starttls => conn = conn.set_starttls(true),
            TlsMode::Ldaps => {}
        }
        if settings.tls != TlsMode::Plain {
            if settings.verify_certificate {
                if let Some(ca) = &settings.ca_file {
                    conn = conn.set_config(tls_config(ca)?);
                }
            } else {
                tracing::warn!(
                    url = %url,
                    "TLS certificate verification is off: anyone on the path can impersonate the DC"
                );
                conn = conn.set_no_tls_verify(true);
            }
        }
        let connect = LdapConnAsync::with_settings(conn, &url);
        let (driver, ldap) = match tokio::time::timeout(settings.timeout, connect).await {
            Err(_) => {
                return Err(AdError::Timeout {
                    url,
                    operation: "connecting".into(),
                    seconds: settings.timeout.as_secs(),
                });
            }
            Ok(Err(LdapError::Timeout { .. })) => {
                return Err(AdError::Timeout {
                    url,
                    operation: "connecting".into(),
                    seconds: settings.timeout.as_secs(),
                });
            }
            Ok(Err(e)) => {
                let mut detail = e.to_string();
                if detail.contains("certificate") || detail.contains("Certificate") {
                    detail.push_str(&match &settings.ca_file {
                        Some(ca) => format!(
                            " (the DC's TLS certificate did not verify against the CA file '{}')",
                            ca.display()
                        ),
                        None => " (the DC's TLS certificate did not verify against the system \
                                 trust store; set tls.ca_file to the CA that issued it)"
                            .to_owned(),
                    });
                }
                return Err(AdError::Connect { url, detail });
            }
            Ok(Ok(pair)) => pair,
        };
        let driver_url = url.clone();
        tokio::spawn(async move {
            if let Err(e) = driver.drive().await {
                tracing::debug!(url = %driver_url, error = %e, "LDAP connection ended");
            }
        });
        let mut session = Session {
            ldap,
            url,
            timeout: settings.timeout,
            encrypted: settings.tls != TlsMode::Plain,
            dead: false,
        };
        session.bind(settings).await?;
        Ok(session)
    }

    async fn bind(&mut self, settings: &Settings) -> Result<(), AdError> {
        let fut = self
            .ldap
            .simple_bind(&settings.bind_name, settings.password.expose());
        let result = match tokio::time::timeout(self.timeout, fut).await {
            Err(_) => {
                self.dead = true;
                return Err(AdError::Timeout {
                    url: self.url.clone(),
                    operation: "binding".into(),
                    seconds: self.timeout.as_secs(),
                });
            }
            Ok(r) => r.map_err(|e| ldap_error(&self.url, "binding", e))?,
        };
        if result.rc != 0 {
            return Err(AdError::Bind {
                url: self.url.clone(),
                user: settings.bind_name.clone(),
                code: result.rc,
                text: result.text,
            });
        }
        Ok(())
    }

    /// The LDAP URL of this session.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether traffic is encrypted (LDAPS or StartTLS).
    pub fn encrypted(&self) -> bool {
        self.encrypted
    }

    /// Whether the session can no longer be used.
    pub fn is_dead(&mut self) -> bool {
        self.dead || self.ldap.is_closed()
    }

    async fn timed<T>(
        &mut self,
        operation: &str,
        fut: impl Future<Output = Result<T, LdapError>>,
    ) -> Result<T, AdError> {
        match tokio::time::timeout(self.timeout, fut).await {
            Err(_) => {
                self.dead = true;
                Err(AdError::Timeout {
                    url: self.url.clone(),
                    operation: operation.to_owned(),
                    seconds: self.timeout.as_secs(),
                })
            }
            Ok(Err(e)) => {
                let e = ldap_error(&self.url, operation, e);
                if matches!(e, AdError::Dropped { .. }) {
                    self.dead = true;
                }
                Err(e)
            }
            Ok(Ok(v)) => Ok(v),
        }
    }

    /// One search request; its entries (search references dropped) and its result, whatever
    /// the result code.
    pub async fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[String],
        controls: Vec<RawControl>,
    ) -> Result<(Vec<ResultEntry>, LdapResult), AdError> {
        let operation = format!("searching {filter} below '{base}'");
        let mut ldap = self.ldap.clone();
        if !controls.is_empty() {
            ldap.with_controls(controls);
        }
        ldap.with_timeout(self.timeout);
        let fut = async move { ldap.search(base, scope, filter, attrs).await };
        let result = self.timed(&operation, fut).await?;
        Ok((result.0, result.1))
    }

    /// One page of a paged search (`page_size` entries at most): its entries and the cookie
    /// of the next page (`None` after the last). Search references are dropped; a referral
    /// result is an error (referrals are never chased).
    #[allow(clippy::too_many_arguments)]
    pub async fn search_page(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[String],
        mut controls: Vec<RawControl>,
        page_size: i32,
        cookie: &[u8],
    ) -> Result<(Vec<RawEntry>, Option<Vec<u8>>), AdError> {
        controls.push(dirsync::paged_request(page_size, cookie));
        let (entries, result) = self.search(base, scope, filter, attrs, controls).await?;
        check_search(base, filter, &result)?;
        let next = match result
            .ctrls
            .iter()
            .find(|c| c.1.ctype == dirsync::PAGED_OID)
            .and_then(|c| c.1.val.as_deref())
        {
            Some(v) => Some(dirsync::parse_paged_response(v).map_err(|e| {
                AdError::Malformed(format!("the DC's paged results control is malformed: {e}"))
            })?),
            None => None,
        };
        let entries = entries
            .into_iter()
            .map(entry::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((entries, next.filter(|c| !c.is_empty())))
    }

    /// Every entry of a (paged) search, for small result sets (schema, rootDSE, OU children).
    pub async fn search_all(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<RawEntry>, AdError> {
        let attrs: Vec<String> = attrs.iter().map(|a| (*a).to_owned()).collect();
        let mut out = Vec::new();
        let mut cookie = Vec::new();
        loop {
            let (entries, next) = self
                .search_page(base, scope, filter, &attrs, Vec::new(), 500, &cookie)
                .await?;
            out.extend(entries);
            match next {
                Some(c) => cookie = c,
                None => return Ok(out),
            }
        }
    }

    fn check(&self, operation: String, result: LdapResult) -> Result<LdapResult, AdError> {
        if result.rc == 0 {
            Ok(result)
        } else {
            Err(AdError::Ldap {
                operation,
                code: result.rc,
                text: result.text,
            })
        }
    }

    /// Add an entry.
    pub async fn add(
        &mut self,
        dn: &str,
        attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)>,
    ) -> Result<(), AdError> {
        let operation = format!("adding '{dn}'");
        let mut ldap = self.ldap.clone();
        let r = self
            .timed(&operation, async move { ldap.add(dn, attrs).await })
            .await?;
        self.check(operation, r).map(|_| ())
    }

    /// Modify an entry.
    pub async fn modify(&mut self, dn: &str, mods: Vec<Mod<Vec<u8>>>) -> Result<(), AdError> {
        self.modify_with(dn, mods, Vec::new()).await
    }

    /// Modify an entry with request controls (e.g. SD flags when writing
    /// `nTSecurityDescriptor`).
    pub async fn modify_with(
        &mut self,
        dn: &str,
        mods: Vec<Mod<Vec<u8>>>,
        controls: Vec<RawControl>,
    ) -> Result<(), AdError> {
        let operation = format!("modifying '{dn}'");
        let mut ldap = self.ldap.clone();
        if !controls.is_empty() {
            ldap.with_controls(controls);
        }
        let r = self
            .timed(&operation, async move { ldap.modify(dn, mods).await })
            .await?;
        self.check(operation, r).map(|_| ())
    }

    /// Delete an entry.
    pub async fn delete(&mut self, dn: &str) -> Result<(), AdError> {
        let operation = format!("deleting '{dn}'");
        let mut ldap = self.ldap.clone();
        let r = self
            .timed(&operation, async move { ldap.delete(dn).await })
            .await?;
        self.check(operation, r).map(|_| ())
    }

    /// Rename and/or move an entry (the old RDN value is removed).
    pub async fn modify_dn(
        &mut self,
        dn: &str,
        new_rdn: &str,
        new_parent: Option<&str>,
    ) -> Result<(), AdError> {
        let operation = format!("renaming '{dn}'");
        let mut ldap = self.ldap.clone();
        let r = self
            .timed(&operation, async move {
                ldap.modifydn(dn, new_rdn, true, new_parent).await
            })
            .await?;
        self.check(operation, r).map(|_| ())
    }

    /// Unbind (best effort).
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.ldap.unbind()).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("dc1.corp.example", 636).unwrap();
        assert_eq!(e.url(TlsMode::Ldaps), "ldaps://dc1.corp.example:636");
        let e = Endpoint::parse("10.0.0.1:3269", 636).unwrap();
        assert_eq!(e.url(TlsMode::Starttls), "ldap://10.0.0.1:3269");
        let e = Endpoint::parse("[::1]:389", 636).unwrap();
        assert_eq!(e.url(TlsMode::Plain), "ldap://[::1]:389");
        let e = Endpoint::parse("fe80::1", 636).unwrap();
        assert_eq!(e.port, 636);
        assert!(Endpoint::parse("host:notaport", 636).is_err());
        assert!(Endpoint::parse("", 636).is_err());
    }
}
