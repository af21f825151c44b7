//! Benchmark: the least SQLite work a first full synchronization must do, with nothing read
//! or evaluated: per object, the metaverse object with its attributes inline (a 600-byte BLOB,
//! the join attribute and its lineage included), its join key, the source object's link, the
//! target's new connector-space object (digests and inline attributes) and its pending add (a
//! 500-byte change list). Pages of 1,000 objects per transaction, prepared statements, the store's own
//! schema and settings (WAL, synchronous=NORMAL), on a temporary database.
//!
//! It is the floor under the engine's sync stage (`cargo bench --bench engine`): the stage
//! cannot be faster than its writes. Prints objects per second of CPU time (one core);
//! `cargo bench --bench sqlite_floor` (optionally `-- 50000` for another count).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

use std::time::{Duration, Instant};

use hybridsync::engine::store::{SqliteStore, Store};
use rusqlite::{Connection, params};

const PAGE: usize = 1_000;

fn cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    Duration::from_nanos(text.split_whitespace().next().unwrap().parse().unwrap())
}

fn bytes(n: usize, seed: usize) -> Vec<u8> {
    (0..n).map(|i| (i.wrapping_mul(31) ^ seed) as u8).collect()
}

/// A distinct 16-byte value per object (an objectGUID).
fn guid(i: usize) -> Vec<u8> {
    let mut b = vec![7u8; 16];
    b[..8].copy_from_slice(&(i as u64).to_le_bytes());
    b
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(110_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floor.db");
    // The store creates the schema; then a plain connection with the same settings.
    let mut store = SqliteStore::open(&path, "bench").unwrap();
    store.begin().unwrap().commit().unwrap();
    drop(store);
    let mut conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    conn.pragma_update(None, "cache_size", -65_536).unwrap();
    conn.pragma_update(None, "wal_autocheckpoint", 8_192)
        .unwrap();
    conn.execute_batch(
        "INSERT INTO connector (id, name) VALUES (1, 'corp'), (2, 'tenant');
         INSERT INTO join_attribute (attribute) VALUES ('sourceAnchorBinary');",
    )
    .unwrap();

    // The import's work, not measured: the source objects.
    let digests = bytes(200, 1);
    let inline = bytes(450, 2);
    let tx = conn.transaction().unwrap();
    {
        let mut st = tx
            .prepare(
                "INSERT INTO cs_object (id, connector_id, anchor_kind, anchor, dn, dn_key, \
                 object_class, pending_import, digests, attrs) \
                 VALUES (?1, 1, 1, ?2, ?3, ?4, 'user', 1, ?5, ?6)",
            )
            .unwrap();
        for i in 0..n {
            let dn = format!("CN=User {i:06},OU=Staff,DC=contoso,DC=example");
            st.execute(params![
                i as i64 + 1,
                guid(i),
                dn,
                dn.to_lowercase(),
                digests,
                inline
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();

    let mv_attrs = bytes(600, 3);
    let changes = bytes(500, 4);
    let (wall, cpu0) = (Instant::now(), cpu());
    for start in (0..n).step_by(PAGE) {
        let tx = conn.transaction().unwrap();
        {
            let mut mv = tx
                .prepare_cached(
                    "INSERT INTO mv_object (object_type, created_at, attrs) \
                     VALUES ('person', 1, ?1)",
                )
                .unwrap();
            let mut join = tx
                .prepare_cached(
                    "INSERT INTO mv_join (attribute, value_key, mv_id) \
                     VALUES ('sourceAnchorBinary', ?2, ?1)",
                )
                .unwrap();
            let mut link = tx
                .prepare_cached("UPDATE cs_object SET mv_id = ?2, pending_import = 0 WHERE id = ?1")
                .unwrap();
            let mut target = tx
                .prepare_cached(
                    "INSERT INTO cs_object (connector_id, dn, dn_key, object_class, mv_id, \
                     digests, attrs) VALUES (2, ?1, ?2, 'user', ?3, ?4, ?5)",
                )
                .unwrap();
            let mut export = tx
                .prepare_cached(
                    "INSERT INTO pending_export (cs_id, connector_id, operation, dn, \
                     object_class, created_at, changes) VALUES (?1, 2, 0, ?2, 'user', 1, ?3)",
                )
                .unwrap();
            for i in start..(start + PAGE).min(n) {
                mv.execute([&mv_attrs]).unwrap();
                let m = tx.last_insert_rowid();
                join.execute(params![m, guid(i)]).unwrap();
                link.execute(params![i as i64 + 1, m]).unwrap();
                let dn = format!("CN=User {i:06}");
                target
                    .execute(params![dn, dn.to_lowercase(), m, digests, inline])
                    .unwrap();
                let cs = tx.last_insert_rowid();
                export.execute(params![cs, dn, changes]).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    let (wall, cpu) = (wall.elapsed(), cpu() - cpu0);
    println!(
        "writes of a first full sync, {n} objects: {:.2} s ({:.0} objects/s); {:.2} s CPU: \
         {:.0} objects/s per core",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64(),
        n as f64 / cpu.as_secs_f64()
    );
}
