//! The embedded sync engine: a metadirectory in the FIM / Entra Connect model. Connector spaces
//! (one object per source object, keyed by its anchor), the metaverse (one object per identity,
//! with attribute contributions by rule and precedence), declarative sync rules, run profiles
//! (full/delta import, full/delta sync, export, confirming import), the SQLite store, the
//! accidental-delete guard, staging mode and run history.
//!
//! Invariants (design.md section 3): no terminal, HTTP or LDAP types here; connectors reach the
//! engine only through its traits; pending exports are computed and stored before any export; each
//! stage commits atomically and exports are journaled, so a crash never duplicates or loses a
//! change.
//!
//! Status: the expression language ([`expr`]) is built; the rest comes with issues 3 and 4.
//! 'hybridsync sync ...' reports that and exits 2.

pub mod connector;
pub mod expr;
pub mod filter;
pub mod guard;
pub mod model;
pub mod rules;
pub mod sync;
