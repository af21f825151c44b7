//! Tests of the SQLite store through its traits, on temporary databases: opening, schema and
//! locking; import (anchors, renames, sweeps, large groups); sync (pages, links, joins,
//! lineage); exports and the journal; history; atomicity.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::engine::model::{AttributeChange, Operation, PendingImport};

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("state/hybridsync.db"), "test").unwrap();
    (dir, store)
}

fn ad() -> ConnectorName {
    ConnectorName::new("corp.example.com")
}

fn aad() -> ConnectorName {
    ConnectorName::new("entra")
}

fn attr(name: &str) -> AttributeName {
    AttributeName::new(name).unwrap()
}

fn s(text: &str) -> Value {
    Value::Str(text.to_string())
}

fn dn(text: &str) -> Dn {
    Dn::parse(text).unwrap()
}

fn guid(n: u32) -> Anchor {
    let mut b = vec![0u8; 16];
    b[..4].copy_from_slice(&n.to_le_bytes());
    Anchor::Bytes(b)
}

fn object(n: u32, dn_text: &str, attrs: &[(&str, Vec<Value>)]) -> ImportedObject {
    ImportedObject {
        anchor: guid(n),
        dn: dn(dn_text),
        object_class: "user".into(),
        attributes: attrs
            .iter()
            .map(|(name, values)| (attr(name), values.clone()))
            .collect(),
    }
}

fn user(n: u32) -> ImportedObject {
    object(
        n,
        &format!("CN=User {n},OU=Staff,DC=corp,DC=example,DC=com"),
        &[
            ("cn", vec![s(&format!("User {n}"))]),
            ("sAMAccountName", vec![s(&format!("user{n}"))]),
            ("proxyAddresses", vec![s("SMTP:a@x"), s("smtp:b@x")]),
        ],
    )
}

/// Imports objects in one committed transaction and clears their pending imports in another,
/// as a sync would.
fn import_and_sync(store: &mut SqliteStore, objects: &[ImportedObject]) -> Vec<CsId> {
    let mut tx = store.begin().unwrap();
    let ids: Vec<CsId> = objects
        .iter()
        .map(|o| tx.import_object(&ad(), o).unwrap().cs)
        .collect();
    for id in &ids {
        tx.clear_pending_import(*id).unwrap();
    }
    tx.commit().unwrap();
    ids
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn path_with(db: &Path, suffix: &str) -> std::path::PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(suffix);
    p.into()
}

// ---------------------------------------------------------------------------------------------
// Opening, schema, permissions, lock

#[test]
fn schema_is_created_once_and_reopening_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hybridsync.db");
    let store = SqliteStore::open(&path, "test").unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        SqliteStore::supported_schema_version()
    );
    drop(store);
    let store = SqliteStore::open(&path, "test").unwrap();
    let rows: i64 = store
        .raw()
        .query_row("SELECT count(*) FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, SqliteStore::supported_schema_version());
    let pragmas: (String, i64, i64) = store
        .raw()
        .query_row(
            "SELECT * FROM pragma_journal_mode, pragma_synchronous, pragma_foreign_keys",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        pragmas,
        ("wal".to_string(), 1, 1),
        "WAL, NORMAL, foreign keys on"
    );
}

#[test]
fn a_database_from_a_newer_hybridsync_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hybridsync.db");
    drop(SqliteStore::open(&path, "test").unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute(
        "INSERT INTO schema_version (version, description, applied_at) VALUES (999, 'x', 0)",
        [],
    )
    .unwrap();
    drop(raw);
    for err in [
        SqliteStore::open(&path, "test").unwrap_err(),
        SqliteStore::open_read_only(&path).unwrap_err(),
    ] {
        let msg = err.to_string();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 999, .. }),
            "{msg}"
        );
        assert!(msg.contains("schema version 999"), "{msg}");
        assert!(
            msg.contains(&format!(
                "up to {}",
                SqliteStore::supported_schema_version()
            )),
            "{msg}"
        );
        assert!(msg.contains(&path.display().to_string()), "{msg}");
    }
}

#[test]
fn a_foreign_sqlite_file_is_not_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE photos (id INTEGER)")
        .unwrap();
    let err = SqliteStore::open(&path, "test").unwrap_err();
    assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");
}

#[test]
fn database_wal_and_lock_files_are_private() {
    let (dir, mut store) = store();
    let path = dir.path().join("state/hybridsync.db");
    let mut tx = store.begin().unwrap();
    tx.import_object(&ad(), &user(1)).unwrap();
    tx.commit().unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&path_with(&path, "-wal")), 0o600);
    assert_eq!(mode(&path_with(&path, "-shm")), 0o600);
    assert_eq!(mode(&path_with(&path, ".lock")), 0o600);
    assert_eq!(mode(&dir.path().join("state")), 0o700);
}

#[test]
fn a_second_writer_is_refused_while_readers_go_on() {
    let (dir, mut store) = store();
    let path = dir.path().join("state/hybridsync.db");
    let mut tx = store.begin().unwrap();
    tx.set_watermark(&ad(), Some(b"cookie")).unwrap();
    tx.commit().unwrap();

    let err = SqliteStore::open(&path, "wizard").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Locked { .. }), "{msg}");
    assert!(
        msg.starts_with("another hybridsync sync cycle or the wizard is running (lock held on "),
        "{msg}"
    );
    assert!(msg.contains("hybridsync.db.lock by pid "), "{msg}");
    assert!(msg.contains("(test)"), "{msg}");

    let mut reader = SqliteStore::open_read_only(&path).unwrap();
    let tx = reader.begin().unwrap();
    let state = tx.connector_state(&ad()).unwrap().unwrap();
    assert_eq!(state.watermark.as_deref(), Some(&b"cookie"[..]));
    drop(tx);
    let mut tx = reader.begin().unwrap();
    assert!(
        tx.set_watermark(&ad(), None).is_err(),
        "read-only stores do not write"
    );
    drop(tx);

    drop(store);
    SqliteStore::open(&path, "wizard").unwrap();
}

#[test]
fn reading_a_missing_database_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open_read_only(&dir.path().join("none.db")).unwrap_err();
    assert!(matches!(err, StoreError::Missing { .. }));
    assert!(err.to_string().contains("run the wizard"), "{err}");
}

#[test]
fn queries_use_their_indexes() {
    let (_dir, store) = store();
    let plan = |sql: &str| -> String {
        let mut stmt = store
            .raw()
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let nulls = std::iter::repeat_n(rusqlite::types::Null, stmt.parameter_count());
        let rows = stmt
            .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    };
    for typed in [false, true] {
        let p = plan(&super::metaverse::join_lookup_sql(typed));
        assert!(
            p.contains("SEARCH j USING PRIMARY KEY (attribute=? AND value_key=?)"),
            "{p}"
        );
    }
    for (scope, index) in [
        (CsScope::PendingImport, "cs_object_pending"),
        (CsScope::All, "cs_object_connector"),
    ] {
        let p = plan(&super::space::page_ids_sql(scope));
        assert!(p.contains(index) && !p.contains("TEMP B-TREE"), "{p}");
    }
    for sql in [
        super::import::SWEEP_MARK_SQL,
        super::import::SWEEP_REMOVE_SQL,
    ] {
        let p = plan(sql);
        assert!(p.contains("cs_object_connector"), "{p}");
    }
    // A delta's value change touches one value row by its key, never the attribute's others.
    let p = plan(super::import::VALUE_REMOVE_SQL);
    assert!(
        p.contains("USING PRIMARY KEY (cs_id=? AND attribute=? AND tag=? AND value=?)"),
        "{p}"
    );
    let p = plan("SELECT id FROM cs_object WHERE mv_id = 7");
    assert!(p.contains("cs_object_join"), "{p}");
}

// ---------------------------------------------------------------------------------------------
// Connectors

#[test]
fn connector_state_round_trips_and_the_delete_release_is_one_shot() {
    let (_dir, mut store) = store();
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.connector_state(&ad()).unwrap(), None);
    let t = DateTime::from_parts(2025, 3, 1, 12, 0, 0, 0).unwrap();
    tx.set_watermark(&ad(), Some(&[1, 2, 3])).unwrap();
    tx.set_full_import_required(&ad(), false).unwrap();
    tx.set_last_full_sync(&ad(), t).unwrap();
    tx.set_last_successful_cycle(&ad(), t).unwrap();
    tx.grant_delete_release(&aad(), t).unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    let state = tx
        .connector_state(&ConnectorName::new("CORP.example.COM"))
        .unwrap()
        .unwrap();
    assert_eq!(state.watermark, Some(vec![1, 2, 3]));
    assert!(!state.full_import_required);
    assert!(state.full_sync_required, "new connectors need a full sync");
    assert_eq!(state.last_full_sync, Some(t));
    assert_eq!(state.last_successful_cycle, Some(t));
    assert_eq!(tx.connector_states().unwrap().len(), 2);
    assert!(!tx.take_delete_release(&ad()).unwrap());
    assert!(tx.take_delete_release(&aad()).unwrap());
    assert!(!tx.take_delete_release(&aad()).unwrap(), "used up");
    tx.set_watermark(&ad(), None).unwrap();
    assert_eq!(tx.connector_state(&ad()).unwrap().unwrap().watermark, None);

    assert_eq!(tx.engine_value("last_full.rules").unwrap(), None);
    tx.set_engine_value("last_full.rules", Some("9f86d0"))
        .unwrap();
    tx.set_engine_value("last_full.rules", Some("a1b2c3"))
        .unwrap();
    assert_eq!(
        tx.engine_value("last_full.rules").unwrap().as_deref(),
        Some("a1b2c3")
    );
    tx.set_engine_value("last_full.rules", None).unwrap();
    assert_eq!(tx.engine_value("last_full.rules").unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// Import

#[test]
fn an_object_is_found_by_anchor_so_a_rename_keeps_its_id() {
    let (_dir, mut store) = store();
    let [id] = import_and_sync(&mut store, &[user(1)])[..] else {
        panic!()
    };

    let mut renamed = user(1);
    renamed.dn = dn("CN=User One,OU=Sales,DC=corp,DC=example,DC=com");
    let mut tx = store.begin().unwrap();
    let out = tx.import_object(&ad(), &renamed).unwrap();
    assert_eq!(out.cs, id);
    assert_eq!(out.change, ImportChange::Updated);
    assert_eq!(out.pending, PendingImport::Update);
    assert_eq!(out.previous_dn, Some(user(1).dn));
    assert!(out.values.is_empty(), "only the DN changed");
    let cs = tx.cs_object(id).unwrap().unwrap();
    assert_eq!(cs.dn, renamed.dn);
    assert_eq!(cs.pending_import, PendingImport::Update);
    assert_eq!(cs.attributes, renamed.attributes);
    assert_eq!(
        tx.find_cs_by_dn(
            &ad(),
            &dn("cn=user one, ou=SALES,dc=corp,dc=example,dc=com")
        )
        .unwrap(),
        vec![id]
    );
    assert!(tx.find_cs_by_dn(&ad(), &user(1).dn).unwrap().is_empty());
    assert_eq!(tx.find_cs_by_anchor(&ad(), &guid(1)).unwrap(), Some(id));
}

#[test]
fn an_unchanged_object_gets_no_pending_import() {
    let (_dir, mut store) = store();
    let [id] = import_and_sync(&mut store, &[user(1)])[..] else {
        panic!()
    };
    let mut tx = store.begin().unwrap();
    // Same values in another order, one repeated: still the same set.
    let mut again = user(1);
    again.attributes.insert(
        attr("ProxyAddresses"),
        vec![s("smtp:b@x"), s("SMTP:a@x"), s("smtp:b@x")],
    );
    let out = tx.import_object(&ad(), &again).unwrap();
    assert_eq!(out.change, ImportChange::Unchanged);
    assert_eq!(out.pending, PendingImport::None);
    assert_eq!(tx.cs_count(&ad(), CsScope::PendingImport).unwrap(), 0);
    assert_eq!(
        tx.cs_object(id).unwrap().unwrap().attributes,
        user(1).attributes
    );
}

#[test]
fn value_changes_are_reported_and_accumulate_until_the_sync() {
    let (_dir, mut store) = store();
    let [id] = import_and_sync(&mut store, &[user(1)])[..] else {
        panic!()
    };
    let mut tx = store.begin().unwrap();
    let mut changed = user(1);
    changed
        .attributes
        .insert(attr("proxyAddresses"), vec![s("SMTP:a@x"), s("smtp:c@x")]);
    changed
        .attributes
        .insert(attr("department"), vec![s("Sales")]);
    changed.attributes.remove(&attr("sAMAccountName"));
    let out = tx.import_object(&ad(), &changed).unwrap();
    assert_eq!(out.pending, PendingImport::Update);
    let by_name = |changes: &[ValueChanges], name: &str| {
        changes
            .iter()
            .find(|c| c.attribute == attr(name))
            .cloned()
            .unwrap()
    };
    let p = by_name(&out.values, "proxyAddresses");
    assert_eq!(
        (p.added, p.removed),
        (vec![s("smtp:c@x")], vec![s("smtp:b@x")])
    );
    assert_eq!(by_name(&out.values, "department").added, vec![s("Sales")]);
    assert_eq!(
        by_name(&out.values, "sAMAccountName").removed,
        vec![s("user1")]
    );

    // A second import before the sync: c goes again, b comes back: net nothing for those.
    let mut back = changed.clone();
    back.attributes
        .insert(attr("proxyAddresses"), vec![s("SMTP:a@x"), s("smtp:b@x")]);
    tx.import_object(&ad(), &back).unwrap();
    let pending = tx.pending_value_changes(id).unwrap();
    assert!(
        pending
            .iter()
            .all(|c| c.attribute != attr("proxyAddresses")),
        "{pending:?}"
    );
    assert_eq!(by_name(&pending, "department").added, vec![s("Sales")]);
    assert_eq!(
        by_name(&pending, "sAMAccountName").removed,
        vec![s("user1")]
    );

    tx.clear_pending_import(id).unwrap();
    assert!(tx.pending_value_changes(id).unwrap().is_empty());
    assert_eq!(
        tx.cs_object(id).unwrap().unwrap().pending_import,
        PendingImport::None
    );
}

#[test]
fn a_full_import_sweeps_what_it_did_not_see() {
    let (_dir, mut store) = store();
    let ids = import_and_sync(&mut store, &[user(1), user(2), user(3)]);
    let mut tx = store.begin().unwrap();
    // User 4 arrives by delta and is never synced; the next full import misses it too.
    let new = tx.import_object(&ad(), &user(4)).unwrap().cs;
    let generation = tx.begin_full_import(&ad()).unwrap();
    tx.import_object(&ad(), &user(1)).unwrap();
    tx.import_object(&ad(), &user(3)).unwrap();
    let sweep = tx.finish_full_import(&ad(), generation).unwrap();
    assert_eq!(
        sweep,
        SweepOutcome {
            marked_deleted: 1,
            removed: 1
        }
    );
    let pending = tx.cs_page(&ad(), CsScope::PendingImport, None, 10).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, ids[1]);
    assert_eq!(pending[0].pending_import, PendingImport::Delete);
    assert_eq!(
        tx.cs_object(new).unwrap(),
        None,
        "never synced: removed outright"
    );
    assert_eq!(
        tx.cs_object(ids[0]).unwrap().unwrap().pending_import,
        PendingImport::None
    );

    // The sync processes the delete: the object goes.
    tx.clear_pending_import(ids[1]).unwrap();
    assert_eq!(tx.cs_object(ids[1]).unwrap(), None);
    assert_eq!(tx.cs_count(&ad(), CsScope::All).unwrap(), 2);
}

