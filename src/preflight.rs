//! Prerequisite checks (DNS SRV, ports, TLS, clock skew, bind, functional level, recycle bin,
//! schema, tenant reachability, UPN suffixes vs verified domains, local state) and the directory
//! readiness report (IdFix-like), for 'hybridsync preflight' and the wizard.
//!
//! Invariants: checks change nothing; each has an id, a pass/warn/fail result, what was found and
//! the fix.
//!
//! Status: not built yet (issue 8).
