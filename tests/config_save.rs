//! Saving on rerun keeps the admin's file: comments, spacing, order and untouched keys stay as
//! written; only changed keys move. The expected result is `tests/config/save/after.toml`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use hybridsync::config::{self, model::ObjectRef, save};
use hybridsync::domain::{Dn, ObjectGuid};

fn before() -> String {
    std::fs::read_to_string(support::root().join("tests/config/save/before.toml")).unwrap()
}

#[test]
fn unchanged_config_is_byte_for_byte_identical() {
    let text = before();
    let loaded = config::parse(&text).unwrap();
    assert_eq!(save::update_document(&text, &loaded.config).unwrap(), text);
}

#[test]
fn rerun_edits_only_what_changed() {
    let text = before();
    let mut c = config::parse(&text).unwrap().config;
    c.sync.interval = "1h".parse().unwrap();
    c.sync.staging_mode = true;
    c.directories[0]
        .domain_controllers
        .push("dc2.corp.example.com".into());
    c.directories[0].scope.include.push(ObjectRef {
        dn: Dn::parse("OU=Sales,DC=corp,DC=example,DC=com").unwrap(),
        guid: Some(
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
                .parse::<ObjectGuid>()
                .unwrap(),
        ),
    });
    c.features.group_writeback.enabled = true;
    c.features.group_writeback.target_ou = Some(ObjectRef {
        dn: Dn::parse("OU=Cloud Groups,DC=corp,DC=example,DC=com").unwrap(),
        guid: None,
    });
    let after = save::update_document(&text, &c).unwrap();
    support::assert_matches_file(
        &after,
        &support::root().join("tests/config/save/after.toml"),
    );
    // And the result is the configuration we asked for.
    assert_eq!(config::parse(&after).unwrap().config, c);
}

#[test]
fn a_new_file_is_the_commented_template_with_the_answers() {
    let mut c = config::parse(config::TEMPLATE).unwrap().config;
    c.tenant.tenant_id = "fabrikam.onmicrosoft.com".into();
    c.directories[0].forest = "fabrikam.example".into();
    let text = save::render_new(&c).unwrap();
    assert!(
        text.contains("# Version of this file's format. Leave it at 1."),
        "template comments kept"
    );
    assert!(text.contains("forest = \"fabrikam.example\""));
    assert_eq!(config::parse(&text).unwrap().config, c);
}
