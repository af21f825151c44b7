//! hybridsync: a Linux-native replacement for Microsoft Entra Connect.
//!
//! Three faces, one binary: the terminal **wizard** that writes one commented configuration file,
//! the embedded **sync engine** (a metadirectory: connector spaces, metaverse, declarative rules)
//! that imports from Active Directory over LDAP and exports to Entra ID, and the **local tenant**
//! emulator that stands in for Entra ID in tests and demos.
//!
//! # Map
//!
//! | module | role |
//! |---|---|
//! | [`domain`] | identity types shared by every layer: `ObjectGuid`, `ImmutableId`, `Dn`, `AttributeName`, `Sid`, `Secret` |
//! | [`config`] | the configuration file: model, loading with complete error reports, validation, comment-preserving saves, diff, export/import |
//! | [`credentials`] | where secrets live (Secret Service, an encrypted file, systemd credentials); the config only names them |
//! | [`cli`] | the command line: grammar, help, exit codes, dispatch |
//! | [`engine`] | the metadirectory: connector spaces, metaverse, rules, run profiles, store, guard, staging, history |
//! | [`connectors`] | AD (LDAP), Entra ID (Graph) and LDIF file connectors implementing the engine's traits |
//! | [`service`] | the scheduler service: cycles every interval, suspend lock, SIGTERM, `/metrics` and `/healthz` |
//! | [`preflight`] | prerequisite checks and the directory readiness report |
//! | [`provision`] | the accounts hybridsync creates (AD DS connector account, its rights, the Entra app) |
//! | [`wizard`] | the ratatui wizard: app state, one file per page, theme, strings, key table |
//! | [`effects`] | the only place the wizard touches the world: runs effects on tokio, returns messages |
//! | [`emulator`] | the local tenant: Microsoft Graph and identity platform on loopback |
//!
//! # Layering
//!
//! Imports point one way only: `main.rs` -> `cli` -> (`wizard` -> `effects`) -> `engine`,
//! `connectors`, `preflight`, `provision`; `emulator` depends on nothing above it; `domain`,
//! `config` and `credentials` are shared by all. The engine never imports the wizard or a terminal
//! crate (a test in `tests/architecture.rs` enforces it).

/// The memory allocator of everything that links this crate (the binary, tests, benchmarks):
/// mimalloc. The sync stage allocates and frees many small values per object; glibc's malloc
/// spent about a third of its time there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod cli;
pub mod config;
pub mod connectors;
pub mod credentials;
pub mod domain;
pub mod effects;
pub mod emulator;
pub mod engine;
pub mod preflight;
pub mod provision;
pub mod service;
pub mod wizard;