#[test]
fn a_delta_delete_marks_the_object_and_a_return_makes_it_an_update() {
    let (_dir, mut store) = store();
    let [id] = import_and_sync(&mut store, &[user(1)])[..] else {
        panic!()
    };
    let mut tx = store.begin().unwrap();
    let out = tx
        .import_item(&ad(), &ImportItem::Deleted { anchor: guid(1) })
        .unwrap()
        .unwrap();
    assert_eq!(
        (out.cs, out.change, out.pending),
        (id, ImportChange::Deleted, PendingImport::Delete)
    );
    assert_eq!(tx.import_deleted(&ad(), &guid(99)).unwrap(), None);
    let rejected = ImportItem::Rejected {
        dn: "CN=broken".into(),
        reason: "no objectGUID".into(),
    };
    assert_eq!(tx.import_item(&ad(), &rejected).unwrap(), None);
    let out = tx.import_object(&ad(), &user(1)).unwrap();
    assert_eq!(
        (out.cs, out.change, out.pending),
        (id, ImportChange::Updated, PendingImport::Update)
    );
}

#[test]
fn one_member_more_or_less_in_a_50000_member_group_is_one_row() {
    let (_dir, mut store) = store();
    let member = |i: u32| Value::Ref(format!("CN=User {i},OU=Staff,DC=corp,DC=example,DC=com"));
    let group = |members: Vec<Value>| {
        let mut g = object(
            7,
            "CN=All Staff,OU=Groups,DC=corp,DC=example,DC=com",
            &[("cn", vec![s("All Staff")]), ("member", members)],
        );
        g.object_class = "group".into();
        g
    };
    let all: Vec<Value> = (0..50_000).map(member).collect();
    let [id] = import_and_sync(&mut store, &[group(all.clone())])[..] else {
        panic!()
    };

    // User 123 leaves, user 50000 joins.
    let mut next = all.clone();
    next.retain(|v| *v != member(123));
    next.push(member(50_000));
    let before = store.raw().total_changes();
    let mut tx = store.begin().unwrap();
    let out = tx.import_object(&ad(), &group(next.clone())).unwrap();
    assert_eq!(
        out.values,
        vec![ValueChanges {
            attribute: attr("member"),
            added: vec![member(50_000)],
            removed: vec![member(123)],
        }]
    );
    assert_eq!(
        tx.pending_value_changes(id).unwrap(),
        out.values,
        "the sync sees the same two values"
    );
    tx.commit().unwrap();
    // Rows written: one value removed, one added, two pending-change rows, the object row.
    let written = store.raw().total_changes() - before;
    assert_eq!(written, 5, "rows written for a one-member change");

    let tx = store.begin().unwrap();
    let stored = tx.cs_attribute(id, &attr("member")).unwrap();
    assert_eq!(stored.len(), 50_000);
    assert_eq!(
        stored.last(),
        Some(&member(50_000)),
        "a new value sorts last"
    );
    let light = tx
        .cs_object_without(id, &[attr("member")])
        .unwrap()
        .unwrap();
    assert_eq!(light.attributes.len(), 1, "the membership can be left out");
    drop(tx);

    // Re-importing the same membership writes nothing but the seen stamp (already current).
    let before = store.raw().total_changes();
    let mut tx = store.begin().unwrap();
    let out = tx.import_object(&ad(), &group(next)).unwrap();
    assert_eq!(out.change, ImportChange::Unchanged);
    tx.commit().unwrap();
    assert_eq!(store.raw().total_changes() - before, 0);
}

fn member(i: u32) -> Value {
    Value::Ref(format!("CN=User {i},OU=Staff,DC=corp,DC=example,DC=com"))
}

fn group_of(members: Vec<Value>) -> ImportedObject {
    let mut g = object(
        7,
        "CN=All Staff,OU=Groups,DC=corp,DC=example,DC=com",
        &[("cn", vec![s("All Staff")]), ("member", members)],
    );
    g.object_class = "group".into();
    g
}

fn value_item(n: u32, attribute: &str, added: Vec<Value>, removed: Vec<Value>) -> ImportItem {
    ImportItem::ValueChanges {
        anchor: guid(n),
        dn: None,
        changes: vec![ValueDelta {
            attribute: attr(attribute),
            added,
            removed,
        }],
    }
}

#[test]
fn a_delta_value_change_writes_one_row_per_value_and_is_idempotent() {
    let (_dir, mut store) = store();
    let all: Vec<Value> = (0..20_000).map(member).collect();
    let [id] = import_and_sync(&mut store, &[group_of(all.clone())])[..] else {
        panic!()
    };

    // User 123 leaves, user 20000 joins: exactly what DirSync reports.
    let item = value_item(7, "member", vec![member(20_000)], vec![member(123)]);
    let before = store.raw().total_changes();
    let mut tx = store.begin().unwrap();
    let out = tx.import_item(&ad(), &item).unwrap().unwrap();
    let want = vec![ValueChanges {
        attribute: attr("member"),
        added: vec![member(20_000)],
        removed: vec![member(123)],
    }];
    assert_eq!(
        (out.cs, out.change, out.pending, &out.values),
        (id, ImportChange::Updated, PendingImport::Update, &want)
    );
    assert_eq!(out.previous_dn, None);
    assert_eq!(
        tx.pending_value_changes(id).unwrap(),
        want,
        "the sync sees the same two values"
    );
    let pending = tx
        .cs_ids_page(&ad(), CsScope::PendingImport, None, 10)
        .unwrap();
    assert_eq!(pending, vec![id], "marked for the delta sync");
    tx.commit().unwrap();
    // One value removed, one added, two pending-change rows, the object row.
    assert_eq!(store.raw().total_changes() - before, 5);

    // The same batch again (DirSync repeats it after a crash before the cookie was stored):
    // nothing changes, nothing is written.
    let before = store.raw().total_changes();
    let mut tx = store.begin().unwrap();
    let again = tx.import_item(&ad(), &item).unwrap().unwrap();
    assert_eq!(
        (again.change, again.pending, again.values.len()),
        (ImportChange::Unchanged, PendingImport::Update, 0)
    );
    assert_eq!(tx.pending_value_changes(id).unwrap(), want);
    tx.commit().unwrap();
    assert_eq!(store.raw().total_changes() - before, 0);

    // The digest kept up: the whole group as it now is compares equal without a row read...
    let mut now = all.clone();
    now.retain(|v| *v != member(123));
    now.push(member(20_000));
    let before = store.raw().total_changes();
    let mut tx = store.begin().unwrap();
    let whole = tx.import_object(&ad(), &group_of(now.clone())).unwrap();
    assert_eq!(whole.change, ImportChange::Unchanged, "{:?}", whole.values);
    let stored = tx.cs_attribute(id, &attr("member")).unwrap();
    assert_eq!(stored.len(), 20_000);
    assert_eq!(
        stored.last(),
        Some(&member(20_000)),
        "a new value sorts last"
    );
    tx.commit().unwrap();
    assert_eq!(store.raw().total_changes() - before, 0);

    // ...and the sync clears it like any update.
    let mut tx = store.begin().unwrap();
    tx.clear_pending_import(id).unwrap();
    assert!(tx.pending_value_changes(id).unwrap().is_empty());
    tx.commit().unwrap();
}

#[test]
fn value_changes_that_change_nothing_are_no_ops() {
    let (_dir, mut store) = store();
    let [id] = import_and_sync(&mut store, &[group_of(vec![member(1), member(2)])])[..] else {
        panic!()
    };
    let mut tx = store.begin().unwrap();
    // Adding a present value, removing an absent one, a value twice in one list.
    let item = value_item(
        7,
        "member",
        vec![member(1), member(1)],
        vec![member(9), member(9)],
    );
    let out = tx.import_item(&ad(), &item).unwrap().unwrap();
    assert_eq!(
        (out.change, out.pending, out.values.len()),
        (ImportChange::Unchanged, PendingImport::None, 0)
    );
    assert!(tx.pending_value_changes(id).unwrap().is_empty());
    assert!(
        tx.cs_ids_page(&ad(), CsScope::PendingImport, None, 10)
            .unwrap()
            .is_empty()
    );
    // Removing from an attribute the object does not have.
    let out = tx
        .import_item(
            &ad(),
            &value_item(7, "managedObjects", vec![], vec![member(1)]),
        )
        .unwrap()
        .unwrap();
    assert_eq!(out.change, ImportChange::Unchanged);
    let o = tx.cs_object(id).unwrap().unwrap();
    assert_eq!(o.attributes[&attr("member")], vec![member(1), member(2)]);
    assert!(!o.attributes.contains_key(&attr("managedObjects")));
}

#[test]
fn value_changes_create_and_drop_attributes_and_keep_digests_exact() {
    let (_dir, mut store) = store();
    let [id] = import_and_sync(&mut store, &[group_of(vec![member(1)])])[..] else {
        panic!()
    };
    let mut tx = store.begin().unwrap();
    // The last member goes, a first value of a new attribute comes, in one item.
    let item = ImportItem::ValueChanges {
        anchor: guid(7),
        dn: Some(dn("CN=Everyone,OU=Groups,DC=corp,DC=example,DC=com")),
        changes: vec![
            ValueDelta {
                attribute: attr("member"),
                added: vec![],
                removed: vec![member(1)],
            },
            ValueDelta {
                attribute: attr("msDS-NeverRevealGroup"),
                added: vec![member(5)],
                removed: vec![],
            },
        ],
    };
    let out = tx.import_item(&ad(), &item).unwrap().unwrap();
    assert_eq!(out.change, ImportChange::Updated);
    assert_eq!(
        out.previous_dn,
        Some(dn("CN=All Staff,OU=Groups,DC=corp,DC=example,DC=com")),
        "a different DN is a rename"
    );
    let o = tx.cs_object(id).unwrap().unwrap();
    assert_eq!(o.dn, dn("CN=Everyone,OU=Groups,DC=corp,DC=example,DC=com"));
    assert!(!o.attributes.contains_key(&attr("member")), "{o:?}");
    assert_eq!(
        o.attributes[&attr("msDS-NeverRevealGroup")],
        vec![member(5)]
    );
    assert_eq!(
        tx.find_cs_by_dn(
            &ad(),
            &dn("cn=everyone,ou=groups,dc=corp,dc=example,dc=com")
        )
        .unwrap(),
        vec![id]
    );
    // The whole object as it now is: unchanged, so the digests match the rows exactly.
    let mut whole = object(
        7,
        "CN=Everyone,OU=Groups,DC=corp,DC=example,DC=com",
        &[
            ("cn", vec![s("All Staff")]),
            ("msDS-NeverRevealGroup", vec![member(5)]),
        ],
    );
    whole.object_class = "group".into();
    let again = tx.import_object(&ad(), &whole).unwrap();
    assert_eq!(again.change, ImportChange::Unchanged, "{:?}", again.values);
    assert_eq!(
        again.pending,
        PendingImport::Update,
        "still pending from the value change"
    );
    assert_eq!(again.previous_dn, None);
}

