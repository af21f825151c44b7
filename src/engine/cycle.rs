//! Which kind of cycle to run: delta (only what changed) or full (re-import and re-evaluate
//! everything), and why.
//!
//! Invariants (Entra Connect's documented requirements, `reference/sync-engine.md` 1.5 and 6): a
//! full cycle runs when the admin asks for one, on the first cycle, after any change to the sync
//! rules (full synchronization) or to domain/OU filtering (full import), and when the last full
//! cycle is older than 7 days; otherwise a delta cycle runs. A delta request is upgraded to full
//! when one is required, and the reason is always reported. Changes are detected by fingerprints
//! of the rule texts and of the scope configuration stored after each successful full cycle.

use sha1::{Digest, Sha1};

/// Longest time between full cycles, in seconds.
pub const MAX_FULL_CYCLE_AGE_SECS: u64 = 7 * 86_400;

/// What the admin asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    /// Whatever is due (the scheduler, `sync run` without flags).
    Auto,
    /// `--full`.
    Full,
    /// `--delta`.
    Delta,
}

/// The kind of cycle to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CycleKind {
    /// Only what changed since the last cycle.
    Delta,
    /// Everything, for this reason.
    Full(String),
}

/// What the store remembers from the last successful full cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastFull {
    /// When it finished (Unix seconds); `None` if there never was one.
    pub finished_at: Option<u64>,
    /// Fingerprint of the rules it ran with.
    pub rules: Option<String>,
    /// Fingerprint of the filtering configuration it ran with.
    pub scope: Option<String>,
}

/// A stable fingerprint of some texts (rule files, the scope configuration), order-sensitive.
pub fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha1::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Decide the cycle kind.
pub fn choose(
    requested: Requested,
    last: &LastFull,
    rules_now: &str,
    scope_now: &str,
    now: u64,
) -> CycleKind {
    let due = match last.finished_at {
        None => Some("no full cycle has run yet".to_string()),
        Some(_) if last.rules.as_deref() != Some(rules_now) => {
            Some("the synchronization rules changed since the last full cycle".to_string())
        }
        Some(_) if last.scope.as_deref() != Some(scope_now) => {
            Some("domain/OU filtering changed since the last full cycle".to_string())
        }
        Some(t) if now.saturating_sub(t) > MAX_FULL_CYCLE_AGE_SECS => Some(format!(
            "the last full cycle finished {} days ago (at least one every 7 days)",
            now.saturating_sub(t) / 86_400
        )),
        Some(_) => None,
    };
    match (requested, due) {
        (Requested::Full, _) => CycleKind::Full("requested".into()),
        (_, Some(reason)) => CycleKind::Full(reason),
        (_, None) => CycleKind::Delta,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_312_800;

    fn last() -> LastFull {
        LastFull {
            finished_at: Some(NOW - 3600),
            rules: Some("r".into()),
            scope: Some("s".into()),
        }
    }

    #[test]
    fn delta_when_nothing_is_due() {
        assert_eq!(
            choose(Requested::Auto, &last(), "r", "s", NOW),
            CycleKind::Delta
        );
        assert_eq!(
            choose(Requested::Delta, &last(), "r", "s", NOW),
            CycleKind::Delta
        );
        assert_eq!(
            choose(Requested::Full, &last(), "r", "s", NOW),
            CycleKind::Full("requested".into())
        );
    }

    #[test]
    fn full_when_required_even_if_delta_was_asked() {
        let first = choose(Requested::Delta, &LastFull::default(), "r", "s", NOW);
        assert_eq!(first, CycleKind::Full("no full cycle has run yet".into()));
        assert!(
            matches!(choose(Requested::Delta, &last(), "r2", "s", NOW), CycleKind::Full(r) if r.contains("rules changed"))
        );
        assert!(
            matches!(choose(Requested::Auto, &last(), "r", "s2", NOW), CycleKind::Full(r) if r.contains("filtering changed"))
        );
        let old = LastFull {
            finished_at: Some(NOW - 8 * 86_400),
            ..last()
        };
        assert!(
            matches!(choose(Requested::Auto, &old, "r", "s", NOW), CycleKind::Full(r) if r.contains("8 days ago"))
        );
        let edge = LastFull {
            finished_at: Some(NOW - MAX_FULL_CYCLE_AGE_SECS),
            ..last()
        };
        assert_eq!(
            choose(Requested::Auto, &edge, "r", "s", NOW),
            CycleKind::Delta
        );
    }

    #[test]
    fn fingerprints_are_stable_and_boundary_safe() {
        assert_eq!(fingerprint(["a", "b"]), fingerprint(["a", "b"]));
        assert_ne!(fingerprint(["ab", ""]), fingerprint(["a", "b"]));
        assert_eq!(fingerprint(["x"]).len(), 40);
    }
}
