//! The SQLite schema and its migrations.
//!
//! Invariants: [`MIGRATIONS`] is append-only (a released step is never edited; a change is a new
//! step) and its versions are 1, 2, 3, ... in order; each step runs in its own transaction
//! together with the `schema_version` row that records it, so a database is always exactly at
//! one version; a database whose version is newer than the last step is never touched.
//!
//! Layout of version 1 (every time is .NET ticks in UTC; every value is a type tag plus a
//! payload column declared `BLOB`, see `codec.rs`; ids of objects, exports, journal entries and
//! runs are `AUTOINCREMENT`, so an id is never handed out twice, even after a delete):
//!
//! | table | holds | key / indexes |
//! |---|---|---|
//! | `schema_version` | applied steps | version |
//! | `connector` | per connector: watermark, full-import/full-sync flags, last full sync and cycle, import generation, delete-release token | unique name (case-insensitive) |
//! | `engine_state` | engine-wide values (last full cycle: time, rule and scope fingerprints) | key |
//! | `cs_object` | connector-space objects: anchor, DN, class, MV link, pending import, last import generation, attribute digests | unique (connector, anchor); connector; (connector, DN key); (connector, id) of pending objects; unique (MV link, connector) |
//! | `cs_value` | one row per value of a CS attribute (since version 5 only references and long value lists; the rest inline in `cs_object.attrs`) | (object, attribute, tag, value) |
//! | `cs_pending_value` | values added/removed since the last sync | (object, attribute, tag, value) |
//! | `mv_object` | metaverse objects (since version 4 with their inline attributes in `attrs`) | type |
//! | `mv_attribute` | lineage: rule and connector per MV attribute kept in rows (since version 4 only join and reference attributes, since version 6 only references) | (object, attribute) |
//! | `mv_value` | one row per value of an MV attribute (a join key per join value until version 6) | (object, attribute, tag, value) |
//! | `mv_join` | since version 6: the join key of every value of every join attribute | (attribute, join key, object) |
//! | `join_attribute` | MV attributes whose values carry join keys | attribute |
//! | `pending_export`, `pending_export_attribute`, `pending_export_value` | the export to make per CS object, per attribute old and new values (since version 3 in `pending_export.changes`; the two value tables only hold exports stored before) | unique CS object; connector |
//! | `export_journal` | export intents and their fate | open entries per connector; unique open request key |
//! | `run`, `run_connector`, `run_error` | run history, its connectors, per-object errors | start time; run |
//! | `config_history` | applied configurations | applied time |

/// One migration step.
pub(crate) struct Migration {
    /// The version the database has after this step.
    pub version: i64,
    /// What the step does (shown in errors and stored in `schema_version`).
    pub description: &'static str,
    /// The statements.
    pub sql: &'static str,
}

/// Every step, oldest first.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "initial metadirectory schema",
        sql: V1,
    },
    Migration {
        version: 2,
        description: "reference tracking; per-connector run counts",
        sql: V2,
    },
    Migration {
        version: 3,
        description: "pending export changes in one column",
        sql: V3,
    },
    Migration {
        version: 4,
        description: "metaverse attributes inline in their object's row",
        sql: V4,
    },
    Migration {
        version: 5,
        description: "connector-space attributes inline in their object's row",
        sql: V5,
    },
    Migration {
        version: 6,
        description: "join keys in their own table; join attributes inline",
        sql: V6,
    },
];

/// The newest version this build knows.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Creates the version table if needed (outside any step, so step 1 is recorded like all).
pub(crate) const VERSION_TABLE: &str = "
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  INTEGER NOT NULL
);";

const V1: &str = "
CREATE TABLE connector (
    id                     INTEGER PRIMARY KEY,
    name                   TEXT NOT NULL UNIQUE COLLATE NOCASE,
    watermark              BLOB,
    full_import_required   INTEGER NOT NULL DEFAULT 1,
    full_sync_required     INTEGER NOT NULL DEFAULT 1,
    last_full_sync         INTEGER,
    last_successful_cycle  INTEGER,
    import_generation      INTEGER NOT NULL DEFAULT 0,
    delete_release_granted INTEGER
);

