//! Pull (SYNC.md §4.2): the server's rows changed after this PC's cursor, read in one
//! REPEATABLE READ snapshot bounded by `sync.clock` (every change up to it is committed and
//! visible, because pushes serialise on that row), then applied in one local transaction with
//! `WriteMode::Remote` (audited, not captured again), foreign keys deferred to the commit,
//! the cursor and the HLC floor saved in the same transaction.
//!
//! The pending-column rule: a merge group of a row with a local change the server has not
//! acknowledged yet keeps the local value when the local change's version is greater than the
//! server's for that group (the push will make it win there too); every other group takes the
//! server's value.

use std::collections::{BTreeMap, BTreeSet};

use clinicdesk_store::{now_ms, sync_meta, Hlc, Store, WriteMode, WriteTx};
use clinicdesk_wire::merge::{Rank, Version};
use rusqlite::types::Value as Sql;
use serde_json::Value;

use crate::tables::{tables, Table};
use crate::{failpoint, Result, SyncError};

/// The rows of one table in a checkpoint: the mirrored columns as text, then `_v0`, `_v`,
/// `_by`.
#[derive(Debug, Clone)]
pub struct TableRows {
    pub table: &'static Table,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub values: Vec<Option<String>>,
    pub v0: String,
    /// The server's `_v`: merge group → version, for groups changed since the insert.
    pub v: BTreeMap<String, String>,
    /// The server's `_by`: the user whose change last won on this row (None: not recorded).
    pub by: Option<String>,
}

/// One checkpoint `(cursor, server_seq]` of the server.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub from: i64,
    pub server_seq: i64,
    pub server_id: String,
    pub tables: Vec<TableRows>,
}

impl Checkpoint {
    pub fn rows(&self) -> usize {
        self.tables.iter().map(|t| t.rows.len()).sum()
    }
}

/// Read the server's clock and id (as the device).
pub(crate) fn clock(pg: &mut impl postgres::GenericClient) -> Result<(i64, String)> {
    let r = pg
        .query_one(
            "SELECT seq, server_id::text FROM sync.clock WHERE id = 1",
            &[],
        )
        .map_err(|e| SyncError::from_pg(e, |c, m| SyncError::Protocol(format!("{c}: {m}"))))?;
    Ok((r.get(0), r.get(1)))
}

/// Check the server is the one this PC was enrolled with (remembering it the first time).
pub(crate) fn check_server(store: &Store, server_id: &str) -> Result<()> {
    match store.read(|c| sync_meta::get(c, sync_meta::SERVER_ID))? {
        Some(known) if known != server_id => Err(SyncError::WrongServer {
            expected: known,
            found: server_id.to_string(),
        }),
        Some(_) => Ok(()),
        None => store.write_as(WriteMode::Remote, None, |tx| -> Result<()> {
            Ok(sync_meta::set(tx, sync_meta::SERVER_ID, server_id)?)
        }),
    }
}

/// Fetch the checkpoint after `cursor` in one snapshot.
pub fn fetch(pg: &mut postgres::Client, cursor: i64) -> Result<Checkpoint> {
    let pg_err = |e: postgres::Error| {
        SyncError::from_pg(e, |c, m| {
            SyncError::Protocol(format!("reading the server: {c}: {m}"))
        })
    };
    let mut tx = pg
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(pg_err)?;
    let (server_seq, server_id) = clock(&mut tx)?;
    let mut out = Checkpoint {
        from: cursor,
        server_seq,
        server_id,
        tables: Vec::new(),
    };
    if server_seq <= cursor {
        tx.commit().map_err(pg_err)?;
        return Ok(out);
    }
    for t in tables()? {
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|c| format!("\"{}\"::text", c.name))
            .collect();
        let sql = format!(
            "SELECT {}, _v0, _v::text, _by::text FROM cd.\"{}\" WHERE _seq > $1 AND _seq <= $2 ORDER BY _seq",
            cols.join(", "),
            t.name
        );
        let n = t.columns.len();
        let mut rows = Vec::new();
        for r in tx.query(&sql, &[&cursor, &server_seq]).map_err(pg_err)? {
            let values: Vec<Option<String>> = (0..n).map(|i| r.get(i)).collect();
            let v: String = r.get(n + 1);
            let v: BTreeMap<String, String> = serde_json::from_str(&v).map_err(|e| {
                SyncError::Protocol(format!("{}: a row's versions {v:?}: {e}", t.name))
            })?;
            rows.push(Row {
                values,
                v0: r.get(n),
                v,
                by: r.get(n + 2),
            });
        }
        if !rows.is_empty() {
            out.tables.push(TableRows { table: t, rows });
        }
    }
    tx.commit().map_err(pg_err)?;
    Ok(out)
}

