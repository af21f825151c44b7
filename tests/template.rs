//! `templates/hybridsync.toml` is the reference: it loads, `config check` accepts it, and it
//! mentions every key of the configuration (active or commented out), so nothing is undocumented.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use hybridsync::config::{self, diff::flatten, model::Config, save::to_table};

#[test]
fn template_passes_config_check() {
    let home = tempfile::tempdir().unwrap();
    let out = support::run(support::hybridsync(home.path()).args([
        "config",
        "check",
        "templates/hybridsync.toml",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", support::text(&out.stderr));
}

#[test]
fn template_documents_every_key() {
    // A configuration with every optional key set, so that every key path exists.
    let mut c: Config = config::parse(config::TEMPLATE).unwrap().config;
    let d = &mut c.directories[0];
    d.connector_name = Some("x".into());
    d.dns_server = Some("10.0.0.1".parse().unwrap());
    d.tls.ca_file = Some("/x.pem".into());
    d.pilot_group = Some(config::model::ObjectRef {
        dn: hybridsync::domain::Dn::parse("CN=x,DC=x").unwrap(),
        guid: None,
    });
    d.delete_guard = Some(Default::default());
    c.install.state_dir = Some("/x".into());
    c.tenant.authority_host = Some("https://x".into());
    c.tenant.graph_endpoint = Some("https://x".into());
    c.tenant.ca_file = Some("/x.pem".into());
    c.tenant.application.client_secret_ref = Some("store:x".parse().unwrap());
    c.identity.matching_attribute = Some(hybridsync::domain::AttributeName::new("x").unwrap());
    c.features.password_hash_sync.enabled = Some(true);
    c.features.group_writeback.forest = Some("x".into());
    c.features.device_writeback.forest = Some("x".into());
    c.sync.delete_guard.percent = Some(1.0);
    c.store.postgres_url_ref = Some("store:x".parse().unwrap());
    c.logging.file = Some("x".into());
    c.service.metrics_listen = Some("127.0.0.1:1".parse().unwrap());
    let keys = flatten(&toml::Value::Table(to_table(&c).unwrap()));
    let mut missing = Vec::new();
    for path in keys.keys() {
        // The leaf key, or (for small inline tables such as `pilot_group = { dn = ... }`) its
        // parent, must appear as `key =`, active or commented out.
        let parts: Vec<&str> = path
            .split('.')
            .map(|p| p.split('[').next().unwrap())
            .collect();
        let candidates = &parts[parts.len().saturating_sub(2)..];
        let documented = candidates.iter().any(|k| {
            config::TEMPLATE.lines().any(|l| {
                l.trim_start_matches(['#', ' '])
                    .starts_with(&format!("{k} ="))
            })
        });
        if !documented {
            missing.push(path.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "keys missing from templates/hybridsync.toml: {missing:?}"
    );
}
