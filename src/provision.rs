//! The accounts hybridsync creates: the AD DS connector account (MSOL_<12 hex>, random 64+
//! character password, exactly the rights the chosen features need, granted by editing
//! nTSecurityDescriptor) and the Entra application with a certificate credential.
//!
//! Invariants: admin credentials are used once and never stored; re-running is idempotent;
//! Enterprise or Domain Admin accounts are refused as connector accounts.
//!
//! Status: not built yet (issue 8).
