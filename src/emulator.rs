//! The local tenant: a Microsoft Graph v1.0 and identity-platform v2.0 emulator on loopback, in the
//! spirit of Azurite, checked with Microsoft's own Python clients (msal, msgraph-sdk).
//!
//! Invariants: depends on nothing above it in the layering; HTTPS by default with a local CA
//! written for clients to trust; error bodies in Graph's exact shape.
//!
//! Status: not built yet (issue 6).
