//! Benchmark: the SQLite store under the engine's stages, on a temporary database.
//!
//! Run with `cargo bench --bench store` (optionally `-- 20000` for another user count). It
//! reports, for N generated users (about 17 values each) and one 50,000-member group:
//! the initial full import (batches of 1,000 objects per transaction), an unchanged full
//! re-import with its sweep, a delta import of 10 changed users, reading every object in pages
//! of 1,000 (what a full sync reads), projecting every user into the metaverse with a join
//! attribute, join lookups, and a one-member change in the large group (as a whole re-import
//! and as the two values a DirSync delta now hands over).
//! Timings are printed, never asserted: see the closing notes for measured figures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

use std::time::{Duration, Instant};

use hybridsync::domain::{AttributeName, Dn};
use hybridsync::engine::expr::Value;
use hybridsync::engine::model::{
    Anchor, Attributes, ConnectorName, Contribution, CsId, ImportItem, ImportedObject, ValueDelta,
};
use hybridsync::engine::rules::MvObjectType;
use hybridsync::engine::store::{CsScope, JoinCase, SqliteStore, Store};

const BATCH: usize = 1_000;

fn attr(name: &str) -> AttributeName {
    AttributeName::new(name).unwrap()
}

fn user(i: usize, generation: u32) -> ImportedObject {
    let mut guid = vec![0u8; 16];
    guid[..8].copy_from_slice(&(i as u64).to_le_bytes());
    let sam = format!("user{i:06}");
    let s = |v: String| vec![Value::Str(v)];
    let mut a: Attributes = [
        ("cn", s(format!("User {i}"))),
        ("sAMAccountName", s(sam.clone())),
        ("userPrincipalName", s(format!("{sam}@corp.example.com"))),
        ("givenName", s(format!("Given{i}"))),
        ("sn", s(format!("Surname{i}"))),
        (
            "displayName",
            s(format!("Given{i} Surname{i} ({generation})")),
        ),
        ("department", s(format!("Dept {}", i % 40))),
        ("title", s("Engineer".into())),
        ("telephoneNumber", s(format!("+1 555 {i:07}"))),
        ("mail", s(format!("{sam}@corp.example.com"))),
        ("userAccountControl", vec![Value::Num(512)]),
        ("objectGUID", vec![Value::Bin(guid.clone())]),
        (
            "pwdLastSet",
            vec![Value::Num(130_543_784_930_000_000 + i as i64)],
        ),
    ]
    .into_iter()
    .map(|(n, v)| (attr(n), v))
    .collect();
    a.insert(
        attr("proxyAddresses"),
        vec![
            Value::Str(format!("SMTP:{sam}@corp.example.com")),
            Value::Str(format!("smtp:{sam}@corp.mail.example.com")),
            Value::Str(format!("smtp:{sam}@old.example.com")),
            Value::Str(format!("x500:/o=corp/cn={sam}")),
        ],
    );
    ImportedObject {
        anchor: Anchor::Bytes(guid),
        dn: Dn::parse(&format!(
            "CN=User {i},OU=Staff,OU=Site{},DC=corp,DC=example,DC=com",
            i % 50
        ))
        .unwrap(),
        object_class: "user".into(),
        attributes: a,
    }
}

fn member(i: usize) -> Value {
    Value::Ref(format!(
        "CN=User {i},OU=Staff,OU=Site{},DC=corp,DC=example,DC=com",
        i % 50
    ))
}

fn group(members: Vec<Value>) -> ImportedObject {
    ImportedObject {
        anchor: Anchor::Text("group-all-staff".into()),
        dn: Dn::parse("CN=All Staff,OU=Groups,DC=corp,DC=example,DC=com").unwrap(),
        object_class: "group".into(),
        attributes: [
            (attr("cn"), vec![Value::Str("All Staff".into())]),
            (attr("member"), members),
        ]
        .into_iter()
        .collect(),
    }
}

fn import_all(store: &mut SqliteStore, c: &ConnectorName, objects: &[ImportedObject]) {
    for batch in objects.chunks(BATCH) {
        let mut tx = store.begin().unwrap();
        for o in batch {
            tx.import_object(c, o).unwrap();
        }
        tx.commit().unwrap();
    }
}