#[test]
fn value_changes_on_a_new_deleted_or_unknown_object() {
    let (_dir, mut store) = store();
    let mut tx = store.begin().unwrap();
    // Unknown anchor: nothing written, `None` tells the engine to read the object whole.
    let before = tx.cs_count(&ad(), CsScope::All).unwrap();
    let item = value_item(7, "member", vec![member(3)], vec![]);
    assert_eq!(tx.import_item(&ad(), &item).unwrap(), None);
    assert_eq!(tx.cs_count(&ad(), CsScope::All).unwrap(), before);

    // Not synced yet (pending Add): the values change, the object stays an Add without
    // value-change records (the sync reads it whole).
    let id = tx
        .import_object(&ad(), &group_of(vec![member(1)]))
        .unwrap()
        .cs;
    let out = tx.import_item(&ad(), &item).unwrap().unwrap();
    assert_eq!(
        (out.change, out.pending),
        (ImportChange::Updated, PendingImport::Add)
    );
    assert!(tx.pending_value_changes(id).unwrap().is_empty());
    assert_eq!(
        tx.cs_object(id).unwrap().unwrap().attributes[&attr("member")],
        vec![member(1), member(3)]
    );
    tx.clear_pending_import(id).unwrap();

    // Marked deleted, then a value change shows it exists: an Update, as when it comes back
    // whole.
    tx.import_deleted(&ad(), &guid(7)).unwrap();
    let out = tx
        .import_item(&ad(), &value_item(7, "member", vec![], vec![member(1)]))
        .unwrap()
        .unwrap();
    assert_eq!(
        (out.change, out.pending),
        (ImportChange::Updated, PendingImport::Update)
    );
    assert_eq!(
        tx.pending_value_changes(id).unwrap(),
        vec![ValueChanges {
            attribute: attr("member"),
            added: vec![],
            removed: vec![member(1)],
        }]
    );
}

