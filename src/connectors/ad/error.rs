//! Errors of the AD connector: every one names what was attempted against which DC, carries the
//! LDAP result code (number and name) and AD's diagnostic text, and for a refused bind
//! translates AD's `data` code (`52e`, `775`, ...) into a sentence an admin can act on.
//!
//! Invariants: no secret ever appears in an error; [`AdError::into_connector`] maps each error
//! to the engine's [`ConnectorError`] kind (unreachable DC = `Unavailable`, refused
//! credentials or missing rights = `Access`, anything else = `Data`).

use crate::engine::connector::ConnectorError;

/// Why an AD operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdError {
    /// The DC could not be reached (TCP or TLS failed).
    #[error("cannot connect to {url}: {detail}")]
    Connect {
        /// The LDAP URL tried.
        url: String,
        /// What happened.
        detail: String,
    },
    /// The DC did not answer in time.
    #[error("{url}: no answer within {seconds} s while {operation}")]
    Timeout {
        /// The LDAP URL.
        url: String,
        /// What was being done.
        operation: String,
        /// The timeout.
        seconds: u64,
    },
    /// The connection broke during an operation.
    #[error("{url}: the connection was lost while {operation}: {detail}")]
    Dropped {
        /// The LDAP URL.
        url: String,
        /// What was being done.
        operation: String,
        /// What the client library said.
        detail: String,
    },
    /// The DC refused the bind.
    #[error("{url}: bind as '{user}' refused: {}", bind_detail(*.code, .text))]
    Bind {
        /// The LDAP URL.
        url: String,
        /// The bind name.
        user: String,
        /// The LDAP result code.
        code: u32,
        /// The DC's diagnostic text.
        text: String,
    },
    /// The DC answered an operation with an error result.
    #[error("{operation} failed: LDAP {code} ({}){}", result_name(*.code), diagnostic(.text))]
    Ldap {
        /// What was being done, with the DN.
        operation: String,
        /// The LDAP result code.
        code: u32,
        /// The DC's diagnostic text.
        text: String,
    },
    /// The DC sent something the connector cannot read.
    #[error("{0}")]
    Malformed(String),
    /// DC discovery through DNS failed.
    #[error("DNS discovery: {0}")]
    Dns(String),
    /// The settings cannot work (no DC, a CA file that does not load).
    #[error("{0}")]
    Config(String),
}

impl AdError {
    /// The LDAP result code, when the DC sent one.
    pub fn code(&self) -> Option<u32> {
        match self {
            AdError::Bind { code, .. } | AdError::Ldap { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether a new connection may help (the connection broke or timed out).
    pub fn is_connection(&self) -> bool {
        matches!(
            self,
            AdError::Connect { .. } | AdError::Timeout { .. } | AdError::Dropped { .. }
        ) || matches!(self.code(), Some(51..=52 | 81))
    }

    /// The engine's view of this error, for connector `name`.
    pub fn into_connector(self, name: &str) -> ConnectorError {
        let connector = name.to_owned();
        let detail = self.to_string();
        match &self {
            AdError::Connect { .. } | AdError::Timeout { .. } | AdError::Dropped { .. } => {
                ConnectorError::Unavailable { connector, detail }
            }
            AdError::Dns(_) => ConnectorError::Unavailable { connector, detail },
            AdError::Bind { .. } => ConnectorError::Access { connector, detail },
            AdError::Ldap {
                code: 8 | 13 | 48 | 49 | 50,
                ..
            } => ConnectorError::Access { connector, detail },
            AdError::Ldap {
                code: 51 | 52 | 81, ..
            } => ConnectorError::Unavailable { connector, detail },
            _ => ConnectorError::Data { connector, detail },
        }
    }
}

fn diagnostic(text: &str) -> String {
    if text.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", text.trim_end_matches(['\0', ' ', '\n']))
    }
}

fn bind_detail(code: u32, text: &str) -> String {
    let mut out = format!("LDAP {code} ({}){}", result_name(code), diagnostic(text));
    if let Some(sentence) = ad_data_code(text).and_then(explain_data_code) {
        out.push_str(" -- ");
        out.push_str(sentence);
    } else if code == 8 {
        out.push_str(
            " -- the DC requires an encrypted connection for simple binds: use tls mode \
             ldaps or starttls",
        );
    }
    out
}

/// AD's `data` code in a bind error's diagnostic text (`..., data 52e, v4563`), lower-case.
pub fn ad_data_code(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("data ")?;
    let code: String = lower
        .get(at + 5..)?
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (!code.is_empty()).then_some(code)
}

/// A sentence for AD's bind `data` codes.
pub fn explain_data_code(code: String) -> Option<&'static str> {
    Some(match code.as_str() {
        "525" => "the user does not exist (AD data code 525)",
        "52e" => "the user name or password is wrong (AD data code 52e)",
        "530" => "the account may not log on at this time (AD data code 530)",
        "531" => "the account may not log on from this workstation (AD data code 531)",
        "532" => "the account's password has expired; set a new one (AD data code 532)",
        "533" => "the account is disabled (AD data code 533)",
        "701" => "the account has expired (AD data code 701)",
        "773" => "the account's password must be changed before it can log on (AD data code 773)",
        "775" => "the account is locked out; wait or unlock it (AD data code 775)",
        _ => return None,
    })
}

/// The name of an LDAP result code (RFC 4511 appendix A).
pub fn result_name(code: u32) -> &'static str {
    match code {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        12 => "unavailableCriticalExtension",
        13 => "confidentialityRequired",
        16 => "noSuchAttribute",
        17 => "undefinedAttributeType",
        19 => "constraintViolation",
        20 => "attributeOrValueExists",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        54 => "loopDetect",
        64 => "namingViolation",
        65 => "objectClassViolation",
        66 => "notAllowedOnNonLeaf",
        67 => "notAllowedOnRDN",
        68 => "entryAlreadyExists",
        69 => "objectClassModsProhibited",
        71 => "affectsMultipleDSAs",
        80 => "other",
        81 => "serverDown",
        _ => "unknown result code",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn bind_errors_say_what_the_data_code_means() {
        let e = AdError::Bind {
            url: "ldaps://dc1:636".into(),
            user: "svc@LAB".into(),
            code: 49,
            text: "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1".into(),
        };
        let text = e.to_string();
        assert!(text.contains("LDAP 49 (invalidCredentials)"), "{text}");
        assert!(text.contains("data 52e"), "{text}");
        assert!(
            text.contains("the user name or password is wrong"),
            "{text}"
        );
        for (code, word) in [
            ("775", "locked out"),
            ("532", "expired"),
            ("533", "disabled"),
            ("701", "account has expired"),
            ("773", "must be changed"),
            ("525", "does not exist"),
        ] {
            let t = format!("AcceptSecurityContext error, data {code}, v4563");
            assert_eq!(ad_data_code(&t).as_deref(), Some(code));
            assert!(explain_data_code(code.into()).unwrap().contains(word));
        }
        assert!(matches!(
            e.into_connector("lab"),
            ConnectorError::Access { .. }
        ));
    }
}
