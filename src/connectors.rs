//! Connectors between the engine and the outside: ad (LDAP to Active Directory / Samba AD), entra
//! (Microsoft Graph to Entra ID) and file (LDIF). Each implements the engine's connector traits.
//!
//! Invariants: never panic on malformed server data; TLS with verification by default (rustls with
//! aws-lc-rs, the project's one TLS stack); referrals are never chased; binary attributes stay
//! binary.
//!
//! Status: only the LDIF reader/writer of the file connector is built; the connectors come with
//! issues 4, 5 and 7.

pub mod file;
