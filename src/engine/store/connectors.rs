//! [`ConnectorStore`] on SQLite: one `connector` row per connector, created on first write with
//! both "full ... required" flags set (a connector nobody has imported needs a full cycle), and
//! the `engine_state` key/value table for engine-wide bookkeeping.
//! Names compare case-insensitively (ASCII), as [`ConnectorName`] does. The delete-guard
//! release is a nullable time: set by `sync allow-deletes`, cleared by the export that uses it.

use rusqlite::params;

use super::codec;
use super::records::ConnectorState;
use super::sqlite::{Db, SqliteTx};
use super::{ConnectorStore, StoreResult};
use crate::engine::expr::DateTime;
use crate::engine::model::ConnectorName;

const STATE_COLUMNS: &str = "name, watermark, full_import_required, full_sync_required, \
                             last_full_sync, last_successful_cycle, delete_release_granted";

type RawState = (
    String,
    Option<Vec<u8>>,
    bool,
    bool,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn raw_state(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawState> {
    r.try_into()
}

fn decode_state(db: &Db<'_>, raw: RawState) -> StoreResult<ConnectorState> {
    let time = |t: Option<i64>| db.decode(t.map(codec::time_from).transpose());
    Ok(ConnectorState {
        name: ConnectorName::new(raw.0),
        watermark: raw.1,
        full_import_required: raw.2,
        full_sync_required: raw.3,
        last_full_sync: time(raw.4)?,
        last_successful_cycle: time(raw.5)?,
        delete_release_granted: time(raw.6)?,
    })
}

impl SqliteTx<'_> {
    /// Sets one column of a connector's row, creating the row if needed.
    fn set_connector_column(
        &mut self,
        connector: &ConnectorName,
        what: &'static str,
        sql: &'static str,
        value: &dyn rusqlite::ToSql,
    ) -> StoreResult<()> {
        self.atomic(|db| {
            let c = db.connector_or_create(connector)?;
            db.exec(what, sql, params![c.id, value])?;
            Ok(())
        })
    }
}

impl ConnectorStore for SqliteTx<'_> {
    fn engine_value(&self, key: &str) -> StoreResult<Option<String>> {
        self.db().row(
            "reading an engine value",
            "SELECT value FROM engine_state WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
    }

    fn set_engine_value(&mut self, key: &str, value: Option<&str>) -> StoreResult<()> {
        self.atomic(|db| {
            match value {
                Some(v) => db.exec(
                    "storing an engine value",
                    "INSERT INTO engine_state (key, value) VALUES (?1, ?2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![key, v],
                )?,
                None => db.exec(
                    "removing an engine value",
                    "DELETE FROM engine_state WHERE key = ?1",
                    [key],
                )?,
            };
            Ok(())
        })
    }

    fn connector_state(&self, connector: &ConnectorName) -> StoreResult<Option<ConnectorState>> {
        let db = self.db();
        let raw = db.row(
            "reading a connector's state",
            &format!("SELECT {STATE_COLUMNS} FROM connector WHERE name = ?1"),
            [connector.as_str()],
            raw_state,
        )?;
        raw.map(|r| decode_state(&db, r)).transpose()
    }

    fn connector_states(&self) -> StoreResult<Vec<ConnectorState>> {
        let db = self.db();
        db.rows(
            "reading connector states",
            &format!("SELECT {STATE_COLUMNS} FROM connector ORDER BY name"),
            [],
            raw_state,
        )?
        .into_iter()
        .map(|r| decode_state(&db, r))
        .collect()
    }

    fn set_watermark(
        &mut self,
        connector: &ConnectorName,
        watermark: Option<&[u8]>,
    ) -> StoreResult<()> {
        self.set_connector_column(
            connector,
            "storing a connector's watermark",
            "UPDATE connector SET watermark = ?2 WHERE id = ?1",
            &watermark,
        )
    }

    fn set_full_import_required(
        &mut self,
        connector: &ConnectorName,
        required: bool,
    ) -> StoreResult<()> {
        self.set_connector_column(
            connector,
            "setting a connector's full-import flag",
            "UPDATE connector SET full_import_required = ?2 WHERE id = ?1",
            &required,
        )
    }

    fn set_full_sync_required(
        &mut self,
        connector: &ConnectorName,
        required: bool,
    ) -> StoreResult<()> {
        self.set_connector_column(
            connector,
            "setting a connector's full-sync flag",
            "UPDATE connector SET full_sync_required = ?2 WHERE id = ?1",
            &required,
        )
    }

    fn set_last_full_sync(&mut self, connector: &ConnectorName, at: DateTime) -> StoreResult<()> {
        self.set_connector_column(
            connector,
            "recording a connector's last full sync",
            "UPDATE connector SET last_full_sync = ?2 WHERE id = ?1",
            &at.ticks(),
        )
    }

    fn set_last_successful_cycle(
        &mut self,
        connector: &ConnectorName,
        at: DateTime,
    ) -> StoreResult<()> {
        self.set_connector_column(
            connector,
            "recording a connector's last successful cycle",
            "UPDATE connector SET last_successful_cycle = ?2 WHERE id = ?1",
            &at.ticks(),
        )
    }

    fn grant_delete_release(&mut self, connector: &ConnectorName, at: DateTime) -> StoreResult<()> {
        self.set_connector_column(
            connector,
            "granting a delete-guard release",
            "UPDATE connector SET delete_release_granted = ?2 WHERE id = ?1",
            &at.ticks(),
        )
    }

    fn take_delete_release(&mut self, connector: &ConnectorName) -> StoreResult<bool> {
        self.atomic(|db| {
            let n = db.exec(
                "using a delete-guard release",
                "UPDATE connector SET delete_release_granted = NULL \
                 WHERE name = ?1 AND delete_release_granted IS NOT NULL",
                [connector.as_str()],
            )?;
            Ok(n > 0)
        })
    }
}
