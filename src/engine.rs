//! The embedded sync engine: a metadirectory in the FIM / Entra Connect model. Connector spaces
//! (one object per source object, keyed by its anchor), the metaverse (one object per identity,
//! with attribute contributions by rule and precedence), declarative sync rules, run profiles
//! (full/delta import, full/delta sync, export, confirming import), the store, the
//! accidental-delete guard, staging mode and run history.
//!
//! Invariants (design.md section 3): no terminal, HTTP or LDAP types here; connectors reach the
//! engine only through [`connector::Connector`]; pending exports are computed and stored before any
//! export; each stage commits atomically and exports are journaled, so a crash never duplicates or
//! loses a change.
//!
//! | module | role |
//! |---|---|
//! | [`expr`] | the declarative provisioning expression language |
//! | [`rules`] | sync rules: model, loading, scoping, the shipped default set, previews |
//! | [`model`] | connector-space and metaverse objects, anchors, pending exports |
//! | [`connector`] | the contract connectors implement |
//! | [`sync`] | the synchronization stage as pure plans (join, projection, lineage, outbound) |
//! | [`filter`] | domain and OU filtering (by objectGUID and DN) |
//! | [`guard`] | the accidental-delete guard |
//! | [`hash`] | a fast hasher for the engine's own short keys |
//! | [`cycle`] | full or delta cycle, and why |
//! | [`store`] | the SQLite store: connector spaces, metaverse, pending exports, journal, history |
//! | [`refs`] | references (members, managers) in connector spaces, the metaverse and targets |
//! | [`run`] | one cycle: import, journal reconciliation, inbound and outbound sync, guard, export |
//! | [`report`] | pending exports and cycle reports as admins read them |
//!
//! Status: cycles run end to end with the AD and LDIF connectors (`sync run`, `sync status`,
//! and the scheduler in [`crate::service`]). A full sync reads connector-space and metaverse
//! pages in a few range queries, keeps attributes inline in their object's row (references in
//! rows, join keys in a key table) and writes a page's projections together; it is still short
//! of the 100,000 objects/s per core: `tests/bench/engine.rs` measures the sync stage,
//! `tests/bench/sqlite_floor.rs` what SQLite alone costs for a first sync's writes.

pub mod connector;
pub mod cycle;
pub mod expr;
pub mod filter;
pub mod guard;
pub mod hash;
pub mod model;
pub mod refs;
pub mod report;
pub mod rules;
pub mod run;
pub mod store;
pub mod sync;