CREATE TABLE engine_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE mv_object (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    object_type TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX mv_object_type ON mv_object (object_type);

CREATE TABLE cs_object (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    connector_id    INTEGER NOT NULL REFERENCES connector (id),
    anchor_kind     INTEGER,
    anchor          BLOB,
    dn              TEXT NOT NULL,
    dn_key          TEXT NOT NULL,
    object_class    TEXT NOT NULL,
    mv_id           INTEGER REFERENCES mv_object (id) ON DELETE SET NULL,
    pending_import  INTEGER NOT NULL DEFAULT 0,
    seen_generation INTEGER NOT NULL DEFAULT 0,
    digests         BLOB NOT NULL,
    CHECK ((anchor_kind IS NULL) = (anchor IS NULL))
);
CREATE UNIQUE INDEX cs_object_anchor ON cs_object (connector_id, anchor_kind, anchor)
    WHERE anchor IS NOT NULL;
CREATE INDEX cs_object_connector ON cs_object (connector_id);
CREATE INDEX cs_object_dn ON cs_object (connector_id, dn_key);
CREATE INDEX cs_object_pending ON cs_object (connector_id, id) WHERE pending_import <> 0;
CREATE UNIQUE INDEX cs_object_join ON cs_object (mv_id, connector_id) WHERE mv_id IS NOT NULL;

CREATE TABLE cs_value (
    cs_id     INTEGER NOT NULL REFERENCES cs_object (id) ON DELETE CASCADE,
    attribute TEXT NOT NULL COLLATE NOCASE,
    tag       INTEGER NOT NULL,
    value     BLOB NOT NULL,
    ordinal   INTEGER NOT NULL,
    PRIMARY KEY (cs_id, attribute, tag, value)
) WITHOUT ROWID;

CREATE TABLE cs_pending_value (
    cs_id     INTEGER NOT NULL REFERENCES cs_object (id) ON DELETE CASCADE,
    attribute TEXT NOT NULL COLLATE NOCASE,
    tag       INTEGER NOT NULL,
    value     BLOB NOT NULL,
    added     INTEGER NOT NULL,
    PRIMARY KEY (cs_id, attribute, tag, value)
) WITHOUT ROWID;

CREATE TABLE mv_attribute (
    mv_id        INTEGER NOT NULL REFERENCES mv_object (id) ON DELETE CASCADE,
    attribute    TEXT NOT NULL COLLATE NOCASE,
    rule         TEXT NOT NULL,
    connector_id INTEGER NOT NULL REFERENCES connector (id),
    next_ordinal INTEGER NOT NULL,
    PRIMARY KEY (mv_id, attribute)
) WITHOUT ROWID;

CREATE TABLE mv_value (
    mv_id     INTEGER NOT NULL REFERENCES mv_object (id) ON DELETE CASCADE,
    attribute TEXT NOT NULL COLLATE NOCASE,
    tag       INTEGER NOT NULL,
    value     BLOB NOT NULL,
    ordinal   INTEGER NOT NULL,
    value_key BLOB,
    PRIMARY KEY (mv_id, attribute, tag, value)
) WITHOUT ROWID;
CREATE INDEX mv_value_join ON mv_value (attribute, value_key) WHERE value_key IS NOT NULL;

CREATE TABLE join_attribute (
    attribute TEXT PRIMARY KEY COLLATE NOCASE
) WITHOUT ROWID;

CREATE TABLE pending_export (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    cs_id        INTEGER NOT NULL UNIQUE REFERENCES cs_object (id) ON DELETE CASCADE,
    connector_id INTEGER NOT NULL REFERENCES connector (id),
    operation    INTEGER NOT NULL,
    anchor_kind  INTEGER,
    anchor       BLOB,
    dn           TEXT NOT NULL,
    object_class TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT
);
CREATE INDEX pending_export_connector ON pending_export (connector_id);

CREATE TABLE pending_export_attribute (
    export_id INTEGER NOT NULL REFERENCES pending_export (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    attribute TEXT NOT NULL,
    PRIMARY KEY (export_id, position)
) WITHOUT ROWID;

CREATE TABLE pending_export_value (
    export_id INTEGER NOT NULL REFERENCES pending_export (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    side      INTEGER NOT NULL,
    ordinal   INTEGER NOT NULL,
    tag       INTEGER NOT NULL,
    value     BLOB NOT NULL,
    PRIMARY KEY (export_id, position, side, ordinal)
) WITHOUT ROWID;

CREATE TABLE export_journal (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    connector_id      INTEGER NOT NULL REFERENCES connector (id),
    pending_export_id INTEGER REFERENCES pending_export (id) ON DELETE SET NULL,
    cs_id             INTEGER REFERENCES cs_object (id) ON DELETE SET NULL,
    operation         INTEGER NOT NULL,
    dn                TEXT NOT NULL,
    request_key       TEXT NOT NULL,
    state             INTEGER NOT NULL,
    anchor_kind       INTEGER,
    anchor            BLOB,
    detail            TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX export_journal_state ON export_journal (connector_id, state);
CREATE UNIQUE INDEX export_journal_open_key ON export_journal (connector_id, request_key)
    WHERE state IN (0, 1);
CREATE INDEX export_journal_cs ON export_journal (cs_id);
CREATE INDEX export_journal_export ON export_journal (pending_export_id);
CREATE INDEX export_journal_updated ON export_journal (updated_at);

CREATE TABLE run (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    profile     TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    status      TEXT NOT NULL,
    adds        INTEGER NOT NULL DEFAULT 0,
    updates     INTEGER NOT NULL DEFAULT 0,
    deletes     INTEGER NOT NULL DEFAULT 0,
    errors      INTEGER NOT NULL DEFAULT 0,
    filtered    INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER,
    message     TEXT
);
CREATE INDEX run_started ON run (started_at);
CREATE INDEX run_status ON run (status);

CREATE TABLE run_connector (
    run_id    INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    connector TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
) WITHOUT ROWID;

CREATE TABLE run_error (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
    connector   TEXT NOT NULL,
    dn          TEXT,
    anchor_kind INTEGER,
    anchor      BLOB,
    attribute   TEXT,
    message     TEXT NOT NULL
);
CREATE INDEX run_error_run ON run_error (run_id, id);

CREATE TABLE config_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    applied_at INTEGER NOT NULL,
    checksum   TEXT NOT NULL,
    text       TEXT NOT NULL
);
";

/// References: `unresolved_ref` remembers a connector-space reference value (a DN) whose target
/// is not (yet) joined to the metaverse, with the metaverse attribute and the rule it flows
/// through, keyed by the folded DN, so the object that later
/// arrives with that DN completes the reference without re-reading the referencing group;
/// `mv_value_ref` finds the metaverse objects that reference a given one (values with tag 5,
/// `ref`, whose text is `mv:<id>` in the metaverse). `run_connector` gets each connector's
/// counts of a run.
const V2: &str = "
CREATE TABLE unresolved_ref (
    cs_id      INTEGER NOT NULL REFERENCES cs_object (id) ON DELETE CASCADE,
    attribute  TEXT NOT NULL COLLATE NOCASE,
    target_key TEXT NOT NULL,
    value      TEXT NOT NULL,
    rule       TEXT NOT NULL,
    PRIMARY KEY (cs_id, attribute, target_key)
) WITHOUT ROWID;
CREATE INDEX unresolved_ref_target ON unresolved_ref (target_key);
CREATE INDEX mv_value_ref ON mv_value (value) WHERE tag = 5;
ALTER TABLE run_connector ADD COLUMN adds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_connector ADD COLUMN updates INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_connector ADD COLUMN deletes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_connector ADD COLUMN errors INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_connector ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0;
";

/// Pending exports keep their attribute changes in one BLOB (`pending_export.changes`, see
/// `codec::changes_to_blob`) instead of a row per attribute and per value: an export is written
/// and read whole, never searched by value. Exports stored before this step keep their rows
/// (`changes` NULL) and are read from them.
const V3: &str = "
ALTER TABLE pending_export ADD COLUMN changes BLOB;
";

/// Metaverse attributes other than join attributes and references live in one BLOB of their
/// object's row (`mv_object.attrs`, see `metaverse.rs` and `codec::inline_to_blob`) instead of a
/// lineage row plus a row per value. Objects stored before keep their rows (`attrs` NULL): they
/// are read from them and move inline when next written.
const V4: &str = "
ALTER TABLE mv_object ADD COLUMN attrs BLOB;
";

/// Connector-space attributes without references and with at most `space::INLINE_MAX_VALUES`
/// values live in one BLOB of their object's row (`cs_object.attrs`, see `space.rs` and
/// `codec::cs_inline_to_blob`) instead of a row per value; references (group members, managers)
/// and very long value lists keep their rows, so a member change stays one row. An attribute is
/// inline exactly when the BLOB holds it: objects stored before (`attrs` NULL) keep their rows
/// and are read from them; an attribute moves inline when an import next changes it.
const V5: &str = "
ALTER TABLE cs_object ADD COLUMN attrs BLOB;
";

/// Join keys move to a lean table of their own, `mv_join` (attribute, key, object): one row
/// per key instead of a value row, a lineage row and an index entry, whatever the attribute's
/// placement. Join attributes are then kept inline like any other (see `metaverse.rs`); the
/// rows older versions wrote stay rows (read as they are, moved inline when next written), and
/// their keys move over. The table has no foreign key: deleting a metaverse object removes its
/// keys (found from its values), so no second index by object is kept.
const V6: &str = "
CREATE TABLE mv_join (
    attribute TEXT NOT NULL COLLATE NOCASE,
    value_key BLOB NOT NULL,
    mv_id     INTEGER NOT NULL,
    PRIMARY KEY (attribute, value_key, mv_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO mv_join (attribute, value_key, mv_id)
    SELECT attribute, value_key, mv_id FROM mv_value WHERE value_key IS NOT NULL;
DROP INDEX mv_value_join;
UPDATE mv_value SET value_key = NULL WHERE value_key IS NOT NULL;
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.description);
        }
        assert_eq!(latest(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn every_step_is_valid_sql_on_top_of_the_previous_ones() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(VERSION_TABLE).unwrap();
        for m in MIGRATIONS {
            conn.execute_batch(m.sql)
                .unwrap_or_else(|e| panic!("step {}: {e}", m.version));
        }
    }
}
