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
//!
//! The rerun pages (an existing configuration: the "Additional tasks" menu and one page per
//! task) follow the same pattern; the task pages that change the configuration end on the same
//! Ready to configure and Configure pages, which then write only the changes (comments kept).

pub mod additional_tasks;
pub mod change_user_sign_in;
pub mod complete;
pub mod configure;
pub mod configure_staging_mode;
pub mod connect_directories;
pub mod connect_to_entra;
pub mod customize_sync_options;
pub mod directory_extensions;
pub mod express_or_custom;
pub mod filter_users_and_devices;
pub mod group_writeback;
pub mod identifying_users;
pub mod install_components;
pub mod optional_features;
pub mod ou_filtering;
pub mod prerequisites;
pub mod ready_to_configure;
pub mod refresh_directory_schema;
pub mod troubleshoot;
pub mod upn_suffixes;
pub mod user_sign_in;
pub mod view_configuration;
pub mod welcome;

// wizfeatures: app and attribute filtering, device options, source anchor.
pub mod app_filtering;
pub mod attribute_filtering;
pub mod configure_device_options;
pub mod configure_source_anchor;
pub mod device_container;
pub mod device_writeback;
pub mod hybrid_join;