#[test]
fn pages_walk_every_object_once_in_id_order() {
    let (_dir, mut store) = store();
    let objects: Vec<_> = (1..=25).map(user).collect();
    let mut tx = store.begin().unwrap();
    for o in &objects {
        tx.import_object(&ad(), o).unwrap();
    }
    // Another connector's objects interleave and must not show up.
    tx.import_object(&aad(), &user(1)).unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = tx.cs_page(&ad(), CsScope::All, after, 7).unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        seen.extend(page);
    }
    assert_eq!(seen.len(), 25);
    assert!(seen.windows(2).all(|w| w[0].id < w[1].id));
    for (o, cs) in objects.iter().zip(&seen) {
        assert_eq!(cs.anchor.as_ref(), Some(&o.anchor));
        assert_eq!(cs.attributes, o.attributes);
        assert_eq!(cs.connector, ad());
    }
    let ids = tx
        .cs_ids_page(&ad(), CsScope::PendingImport, Some(seen[19].id), 100)
        .unwrap();
    assert_eq!(ids, seen[20..].iter().map(|c| c.id).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------------------------
// Metaverse

#[test]
fn join_lookups_by_text_ignore_case_unless_asked_and_match_binary_exactly() {
    let (_dir, mut store) = store();
    let mut tx = store.begin().unwrap();
    tx.set_join_attributes(&[attr("mail")]).unwrap();
    let ann = tx.create_mv(MvObjectType::Person).unwrap();
    let bob = tx.create_mv(MvObjectType::Person).unwrap();
    let grp = tx.create_mv(MvObjectType::Group).unwrap();
    let c = |values: Vec<Value>| Contribution {
        values,
        rule: "In from AD - User Join".into(),
        connector: ad(),
    };
    tx.set_mv_attribute(ann, &attr("mail"), Some(&c(vec![s("Ann@Corp.example")])))
        .unwrap();
    tx.set_mv_attribute(bob, &attr("mail"), Some(&c(vec![s("bob@corp.example")])))
        .unwrap();
    tx.set_mv_attribute(grp, &attr("mail"), Some(&c(vec![s("ann@corp.example")])))
        .unwrap();
    let guid_bytes = Value::Bin(vec![0xAB; 16]);
    tx.set_mv_attribute(
        bob,
        &attr("sourceAnchorBinary"),
        Some(&c(vec![guid_bytes.clone()])),
    )
    .unwrap();

    let find = |tx: &dyn StoreTx, ty, a: &str, v: &Value, case| {
        tx.find_mv_by_value(ty, &attr(a), v, case).unwrap()
    };
    let person = Some(MvObjectType::Person);
    assert_eq!(
        find(
            &*tx,
            person,
            "MAIL",
            &s("ANN@corp.EXAMPLE"),
            JoinCase::Insensitive
        ),
        vec![ann]
    );
    assert_eq!(
        find(
            &*tx,
            None,
            "mail",
            &s("ann@corp.example"),
            JoinCase::Insensitive
        ),
        vec![ann, grp]
    );
    assert_eq!(
        find(
            &*tx,
            person,
            "mail",
            &s("ann@corp.example"),
            JoinCase::Sensitive
        ),
        vec![]
    );
    assert_eq!(
        find(
            &*tx,
            None,
            "mail",
            &s("ann@corp.example"),
            JoinCase::Sensitive
        ),
        vec![grp]
    );
    assert_eq!(
        find(
            &*tx,
            person,
            "mail",
            &s("Ann@Corp.example"),
            JoinCase::Sensitive
        ),
        vec![ann]
    );

    // Binary values join by their bytes once the attribute is declared (indexed from the stored
    // values).
    assert!(matches!(
        tx.find_mv_by_value(
            person,
            &attr("sourceAnchorBinary"),
            &guid_bytes,
            JoinCase::Insensitive
        ),
        Err(StoreError::Conflict { .. })
    ));
    tx.set_join_attributes(&[attr("mail"), attr("sourceAnchorBinary")])
        .unwrap();
    assert_eq!(
        find(
            &*tx,
            person,
            "sourceAnchorBinary",
            &guid_bytes,
            JoinCase::Insensitive
        ),
        vec![bob]
    );
    assert_eq!(
        find(
            &*tx,
            person,
            "sourceAnchorBinary",
            &Value::Bin(vec![0xAB; 15]),
            JoinCase::Insensitive
        ),
        vec![]
    );
    assert_eq!(
        find(
            &*tx,
            person,
            "sourceAnchorBinary",
            &s("q6urq6urq6urq6urq6urqw=="),
            JoinCase::Insensitive
        ),
        vec![],
        "text never matches binary"
    );

    // Changed values move in the index; dropped join attributes leave it.
    tx.set_mv_attribute(
        ann,
        &attr("mail"),
        Some(&c(vec![s("ann.new@corp.example")])),
    )
    .unwrap();
    assert_eq!(
        find(
            &*tx,
            person,
            "mail",
            &s("ann@corp.example"),
            JoinCase::Insensitive
        ),
        vec![]
    );
    assert_eq!(
        find(
            &*tx,
            person,
            "mail",
            &s("ANN.NEW@corp.example"),
            JoinCase::Insensitive
        ),
        vec![ann]
    );
    tx.set_join_attributes(&[attr("sourceAnchorBinary")])
        .unwrap();
    assert!(matches!(
        tx.find_mv_by_value(person, &attr("mail"), &s("x"), JoinCase::Insensitive),
        Err(StoreError::Conflict { .. })
    ));
}

#[test]
fn lineage_round_trips_with_values_in_order() {
    let (_dir, mut store) = store();
    let mut tx = store.begin().unwrap();
    let mv = tx.create_mv(MvObjectType::Person).unwrap();
    let when = DateTime::from_parts(2024, 2, 29, 23, 59, 59, 1234567).unwrap();
    let contributions = [
        (
            "displayName",
            Contribution {
                values: vec![s("Ann Smith")],
                rule: "In from AD - User Common".into(),
                connector: ad(),
            },
        ),
        (
            "proxyAddresses",
            Contribution {
                values: vec![s("SMTP:ann@x"), s("smtp:a@x"), s("smtp:as@x")],
                rule: "In from AD - User Common".into(),
                connector: ad(),
            },
        ),
        (
            "cloudAnchor",
            Contribution {
                values: vec![Value::Bin(vec![1, 2, 3])],
                rule: "In from AAD - User Join".into(),
                connector: aad(),
            },
        ),
        (
            "accountExpires",
            Contribution {
                values: vec![Value::Date(when)],
                rule: "In from AD - User AccountEnabled".into(),
                connector: ad(),
            },
        ),
        (
            "employeeNumber",
            Contribution {
                values: vec![Value::Num(-42)],
                rule: "custom".into(),
                connector: ad(),
            },
        ),
    ];
    for (name, c) in &contributions {
        let change = tx.set_mv_attribute(mv, &attr(name), Some(c)).unwrap();
        assert_eq!(change.added, c.values);
    }
    let back = tx.mv_object(mv).unwrap().unwrap();
    assert_eq!(back.object_type, MvObjectType::Person);
    assert_eq!(back.attributes.len(), contributions.len());
    for (name, c) in &contributions {
        assert_eq!(back.attributes.get(&attr(name)), Some(c), "{name}");
        assert_eq!(tx.mv_attribute(mv, &attr(name)).unwrap().as_ref(), Some(c));
    }

    // Replacing keeps surviving values, reports the difference, and moves the lineage.
    let replaced = Contribution {
        values: vec![s("smtp:a@x"), s("SMTP:new@x")],
        rule: "Out of band".into(),
        connector: aad(),
    };
    let change = tx
        .set_mv_attribute(mv, &attr("proxyAddresses"), Some(&replaced))
        .unwrap();
    assert_eq!(change.added, vec![s("SMTP:new@x")]);
    assert_eq!(change.removed, vec![s("SMTP:ann@x"), s("smtp:as@x")]);
    let now = tx
        .mv_attribute(mv, &attr("proxyAddresses"))
        .unwrap()
        .unwrap();
    assert_eq!(&*now.rule, "Out of band");
    assert_eq!(now.connector, aad());
    assert_eq!(now.values, vec![s("smtp:a@x"), s("SMTP:new@x")]);

    // Incremental membership.
    let m = |i: u32| Value::Ref(format!("CN=U{i},DC=x"));
    let added = tx
        .add_mv_values(
            mv,
            &attr("member"),
            &[m(1), m(2), m(1)],
            "In from AD - Group",
            &ad(),
        )
        .unwrap();
    assert_eq!(added.added, vec![m(1), m(2)]);
    assert!(
        tx.add_mv_values(mv, &attr("member"), &[m(2)], "r", &ad())
            .unwrap()
            .is_empty()
    );
    let removed = tx
        .remove_mv_values(mv, &attr("member"), &[m(1), m(9)])
        .unwrap();
    assert_eq!(removed.removed, vec![m(1)]);
    tx.remove_mv_values(mv, &attr("member"), &[m(2)]).unwrap();
    assert_eq!(
        tx.mv_attribute(mv, &attr("member")).unwrap(),
        None,
        "last value gone"
    );

    let light = tx
        .mv_object_without(mv, &[attr("proxyAddresses")])
        .unwrap()
        .unwrap();
    assert!(!light.attributes.contains_key(&attr("proxyAddresses")));
    let removed = tx.set_mv_attribute(mv, &attr("displayName"), None).unwrap();
    assert_eq!(removed.removed, vec![s("Ann Smith")]);
    assert_eq!(
        tx.mv_ids_page(Some(MvObjectType::Person), None, 10)
            .unwrap(),
        vec![mv]
    );
    assert_eq!(
        tx.mv_ids_page(Some(MvObjectType::Group), None, 10).unwrap(),
        vec![]
    );
}

#[test]
fn joins_are_one_object_per_connector_and_go_with_the_metaverse_object() {
    let (_dir, mut store) = store();
    let ids = import_and_sync(&mut store, &[user(1), user(2)]);
    let mut tx = store.begin().unwrap();
    let mv = tx.create_mv(MvObjectType::Person).unwrap();
    tx.link(ids[0], mv).unwrap();
    tx.link(ids[0], mv).unwrap();
    let err = tx.link(ids[1], mv).unwrap_err();
    assert!(err.to_string().contains("ambiguous"), "{err}");
    let other = tx.create_mv(MvObjectType::Person).unwrap();
    assert!(matches!(
        tx.link(ids[0], other),
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        tx.link(ids[1], MvId(999)),
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(tx.links(mv).unwrap(), vec![(ad(), ids[0])]);
    assert_eq!(tx.cs_object(ids[0]).unwrap().unwrap().mv, Some(mv));

    assert!(tx.delete_mv(mv).unwrap());
    assert_eq!(
        tx.cs_object(ids[0]).unwrap().unwrap().mv,
        None,
        "a disconnector now"
    );
    tx.link(ids[1], other).unwrap();
    assert!(tx.unlink(ids[1]).unwrap());
    assert!(!tx.unlink(ids[1]).unwrap());
}

// ---------------------------------------------------------------------------------------------
// Export side

fn provisioned(tx: &mut dyn StoreTx, mv: MvId) -> CsId {
    let attrs: Attributes = [
        (attr("userPrincipalName"), vec![s("ann@corp.example")]),
        (attr("onPremisesImmutableId"), vec![s("AQIDBA==")]),
    ]
    .into_iter()
    .collect();
    tx.provision_export_object(&aad(), mv, &dn("CN=AQIDBA=="), "user", &attrs)
        .unwrap()
}

#[test]
fn pending_exports_round_trip_and_count_deletes_for_the_guard() {
    let (_dir, mut store) = store();
    let mut tx = store.begin().unwrap();
    let mv = tx.create_mv(MvObjectType::Person).unwrap();
    let cs = provisioned(&mut *tx, mv);
    let add = PendingExport {
        connector: aad(),
        cs,
        anchor: None,
        dn: dn("CN=AQIDBA=="),
        object_class: "user".into(),
        operation: Operation::Add,
        changes: vec![
            AttributeChange {
                attribute: attr("userPrincipalName"),
                old: vec![],
                new: vec![s("ann@corp.example")],
                kind: crate::engine::model::ChangeKind::Replace,
            },
            AttributeChange {
                attribute: attr("proxyAddresses"),
                old: vec![s("SMTP:old@x")],
                new: vec![],
                kind: crate::engine::model::ChangeKind::Replace,
            },
            AttributeChange {
                attribute: attr("accountEnabled"),
                old: vec![Value::Bool(false)],
                new: vec![Value::Bool(true)],
                kind: crate::engine::model::ChangeKind::Replace,
            },
        ],
    };
    let id = tx.put_pending_export(&add).unwrap();
    let stored = tx.pending_export_for(cs).unwrap().unwrap();
    assert_eq!(stored.id, id);
    assert_eq!(stored.export, add);
    assert_eq!(stored.attempts, 0);

    // Replacing: one pending export per object.
    let mut update = add.clone();
    update.operation = Operation::Update;
    update.anchor = Some(Anchor::Text("6f1c2b".into()));
    let id2 = tx.put_pending_export(&update).unwrap();
    assert_ne!(id, id2);
    assert_eq!(
        tx.pending_exports(Some(&aad()), None, 100).unwrap().len(),
        1
    );

    // Deletes for objects that exist in the target.
    let users: Vec<_> = (1..=4)
        .map(|n| {
            let mut u = user(n);
            u.anchor = Anchor::Text(format!("obj-{n}"));
            u
        })
        .collect();
    let ids: Vec<CsId> = users
        .iter()
        .map(|u| tx.import_object(&aad(), u).unwrap().cs)
        .collect();
    for (i, cs) in ids.iter().enumerate().take(3) {
        tx.put_pending_export(&PendingExport {
            connector: aad(),
            cs: *cs,
            anchor: Some(users[i].anchor.clone()),
            dn: users[i].dn.clone(),
            object_class: "user".into(),
            operation: Operation::Delete,
            changes: vec![],
        })
        .unwrap();
    }
    assert_eq!(
        tx.export_summary(&aad()).unwrap(),
        ExportSummary {
            adds: 0,
            updates: 1,
            renames: 0,
            deletes: 3,
            total_objects: 4,
        }
    );
    assert_eq!(tx.export_summary(&ad()).unwrap(), ExportSummary::default());

    let page1 = tx.pending_exports(None, None, 2).unwrap();
    let page2 = tx.pending_exports(None, Some(page1[1].id), 10).unwrap();
    assert_eq!(page1.len() + page2.len(), 4);
    assert!(page2[0].export.changes.is_empty());

    tx.record_export_failure(id2, "Request_BadRequest: invalid UPN")
        .unwrap();
    let failed = tx.pending_export_for(cs).unwrap().unwrap();
    assert_eq!(
        (failed.attempts, failed.last_error.as_deref()),
        (1, Some("Request_BadRequest: invalid UPN"))
    );
    assert!(tx.remove_pending_export(id2).unwrap());
    assert!(!tx.remove_pending_export(id2).unwrap());
    assert_eq!(tx.export_summary(&aad()).unwrap().updates, 0);

    // Wrong connector is refused.
    let mut wrong = add;
    wrong.connector = ad();
    assert!(matches!(
        tx.put_pending_export(&wrong),
        Err(StoreError::Conflict { .. })
    ));
}

#[test]
fn the_journal_records_intent_sent_and_confirmation_by_import() {
    let (_dir, mut store) = store();
    let mut tx = store.begin().unwrap();
    let mv = tx.create_mv(MvObjectType::Person).unwrap();
    let cs = provisioned(&mut *tx, mv);
    let export = PendingExport {
        connector: aad(),
        cs,
        anchor: None,
        dn: dn("CN=AQIDBA=="),
        object_class: "user".into(),
        operation: Operation::Add,
        changes: vec![],
    };
    let pe = tx.put_pending_export(&export).unwrap();
    let j = tx.journal_intent(pe, "AQIDBA==").unwrap();
    tx.commit().unwrap();

    // A crash here: at start-up the intent is open.
    let mut tx = store.begin().unwrap();
    let open = tx.open_journal(None).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].state, JournalState::Intent);
    assert_eq!(open[0].request_key, "AQIDBA==");
    assert_eq!(open[0].operation, Operation::Add);
    assert_eq!(open[0].cs, Some(cs));
    assert!(matches!(
        tx.journal_intent(pe, "AQIDBA=="),
        Err(StoreError::Conflict { .. })
    ));

    // The target answered: sent, with the new object's id; the pending export is done.
    let anchor = Anchor::Text("6f1c2b".into());
    tx.journal_sent(j, Some(&anchor)).unwrap();
    tx.set_cs_anchor(cs, &anchor).unwrap();
    tx.remove_pending_export(pe).unwrap();
    let entry = tx.journal_entry(j).unwrap().unwrap();
    assert_eq!(
        (entry.state, entry.anchor.as_ref()),
        (JournalState::Sent, Some(&anchor))
    );
    assert_eq!(
        entry.pending_export, None,
        "the pending export is gone, the entry stays"
    );
    assert_eq!(tx.open_journal(Some(&aad())).unwrap().len(), 1);

    // The confirming import sees the object: the entry is confirmed.
    let mut seen = object(
        0,
        "CN=AQIDBA==",
        &[("userPrincipalName", vec![s("ann@corp.example")])],
    );
    seen.anchor = anchor.clone();
    let out = tx.import_object(&aad(), &seen).unwrap();
    assert_eq!(out.cs, cs);
    assert_eq!(
        tx.journal_entry(j).unwrap().unwrap().state,
        JournalState::Confirmed
    );
    assert!(tx.open_journal(None).unwrap().is_empty());
    assert!(matches!(
        tx.journal_sent(j, None),
        Err(StoreError::Conflict { .. })
    ));

    // A refused request.
    let pe = tx
        .put_pending_export(&PendingExport {
            operation: Operation::Update,
            ..export
        })
        .unwrap();
    let j2 = tx.journal_intent(pe, "AQIDBA==").unwrap();
    tx.journal_failed(j2, "Request_BadRequest").unwrap();
    let failed = tx.journal_entry(j2).unwrap().unwrap();
    assert_eq!(
        (failed.state, failed.detail.as_deref()),
        (JournalState::Failed, Some("Request_BadRequest"))
    );
    assert!(matches!(
        tx.journal_confirmed(JournalId(999)),
        Err(StoreError::NotFound { .. })
    ));

    assert_eq!(tx.purge_journal(DateTime::MIN).unwrap(), 0);
    assert_eq!(tx.purge_journal(DateTime::MAX).unwrap(), 2);
}

#[test]
fn an_export_object_without_anchor_is_adopted_by_the_import_that_finds_its_dn() {
    let (_dir, mut store) = store();
    let mut tx = store.begin().unwrap();
    let mv = tx.create_mv(MvObjectType::Person).unwrap();
    let cs = provisioned(&mut *tx, mv);
    let mut seen = object(
        5,
        "cn=aqidba==",
        &[("userPrincipalName", vec![s("ann@corp.example")])],
    );
    seen.anchor = Anchor::Text("6f1c2b".into());
    let out = tx.import_object(&aad(), &seen).unwrap();
    assert!(out.adopted);
    assert_eq!(out.cs, cs);
    let obj = tx.cs_object(cs).unwrap().unwrap();
    assert_eq!(obj.anchor, Some(Anchor::Text("6f1c2b".into())));
    assert_eq!(obj.mv, Some(mv), "keeps its join");
    assert_eq!(
        out.values[0].removed,
        vec![s("AQIDBA==")],
        "onPremisesImmutableId not imported"
    );
}

#[test]
fn an_export_the_target_matched_to_an_imported_object_takes_its_place() {
    let (_dir, mut store) = store();
    let mut tx = store.begin().unwrap();
    let mv = tx.create_mv(MvObjectType::Person).unwrap();
    let cs = provisioned(&mut *tx, mv);
    // The tenant already held the user (imported, joined to nothing): the add hard-matched it.
    let mut cloud = object(5, "cn=6f1c2b", &[("displayName", vec![s("Ann")])]);
    cloud.anchor = Anchor::Text("6f1c2b".into());
    let imported = tx.import_object(&aad(), &cloud).unwrap().cs;
    assert_ne!(imported, cs);
    tx.set_cs_anchor(cs, &Anchor::Text("6f1c2b".into()))
        .unwrap();
    assert!(
        tx.cs_object(imported).unwrap().is_none(),
        "the duplicate is gone"
    );
    let obj = tx.cs_object(cs).unwrap().unwrap();
    assert_eq!(
        (obj.anchor, obj.mv),
        (Some(Anchor::Text("6f1c2b".into())), Some(mv))
    );
    assert_eq!(
        tx.cs_anchor_by_dn(&aad(), &obj.dn).unwrap(),
        Some((cs, Some(Anchor::Text("6f1c2b".into()))))
    );
    // A holder that is joined to something stays, and the export is a conflict.
    let mv2 = tx.create_mv(MvObjectType::Person).unwrap();
    let other = tx
        .provision_export_object(
            &aad(),
            mv2,
            &Dn::parse("CN=other").unwrap(),
            "user",
            &Attributes::new(),
        )
        .unwrap();
    assert!(matches!(
        tx.set_cs_anchor(other, &Anchor::Text("6f1c2b".into())),
        Err(StoreError::Conflict { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// History

#[test]
fn runs_keep_their_errors_until_purged() {
    let (_dir, mut store) = store();
    let day = |d: u32| DateTime::from_parts(2025, 1, d, 3, 0, 0, 0).unwrap();
    let mut tx = store.begin().unwrap();
    let old = tx
        .start_run(&NewRun {
            profile: "delta-cycle".into(),
            connectors: vec![ad(), aad()],
            started_at: day(1),
        })
        .unwrap();
    tx.finish_run(
        old,
        &RunEnd {
            status: RunStatus::Success,
            counts: RunCounts::default(),
            per_connector: Vec::new(),
            finished_at: day(1),
            duration: Duration::from_millis(1500),
            message: None,
        },
    )
    .unwrap();
    let run = tx
        .start_run(&NewRun {
            profile: "export".into(),
            connectors: vec![aad()],
            started_at: day(9),
        })
        .unwrap();
    let error = RunObjectError {
        connector: aad(),
        dn: Some(dn("CN=Ann,OU=Staff,DC=corp")),
        anchor: Some(guid(1)),
        attribute: Some(attr("userPrincipalName")),
        message: "another object already has userPrincipalName ann@corp.example".into(),
    };
    tx.add_run_error(run, &error).unwrap();
    tx.add_run_error(
        run,
        &RunObjectError {
            dn: None,
            attribute: None,
            message: "second".into(),
            ..error.clone()
        },
    )
    .unwrap();
    assert!(matches!(
        tx.add_run_error(RunId(999), &error),
        Err(StoreError::NotFound { .. })
    ));
    let counts = RunCounts {
        adds: 10,
        updates: 5,
        deletes: 1,
        errors: 2,
        filtered: 3,
    };
    tx.finish_run(
        run,
        &RunEnd {
            status: RunStatus::CompletedWithErrors,
            counts,
            per_connector: vec![(aad(), counts)],
            finished_at: day(9),
            duration: Duration::from_millis(42_000),
            message: Some("2 objects failed".into()),
        },
    )
    .unwrap();
    let stuck = tx
        .start_run(&NewRun {
            profile: "full-import".into(),
            connectors: vec![ad()],
            started_at: day(10),
        })
        .unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    assert_eq!(tx.interrupt_unfinished_runs(day(11)).unwrap(), 1);
    let runs = tx.recent_runs(10, 1).unwrap();
    assert_eq!(
        runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![stuck, run, old]
    );
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert!(
        runs[0]
            .message
            .as_deref()
            .unwrap()
            .starts_with("interrupted")
    );
    let r = &runs[1];
    assert_eq!(r.status, RunStatus::CompletedWithErrors);
    assert_eq!(r.status.to_string(), "completed-with-errors");
    assert_eq!(r.counts, counts);
    assert_eq!(r.duration, Some(Duration::from_secs(42)));
    assert_eq!(r.connectors, vec![aad()]);
    assert_eq!(r.per_connector, vec![(aad(), counts)]);
    assert_eq!(runs[2].per_connector[1], (aad(), RunCounts::default()));
    assert_eq!(r.errors, vec![error]);
    assert_eq!(r.stored_errors, 2);
    assert_eq!(runs[2].connectors, vec![ad(), aad()]);

    assert_eq!(tx.purge_runs(day(8)).unwrap(), 1);
    let runs = tx.recent_runs(10, 10).unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1].errors.len(), 2);
}

#[test]
fn configuration_history_keeps_distinct_applied_configurations() {
    let (_dir, mut store) = store();
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.latest_config().unwrap(), None);
    let t = DateTime::from_parts(2025, 5, 1, 0, 0, 0, 0).unwrap();
    assert!(
        tx.record_config(t, "sha256:aa", "[sync]\ninterval = \"30m\"\n")
            .unwrap()
    );
    assert!(
        !tx.record_config(t, "sha256:aa", "[sync]\ninterval = \"30m\"\n")
            .unwrap()
    );
    assert!(
        tx.record_config(t, "sha256:bb", "[sync]\ninterval = \"1h\"\n")
            .unwrap()
    );
    let latest = tx.latest_config().unwrap().unwrap();
    assert_eq!(latest.checksum, "sha256:bb");
    assert_eq!(latest.applied_at, t);
    assert!(latest.text.contains("1h"));
}

// ---------------------------------------------------------------------------------------------
// Atomicity

#[test]
fn a_failing_method_undoes_its_own_writes_and_a_dropped_transaction_leaves_nothing() {
    let (_dir, mut store) = store();
    // Make any value 'poison' fail to store, after its object row was written (a reference:
    // references keep their value rows, other attributes live in the object's row).
    store
        .raw()
        .execute_batch(
            "CREATE TEMP TRIGGER poison BEFORE INSERT ON cs_value WHEN NEW.value = 'poison' \
             BEGIN SELECT RAISE(ABORT, 'poisoned value'); END;",
        )
        .unwrap();
    let poisoned = object(
        2,
        "CN=Two,DC=corp",
        &[
            ("cn", vec![s("two")]),
            (
                "member",
                vec![Value::Ref("CN=x".into()), Value::Ref("poison".into())],
            ),
        ],
    );

    let mut tx = store.begin().unwrap();
    tx.import_object(&ad(), &user(1)).unwrap();
    let err = tx.import_object(&ad(), &poisoned).unwrap_err();
    assert!(err.to_string().contains("poisoned value"), "{err}");
    // The engine records a per-object error and goes on: user 1 is kept, object 2 left nothing.
    tx.import_object(&ad(), &user(3)).unwrap();
    tx.commit().unwrap();
    let tx = store.begin().unwrap();
    assert!(tx.find_cs_by_anchor(&ad(), &guid(1)).unwrap().is_some());
    assert_eq!(tx.find_cs_by_anchor(&ad(), &guid(2)).unwrap(), None);
    assert!(tx.find_dn_free(&dn("CN=Two,DC=corp")));
    drop(tx);

    // A stage that fails half-way and is abandoned leaves nothing at all.
    let mut tx = store.begin().unwrap();
    tx.import_object(&ad(), &user(4)).unwrap();
    tx.set_watermark(&ad(), Some(b"half")).unwrap();
    assert!(tx.import_object(&ad(), &poisoned).is_err());
    drop(tx);
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.find_cs_by_anchor(&ad(), &guid(4)).unwrap(), None);
    assert_eq!(tx.connector_state(&ad()).unwrap().unwrap().watermark, None);
    tx.import_object(&ad(), &user(4)).unwrap();
    tx.rollback().unwrap();
    let tx = store.begin().unwrap();
    assert_eq!(tx.find_cs_by_anchor(&ad(), &guid(4)).unwrap(), None);
    assert_eq!(tx.cs_count(&ad(), CsScope::All).unwrap(), 2);
}

/// Test-only convenience on transactions.
trait DnFree {
    fn find_dn_free(&self, dn: &Dn) -> bool;
}

impl DnFree for Box<dyn StoreTx + '_> {
    fn find_dn_free(&self, dn: &Dn) -> bool {
        self.find_cs_by_dn(&ad(), dn).unwrap().is_empty()
    }
}

#[test]
fn set_mv_attributes_writes_like_single_calls_in_one_step() {
    let (_dir, mut store) = store();
    let mut tx = store.begin().unwrap();
    tx.set_join_attributes(&[attr("mail")]).unwrap();
    let a = tx.create_mv(MvObjectType::Person).unwrap();
    let b = tx.create_mv(MvObjectType::Person).unwrap();
    let c = |values: Vec<Value>| Contribution {
        values,
        rule: "In from AD - User Common".into(),
        connector: ad(),
    };
    let first = vec![
        (attr("mail"), Some(c(vec![s("x@corp.example")]))),
        (
            attr("proxyAddresses"),
            Some(c(vec![s("SMTP:x@corp.example"), s("smtp:y@corp.example")])),
        ),
        (attr("department"), Some(c(vec![s("Sales")]))),
    ];
    let bulk = tx.set_mv_attributes(a, &first).unwrap();
    for (name, contribution) in &first {
        tx.set_mv_attribute(b, name, contribution.as_ref()).unwrap();
    }
    assert_eq!(bulk.iter().map(|c| c.added.len()).sum::<usize>(), 4);
    let (oa, ob) = (
        tx.mv_object(a).unwrap().unwrap(),
        tx.mv_object(b).unwrap().unwrap(),
    );
    assert_eq!(oa.attributes, ob.attributes);

    // A second write changes one value, removes one attribute, leaves one alone.
    let second = vec![
        (
            attr("proxyAddresses"),
            Some(c(vec![s("SMTP:x@corp.example"), s("smtp:z@corp.example")])),
        ),
        (attr("department"), None),
    ];
    let changes = tx.set_mv_attributes(a, &second).unwrap();
    assert_eq!(changes[0].added, vec![s("smtp:z@corp.example")]);
    assert_eq!(changes[0].removed, vec![s("smtp:y@corp.example")]);
    assert_eq!(changes[1].removed, vec![s("Sales")]);
    let oa = tx.mv_object(a).unwrap().unwrap();
    assert!(!oa.attributes.contains_key(&attr("department")));
    assert_eq!(
        oa.attributes[&attr("mail")].values,
        vec![s("x@corp.example")]
    );
    // The join index follows the bulk write.
    let found = tx
        .find_mv_by_value(
            None,
            &attr("mail"),
            &s("X@corp.example"),
            JoinCase::Insensitive,
        )
        .unwrap();
    assert_eq!(found, vec![a, b]);
    // Unknown objects are refused, as by the single call.
    assert!(tx.set_mv_attributes(MvId(9999), &second).is_err());
}

// ---------------------------------------------------------------------------------------------
// Bulk page reads of the sync stage

#[test]
fn a_metaverse_page_reads_each_object_as_a_single_read_does() {
    let (_dir, mut store) = store();
    let mut tx = store.begin().unwrap();
    let contribution = |values: Vec<Value>, rule: &str, connector: ConnectorName| Contribution {
        values,
        rule: rule.into(),
        connector,
    };
    let mut ids = Vec::new();
    for i in 0..12u32 {
        let ty = if i % 3 == 0 {
            MvObjectType::Group
        } else {
            MvObjectType::Person
        };
        let mv = tx.create_mv(ty).unwrap();
        ids.push(mv);
        if i == 5 {
            continue; // an object without attributes
        }
        tx.set_mv_attributes(
            mv,
            &[
                (
                    attr("displayName"),
                    Some(contribution(vec![s(&format!("N{i}"))], "r1", ad())),
                ),
                (
                    attr("proxyAddresses"),
                    // Values keep the order they were written in, not their sort order.
                    Some(contribution(
                        vec![s("smtp:z@x"), s(&format!("SMTP:{i}@x")), s("smtp:a@x")],
                        "r2",
                        aad(),
                    )),
                ),
                (
                    attr("employeeNumber"),
                    Some(contribution(vec![Value::Num(i64::from(i))], "r3", ad())),
                ),
            ],
        )
        .unwrap();
        // Values added later come after the earlier ones; a differently spelled name is the
        // same attribute.
        tx.add_mv_values(
            mv,
            &attr("PROXYADDRESSES"),
            &[s("smtp:b@x"), s("smtp:0@x")],
            "r2",
            &aad(),
        )
        .unwrap();
        if i % 4 == 1 {
            tx.add_mv_values(
                mv,
                &attr("member"),
                &[
                    Value::Ref(format!("mv:{}", i + 100)),
                    Value::Ref("mv:1".into()),
                ],
                "members",
                &ad(),
            )
            .unwrap();
        }
    }
    // A gap: a deleted object is simply absent.
    assert!(tx.delete_mv(ids[7]).unwrap());
    // Pages as the outbound stage reads them: after is exclusive, through inclusive.
    let mut seen = Vec::new();
    for (after, through) in [
        (None, ids[3]),
        (Some(ids[3]), ids[8]),
        (Some(ids[8]), ids[11]),
    ] {
        let page = tx.mv_page(after, through, &[]).unwrap();
        for o in &page {
            assert!(
                after.is_none_or(|a| o.id > a) && o.id <= through,
                "{:?}",
                o.id
            );
        }
        seen.extend(page);
    }
    let expected: Vec<MvObject> = ids
        .iter()
        .filter_map(|id| tx.mv_object(*id).unwrap())
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(seen.len(), 11);
    let one = &seen[1];
    assert_eq!(
        one.attributes[&attr("proxyAddresses")].values,
        vec![
            s("smtp:z@x"),
            s("SMTP:1@x"),
            s("smtp:a@x"),
            s("smtp:b@x"),
            s("smtp:0@x")
        ]
    );
    assert_eq!(one.attributes[&attr("proxyAddresses")].connector, aad());
    assert_eq!(&*one.attributes[&attr("member")].rule, "members");
    assert!(seen[5].attributes.is_empty());
    assert!(
        tx.mv_page(Some(ids[11]), MvId(ids[11].0 + 5), &[])
            .unwrap()
            .is_empty()
    );
    // Left out: a row attribute (members) and an inline one, as a single read leaves them out.
    let skip = [attr("member"), attr("proxyAddresses")];
    let without = tx.mv_page(None, ids[11], &skip).unwrap();
    let expected: Vec<MvObject> = ids
        .iter()
        .filter_map(|id| tx.mv_object_without(*id, &skip).unwrap())
        .collect();
    assert_eq!(without, expected);
    assert!(without[1].attributes.contains_key(&attr("displayName")));
    assert!(
        without
            .iter()
            .all(|o| skip.iter().all(|a| !o.attributes.contains_key(a)))
    );
}

#[test]
fn counterparts_of_a_page_are_the_connectors_objects_joined_in_the_range() {
    let (_dir, mut store) = store();
    let sources = import_and_sync(&mut store, &[user(1), user(2), user(3)]);
    let mut tx = store.begin().unwrap();
    let mvs: Vec<MvId> = (0..5)
        .map(|_| tx.create_mv(MvObjectType::Person).unwrap())
        .collect();
    // Source objects are joined too, but belong to another connector.
    for (cs, mv) in sources.iter().zip(&mvs) {
        tx.link(*cs, *mv).unwrap();
    }
    let targets: Vec<CsId> = [0usize, 2, 3]
        .iter()
        .map(|i| provisioned(&mut *tx, mvs[*i]))
        .collect();
    tx.set_cs_anchor(targets[1], &guid(77)).unwrap();

    let all = tx.counterparts_between(&aad(), None, mvs[4]).unwrap();
    let got: Vec<(MvId, CsId)> = all.iter().map(|(m, c)| (*m, c.cs)).collect();
    assert_eq!(
        got,
        vec![
            (mvs[0], targets[0]),
            (mvs[2], targets[1]),
            (mvs[3], targets[2])
        ]
    );
    for (mv, cp) in &all {
        assert_eq!(tx.counterpart(&aad(), *mv).unwrap().as_ref(), Some(cp));
    }
    assert_eq!(all[1].1.anchor, Some(guid(77)));
    assert_eq!(all[0].1.anchor, None);
    assert_eq!(all[0].1.object_class, "user");

    let middle = tx
        .counterparts_between(&aad(), Some(mvs[0]), mvs[2])
        .unwrap();
    assert_eq!(middle.len(), 1);
    assert_eq!(middle[0].0, mvs[2]);
    let sources_only = tx
        .counterparts_between(&ad(), Some(mvs[1]), mvs[4])
        .unwrap();
    assert_eq!(
        sources_only
            .iter()
            .map(|(m, c)| (*m, c.cs))
            .collect::<Vec<_>>(),
        vec![(mvs[2], sources[2])]
    );
    assert!(
        tx.counterparts_between(&ConnectorName::new("never"), None, mvs[4])
            .unwrap()
            .is_empty()
    );
}

#[test]
fn clearing_a_page_of_adds_clears_other_pending_imports_as_one_by_one_would() {
    let (_dir, mut store) = store();
    let synced = import_and_sync(&mut store, &[user(1), user(2)]);
    let mut tx = store.begin().unwrap();
    let added: Vec<CsId> = [user(3), user(4)]
        .iter()
        .map(|o| tx.import_object(&ad(), o).unwrap().cs)
        .collect();
    // user(1) changed: a pending update with value changes.
    let mut changed = user(1);
    changed
        .attributes
        .insert(attr("cn"), vec![s("User 1 renamed")]);
    tx.import_object(&ad(), &changed).unwrap();
    assert!(!tx.pending_value_changes(synced[0]).unwrap().is_empty());
    // user(2) deleted: a pending delete.
    tx.import_deleted(&ad(), &guid(2)).unwrap();
    let pending = |tx: &dyn StoreTx, id: CsId| tx.cs_object(id).unwrap().map(|o| o.pending_import);
    assert_eq!(pending(&*tx, added[0]), Some(PendingImport::Add));
    assert_eq!(pending(&*tx, synced[0]), Some(PendingImport::Update));
    assert_eq!(pending(&*tx, synced[1]), Some(PendingImport::Delete));

    tx.clear_pending_adds(&[added[0], synced[0], synced[1], added[1]])
        .unwrap();
    assert_eq!(pending(&*tx, added[0]), Some(PendingImport::None));
    assert_eq!(pending(&*tx, added[1]), Some(PendingImport::None));
    assert_eq!(pending(&*tx, synced[0]), Some(PendingImport::None));
    assert!(tx.pending_value_changes(synced[0]).unwrap().is_empty());
    assert_eq!(
        pending(&*tx, synced[1]),
        None,
        "a processed delete removes the object"
    );
    assert_eq!(tx.cs_count(&ad(), CsScope::PendingImport).unwrap(), 0);
    // Nothing to clear is fine; an unknown id is an error, as for one object.
    tx.clear_pending_adds(&[]).unwrap();
    assert!(matches!(
        tx.clear_pending_adds(&[CsId(9999)]),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn metaverse_attributes_live_inline_except_references_and_move_between_the_two() {
    let (dir, mut store) = store();
    let path = dir.path().join("state/hybridsync.db");
    let rows = |sql: &str| -> i64 {
        rusqlite::Connection::open(&path)
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    };
    let c = |values: Vec<Value>| Contribution {
        values,
        rule: "In from AD - User Common".into(),
        connector: ad(),
    };
    let m = |i: u32| Value::Ref(format!("mv:{i}"));
    let mut tx = store.begin().unwrap();
    tx.set_join_attributes(&[attr("sourceAnchor")]).unwrap();
    let mv = tx.create_mv(MvObjectType::Person).unwrap();
    let written = vec![
        (attr("displayName"), Some(c(vec![s("Ann")]))),
        (
            attr("proxyAddresses"),
            Some(c(vec![s("SMTP:a@x"), s("smtp:b@x")])),
        ),
        (attr("sourceAnchor"), Some(c(vec![s("QUJD")]))),
        (attr("manager"), Some(c(vec![m(7)]))),
    ];
    tx.set_mv_attributes(mv, &written).unwrap();
    tx.commit().unwrap();
    // The reference is rows; the rest is the object's row alone, plus the join value's key.
    assert_eq!(rows("SELECT COUNT(*) FROM mv_value"), 1);
    assert_eq!(rows("SELECT COUNT(*) FROM mv_attribute"), 1);
    assert_eq!(rows("SELECT COUNT(*) FROM mv_join"), 1);
    assert_eq!(
        rows("SELECT COUNT(*) FROM mv_object WHERE attrs IS NOT NULL"),
        1
    );

    let mut tx = store.begin().unwrap();
    let back = tx.mv_object(mv).unwrap().unwrap();
    for (name, want) in &written {
        assert_eq!(back.attributes.get(name), want.as_ref(), "{name}");
    }
    assert_eq!(
        tx.mv_page(None, mv, &[]).unwrap()[0].attributes,
        back.attributes
    );
    assert_eq!(
        tx.find_mv_by_value(
            Some(MvObjectType::Person),
            &attr("sourceAnchor"),
            &s("QUJD"),
            JoinCase::Sensitive
        )
        .unwrap(),
        vec![mv]
    );
    assert_eq!(
        tx.mv_referencing(MvId(7)).unwrap(),
        vec![(mv, attr("manager"))]
    );
    assert_eq!(
        tx.mv_lineage(mv, &attr("displayName")).unwrap(),
        Some(("In from AD - User Common".to_string(), ad()))
    );

    // An inline attribute that gets a reference moves into rows; the change is reported
    // against what it had inline.
    let change = tx
        .set_mv_attribute(
            mv,
            &attr("proxyAddresses"),
            Some(&c(vec![s("smtp:b@x"), m(8)])),
        )
        .unwrap();
    assert_eq!(change.added, vec![m(8)]);
    assert_eq!(change.removed, vec![s("SMTP:a@x")]);
    assert_eq!(
        tx.mv_attribute(mv, &attr("proxyAddresses"))
            .unwrap()
            .unwrap()
            .values,
        vec![s("smtp:b@x"), m(8)]
    );
    // ... and back inline once it has no reference.
    let change = tx
        .set_mv_attribute(
            mv,
            &attr("proxyAddresses"),
            Some(&c(vec![s("smtp:b@x"), s("x")])),
        )
        .unwrap();
    assert_eq!((change.added, change.removed), (vec![s("x")], vec![m(8)]));
    // Inline values added and removed one by one keep their order.
    tx.add_mv_values(mv, &attr("proxyAddresses"), &[s("y"), s("x")], "r2", &ad())
        .unwrap();
    let removed = tx
        .remove_mv_values(mv, &attr("proxyAddresses"), &[s("smtp:b@x"), s("zz")])
        .unwrap();
    assert_eq!(removed.removed, vec![s("smtp:b@x")]);
    let now = tx
        .mv_attribute(mv, &attr("proxyAddresses"))
        .unwrap()
        .unwrap();
    assert_eq!((now.values, &*now.rule), (vec![s("x"), s("y")], "r2"));

    // A new join attribute is indexed where its values are (inline), and joins find them.
    tx.set_join_attributes(&[attr("sourceAnchor"), attr("displayName")])
        .unwrap();
    assert_eq!(
        tx.find_mv_by_value(None, &attr("displayName"), &s("ANN"), JoinCase::Insensitive)
            .unwrap(),
        vec![mv]
    );
    assert_eq!(
        tx.mv_object(mv)
            .unwrap()
            .unwrap()
            .attributes
            .get(&attr("displayName")),
        written[0].1.as_ref()
    );
    tx.commit().unwrap();
    assert_eq!(
        rows("SELECT COUNT(*) FROM mv_value WHERE attribute = 'displayName'"),
        0
    );
    assert_eq!(
        rows("SELECT COUNT(*) FROM mv_join WHERE attribute = 'displayName'"),
        1
    );
}

#[test]
fn join_keys_follow_every_write_and_leave_with_their_object() {
    let (dir, mut store) = store();
    let path = dir.path().join("state/hybridsync.db");
    let keys = |attribute: &str| -> i64 {
        rusqlite::Connection::open(&path)
            .unwrap()
            .query_row(
                "SELECT COUNT(*) FROM mv_join WHERE attribute = ?1",
                [attribute],
                |r| r.get(0),
            )
            .unwrap()
    };
    let c = |values: Vec<Value>| Contribution {
        values,
        rule: "In from AD - User Join".into(),
        connector: ad(),
    };
    let mut tx = store.begin().unwrap();
    tx.set_join_attributes(&[attr("proxyAddresses")]).unwrap();
    let mv = tx.create_mv(MvObjectType::Person).unwrap();
    let find = |tx: &dyn StoreTx, v: &str| {
        tx.find_mv_by_value(None, &attr("proxyAddresses"), &s(v), JoinCase::Insensitive)
            .unwrap()
    };
    // Two values that differ only in case share one key.
    tx.set_mv_attribute(
        mv,
        &attr("proxyAddresses"),
        Some(&c(vec![s("SMTP:a@x"), s("smtp:A@X"), s("smtp:b@x")])),
    )
    .unwrap();
    tx.commit().unwrap();
    assert_eq!(keys("proxyAddresses"), 2);
    let mut tx = store.begin().unwrap();
    // Removing one of them keeps the shared key; removing the other drops it.
    tx.remove_mv_values(mv, &attr("proxyAddresses"), &[s("SMTP:a@x")])
        .unwrap();
    assert_eq!(find(&*tx, "smtp:a@x"), vec![mv]);
    tx.remove_mv_values(mv, &attr("proxyAddresses"), &[s("smtp:A@X")])
        .unwrap();
    assert_eq!(find(&*tx, "smtp:a@x"), vec![]);
    // Added values are found; a replaced list leaves only its own keys.
    tx.add_mv_values(mv, &attr("proxyAddresses"), &[s("smtp:c@x")], "r", &ad())
        .unwrap();
    assert_eq!(find(&*tx, "SMTP:C@X"), vec![mv]);
    tx.set_mv_attribute(mv, &attr("proxyAddresses"), Some(&c(vec![s("smtp:d@x")])))
        .unwrap();
    tx.commit().unwrap();
    assert_eq!(keys("proxyAddresses"), 1);
    let mut tx = store.begin().unwrap();
    for gone in ["smtp:b@x", "smtp:c@x"] {
        assert_eq!(find(&*tx, gone), vec![], "{gone}");
    }
    assert_eq!(find(&*tx, "smtp:d@x"), vec![mv]);
    // A removed attribute and a deleted object take their keys along.
    tx.set_mv_attribute(mv, &attr("proxyAddresses"), None)
        .unwrap();
    assert_eq!(find(&*tx, "smtp:d@x"), vec![]);
    tx.set_mv_attribute(mv, &attr("proxyAddresses"), Some(&c(vec![s("smtp:e@x")])))
        .unwrap();
    assert!(tx.delete_mv(mv).unwrap());
    tx.commit().unwrap();
    assert_eq!(keys("proxyAddresses"), 0);
    // Dropping the join attribute drops its keys.
    let mut tx = store.begin().unwrap();
    let other = tx.create_mv(MvObjectType::Person).unwrap();
    tx.set_mv_attribute(
        other,
        &attr("proxyAddresses"),
        Some(&c(vec![s("smtp:f@x")])),
    )
    .unwrap();
    tx.set_join_attributes(&[]).unwrap();
    tx.commit().unwrap();
    assert_eq!(keys("proxyAddresses"), 0);
}

#[test]
fn join_rows_from_before_version_6_keep_joining_and_move_inline_when_written() {
    let (dir, mut store) = store();
    let path = dir.path().join("state/hybridsync.db");
    let mut tx = store.begin().unwrap();
    tx.set_join_attributes(&[attr("sourceAnchor")]).unwrap();
    let mv = tx.create_mv(MvObjectType::Person).unwrap();
    tx.commit().unwrap();
    // What a version 5 database holds for a join attribute: lineage, a value row and its key in
    // mv_value (the migration moved such keys; this row is what it moved, written after it).
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(&format!(
        "INSERT INTO connector (name) VALUES ('corp.example.com');
         INSERT INTO mv_attribute (mv_id, attribute, rule, connector_id, next_ordinal)
             VALUES ({0}, 'sourceAnchor', 'old rule', 1, 1);
         INSERT INTO mv_value (mv_id, attribute, tag, value, ordinal) VALUES
             ({0}, 'sourceAnchor', 1, CAST('QUJD' AS TEXT), 0);",
        mv.0
    ))
    .unwrap();
    raw.execute(
        "INSERT INTO mv_join (attribute, value_key, mv_id) VALUES ('sourceAnchor', ?1, ?2)",
        rusqlite::params![crate::engine::store::join_key(&s("QUJD")), mv.0],
    )
    .unwrap();
    drop(raw);
    let mut tx = store.begin().unwrap();
    let find = |tx: &dyn StoreTx, v: &str, case| {
        tx.find_mv_by_value(None, &attr("sourceAnchor"), &s(v), case)
            .unwrap()
    };
    assert_eq!(find(&*tx, "qujd", JoinCase::Insensitive), vec![mv]);
    assert_eq!(find(&*tx, "QUJD", JoinCase::Sensitive), vec![mv]);
    assert_eq!(find(&*tx, "qujd", JoinCase::Sensitive), vec![]);
    let change = tx
        .set_mv_attribute(
            mv,
            &attr("sourceAnchor"),
            Some(&Contribution {
                values: vec![s("REVG")],
                rule: "new rule".into(),
                connector: ad(),
            }),
        )
        .unwrap();
    assert_eq!(
        (change.added, change.removed),
        (vec![s("REVG")], vec![s("QUJD")])
    );
    assert_eq!(find(&*tx, "qujd", JoinCase::Insensitive), vec![]);
    assert_eq!(find(&*tx, "REVG", JoinCase::Sensitive), vec![mv]);
    tx.commit().unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let count = |sql: &str| -> i64 { raw.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        (
            count("SELECT COUNT(*) FROM mv_value"),
            count("SELECT COUNT(*) FROM mv_attribute"),
            count("SELECT COUNT(*) FROM mv_join"),
        ),
        (0, 0, 1),
        "the rows went when it moved inline; one key is left"
    );
}

#[test]
fn migrating_to_version_6_moves_join_keys_and_drops_the_old_index() {
    use super::schema::{MIGRATIONS, VERSION_TABLE};
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(VERSION_TABLE).unwrap();
    for m in MIGRATIONS.iter().filter(|m| m.version < 6) {
        conn.execute_batch(m.sql).unwrap();
    }
    conn.execute_batch(
        "INSERT INTO connector (id, name) VALUES (1, 'corp');
         INSERT INTO mv_object (id, object_type, created_at) VALUES (1, 'person', 0), (2, 'person', 0);
         INSERT INTO mv_value (mv_id, attribute, tag, value, ordinal, value_key) VALUES
             (1, 'mail', 1, 'A@x', 0, CAST('a@x' AS BLOB)),
             (2, 'mail', 1, 'b@x', 0, CAST('b@x' AS BLOB)),
             (2, 'department', 1, 'Ops', 0, NULL);",
    )
    .unwrap();
    let v6 = MIGRATIONS.iter().find(|m| m.version == 6).unwrap();
    conn.execute_batch(v6.sql).unwrap();
    let keys: Vec<(String, Vec<u8>, i64)> = conn
        .prepare("SELECT attribute, value_key, mv_id FROM mv_join ORDER BY mv_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        keys,
        vec![
            ("mail".to_string(), b"a@x".to_vec(), 1),
            ("mail".to_string(), b"b@x".to_vec(), 2)
        ]
    );
    let old_index: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'mv_value_join'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let left: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM mv_value WHERE value_key IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((old_index, left), (0, 0));
}

#[test]
fn metaverse_rows_from_before_version_4_are_read_and_move_inline_when_written() {
    let (dir, mut store) = store();
    let path = dir.path().join("state/hybridsync.db");
    let mut tx = store.begin().unwrap();
    let mv = tx.create_mv(MvObjectType::Person).unwrap();
    tx.commit().unwrap();
    // What a version 3 database holds: the attribute as a lineage row and value rows.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(&format!(
        "INSERT INTO connector (name) VALUES ('corp.example.com');
         INSERT INTO mv_attribute (mv_id, attribute, rule, connector_id, next_ordinal)
             VALUES ({0}, 'department', 'old rule', 1, 2);
         INSERT INTO mv_value (mv_id, attribute, tag, value, ordinal) VALUES
             ({0}, 'department', 1, CAST('Sales' AS BLOB), 1),
             ({0}, 'department', 1, CAST('Ops' AS BLOB), 0);",
        mv.0
    ))
    .unwrap();
    // Stored as TEXT by the old writer: the payload column has no affinity, so write it so.
    raw.execute(
        "UPDATE mv_value SET value = CAST(value AS TEXT) WHERE mv_id = ?1",
        [mv.0],
    )
    .unwrap();
    drop(raw);
    let mut tx = store.begin().unwrap();
    let old = tx.mv_attribute(mv, &attr("department")).unwrap().unwrap();
    assert_eq!(old.values, vec![s("Ops"), s("Sales")]);
    assert_eq!(&*old.rule, "old rule");
    let change = tx
        .set_mv_attribute(
            mv,
            &attr("department"),
            Some(&Contribution {
                values: vec![s("Sales"), s("Legal")],
                rule: "new rule".into(),
                connector: ad(),
            }),
        )
        .unwrap();
    assert_eq!(
        (change.added, change.removed),
        (vec![s("Legal")], vec![s("Ops")])
    );
    assert_eq!(
        tx.mv_attribute(mv, &attr("department"))
            .unwrap()
            .unwrap()
            .values,
        vec![s("Sales"), s("Legal")]
    );
    tx.commit().unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let left: i64 = raw
        .query_row("SELECT COUNT(*) FROM mv_value", [], |r| r.get(0))
        .unwrap();
    let lineage: i64 = raw
        .query_row("SELECT COUNT(*) FROM mv_attribute", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        (left, lineage),
        (0, 0),
        "the rows went when it moved inline"
    );
}

#[test]
fn provisioning_with_its_add_is_one_step_and_a_second_object_or_a_missing_one_writes_nothing() {
    let (_dir, mut store) = store();
    let mut tx = store.begin().unwrap();
    let mv = tx.create_mv(MvObjectType::Person).unwrap();
    let mut attrs = Attributes::new();
    attrs.insert(attr("displayName"), vec![s("Ann")]);
    attrs.insert(attr("mail"), vec![s("ann@x")]);
    let changes: Vec<AttributeChange> = attrs
        .iter()
        .map(|(k, v)| AttributeChange::replace(k.clone(), Vec::new(), v.clone()))
        .collect();
    let ann = dn("CN=Ann");
    let cs = tx
        .provision_export_add(&aad(), mv, &ann, "user", &attrs, &changes)
        .unwrap();
    let obj = tx.cs_object(cs).unwrap().unwrap();
    assert_eq!(
        (obj.mv, obj.anchor, &obj.attributes),
        (Some(mv), None, &attrs)
    );
    let stored = tx.pending_export_for(cs).unwrap().unwrap().export;
    assert_eq!(
        (stored.operation, stored.dn, stored.changes),
        (Operation::Add, ann.clone(), changes.clone())
    );

    // The same metaverse object again: a conflict that names the first object.
    let err = tx
        .provision_export_add(&aad(), mv, &dn("CN=Ann 2"), "user", &attrs, &changes)
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("already has connector-space object {}", cs.0)),
        "{err}"
    );
    // A metaverse object that does not exist: not found.
    let err = tx
        .provision_export_add(
            &aad(),
            MvId(999),
            &dn("CN=Nobody"),
            "user",
            &attrs,
            &changes,
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    assert!(
        tx.find_cs_by_dn(&aad(), &dn("CN=Ann 2"))
            .unwrap()
            .is_empty()
    );
    assert!(
        tx.find_cs_by_dn(&aad(), &dn("CN=Nobody"))
            .unwrap()
            .is_empty()
    );
    assert_eq!(tx.export_summary(&aad()).unwrap().adds, 1);
}

#[test]
fn project_many_is_project_and_set_attributes_for_each_or_nothing_at_all() {
    let c = |values: Vec<Value>, rule: &str| Contribution {
        values,
        rule: rule.into(),
        connector: ad(),
    };
    let attributes = |n: u32| {
        vec![
            (
                attr("displayName"),
                c(vec![s(&format!("User {n}"))], "common"),
            ),
            (
                attr("proxyAddresses"),
                c(vec![s("SMTP:a@x"), s("smtp:b@x"), s("SMTP:a@x")], "common"),
            ),
            (
                attr("sourceAnchorBinary"),
                c(vec![Value::Bin(vec![n as u8; 16])], "join"),
            ),
            (attr("manager"), c(vec![Value::Ref("mv:1".into())], "refs")),
        ]
    };
    // The same objects, once in a batch and once one by one, read back the same.
    let mut read = Vec::new();
    for batched in [true, false] {
        let (_dir, mut store) = store();
        let ids = import_and_sync(&mut store, &(1..=40).map(user).collect::<Vec<_>>());
        let mut tx = store.begin().unwrap();
        tx.set_join_attributes(&[attr("sourceAnchorBinary")])
            .unwrap();
        tx.add_unresolved_ref(ids[0], &attr("manager"), &dn("CN=Boss,DC=x"), "refs")
            .unwrap();
        let mvs: Vec<MvId> = if batched {
            let batch: Vec<Projection> = ids
                .iter()
                .zip(1..)
                .map(|(cs, n)| Projection {
                    cs: *cs,
                    object_type: MvObjectType::Person,
                    attributes: attributes(n),
                })
                .collect();
            tx.project_many(&batch).unwrap()
        } else {
            ids.iter()
                .zip(1..)
                .map(|(cs, n)| {
                    let mv = tx.project(*cs, MvObjectType::Person).unwrap();
                    tx.clear_unresolved_refs(*cs, &attr("manager")).unwrap();
                    let writes: Vec<_> = attributes(n)
                        .into_iter()
                        .map(|(a, c)| (a, Some(c)))
                        .collect();
                    tx.set_mv_attributes(mv, &writes).unwrap();
                    mv
                })
                .collect()
        };
        let mut seen = Vec::new();
        for (cs, mv) in ids.iter().zip(&mvs) {
            assert_eq!(tx.cs_link(*cs).unwrap(), Some(*mv));
            let mut o = tx.mv_object(*mv).unwrap().unwrap();
            o.id = MvId(0);
            seen.push(o);
        }
        assert_eq!(
            tx.find_mv_by_value(
                Some(MvObjectType::Person),
                &attr("sourceAnchorBinary"),
                &Value::Bin(vec![7; 16]),
                JoinCase::Sensitive
            )
            .unwrap(),
            vec![mvs[6]]
        );
        assert_eq!(tx.mv_referencing(MvId(1)).unwrap().len(), 40);
        assert!(
            tx.unresolved_refs_to(&ad(), &dn("CN=Boss,DC=x"))
                .unwrap()
                .is_empty()
        );
        read.push(seen);
    }
    assert_eq!(read[0], read[1]);

    // One object of the batch joined already: nothing is written, and the error names it.
    let (_dir, mut store) = store();
    let ids = import_and_sync(&mut store, &(1..=3).map(user).collect::<Vec<_>>());
    let mut tx = store.begin().unwrap();
    let taken = tx.project(ids[1], MvObjectType::Person).unwrap();
    let batch: Vec<Projection> = ids
        .iter()
        .map(|cs| Projection {
            cs: *cs,
            object_type: MvObjectType::Person,
            attributes: attributes(1),
        })
        .collect();
    let err = tx.project_many(&batch).unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("{} (CN=User 2", ids[1].0)),
        "{err}"
    );
    assert_eq!(tx.cs_link(ids[0]).unwrap(), None);
    assert_eq!(tx.mv_ids_page(None, None, 10).unwrap(), vec![taken]);
}

