//! Views over PostgreSQL: rows in `{app}_tributary_rows`, their indexed fields
//! in `{app}_tributary_index`, the position in `{app}_tracking`, all written in
//! one transaction. Names and keys are stored as their UTF-8 bytes, so they
//! order as the SQLite adapter's do, whatever the database's collation.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use deadpool_postgres::Transaction;
use serde_json::Value;
use tributary::persistence::{
    cleared_since, is_private, IndexKey, Row, RowChanges, RowQuery, Tracking, ViewDefinition, ViewRecorder, CLEARED,
};
use tributary::{Error, Result};

use super::events::{check_name, int, tracked};
use super::schema::{Tables, MIGRATION};
use super::{column, execute, failed, query, PostgresRecorder};

/// An index key as bytes that order as IndexedDB orders keys: every number
/// (by value; -0 is 0) before every string (by its UTF-8 bytes). A number is
/// its IEEE bits with the sign flipped (negative ones: every bit), big-endian.
fn ordered(key: &IndexKey) -> Vec<u8> {
    match key {
        IndexKey::Number(n) => {
            let bits = if *n == 0.0 { 0 } else { n.to_bits() };
            let bits = if bits >> 63 == 1 { !bits } else { bits | 1 << 63 };
            [&[0u8][..], &bits.to_be_bytes()].concat()
        }
        IndexKey::Text(text) => [&[1u8][..], text.as_bytes()].concat(),
    }
}

/// Writes a view's row changes (and their index entries), a statement per kind
/// of change, whatever the number of rows.
pub(super) async fn write_rows(tx: &Transaction<'_>, tables: &Tables, view: &ViewDefinition, changes: &RowChanges) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let name = view.name.as_bytes();
    let keys: Vec<&[u8]> = changes.keys().map(|k| k.as_bytes()).collect();
    let gone: Vec<&[u8]> = changes.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| k.as_bytes()).collect();
    let put: Vec<(&String, String)> = changes.iter().filter_map(|(k, v)| Some((k, v.as_ref()?.to_string()))).collect();
    let mut entries: (Vec<&[u8]>, Vec<&str>, Vec<Vec<u8>>) = Default::default();
    for (key, value) in changes.iter().filter_map(|(k, v)| Some((k, v.as_ref()?))).filter(|(k, _)| !is_private(k)) {
        for field in &view.indexes {
            if let Some(index_key) = IndexKey::of(value, field) {
                entries.0.push(key.as_bytes());
                entries.1.push(field);
                entries.2.push(ordered(&index_key));
            }
        }
    }
    let write = failed("writing a view");
    execute(tx, &format!("DELETE FROM {} WHERE view = $1 AND key = ANY($2)", tables.index), &[&name, &keys]).await.map_err(&write)?;
    if !gone.is_empty() {
        execute(tx, &format!("DELETE FROM {} WHERE view = $1 AND key = ANY($2)", tables.rows), &[&name, &gone]).await.map_err(&write)?;
    }
    if !put.is_empty() {
        let (put_keys, values): (Vec<&[u8]>, Vec<&str>) = put.iter().map(|(k, v)| (k.as_bytes(), v.as_str())).unzip();
        execute(
            tx,
            &format!(
                "INSERT INTO {} SELECT $1, * FROM unnest($2::bytea[], $3::text[]) \
                 ON CONFLICT (view, key) DO UPDATE SET value = excluded.value",
                tables.rows
            ),
            &[&name, &put_keys, &values],
        )
        .await
        .map_err(&write)?;
    }
    if !entries.0.is_empty() {
        execute(
            tx,
            &format!("INSERT INTO {} SELECT $1, * FROM unnest($2::bytea[], $3::text[], $4::bytea[])", tables.index),
            &[&name, &entries.0, &entries.1, &entries.2],
        )
        .await
        .map_err(&write)?;
    }
    Ok(())
}

/// Drops a view's rows, index entries and position.
pub(super) async fn clear(tx: &Transaction<'_>, tables: &Tables, view: &str) -> Result<()> {
    let clearing = failed("clearing a view");
    for table in [&tables.rows, &tables.index] {
        execute(tx, &format!("DELETE FROM {table} WHERE view = $1"), &[&view.as_bytes()]).await.map_err(&clearing)?;
    }
    // A name the tracking table cannot hold has no position there.
    if view != MIGRATION && !view.contains('\0') {
        execute(tx, &format!("DELETE FROM {} WHERE application_name = $1", tables.tracking), &[&view]).await.map_err(&clearing)?;
    }
    Ok(())
}

