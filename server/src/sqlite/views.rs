//! Views over SQLite: rows in `tributary_rows`, their indexed fields in
//! `tributary_row_index` (numbers before text, as IndexedDB orders keys), the
//! position in `tracking`, all written in one transaction.

use async_trait::async_trait;
use rusqlite::types::Value as Sql;
use rusqlite::{params, Transaction};
use serde_json::Value;
use tributary::persistence::{
    cleared_since, is_private, IndexKey, Row, RowChanges, RowQuery, Tracking, ViewDefinition, ViewRecorder, CLEARED,
};
use tributary::{Error, Result};

use super::events::{insert_tracking, tracked};
use super::{storage, SqliteRecorder};

fn sql_value(key: &IndexKey) -> Sql {
    match key {
        IndexKey::Number(n) => Sql::Real(*n),
        IndexKey::Text(text) => Sql::Text(text.clone()),
    }
}

/// Writes a view's row changes (and their index entries).
pub(super) fn write_rows(tx: &Transaction<'_>, view: &ViewDefinition, changes: &RowChanges) -> Result<()> {
    let failed = |e| storage("writing a view", e);
    for (key, change) in changes {
        tx.execute("DELETE FROM tributary_row_index WHERE view = ?1 AND key = ?2", params![view.name, key]).map_err(failed)?;
        match change {
            None => {
                tx.execute("DELETE FROM tributary_rows WHERE view = ?1 AND key = ?2", params![view.name, key]).map_err(failed)?;
            }
            Some(value) => {
                tx.execute("INSERT OR REPLACE INTO tributary_rows VALUES (?1, ?2, ?3)", params![view.name, key, value.to_string()])
                    .map_err(failed)?;
                for field in view.indexes.iter().filter(|_| !is_private(key)) {
                    if let Some(index_key) = IndexKey::of(value, field) {
                        tx.execute(
                            "INSERT OR REPLACE INTO tributary_row_index VALUES (?1, ?2, ?3, ?4)",
                            params![view.name, field, sql_value(&index_key), key],
                        )
                        .map_err(failed)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Drops a view's rows, index entries and position.
pub(super) fn clear(tx: &Transaction<'_>, view: &str) -> Result<()> {
    let failed = |e| storage("clearing a view", e);
    tx.execute("DELETE FROM tributary_rows WHERE view = ?1", [view]).map_err(failed)?;
    tx.execute("DELETE FROM tributary_row_index WHERE view = ?1", [view]).map_err(failed)?;
    tx.execute("DELETE FROM tracking WHERE application_name = ?1", [view]).map_err(failed)?;
    Ok(())
}

/// A view's row by key.
fn read_row(connection: &rusqlite::Connection, view: &str, key: &str) -> Result<Option<Value>> {
    let found: Option<String> = rusqlite::OptionalExtension::optional(connection.query_row(
        "SELECT value FROM tributary_rows WHERE view = ?1 AND key = ?2",
        params![view, key],
        |row| row.get(0),
    ))
    .map_err(|e| storage("reading a view", e))?;
    found.map(read_value).transpose()
}

fn read_value(text: String) -> Result<Value> {
    serde_json::from_str(&text).map_err(|e| Error::corrupt(format!("a view row is not JSON: {e}")))
}

#[async_trait(?Send)]
impl ViewRecorder for SqliteRecorder {
    async fn commit_view(&self, view: &ViewDefinition, changes: &RowChanges, from: Option<u64>, tracking: &Tracking) -> Result<()> {
        tracking.validate_after(from)?;
        self.with(|connection| {
            let tx = connection.transaction().map_err(|e| storage("starting a transaction", e))?;
            let found = tracked(&tx, &tracking.application_name)?;
            if found != from || cleared_since(changes, read_row(&tx, &view.name, CLEARED)?.as_ref()) {
                return Err(Error::Stale { application_name: tracking.application_name.clone(), expected: from, found });
            }
            write_rows(&tx, view, changes)?;
            insert_tracking(&tx, tracking)?;
            tx.commit().map_err(|e| storage("committing a view", e))
        })
    }

    async fn get_row(&self, view: &str, key: &str) -> Result<Option<Value>> {
        self.with(|connection| read_row(connection, view, key))
    }

    async fn query_rows(&self, view: &str, query: &RowQuery) -> Result<Vec<Row>> {
        let limit = query.limit.map_or(-1, |l| i64::try_from(l).unwrap_or(-1));
        self.with(|connection| {
            let failed = |e| storage("reading a view", e);
            let rows: Vec<(String, String)> = match &query.index {
                None => {
                    // Listed: every key but the private ones ("\0...").
                    let mut statement = connection
                        .prepare_cached("SELECT key, value FROM tributary_rows WHERE view = ?1 AND (key = '' OR unicode(key) != 0) ORDER BY key LIMIT ?2")
                        .map_err(failed)?;
                    let found = statement.query_map(params![view, limit], |row| Ok((row.get(0)?, row.get(1)?))).map_err(failed)?;
                    found.collect::<rusqlite::Result<_>>().map_err(failed)?
                }
                Some(field) => {
                    let mut sql = String::from(
                        "SELECT r.key, r.value FROM tributary_row_index i JOIN tributary_rows r ON r.view = i.view AND r.key = i.key \
                         WHERE i.view = ? AND i.field = ?",
                    );
                    let mut values: Vec<Sql> = vec![Sql::Text(view.into()), Sql::Text(field.clone())];
                    for (bound, op) in [(&query.gt, ">"), (&query.gte, ">="), (&query.lt, "<"), (&query.lte, "<=")] {
                        if let Some(bound) = bound {
                            sql.push_str(&format!(" AND i.value {op} ?"));
                            values.push(sql_value(bound));
                        }
                    }
                    sql.push_str(" ORDER BY i.value, i.key LIMIT ?");
                    values.push(Sql::Integer(limit));
                    let mut statement = connection.prepare_cached(&sql).map_err(failed)?;
                    let found = statement.query_map(rusqlite::params_from_iter(values), |row| Ok((row.get(0)?, row.get(1)?))).map_err(failed)?;
                    found.collect::<rusqlite::Result<_>>().map_err(failed)?
                }
            };
            rows.into_iter().map(|(key, value)| Ok(Row { key, value: read_value(value)? })).collect()
        })
    }

    async fn clear_view(&self, view: &str) -> Result<()> {
        self.with(|connection| {
            let tx = connection.transaction().map_err(|e| storage("starting a transaction", e))?;
            clear(&tx, view)?;
            tx.commit().map_err(|e| storage("clearing a view", e))
        })
    }
}