// ---------------------------------------------------------------------------------------------
// Connector-space attributes inline (schema version 5)

/// The object's value rows, as (attribute, value text) sorted.
fn cs_rows(store: &SqliteStore, cs: CsId) -> Vec<(String, String)> {
    let mut stmt = store
        .raw()
        .prepare("SELECT attribute, CAST(value AS TEXT) FROM cs_value WHERE cs_id = ?1")
        .unwrap();
    let mut rows: Vec<(String, String)> = stmt
        .query_map([cs.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows.sort();
    rows
}

fn refs(names: &[&str]) -> Vec<Value> {
    names.iter().map(|n| Value::Ref((*n).into())).collect()
}

#[test]
fn connector_space_attributes_live_inline_except_references_and_long_lists() {
    let (_dir, mut store) = store();
    let many: Vec<Value> = (0..=space::INLINE_MAX_VALUES)
        .map(|i| s(&format!("smtp:a{i}@x")))
        .collect();
    let o = object(
        1,
        "CN=Group,DC=corp",
        &[
            ("cn", vec![s("Group")]),
            ("description", vec![s("b"), s("a")]),
            ("member", refs(&["CN=A,DC=corp", "CN=B,DC=corp"])),
            ("proxyAddresses", many.clone()),
        ],
    );
    let mut tx = store.begin().unwrap();
    let cs = tx.import_object(&ad(), &o).unwrap().cs;
    let read = tx.cs_object(cs).unwrap().unwrap();
    assert_eq!(
        read.attributes, o.attributes,
        "read back exactly, values in order"
    );
    let page = tx.cs_page(&ad(), CsScope::All, None, 10).unwrap();
    assert_eq!(page[0].attributes, o.attributes);
    assert_eq!(
        tx.cs_attribute(cs, &attr("description")).unwrap(),
        vec![s("b"), s("a")]
    );
    assert_eq!(tx.cs_value_count(cs, &attr("description")).unwrap(), 2);
    assert_eq!(tx.cs_value_count(cs, &attr("member")).unwrap(), 2);
    let without = tx
        .cs_object_without(cs, &[attr("member")])
        .unwrap()
        .unwrap();
    assert!(!without.attributes.contains_key(&attr("member")));
    assert_eq!(without.attributes.len(), 3);
    tx.commit().unwrap();
    let rows = cs_rows(&store, cs);
    let names: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        names,
        ["member", "proxyAddresses"].into_iter().collect(),
        "only references and the list over {} values have rows",
        space::INLINE_MAX_VALUES
    );
    assert_eq!(rows.len(), 2 + many.len());
}

#[test]
fn an_import_moves_a_changed_attribute_between_inline_and_rows_and_reports_exact_changes() {
    let (_dir, mut store) = store();
    let first = object(
        1,
        "CN=One,DC=corp",
        &[
            ("cn", vec![s("One")]),
            ("otherMailbox", vec![s("a"), s("b")]),
            ("seeAlso", refs(&["CN=X,DC=corp"])),
        ],
    );
    let [cs] = import_and_sync(&mut store, std::slice::from_ref(&first))[..] else {
        panic!()
    };
    // otherMailbox grows past the inline limit (into rows); seeAlso becomes text (inline);
    // cn is unchanged and stays where it is.
    let mut long: Vec<Value> = vec![s("b")];
    long.extend((0..space::INLINE_MAX_VALUES).map(|i| s(&format!("m{i}"))));
    let second = object(
        1,
        "CN=One,DC=corp",
        &[
            ("cn", vec![s("One")]),
            ("otherMailbox", long.clone()),
            ("seeAlso", vec![s("plain")]),
        ],
    );
    let mut tx = store.begin().unwrap();
    let out = tx.import_object(&ad(), &second).unwrap();
    let mut values = out.values.clone();
    values.sort_by(|a, b| a.attribute.cmp(&b.attribute));
    assert_eq!(
        values,
        vec![
            ValueChanges {
                attribute: attr("otherMailbox"),
                added: long[1..].to_vec(),
                removed: vec![s("a")],
            },
            ValueChanges {
                attribute: attr("seeAlso"),
                added: vec![s("plain")],
                removed: refs(&["CN=X,DC=corp"]),
            },
        ]
    );
    assert_eq!(
        tx.cs_object(cs).unwrap().unwrap().attributes,
        second.attributes
    );
    tx.commit().unwrap();
    let rows = cs_rows(&store, cs);
    assert!(rows.iter().all(|r| r.0 == "otherMailbox"), "{rows:?}");
    assert_eq!(rows.len(), long.len());

    // Back: the list shrinks (inline again, rows gone) and the same import twice is unchanged.
    let third = object(
        1,
        "CN=One,DC=corp",
        &[
            ("cn", vec![s("One")]),
            ("otherMailbox", vec![s("m3"), s("b")]),
        ],
    );
    let mut tx = store.begin().unwrap();
    let out = tx.import_object(&ad(), &third).unwrap();
    let removed_mailboxes = out
        .values
        .iter()
        .find(|c| c.attribute == attr("otherMailbox"))
        .unwrap();
    assert!(removed_mailboxes.added.is_empty());
    assert_eq!(removed_mailboxes.removed.len(), long.len() - 2);
    let read = tx.cs_object(cs).unwrap().unwrap();
    assert_eq!(
        read.attributes.get(&attr("otherMailbox")).unwrap(),
        &vec![s("b"), s("m3")],
        "kept values keep their old order"
    );
    assert!(!read.attributes.contains_key(&attr("seeAlso")));
    let again = tx.import_object(&ad(), &third).unwrap();
    assert_eq!(again.change, ImportChange::Unchanged);
    tx.commit().unwrap();
    assert!(cs_rows(&store, cs).is_empty());
}

#[test]
fn a_delta_value_change_on_an_inline_attribute_rewrites_the_row_and_moves_it_when_it_grows() {
    let (_dir, mut store) = store();
    let o = object(
        5,
        "CN=Five,DC=corp",
        &[("cn", vec![s("Five")]), ("otherMailbox", vec![s("a")])],
    );
    let [cs] = import_and_sync(&mut store, &[o])[..] else {
        panic!()
    };
    let mut tx = store.begin().unwrap();
    let item = value_item(5, "otherMailbox", vec![s("b")], vec![s("a")]);
    let out = tx.import_item(&ad(), &item).unwrap().unwrap();
    assert_eq!(
        out.values,
        vec![ValueChanges {
            attribute: attr("otherMailbox"),
            added: vec![s("b")],
            removed: vec![s("a")],
        }]
    );
    // Repeated: a no-op.
    let again = tx.import_item(&ad(), &item).unwrap().unwrap();
    assert_eq!(again.values.len(), 0);
    // A new attribute of references arrives by value changes: rows.
    let item = value_item(5, "seeAlso", refs(&["CN=Y,DC=corp"]), Vec::new());
    tx.import_item(&ad(), &item).unwrap().unwrap();
    // The inline attribute grows past the limit: it moves to rows, values kept in order.
    let more: Vec<Value> = (0..space::INLINE_MAX_VALUES)
        .map(|i| s(&format!("n{i}")))
        .collect();
    let item = value_item(5, "otherMailbox", more.clone(), Vec::new());
    let out = tx.import_item(&ad(), &item).unwrap().unwrap();
    assert_eq!(out.values[0].added, more);
    let read = tx.cs_object(cs).unwrap().unwrap();
    let mut want = vec![s("b")];
    want.extend(more.iter().cloned());
    assert_eq!(read.attributes.get(&attr("otherMailbox")).unwrap(), &want);
    assert_eq!(
        read.attributes.get(&attr("seeAlso")).unwrap(),
        &refs(&["CN=Y,DC=corp"])
    );
    assert_eq!(read.attributes.get(&attr("cn")).unwrap(), &vec![s("Five")]);
    // A later whole import of the same values compares by digest: unchanged.
    let whole = object(
        5,
        "CN=Five,DC=corp",
        &[
            ("cn", vec![s("Five")]),
            ("otherMailbox", want.clone()),
            ("seeAlso", refs(&["CN=Y,DC=corp"])),
        ],
    );
    let out = tx.import_object(&ad(), &whole).unwrap();
    assert!(out.values.is_empty(), "{:?}", out.values);
    tx.commit().unwrap();
    let rows = cs_rows(&store, cs);
    assert_eq!(rows.len(), want.len() + 1);
    assert!(!rows.iter().any(|r| r.0 == "cn"));
}

#[test]
fn connector_space_rows_from_before_version_5_are_read_and_move_inline_when_changed() {
    let (dir, mut store) = store();
    let path = dir.path().join("state/hybridsync.db");
    let o = object(
        9,
        "CN=Nine,DC=corp",
        &[
            ("cn", vec![s("Nine")]),
            ("description", vec![s("x"), s("y")]),
        ],
    );
    let [cs] = import_and_sync(&mut store, std::slice::from_ref(&o))[..] else {
        panic!()
    };
    // What a version 4 database holds: no inline BLOB, every value a row (ordinals give order).
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(&format!(
        "UPDATE cs_object SET attrs = NULL WHERE id = {0};
         INSERT INTO cs_value (cs_id, attribute, tag, value, ordinal) VALUES
             ({0}, 'cn', 1, 'Nine', 0),
             ({0}, 'description', 1, 'y', 1),
             ({0}, 'description', 1, 'x', 0);",
        cs.0
    ))
    .unwrap();
    drop(raw);
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.cs_object(cs).unwrap().unwrap().attributes, o.attributes);
    assert_eq!(
        tx.cs_page(&ad(), CsScope::All, None, 5).unwrap()[0].attributes,
        o.attributes
    );
    // Unchanged: nothing moves. Changed: description moves inline, cn keeps its row.
    assert_eq!(
        tx.import_object(&ad(), &o).unwrap().change,
        ImportChange::Unchanged
    );
    let changed = object(
        9,
        "CN=Nine,DC=corp",
        &[
            ("cn", vec![s("Nine")]),
            ("description", vec![s("y"), s("z")]),
        ],
    );
    let out = tx.import_object(&ad(), &changed).unwrap();
    assert_eq!(
        out.values,
        vec![ValueChanges {
            attribute: attr("description"),
            added: vec![s("z")],
            removed: vec![s("x")],
        }]
    );
    assert_eq!(
        tx.cs_object(cs).unwrap().unwrap().attributes,
        changed.attributes
    );
    tx.commit().unwrap();
    assert_eq!(
        cs_rows(&store, cs),
        vec![("cn".to_string(), "Nine".to_string())]
    );
}