fn read_row(row: &tokio_postgres::Row) -> Result<Row> {
    let key: Vec<u8> = column(row, 0)?;
    let key = String::from_utf8(key).map_err(|_| Error::corrupt("a view row's key is not UTF-8"))?;
    Ok(Row { key, value: read_value(&column::<String>(row, 1)?)? })
}

/// A view's row by key.
async fn row_of<C: GenericClient>(client: &C, tables: &Tables, view: &str, key: &str) -> Result<Option<Value>> {
    let sql = format!("SELECT value FROM {} WHERE view = $1 AND key = $2", tables.rows);
    let found = query(client, &sql, &[&view.as_bytes(), &key.as_bytes()]).await.map_err(failed("reading a view"))?;
    found.first().map(|row| read_value(&column::<String>(row, 0)?)).transpose()
}

fn read_value(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| Error::corrupt(format!("a view row is not JSON: {e}")))
}

#[async_trait(?Send)]
impl ViewRecorder for PostgresRecorder {
    /// Moves the position with a compare-and-set (the row is locked while the
    /// transaction lasts), so that two processes committing from the same
    /// position cannot both win.
    async fn commit_view(&self, view: &ViewDefinition, changes: &RowChanges, from: Option<u64>, tracking: &Tracking) -> Result<()> {
        tracking.validate_after(from)?;
        check_name(&tracking.application_name)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
        let (name, to) = (&tracking.application_name, int(tracking.notification_id));
        let moved = match from {
            None => {
                let sql = format!("INSERT INTO {} VALUES ($1, $2) ON CONFLICT DO NOTHING", self.tables.tracking);
                execute(&tx, &sql, &[name, &to]).await.map_err(failed("recording a view's position"))?
            }
            Some(from) => {
                let sql = format!(
                    "UPDATE {} SET notification_id = $3 WHERE application_name = $1 AND notification_id = $2",
                    self.tables.tracking
                );
                execute(&tx, &sql, &[name, &int(from), &to]).await.map_err(failed("moving a view's position"))?
            }
        };
        if moved != 1 || cleared_since(changes, row_of(&tx, &self.tables, &view.name, CLEARED).await?.as_ref()) {
            let found = tracked(&tx, &self.tables, name).await?;
            return Err(Error::Stale { application_name: name.clone(), expected: from, found });
        }
        write_rows(&tx, &self.tables, view, changes).await?;
        tx.commit().await.map_err(failed("committing a view"))
    }

    async fn get_row(&self, view: &str, key: &str) -> Result<Option<Value>> {
        row_of(&self.client().await?, &self.tables, view, key).await
    }

    async fn query_rows(&self, view: &str, query: &RowQuery) -> Result<Vec<Row>> {
        let limit: Option<i64> = query.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
        let client = self.client().await?;
        let reading = failed("reading a view");
        let rows = match &query.index {
            // Listed: every key but the private ones ("\0...").
            None => super::query(
                &client,
                &format!(
                    "SELECT key, value FROM {} WHERE view = $1 AND substr(key, 1, 1) <> '\\x00'::bytea ORDER BY key LIMIT $2",
                    self.tables.rows
                ),
                &[&view.as_bytes(), &limit],
            )
            .await
            .map_err(reading)?,
            Some(field) => {
                let bounds = [&query.gt, &query.gte, &query.lt, &query.lte];
                // NaN is in no order: a bound of it holds nothing (as SQLite's NULL).
                if bounds.iter().any(|b| matches!(b, Some(IndexKey::Number(n)) if n.is_nan())) {
                    return Ok(vec![]);
                }
                let [gt, gte, lt, lte] = bounds.map(|b| b.as_ref().map(ordered));
                super::query(
                    &client,
                    &format!(
                        "SELECT r.key, r.value FROM {} i JOIN {} r ON r.view = i.view AND r.key = i.key \
                         WHERE i.view = $1 AND i.field = $2 AND ($3::bytea IS NULL OR i.value > $3) AND ($4::bytea IS NULL OR i.value >= $4) \
                         AND ($5::bytea IS NULL OR i.value < $5) AND ($6::bytea IS NULL OR i.value <= $6) ORDER BY i.value, i.key LIMIT $7",
                        self.tables.index, self.tables.rows
                    ),
                    &[&view.as_bytes(), field, &gt, &gte, &lt, &lte, &limit],
                )
                .await
                .map_err(reading)?
            }
        };
        rows.iter().map(read_row).collect()
    }

    async fn clear_view(&self, view: &str) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
        clear(&tx, &self.tables, view).await?;
        tx.commit().await.map_err(failed("clearing a view"))
    }
}
