//! One module per wizard page, named after the step an Entra Connect admin knows. Each page owns
//! a plain-data state struct (a field of [`crate::wizard::app::State`]) and free functions:
//! `input` (a key, returning a [`Flow`](crate::wizard::app::Flow)), `view` (the body lines),
//! `hints` (the actions the footer offers), optional `enter` (effects started when the page is
//! reached going forward), reply handlers, and `apply` (its answers into the
//! [`Config`](crate::config::Config)).
//!
//! Invariants: pages never perform I/O (they return effects); validation results are data kept in
//! the page state and drawn next to the field; a page never moves on while its answers are
//! invalid.

pub mod complete;
pub mod configure;
pub mod connect_directories;
pub mod connect_to_entra;
pub mod express_or_custom;
pub mod filter_users_and_devices;
pub mod identifying_users;
pub mod optional_features;
pub mod ou_filtering;
pub mod prerequisites;
pub mod ready_to_configure;
pub mod upn_suffixes;
pub mod welcome;
