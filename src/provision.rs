//! The accounts hybridsync creates: the AD DS connector account (`MSOL_<12 hex>` or a given name,
//! a random 80-character password that never expires, exactly the rights the chosen features
//! need, granted by editing `nTSecurityDescriptor`), and the permission check of an existing
//! account (its effective rights per feature, with the exact rights it lacks).
//!
//! Invariants: admin credentials are used once (the caller's session) and never stored; re-running
//! is idempotent; Enterprise or Domain Admin accounts are refused as connector accounts; rights
//! are named by the GUIDs the DC itself reports, never by guessed constants.
//!
//! | file | role |
//! |---|---|
//! | [`sd`] | binary security descriptors: parse, edit, serialize (byte-exact round trips) |
//! | [`rights`] | the rights per feature, GUID lookup, effective-rights evaluation, the permission report |
//! | [`account`] | creating or updating the connector account and granting its ACEs |
//! | [`cloud`] | the Entra sync identity: application, service principal, certificate, Graph permissions |
//!
//! Status: certificate rotation (`hybridsync config rotate-certificate`) is not built yet.

pub mod account;
pub mod cloud;
pub mod rights;
pub mod sd;