fn report(what: &str, n: usize, d: Duration) {
    println!(
        "{what:<44} {:>8.3} s  {:>10.0} /s  {:>8.1} us each",
        d.as_secs_f64(),
        n as f64 / d.as_secs_f64(),
        d.as_secs_f64() * 1e6 / n as f64
    );
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hybridsync.db");
    let mut store = SqliteStore::open(&path, "bench").unwrap();
    let ad = ConnectorName::new("corp.example.com");
    let users: Vec<ImportedObject> = (0..count).map(|i| user(i, 0)).collect();
    let values: usize = users
        .iter()
        .map(|u| u.attributes.values().map(Vec::len).sum::<usize>())
        .sum();
    println!(
        "{count} users, {:.1} values each; batches of {BATCH} objects per transaction",
        values as f64 / count as f64
    );

    let t = Instant::now();
    let mut tx = store.begin().unwrap();
    let generation = tx.begin_full_import(&ad).unwrap();
    tx.commit().unwrap();
    import_all(&mut store, &ad, &users);
    let mut tx = store.begin().unwrap();
    tx.finish_full_import(&ad, generation).unwrap();
    tx.commit().unwrap();
    report("initial full import", count, t.elapsed());

    // The sync stage clears the pending imports (in pages, one transaction per page).
    let t = Instant::now();
    loop {
        let mut tx = store.begin().unwrap();
        let ids = tx
            .cs_ids_page(&ad, CsScope::PendingImport, None, BATCH)
            .unwrap();
        if ids.is_empty() {
            break;
        }
        for id in ids {
            tx.clear_pending_import(id).unwrap();
        }
        tx.commit().unwrap();
    }
    report("clearing pending imports", count, t.elapsed());

    let t = Instant::now();
    let mut tx = store.begin().unwrap();
    let generation = tx.begin_full_import(&ad).unwrap();
    tx.commit().unwrap();
    import_all(&mut store, &ad, &users);
    let mut tx = store.begin().unwrap();
    let sweep = tx.finish_full_import(&ad, generation).unwrap();
    tx.commit().unwrap();
    assert_eq!(sweep.marked_deleted, 0);
    report("unchanged full re-import + sweep", count, t.elapsed());

    let changed: Vec<ImportedObject> = (0..10).map(|i| user(i * (count / 10), 1)).collect();
    let t = Instant::now();
    import_all(&mut store, &ad, &changed);
    let d = t.elapsed();
    report("delta import of 10 changed users", 10, d);

    let t = Instant::now();
    let mut after: Option<CsId> = None;
    let mut read = 0usize;
    let tx = store.begin().unwrap();
    loop {
        let page = tx.cs_page(&ad, CsScope::All, after, BATCH).unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        read += page.len();
        std::hint::black_box(&page);
    }
    drop(tx);
    assert_eq!(read, count);
    report("full read in pages (full sync input)", read, t.elapsed());

    // Projection: one MV object per user with a joinable mail, linked.
    let t = Instant::now();
    let mut tx = store.begin().unwrap();
    tx.set_join_attributes(&[attr("mail")]).unwrap();
    tx.commit().unwrap();
    let mut after: Option<CsId> = None;
    loop {
        let mut tx = store.begin().unwrap();
        let page = tx.cs_page(&ad, CsScope::All, after, BATCH).unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for cs in page {
            let mv = tx.create_mv(MvObjectType::Person).unwrap();
            for name in ["mail", "displayName", "userPrincipalName"] {
                let values = cs.attributes.get(&attr(name)).cloned().unwrap();
                let c = Contribution {
                    values,
                    rule: "In from AD - User Common".into(),
                    connector: ad.clone(),
                };
                tx.set_mv_attribute(mv, &attr(name), Some(&c)).unwrap();
            }
            tx.link(cs.id, mv).unwrap();
        }
        tx.commit().unwrap();
    }
    report(
        "projection: read + create + 3 attrs + link",
        count,
        t.elapsed(),
    );

    let lookups = 10_000.min(count);
    let tx = store.begin().unwrap();
    let t = Instant::now();
    for i in 0..lookups {
        let v = Value::Str(format!("USER{:06}@corp.example.com", i * (count / lookups)));
        let hits = tx
            .find_mv_by_value(
                Some(MvObjectType::Person),
                &attr("mail"),
                &v,
                JoinCase::Insensitive,
            )
            .unwrap();
        assert_eq!(hits.len(), 1);
    }
    report("join lookup (case-insensitive mail)", lookups, t.elapsed());
    drop(tx);

    let all: Vec<Value> = (0..50_000).map(member).collect();
    let t = Instant::now();
    import_all(&mut store, &ad, &[group(all.clone())]);
    report("import of a 50,000-member group", 1, t.elapsed());
    let mut next = all;
    next.retain(|v| *v != member(123));
    next.push(member(50_000));
    let t = Instant::now();
    let mut tx = store.begin().unwrap();
    let out = tx.import_object(&ad, &group(next.clone())).unwrap();
    tx.commit().unwrap();
    report("one-member change in that group", 1, t.elapsed());
    assert_eq!(out.values[0].added.len() + out.values[0].removed.len(), 2);
    let t = Instant::now();
    let mut tx = store.begin().unwrap();
    tx.import_object(&ad, &group(next)).unwrap();
    tx.commit().unwrap();
    report("unchanged re-import of that group", 1, t.elapsed());
    // The same change as DirSync hands it over now: the two values, nothing read.
    let t = Instant::now();
    let mut tx = store.begin().unwrap();
    let out = tx
        .import_item(
            &ad,
            &ImportItem::ValueChanges {
                anchor: group(Vec::new()).anchor,
                dn: None,
                changes: vec![ValueDelta {
                    attribute: attr("member"),
                    added: vec![member(123)],
                    removed: vec![member(50_000)],
                }],
            },
        )
        .unwrap()
        .unwrap();
    tx.commit().unwrap();
    report("one-member change as DirSync values", 1, t.elapsed());
    assert_eq!(out.values[0].added.len() + out.values[0].removed.len(), 2);

    drop(store);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(dir.path().join("hybridsync.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!(
        "database size: {:.1} MB ({:.0} bytes per user)",
        size as f64 / 1e6,
        size as f64 / count as f64
    );
}
