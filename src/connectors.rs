//! Connectors between the engine and the outside: ad (LDAP to Active Directory / Samba AD), entra
//! (Microsoft Graph to Entra ID) and file (LDIF). Each implements the engine's connector traits.
//!
//! Invariants: never panic on malformed server data; TLS with verification by default (rustls with
//! aws-lc-rs, the project's one TLS stack); referrals are never chased; binary attributes stay
//! binary.
//!
//! Status: the AD connector (issue 5) and the LDIF file connector are built; the Graph
//! connector comes with issue 7.

pub mod ad;
pub mod file;
