//! Push (SYNC.md §4.1): the next batch of this PC's unacknowledged changes, cut only at the
//! end of a local transaction (`sync_txn`), at most `MAX_BATCH` changes and about 1 MiB;
//! sent as one `sync.push` call (one server transaction, idempotent by device, incarnation
//! and first sequence); the acknowledgement recorded in its own local transaction.
//!
//! A single local transaction larger than a batch (a CSV import) stays atomic: it is sent as
//! parts of at most `MAX_BATCH` changes staged by `sync.push_chunk` and applied together by
//! `sync.push_commit` (server V5). Each change names its author (`by`, the transaction's user).

use clinicdesk_server::push::MAX_BATCH;
use clinicdesk_store::{sync_meta, Store, WriteMode};
use rusqlite::Connection;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::{failpoint, Result, SyncError};

/// A batch stops growing at the first transaction end past this many bytes of changes (and a
/// staged part of a large transaction at this many bytes).
pub const MAX_BATCH_BYTES: usize = 1 << 20;

/// One request's worth of changes: a JSON array and its SHA-256.
#[derive(Debug, Clone)]
struct Part {
    body: String,
    digest: [u8; 32],
}

impl Part {
    fn of(changes: &[(i64, String)]) -> Part {
        let bytes: usize = changes.iter().map(|c| c.1.len() + 1).sum();
        let mut body = String::with_capacity(bytes + 2);
        body.push('[');
        for (i, (_, text)) in changes.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(text);
        }
        body.push(']');
        let digest = Sha256::digest(body.as_bytes()).into();
        Part { body, digest }
    }
}

/// One batch of whole local transactions: one part (`sync.push`), or the parts of one local
/// transaction larger than a batch (`sync.push_chunk` each, then `sync.push_commit`).
#[derive(Debug, Clone)]
pub struct Batch {
    pub first: i64,
    pub last: i64,
    pub changes: usize,
    /// Each a JSON array of changes (`[{seq, table, row_id, op, columns, hlc, by}]`).
    parts: Vec<Part>,
    /// One part: its digest; several: the SHA-256 of their digests in order.
    digest: [u8; 32],
}

impl Batch {
    /// How many requests stage it (1: an ordinary batch).
    pub fn parts(&self) -> usize {
        self.parts.len()
    }
}

/// The server's acknowledgement of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    pub last: i64,
    /// Changes that changed something on the server (a replay or a losing change: none).
    pub applied: i64,
    pub server_seq: i64,
}

/// The local queue: acknowledged watermark and what waits after it.
pub fn pending(c: &Connection) -> Result<i64> {
    let acked = sync_meta::get_i64(c, sync_meta::PUSH_ACKED_SEQ, 0)?;
    Ok(c.query_row(
        "SELECT count(*) FROM change_log WHERE seq > ?1",
        [acked],
        |r| r.get(0),
    )
    .map_err(clinicdesk_store::StoreError::from)?)
}

fn sql_err(e: rusqlite::Error) -> SyncError {
    SyncError::Store(e.into())
}

/// The recorded local transactions that end at or after `from` and start by `to`:
/// (first_seq, last_seq, user), by last_seq.
fn transactions(c: &Connection, from: i64, to: i64) -> Result<Vec<(i64, i64, Option<String>)>> {
    let mut ends = c
        .prepare_cached(
            "SELECT first_seq, last_seq, user_id FROM sync_txn WHERE last_seq >= ?1 AND first_seq <= ?2
             ORDER BY last_seq",
        )
        .map_err(sql_err)?;
    let txns = ends
        .query_map([from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(sql_err)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql_err)?;
    Ok(txns)
}

/// Up to `limit` changes after `after` (and at most `to`), each as the JSON object sent, with
/// its author from `txns`.
fn read_changes(
    c: &Connection,
    after: i64,
    to: i64,
    limit: usize,
    txns: &[(i64, i64, Option<String>)],
) -> Result<Vec<(i64, String)>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT seq, table_name, row_id, op, columns, hlc FROM change_log
             WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
        )
        .map_err(sql_err)?;
    let mut rows = stmt
        .query(rusqlite::params![after, to, limit as i64])
        .map_err(sql_err)?;
    let mut changes: Vec<(i64, String)> = Vec::new();
    while let Some(r) = rows.next().map_err(sql_err)? {
        let seq: i64 = r.get(0).map_err(sql_err)?;
        let columns: String = r.get(4).map_err(sql_err)?;
        let columns: Map<String, Value> = serde_json::from_str(&columns).map_err(|e| {
            SyncError::Protocol(format!(
                "change {seq}: its columns are not a JSON object ({e})"
            ))
        })?;
        let by = txns
            .iter()
            .find(|(f, l, _)| *f <= seq && seq <= *l)
            .and_then(|t| t.2.clone());
        let mut o = Map::new();
        o.insert("seq".into(), seq.into());
        o.insert("table".into(), Value::String(r.get(1).map_err(sql_err)?));
        o.insert("row_id".into(), Value::String(r.get(2).map_err(sql_err)?));
        o.insert("op".into(), Value::String(r.get(3).map_err(sql_err)?));
        o.insert("columns".into(), Value::Object(columns));
        o.insert("hlc".into(), Value::String(r.get(5).map_err(sql_err)?));
        o.insert("by".into(), by.map_or(Value::Null, Value::String));
        changes.push((seq, Value::Object(o).to_string()));
    }
    Ok(changes)
}

