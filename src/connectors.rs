//! Connectors between the engine and the outside: ad (LDAP to Active Directory / Samba AD), entra
//! (Microsoft Graph to Entra ID) and file (LDIF). Each implements the engine's connector traits.
//!
//! Invariants: never panic on malformed server data; TLS with verification by default (rustls with
//! aws-lc-rs, the project's one TLS stack); referrals are never chased; binary attributes stay
//! binary.
//!
//! Status: the AD connector (issue 5), the LDIF file connector and the Entra ID connector over
//! Microsoft Graph (issue 7) are built.

pub mod ad;
pub mod entra;
pub mod file;