#[test]
fn a_provisioning_whose_pending_add_fails_leaves_no_object_behind() {
    let (_dir, mut store) = store();
    let mut tx = store.begin().unwrap();
    let mv = tx.create_mv(MvObjectType::Person).unwrap();
    let other = tx.create_mv(MvObjectType::Person).unwrap();
    let mut attrs = Attributes::new();
    attrs.insert(attr("displayName"), vec![s("Ann")]);
    attrs.insert(attr("manager"), refs(&["CN=Boss"]));
    let changes: Vec<AttributeChange> = attrs
        .iter()
        .map(|(k, v)| AttributeChange::replace(k.clone(), Vec::new(), v.clone()))
        .collect();
    // The connector exists (its first provisioning created it), so the next one takes the
    // path without a savepoint.
    tx.provision_export_add(&aad(), other, &dn("CN=Other"), "user", &attrs, &changes)
        .unwrap();
    tx.commit().unwrap();
    store
        .raw()
        .execute_batch(
            "CREATE TEMP TRIGGER poison BEFORE INSERT ON pending_export WHEN NEW.dn = 'CN=Ann' \
             BEGIN SELECT RAISE(ABORT, 'poisoned export'); END;",
        )
        .unwrap();
    let mut tx = store.begin().unwrap();
    let err = tx
        .provision_export_add(&aad(), mv, &dn("CN=Ann"), "user", &attrs, &changes)
        .unwrap_err();
    assert!(err.to_string().contains("poisoned export"), "{err}");
    assert!(tx.find_cs_by_dn(&aad(), &dn("CN=Ann")).unwrap().is_empty());
    // The same object provisions once the fault is gone.
    drop(tx);
    store.raw().execute_batch("DROP TRIGGER poison").unwrap();
    let mut tx = store.begin().unwrap();
    let cs = tx
        .provision_export_add(&aad(), mv, &dn("CN=Ann"), "user", &attrs, &changes)
        .unwrap();
    assert_eq!(tx.cs_object(cs).unwrap().unwrap().attributes, attrs);
    tx.commit().unwrap();
    let values: i64 = store
        .raw()
        .query_row("SELECT COUNT(*) FROM cs_value", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        values, 2,
        "the two managers' rows, none left from the failure"
    );
}