/// What [`apply`] changed here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub rows: u64,
    /// Rows where a group kept this PC's newer, not yet acknowledged value.
    pub kept_local: u64,
    /// The tables that received rows (for the screens to refresh).
    pub tables: Vec<String>,
    pub cursor: i64,
}

/// A pulled text value as the SQLite column's value (the tables are STRICT).
fn sql_value(pg_type: &str, v: &Option<String>, table: &str, col: &str) -> Result<Sql> {
    let Some(s) = v else { return Ok(Sql::Null) };
    let bad = || SyncError::Apply(format!("{table}.{col}: {s:?} is not a {pg_type}"));
    Ok(match pg_type {
        "bigint" => Sql::Integer(s.parse().map_err(|_| bad())?),
        "double precision" => Sql::Real(s.parse().map_err(|_| bad())?),
        _ => Sql::Text(s.clone()),
    })
}

/// The largest clamped HLC among the versions of `row`.
fn row_hlc(row: &Row) -> Option<Hlc> {
    std::iter::once(&row.v0)
        .chain(row.v.values())
        .filter_map(|v| Version::parse(v).ok())
        .map(|v| v.clamped())
        .max()
}

/// The groups of `row` whose unacknowledged local change is newer than the server's value:
/// their columns are kept.
fn kept_columns(
    tx: &WriteTx<'_>,
    store: &Store,
    t: &Table,
    id: &str,
    acked: i64,
    row: &Row,
) -> Result<BTreeSet<String>> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT columns, hlc FROM change_log WHERE table_name = ?1 AND row_id = ?2 AND seq > ?3",
        )
        .map_err(|e| SyncError::Store(e.into()))?;
    let pending: Vec<(String, String)> = stmt
        .query_map(rusqlite::params![t.name, id, acked], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(|e| SyncError::Store(e.into()))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| SyncError::Store(e.into()))?;
    let mut kept = BTreeSet::new();
    if pending.is_empty() {
        return Ok(kept);
    }
    // Per group, the newest local version (as the server will stamp it, clamped).
    let mut local: BTreeMap<String, Version> = BTreeMap::new();
    let now = now_ms();
    for (columns, hlc) in pending {
        let Some(hlc) = Hlc::decode(&hlc) else {
            continue;
        };
        let ver = Version::stamp(Rank::Device, hlc, store.device_id(), now)
            .map_err(|e| SyncError::Apply(format!("a local change's version: {e}")))?;
        let cols: serde_json::Map<String, Value> =
            serde_json::from_str(&columns).unwrap_or_default();
        for c in cols.keys() {
            if let Some(g) = t.group_of(c) {
                let e = local.entry(g[0].clone()).or_insert(ver);
                if ver > *e {
                    *e = ver;
                }
            }
        }
    }
    for (g, ver) in local {
        let server = row.v.get(&g).unwrap_or(&row.v0);
        let server = Version::parse(server)
            .map_err(|e| SyncError::Protocol(format!("{}: server version: {e}", t.name)))?;
        if ver > server {
            if let Some(cols) = t.group_of(&g) {
                kept.extend(cols.iter().cloned());
            }
        }
    }
    Ok(kept)
}

