//! The audit chain anchored off the PC (issue 13 point 5; SYNC.md §5 item 5; server side in
//! `migrations/postgres/V8__audit_anchors.sql`). At the end of every sync round the PC
//! reports its chain's head (the last `audit_log` entry's seq and hash) together with the hash
//! its chain has *now* at the head the server names as the anchor (the previous report). The
//! server keeps every head, append-only, and answers `anchored`, `restored_from_backup` (a new
//! incarnation whose chain still leads to an earlier head), `tamper_suspected` (another hash
//! there: history rewritten and re-hashed by someone holding the key) or `truncated` (no entry
//! there any more). The last answer, the anchored head and the first flag are kept here for
//! `clinicdesk audit verify` and the Admin audit screen; the server keeps the flag whatever is
//! done to this file.

use clinicdesk_store::{sync_meta, Store, WriteMode};
use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::{push, Result, SyncError};

use sync_meta::{AUDIT_ANCHORED as ANCHORED, AUDIT_FLAG as FLAG};

/// What the server answered about this PC's audit history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Anchor {
    /// The head reported: the last audit entry's sequence number and hash.
    pub seq: i64,
    pub hash: String,
    /// When (ms since the epoch, this PC's clock).
    pub at: i64,
    /// `anchored`, `restored_from_backup`, `tamper_suspected` or `truncated`.
    pub verdict: String,
}

impl Anchor {
    /// Whether the server found this PC's history not leading to what it reported before.
    pub fn flagged(&self) -> bool {
        matches!(self.verdict.as_str(), "tamper_suspected" | "truncated")
    }
}

/// The last anchored head and the first flag, as recorded here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnchorStatus {
    pub last: Option<Anchor>,
    pub flag: Option<Anchor>,
}

/// This PC's audit chain head: (seq, hash); None while the log is empty.
fn head(store: &Store) -> Result<Option<(i64, String)>> {
    Ok(store.read(|c| {
        c.query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(clinicdesk_store::StoreError::from)
    })?)
}

/// The hash of this PC's entry `seq` now (None: there is none).
fn hash_at(store: &Store, seq: i64) -> Result<Option<String>> {
    Ok(store.read(|c| {
        c.query_row("SELECT hash FROM audit_log WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .optional()
        .map_err(clinicdesk_store::StoreError::from)
    })?)
}

fn protocol(code: String, message: String) -> SyncError {
    SyncError::Protocol(format!("{code}: {message}"))
}

/// Report this PC's audit head (see the module docs) and record the answer.
pub fn report(store: &Store, pg: &mut postgres::Client) -> Result<Option<Anchor>> {
    let Some((seq, hash)) = head(store)? else {
        return Ok(None);
    };
    // The head the server already has: the chain up to it is what it was (each hash covers
    // the one before), so there is nothing to tell — no round trip, no write.
    if let Some(last) = status(store)?.last {
        if last.seq == seq && last.hash == hash {
            return Ok(Some(last));
        }
    }
    let incarnation = push::incarnation(store)?;
    let inc = uuid::Uuid::parse_str(&incarnation)
        .map_err(|_| SyncError::Protocol(format!("incarnation {incarnation} is not a UUID")))?;
    let anchor: Option<i64> = pg
        .query_one("SELECT sync.audit_anchor($1, $2)", &[&inc, &seq])
        .map_err(|e| SyncError::from_pg(e, protocol))?
        .get(0);
    let at_anchor = match anchor {
        Some(a) => hash_at(store, a)?,
        None => None,
    };
    let verdict: String = pg
        .query_one(
            "SELECT sync.report_audit_head($1, $2, $3, $4, $5)",
            &[&inc, &seq, &hash, &anchor, &at_anchor],
        )
        .map_err(|e| SyncError::from_pg(e, protocol))?
        .get(0);
    let a = Anchor {
        seq,
        hash,
        at: clinicdesk_store::now_ms(),
        verdict,
    };
    let json = serde_json::to_string(&a).expect("JSON");
    store.write_as(WriteMode::Remote, None, |tx| -> Result<()> {
        sync_meta::set(tx, ANCHORED, &json)?;
        if a.flagged() && sync_meta::get(tx, FLAG)?.is_none() {
            sync_meta::set(tx, FLAG, &json)?;
        }
        Ok(())
    })?;
    Ok(Some(a))
}

/// The last anchored head and the first flag recorded on this PC.
pub fn status(store: &Store) -> Result<AnchorStatus> {
    Ok(store.read(|c| -> clinicdesk_store::Result<AnchorStatus> {
        let read = |key| -> clinicdesk_store::Result<Option<Anchor>> {
            Ok(sync_meta::get(c, key)?.and_then(|v| serde_json::from_str(&v).ok()))
        };
        Ok(AnchorStatus {
            last: read(ANCHORED)?,
            flag: read(FLAG)?,
        })
    })?)
}

/// Whether this PC's entry at the last anchored head differs from what was reported (checked
/// here, before the next round tells the server).
pub fn anchored_entry_changed(store: &Store, s: &AnchorStatus) -> Result<bool> {
    Ok(match &s.last {
        Some(a) => hash_at(store, a.seq)?.as_deref() != Some(a.hash.as_str()),
        None => false,
    })
}
