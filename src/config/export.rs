//! Moving settings between servers (`config export` / `config import`), the counterpart of Entra
//! Connect's "Export settings" JSON and "Import synchronization settings".
//!
//! Invariants: a bundle holds the effective configuration and the *names* of the secrets it
//! references, never a secret value; importing always goes through the same checks as loading a
//! file; an imported configuration starts in staging mode unless the admin says otherwise (as
//! Entra Connect does), so a second server never exports by surprise.

use serde::{Deserialize, Serialize};

use crate::config::issue::ConfigIssue;
use crate::config::load::{self, Loaded};
use crate::config::model::Config;
use crate::credentials::SecretRef;

/// Format version of the bundle.
pub const BUNDLE_FORMAT: u32 = 1;

/// The exported settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Where and when it was made.
    pub hybridsync_settings: BundleInfo,
    /// The effective configuration.
    pub config: Config,
}

/// Provenance of a bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleInfo {
    /// [`BUNDLE_FORMAT`].
    pub format: u32,
    /// The hybridsync version that wrote it.
    pub version: String,
    /// UTC time of the export, RFC 3339.
    pub exported_at: String,
    /// Host name of the exporting server.
    pub host: String,
    /// Secrets the importing server must store before it can sync.
    pub secrets_to_provide: Vec<SecretRef>,
}

/// Why a bundle cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Not JSON of the bundle's shape.
    #[error("not a hybridsync settings export: {0}. Create one with 'hybridsync config export'")]
    Malformed(String),
    /// Written by an incompatible version.
    #[error(
        "settings export format {0} is not supported by this version (it reads format {BUNDLE_FORMAT}); export again with a matching hybridsync"
    )]
    Format(u32),
    /// The contained configuration fails the checks.
    #[error("the exported configuration has problems:\n{}", .0.iter().map(|i| i.render("export")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ConfigIssue>),
}

/// Every secret reference in a configuration, in file order.
pub fn secret_refs(c: &Config) -> Vec<SecretRef> {
    let mut out: Vec<SecretRef> = c
        .directories
        .iter()
        .map(|d| d.account.secret_ref.clone())
        .collect();
    out.extend(c.tenant.application.certificate_ref.clone());
    out.extend(c.tenant.application.client_secret_ref.clone());
    out.extend(c.store.postgres_url_ref.clone());
    out
}

/// Make a bundle from a loaded configuration.
pub fn export(c: &Config, now: std::time::SystemTime, host: &str) -> Bundle {
    Bundle {
        hybridsync_settings: BundleInfo {
            format: BUNDLE_FORMAT,
            version: env!("CARGO_PKG_VERSION").to_string(),
            exported_at: rfc3339(now),
            host: host.to_string(),
            secrets_to_provide: secret_refs(c),
        },
        config: c.clone(),
    }
}

/// Read a bundle and check its configuration; `keep_staging_off` keeps the exported staging
/// setting instead of turning staging on.
pub fn import(json: &str, keep_staging_off: bool) -> Result<(Bundle, Loaded), BundleError> {
    let mut bundle: Bundle =
        serde_json::from_str(json).map_err(|e| BundleError::Malformed(e.to_string()))?;
    if bundle.hybridsync_settings.format != BUNDLE_FORMAT {
        return Err(BundleError::Format(bundle.hybridsync_settings.format));
    }
    if !keep_staging_off {
        bundle.config.sync.staging_mode = true;
    }
    let text =
        toml::to_string(&bundle.config).map_err(|e| BundleError::Malformed(e.to_string()))?;
    let loaded = load::parse(&text).map_err(BundleError::Invalid)?;
    Ok((bundle, loaded))
}

/// RFC 3339 UTC timestamp with second precision.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_312_800)),
            "2026-11-22T02:00:00Z"
        );
    }
}