/// The next batch after the acknowledged watermark, or None when the queue is empty. Reads
/// one snapshot (`c` should be inside a read transaction or idle).
pub fn next_batch(c: &Connection) -> Result<Option<Batch>> {
    let acked = sync_meta::get_i64(c, sync_meta::PUSH_ACKED_SEQ, 0)?;
    let first: Option<i64> = c
        .query_row(
            "SELECT min(seq) FROM change_log WHERE seq > ?1",
            [acked],
            |r| r.get(0),
        )
        .map_err(sql_err)?;
    let Some(first) = first else {
        return Ok(None);
    };
    let mut top: i64 = c
        .query_row(
            "SELECT max(seq) FROM (SELECT seq FROM change_log WHERE seq >= ?1 ORDER BY seq LIMIT ?2)",
            rusqlite::params![first, MAX_BATCH as i64],
            |r| r.get(0),
        )
        .map_err(sql_err)?;
    // A batch sent whose acknowledgement was lost is sent again as it was: the changes made
    // since wait for the next batch (the server would take a longer batch with the same first
    // sequence number for a restored copy).
    let inflight = sync_meta::get_i64(c, sync_meta::PUSH_INFLIGHT_LAST, 0)?;
    if inflight > acked {
        top = top.min(inflight);
    }
    let txns = transactions(c, first, top)?;
    // The first transaction does not end within a batch: it goes alone, in parts.
    if let Some(&(_, last, _)) = txns.first().filter(|t| t.0 <= first && t.1 > top) {
        return large_batch(c, acked, last, txns);
    }
    let changes = read_changes(c, acked, top, MAX_BATCH, &txns)?;
    // Where a batch may end: the end of a recorded transaction, or a change no recorded
    // transaction covers (captured before V10 recorded transactions).
    let is_end = |seq: i64| {
        txns.iter().any(|&(_, l, _)| l == seq)
            || !txns.iter().any(|&(f, l, _)| f <= seq && seq <= l)
    };
    let mut cut = None;
    let mut bytes = 0usize;
    for (i, (seq, text)) in changes.iter().enumerate() {
        bytes += text.len() + 1;
        if is_end(*seq) {
            cut = Some(i);
            if bytes >= MAX_BATCH_BYTES {
                break;
            }
        }
    }
    let n = cut.map_or(changes.len(), |i| i + 1);
    let changes = &changes[..n];
    let part = Part::of(changes);
    Ok(Some(Batch {
        first,
        last: changes[n - 1].0,
        changes: n,
        digest: part.digest,
        parts: vec![part],
    }))
}

/// The one local transaction after `acked` that ends at `last`, in parts of at most
/// `MAX_BATCH` changes and about `MAX_BATCH_BYTES`.
fn large_batch(
    c: &Connection,
    acked: i64,
    last: i64,
    txns: Vec<(i64, i64, Option<String>)>,
) -> Result<Option<Batch>> {
    let mut parts = Vec::new();
    let mut count = 0usize;
    let mut after = acked;
    let mut first = None;
    while after < last {
        let mut changes = read_changes(c, after, last, MAX_BATCH, &txns)?;
        if changes.is_empty() {
            break;
        }
        let mut bytes = 0usize;
        let keep = changes
            .iter()
            .position(|(_, t)| {
                bytes += t.len() + 1;
                bytes > MAX_BATCH_BYTES
            })
            .map_or(changes.len(), |i| i.max(1));
        changes.truncate(keep);
        first.get_or_insert(changes[0].0);
        after = changes[changes.len() - 1].0;
        count += changes.len();
        parts.push(Part::of(&changes));
    }
    let Some(first) = first else {
        return Ok(None);
    };
    let mut all = Sha256::new();
    for p in &parts {
        all.update(p.digest);
    }
    Ok(Some(Batch {
        first,
        last: after,
        changes: count,
        digest: all.finalize().into(),
        parts,
    }))
}

