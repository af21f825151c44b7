//! The configuration: one commented TOML file that the wizard writes and everything else reads.
//!
//! Role: the typed model of every wizard option ([`model`]), loading with complete error reports
//! ([`load`](mod@load)), the cross-key rules ([`validate`]), comment-preserving saves ([`save`]), key-by-key
//! comparison ([`diff`]), settings export/import between servers ([`export`]) and path defaults
//! ([`paths`]).
//!
//! Invariants: the file never holds a secret, only [`crate::credentials::SecretRef`]s; every key
//! has a built-in default and a commented entry in `templates/hybridsync.toml` ([`TEMPLATE`]),
//! which must always load; a configuration is only ever used after [`load::parse`] accepted it.

// wizfeatures: app and attribute filtering.
pub mod apps;
pub mod diff;
pub mod export;
pub mod interval;
pub mod issue;
pub mod load;
pub mod model;
pub mod paths;
pub mod save;
pub mod validate;

pub use issue::{ConfigIssue, Severity};
pub use load::{ConfigError, Loaded, load, parse};
pub use model::Config;

/// The fully commented reference configuration shipped in `templates/hybridsync.toml`.
pub const TEMPLATE: &str = include_str!("../templates/hybridsync.toml");

/// Fixtures for unit tests across the crate.
#[cfg(test)]
pub(crate) mod testing {
    use super::Config;

    /// The smallest valid configuration: one tenant with its application, one forest with its
    /// account (secrets by store reference).
    pub(crate) fn minimal() -> Config {
        toml::from_str(
            r#"
schema_version = 1
[tenant]
tenant_id = "contoso.onmicrosoft.com"
[tenant.application]
client_id = "3f1b2a4c-5d6e-4f70-8192-a3b4c5d6e7f8"
certificate_ref = "store:entra-app-certificate"
[[directories]]
forest = "corp.example.com"
[directories.account]
username = "svc-sync@corp.example.com"
secret_ref = "store:ad-corp.example.com"
"#,
        )
        .unwrap()
    }
}
