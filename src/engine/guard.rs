//! The accidental-delete guard: before any export, count the deletes it would make and stop the
//! whole export when they exceed the configured thresholds (Entra Connect's "prevent accidental
//! deletes", `reference/sync-engine.md` section 5).
//!
//! Invariants: the decision is made on the complete set of pending deletes for one connector,
//! before anything is sent, and blocks **all** of that connector's exports (not just the deletes),
//! as Entra Connect does; a release (`hybridsync sync allow-deletes`) lets exactly one export
//! through and is consumed by it; a disabled guard never blocks. The count threshold blocks when
//! deletes are *more than* the count (500 allows 500), the percentage when deletes are more than
//! that share of the connector's objects.

use crate::config::model::DeleteGuard;

/// What the guard decided for one export.
#[derive(Debug, Clone, PartialEq)]
pub enum GuardDecision {
    /// Go ahead.
    Allow,
    /// Go ahead, consuming the admin's one-time release.
    AllowReleased,
    /// Stop the whole export.
    Block {
        /// Deletes the export would make.
        deletes: u64,
        /// The threshold that was exceeded, for the message.
        reason: String,
    },
}

/// Decide for an export with `deletes` pending deletes out of `total` objects in the connector
/// space, given the thresholds and whether the admin released the guard once.
pub fn check(guard: &DeleteGuard, deletes: u64, total: u64, released: bool) -> GuardDecision {
    if !guard.enabled || deletes == 0 {
        return GuardDecision::Allow;
    }
    let mut reasons = Vec::new();
    if deletes > u64::from(guard.count) {
        reasons.push(format!(
            "more than the threshold of {} deletes",
            guard.count
        ));
    }
    if let Some(p) = guard.percent {
        let share = if total == 0 {
            100.0
        } else {
            deletes as f64 * 100.0 / total as f64
        };
        if share > p {
            reasons.push(format!(
                "{share:.1}% of the {total} objects, more than the threshold of {p}%"
            ));
        }
    }
    if reasons.is_empty() {
        return GuardDecision::Allow;
    }
    if released {
        return GuardDecision::AllowReleased;
    }
    GuardDecision::Block {
        deletes,
        reason: reasons.join(" and "),
    }
}

/// The message for a blocked export, worded like Entra Connect's event 116 plus the way out.
pub fn blocked_message(connector: &str, deletes: u64, reason: &str) -> String {
    format!(
        "export to {connector} stopped by the accidental-delete guard: it would delete {deletes} objects, {reason}. \
         Nothing was exported. Check them with 'hybridsync sync pending-exports --connector {connector}'; if they are \
         intended, run 'hybridsync sync allow-deletes --connector {connector}' to let the next export through once"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(count: u32, percent: Option<f64>) -> DeleteGuard {
        DeleteGuard {
            enabled: true,
            count,
            percent,
        }
    }

    #[test]
    fn count_threshold_is_exclusive() {
        assert_eq!(
            check(&guard(500, None), 500, 10_000, false),
            GuardDecision::Allow
        );
        assert_eq!(
            check(&guard(500, None), 501, 10_000, false),
            GuardDecision::Block {
                deletes: 501,
                reason: "more than the threshold of 500 deletes".into()
            }
        );
    }

    #[test]
    fn percentage_threshold() {
        assert_eq!(
            check(&guard(500, Some(10.0)), 50, 1000, false),
            GuardDecision::Allow
        );
        assert_eq!(
            check(&guard(500, Some(10.0)), 150, 1000, false),
            GuardDecision::Block {
                deletes: 150,
                reason: "15.0% of the 1000 objects, more than the threshold of 10%".into()
            }
        );
        let both = check(&guard(100, Some(10.0)), 600, 1000, false);
        assert!(matches!(both, GuardDecision::Block { reason, .. } if reason.contains(" and ")));
    }

    #[test]
    fn a_release_lets_one_export_through_and_disabled_never_blocks() {
        assert_eq!(
            check(&guard(500, None), 600, 1000, true),
            GuardDecision::AllowReleased
        );
        assert_eq!(
            check(&guard(500, None), 400, 1000, true),
            GuardDecision::Allow,
            "an unneeded release is not consumed"
        );
        let off = DeleteGuard {
            enabled: false,
            ..guard(1, Some(1.0))
        };
        assert_eq!(check(&off, 100_000, 100_000, false), GuardDecision::Allow);
    }

    #[test]
    fn message_says_what_and_how() {
        let m = blocked_message("entra", 600, "more than the threshold of 500 deletes");
        assert!(m.starts_with(
            "export to entra stopped by the accidental-delete guard: it would delete 600 objects"
        ));
        assert!(m.contains("hybridsync sync allow-deletes --connector entra"));
    }
}