#[test]
fn waiting_references_for_several_targets_come_back_per_target_as_one_by_one() {
    let (_dir, mut store) = store();
    let ids = import_and_sync(&mut store, &(1..=3).map(user).collect::<Vec<_>>());
    let mut tx = store.begin().unwrap();
    tx.add_unresolved_ref(ids[0], &attr("manager"), &dn("CN=Boss,DC=x"), "r1")
        .unwrap();
    tx.add_unresolved_ref(ids[1], &attr("manager"), &dn("cn=boss, dc=X"), "r1")
        .unwrap();
    tx.add_unresolved_ref(ids[2], &attr("seeAlso"), &dn("CN=Other,DC=x"), "r2")
        .unwrap();
    let targets = [
        dn("CN=Nobody,DC=x"),
        dn("CN=Boss,DC=x"),
        dn("CN=Other,DC=x"),
        dn("CN=BOSS,DC=x"),
    ];
    let many = tx.unresolved_refs_to_many(&ad(), &targets).unwrap();
    let one: Vec<_> = targets
        .iter()
        .map(|t| tx.unresolved_refs_to(&ad(), t).unwrap())
        .collect();
    assert_eq!(many, one);
    assert_eq!(
        many[1],
        vec![
            (ids[0], attr("manager"), "r1".to_string()),
            (ids[1], attr("manager"), "r1".to_string())
        ]
    );
    assert!(many[0].is_empty());
    assert_eq!(many[2].len(), 1);
    assert_eq!(many[3], many[1], "the same DN, spelled otherwise");
    // Another connector's objects are not found.
    assert!(
        tx.unresolved_refs_to_many(&aad(), &targets)
            .unwrap()
            .iter()
            .all(Vec::is_empty)
    );
}