/// This database's incarnation, minted on first use.
pub fn incarnation(store: &Store) -> Result<String> {
    if let Some(i) = store.read(|c| sync_meta::get(c, sync_meta::INCARNATION))? {
        return Ok(i);
    }
    store.write_as(WriteMode::Remote, None, |tx| -> Result<String> {
        if let Some(i) = sync_meta::get(tx, sync_meta::INCARNATION)? {
            return Ok(i);
        }
        let i = uuid::Uuid::now_v7().to_string();
        sync_meta::set(tx, sync_meta::INCARNATION, &i)?;
        Ok(i)
    })
}

/// Send one batch: one server transaction (a large transaction's parts are staged first). A
/// retry of a batch whose acknowledgement was lost gets the stored acknowledgement back
/// (nothing applied twice).
pub fn send(pg: &mut postgres::Client, incarnation: &str, b: &Batch) -> Result<Ack> {
    let refused = |e: postgres::Error| {
        SyncError::from_pg(e, |code, message| SyncError::Refused {
            first: b.first,
            last: b.last,
            code,
            message,
        })
    };
    let row = if let [p] = &b.parts[..] {
        pg.query_one(
            "SELECT sync.push($1::text::uuid, $2, $3, $4, $5::text::jsonb)::text",
            &[&incarnation, &b.first, &b.last, &&p.digest[..], &p.body],
        )
        .map_err(refused)?
    } else {
        for (i, p) in b.parts.iter().enumerate() {
            pg.query_one(
                "SELECT sync.push_chunk($1::text::uuid, $2, $3, $4, $5, $6::text::jsonb)",
                &[
                    &incarnation,
                    &b.first,
                    &b.last,
                    &(i as i32),
                    &&p.digest[..],
                    &p.body,
                ],
            )
            .map_err(refused)?;
            failpoint::hit("push:after_chunk");
        }
        pg.query_one(
            "SELECT sync.push_commit($1::text::uuid, $2, $3, $4, $5)::text",
            &[
                &incarnation,
                &b.first,
                &b.last,
                &&b.digest[..],
                &(b.parts.len() as i32),
            ],
        )
        .map_err(refused)?
    };
    let text: String = row.get(0);
    let ack: Value = serde_json::from_str(&text)
        .map_err(|e| SyncError::Protocol(format!("the push acknowledgement {text:?}: {e}")))?;
    let field = |k: &str| {
        ack.get(k).and_then(Value::as_i64).ok_or_else(|| {
            SyncError::Protocol(format!("the push acknowledgement has no {k}: {text}"))
        })
    };
    let a = Ack {
        last: field("last_seq")?,
        applied: field("applied")?,
        server_seq: field("server_seq")?,
    };
    if a.last != b.last {
        return Err(SyncError::Protocol(format!(
            "the server acknowledged up to {} for a batch ending at {}",
            a.last, b.last
        )));
    }
    failpoint::hit("push:after_send");
    Ok(a)
}

/// Record the batch about to be sent (its last change), unless it is already recorded (a
/// retry): [`next_batch`] sends it again, unchanged, until it is acknowledged.
fn record_inflight(store: &Store, last: i64) -> Result<()> {
    if store.read(|c| sync_meta::get_i64(c, sync_meta::PUSH_INFLIGHT_LAST, 0))? == last {
        return Ok(());
    }
    store.write_as(WriteMode::Remote, None, |tx| -> Result<()> {
        sync_meta::set(tx, sync_meta::PUSH_INFLIGHT_LAST, &last.to_string())?;
        Ok(())
    })
}

/// Record that the server holds every change up to `last` (never moves back).
pub fn record_ack(store: &Store, last: i64) -> Result<()> {
    store.write_as(WriteMode::Remote, None, |tx| -> Result<()> {
        let acked = sync_meta::get_i64(tx, sync_meta::PUSH_ACKED_SEQ, 0)?;
        if last > acked {
            sync_meta::set(tx, sync_meta::PUSH_ACKED_SEQ, &last.to_string())?;
        }
        Ok(())
    })
}

/// What [`push_all`] sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pushed {
    pub batches: u64,
    pub changes: u64,
    pub applied: u64,
}

/// Push batches until the queue is empty (or a step fails: what was acknowledged stays
/// acknowledged, the rest waits).
pub fn push_all(store: &Store, pg: &mut postgres::Client) -> Result<Pushed> {
    let inc = incarnation(store)?;
    let mut out = Pushed::default();
    while let Some(b) = store.read(next_batch)? {
        record_inflight(store, b.last)?;
        let ack = send(pg, &inc, &b)?;
        record_ack(store, ack.last)?;
        out.batches += 1;
        out.changes += b.changes as u64;
        out.applied += ack.applied.max(0) as u64;
    }
    Ok(out)
}