/// Apply a checkpoint in one local transaction (all or nothing).
pub fn apply(store: &Store, cp: &Checkpoint) -> Result<Applied> {
    store.write_as(WriteMode::Remote, None, |tx| -> Result<Applied> {
        let cursor = sync_meta::get_i64(tx, sync_meta::PULL_CURSOR, 0)?;
        if cursor != cp.from {
            return Err(SyncError::Apply(format!(
                "the checkpoint starts at {} but this PC's cursor is {cursor} (another sync ran)",
                cp.from
            )));
        }
        if cp.server_seq <= cursor {
            return Ok(Applied {
                cursor,
                ..Applied::default()
            });
        }
        tx.execute_batch("PRAGMA defer_foreign_keys = ON")
            .map_err(|e| SyncError::Store(e.into()))?;
        let acked = sync_meta::get_i64(tx, sync_meta::PUSH_ACKED_SEQ, 0)?;
        let mut out = Applied::default();
        let mut max_hlc: Option<Hlc> = None;
        for tr in &cp.tables {
            let t = tr.table;
            let id_at = t
                .index_of("id")
                .ok_or_else(|| SyncError::Protocol(format!("{} has no id", t.name)))?;
            for row in &tr.rows {
                let id = row.values[id_at].clone().ok_or_else(|| {
                    SyncError::Protocol(format!("{}: a row without an id", t.name))
                })?;
                let kept = kept_columns(tx, store, t, &id, acked, row)?;
                if !kept.is_empty() {
                    out.kept_local += 1;
                }
                // This PC's audit names the change's author, not nobody.
                tx.set_author(row.by.as_deref())?;
                upsert(tx, t, row, &kept)?;
                max_hlc = max_hlc.max(row_hlc(row));
                out.rows += 1;
            }
            out.tables.push(t.name.clone());
        }
        tx.set_author(None)?;
        if let Some(h) = max_hlc {
            store.observe_hlc(tx, h)?;
        }
        sync_meta::set(tx, sync_meta::PULL_CURSOR, &cp.server_seq.to_string())?;
        failpoint::hit("apply:after_rows");
        out.cursor = cp.server_seq;
        Ok(out)
    })
}

/// Insert the row, or update the columns not `kept` of the row this PC holds.
fn upsert(tx: &WriteTx<'_>, t: &Table, row: &Row, kept: &BTreeSet<String>) -> Result<()> {
    let names: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    let marks: Vec<String> = (1..=t.columns.len()).map(|i| format!("?{i}")).collect();
    let mut sql = format!(
        "INSERT INTO \"{}\" ({}) VALUES ({}) ON CONFLICT (id) DO ",
        t.name,
        names.join(", "),
        marks.join(", ")
    );
    let sets: Vec<String> = t
        .columns
        .iter()
        .filter(|c| c.name != "id" && !kept.contains(&c.name))
        .map(|c| format!("\"{0}\" = excluded.\"{0}\"", c.name))
        .collect();
    if t.immutable || sets.is_empty() {
        sql.push_str("NOTHING");
    } else {
        // A row already equal (this PC's own change coming back) is not rewritten: no page
        // write, no commit to make durable.
        let cols: Vec<String> = t
            .columns
            .iter()
            .filter(|c| c.name != "id" && !kept.contains(&c.name))
            .map(|c| format!("\"{}\"", c.name))
            .collect();
        let theirs: Vec<String> = cols.iter().map(|c| format!("excluded.{c}")).collect();
        sql.push_str("UPDATE SET ");
        sql.push_str(&sets.join(", "));
        sql.push_str(&format!(
            " WHERE ({}) IS NOT ({})",
            cols.join(", "),
            theirs.join(", ")
        ));
    }
    let values: Vec<Sql> = t
        .columns
        .iter()
        .zip(&row.values)
        .map(|(c, v)| sql_value(c.pg_type, v, &t.name, &c.name))
        .collect::<Result<_>>()?;
    let mut stmt = tx
        .prepare_cached(&sql)
        .map_err(|e| SyncError::Store(e.into()))?;
    stmt.execute(rusqlite::params_from_iter(values))
        .map_err(|e| SyncError::Apply(format!("{} {}: {e}", t.name, row_id(t, row))))?;
    Ok(())
}

fn row_id(t: &Table, row: &Row) -> String {
    t.index_of("id")
        .and_then(|i| row.values[i].clone())
        .unwrap_or_default()
}

/// Fetch and apply everything after this PC's cursor.
pub fn pull(store: &Store, pg: &mut postgres::Client) -> Result<(Checkpoint, Applied)> {
    let cursor = store.read(|c| sync_meta::get_i64(c, sync_meta::PULL_CURSOR, 0))?;
    let cp = fetch(pg, cursor)?;
    check_server(store, &cp.server_id)?;
    let applied = apply(store, &cp)?;
    Ok((cp, applied))
}