#[test]
fn counterparts_of_several_objects_come_back_as_one_by_one() {
    let (_dir, mut store) = store();
    let mut tx = store.begin().unwrap();
    let mvs: Vec<MvId> = (0..5)
        .map(|_| tx.create_mv(MvObjectType::Person).unwrap())
        .collect();
    let attrs = Attributes::new();
    for (i, mv) in mvs.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        tx.provision_export_object(&aad(), *mv, &dn(&format!("CN=U{i}")), "user", &attrs)
            .unwrap();
    }
    // Another connector's object of mvs[1] is not its counterpart in this one.
    tx.provision_export_object(&ad(), mvs[1], &dn("CN=Elsewhere"), "user", &attrs)
        .unwrap();
    let mut asked = mvs.clone();
    asked.push(MvId(999));
    let mut many = tx.counterparts_of(&aad(), &asked).unwrap();
    many.sort_by_key(|(m, _)| *m);
    let one: Vec<(MvId, Counterpart)> = asked
        .iter()
        .filter_map(|m| tx.counterpart(&aad(), *m).unwrap().map(|c| (*m, c)))
        .collect();
    assert_eq!(many, one);
    assert_eq!(
        many.iter().map(|(m, _)| *m).collect::<Vec<_>>(),
        vec![mvs[0], mvs[2], mvs[4]]
    );
    assert_eq!(many[1].1.dn, dn("CN=U2"));
}

#[test]
fn references_to_several_dns_resolve_as_one_by_one() {
    let (_dir, mut store) = store();
    let ids = import_and_sync(&mut store, &(1..=4).map(user).collect::<Vec<_>>());
    let mut tx = store.begin().unwrap();
    let a = tx.project(ids[0], MvObjectType::Person).unwrap();
    // A second object at user 3's DN, newer and the only one joined: the joined one wins over
    // the lower id, as one by one.
    let mut twin = user(3);
    twin.anchor = guid(30);
    let twin = tx.import_object(&ad(), &twin).unwrap().cs;
    assert!(twin.0 > ids[2].0);
    let c = tx.project(twin, MvObjectType::Person).unwrap();
    let dns = vec![
        dn("CN=User 3,OU=Staff,DC=corp,DC=example,DC=com"),
        dn("CN=User 2,OU=Staff,DC=corp,DC=example,DC=com"),
        dn("cn=user 1, ou=staff,DC=corp,DC=example,DC=com"),
        dn("CN=Nobody,DC=corp"),
        dn("CN=User 1,OU=Staff,DC=corp,DC=example,DC=com"),
    ];
    let many = tx.linked_mvs_by_dn(&ad(), &dns).unwrap();
    let one: Vec<Option<MvId>> = dns
        .iter()
        .map(|d| tx.linked_mv_by_dn(&ad(), d).unwrap())
        .collect();
    assert_eq!(many, one);
    assert_eq!(many, vec![Some(c), None, Some(a), None, Some(a)]);
    assert_eq!(
        tx.linked_mvs_by_dn(&aad(), &dns).unwrap(),
        vec![None; 5],
        "another connector's objects are not found"
    );
}

#[test]
fn several_connector_space_objects_read_at_once_as_one_by_one() {
    let (_dir, mut store) = store();
    let mut objects: Vec<ImportedObject> = (1..=3).map(user).collect();
    objects[1]
        .attributes
        .insert(attr("member"), refs(&["CN=A,DC=corp", "CN=B,DC=corp"]));
    let ids = import_and_sync(&mut store, &objects);
    let mut tx = store.begin().unwrap();
    let mv = tx.create_mv(MvObjectType::Person).unwrap();
    let mut attrs = Attributes::new();
    attrs.insert(attr("displayName"), vec![s("T")]);
    let target = tx
        .provision_export_object(&aad(), mv, &dn("CN=T"), "user", &attrs)
        .unwrap();
    let asked = vec![ids[2], target, CsId(999), ids[0], ids[1]];
    let many = tx.cs_objects(&asked).unwrap();
    let one: Vec<CsObject> = asked
        .iter()
        .filter_map(|id| tx.cs_object(*id).unwrap())
        .collect();
    assert_eq!(many, one);
    assert_eq!(
        many.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![ids[2], target, ids[0], ids[1]],
        "in the order asked, the missing one left out"
    );
    assert_eq!(many[1].connector, aad());
    assert_eq!(many[3].attributes.get(&attr("member")).unwrap().len(), 2);
}

#[test]
fn batched_lookups_probe_an_index_per_key_and_never_walk_a_connector() {
    // The planner has no statistics here; a long key list once made it walk every object of
    // the connector and probe each (quadratic at 100,000 objects). 500 keys, as the engine
    // sends them.
    let (_dir, store) = store();
    let plan = |sql: &str, n: usize| -> String {
        let params: Vec<rusqlite::types::Value> =
            std::iter::once(rusqlite::types::Value::Integer(1))
                .chain((0..n).map(|i| rusqlite::types::Value::Text(format!("k{i}"))))
                .collect();
        let mut stmt = store
            .raw()
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let rows: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(params.iter()), |r| r.get(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.join("; ")
    };
    let waiting = plan(&references::waiting_refs_sql(500), 500);
    assert!(
        waiting.starts_with("SEARCH u USING INDEX unresolved_ref_target (target_key=?)")
            && !waiting.contains("cs_object_connector"),
        "{waiting}"
    );
    let by_dn = plan(&references::linked_by_dn_sql(500), 1000);
    assert_eq!(
        by_dn,
        "SCAN 500-ROW VALUES CLAUSE; \
         SEARCH o USING INDEX cs_object_dn (connector_id=? AND dn_key=?)"
    );
    let counterparts = plan(&references::counterparts_of_sql(500), 500);
    assert_eq!(
        counterparts,
        "SEARCH cs_object USING INDEX cs_object_join (mv_id=? AND connector_id=?)"
    );
}
