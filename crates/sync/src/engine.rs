//! One sync round (`clinicdesk sync now`, and each turn of the desktop's loop): push every
//! pending batch, then pull every checkpoint; and the status a screen or `sync status` shows.

use clinicdesk_server::admin::ServerUrl;
use clinicdesk_store::{now_ms, sync_meta, SecretPlace, Store, WriteMode};
use serde::Serialize;

use crate::{pull, push, Result, SyncError};

/// How this PC reaches the server: the URL it was enrolled with (its own role as the user)
/// and its password (from the OS keyring or its key file; never stored elsewhere).
#[derive(Clone)]
pub struct Settings {
    pub url: String,
    pub password: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Settings({}, <password>)", self.url)
    }
}

impl Settings {
    /// The settings of an enrolled database: its URL from `local_meta`, its password from
    /// `place` (the keyring entry `sync:<database id>` or the key file beside the DB key).
    pub fn of(store: &Store, place: &SecretPlace) -> Result<Settings> {
        let url = store
            .read(|c| sync_meta::get(c, sync_meta::URL))?
            .ok_or(SyncError::NotEnrolled)?;
        let password = place.get()?.ok_or_else(|| {
            SyncError::Revoked(format!("no sync password in {}", place.describe()))
        })?;
        Ok(Settings { url, password })
    }

    /// Connect as the device.
    pub fn connect(&self) -> Result<postgres::Client> {
        let url = ServerUrl::parse(&self.url)?;
        Ok(url.connect(None, &self.password)?)
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub pushed_batches: u64,
    pub pushed_changes: u64,
    pub pulled_rows: u64,
    /// Groups that kept this PC's newer value over a pulled one (until its push lands).
    pub kept_local: u64,
    /// Tables that received pulled rows.
    pub changed_tables: Vec<String>,
    pub server_seq: i64,
}

/// Push all, then pull all, on `pg`; the outcome is recorded in the status (`last_ok_at` or
/// `last_error`).
pub fn sync_now(store: &Store, pg: &mut postgres::Client) -> Result<SyncReport> {
    let r = round(store, pg);
    record_outcome(store, r.as_ref().err())?;
    r
}

fn round(store: &Store, pg: &mut postgres::Client) -> Result<SyncReport> {
    let (_, server_id) = pull::clock(pg)?;
    pull::check_server(store, &server_id)?;
    let skew = measure_skew(pg)?;
    record_skew(store, skew)?;
    report_skew(pg, skew)?;
    let pushed = push::push_all(store, pg)?;
    let (cp, applied) = pull::pull(store, pg)?;
    // The audit chain's head, after this round's own entries (pulled rows are audited too).
    crate::anchor::report(store, pg)?;
    Ok(SyncReport {
        pushed_batches: pushed.batches,
        pushed_changes: pushed.changes,
        pulled_rows: applied.rows,
        kept_local: applied.kept_local,
        changed_tables: applied.tables,
        server_seq: cp.server_seq,
    })
}

/// Past this much (either way) the clock of this PC or of the server is wrong enough for an
/// administrator to be told (issue 13): sync goes on regardless (the HLC bounds what a wrong
/// clock can do, SYNC.md §6).
pub const SKEW_WARN_MS: i64 = 120_000;

/// A newly measured skew is recorded only when it moved by more than this (each record is a
/// durable write; the loop measures every round).
const SKEW_RECORD_STEP_MS: i64 = 1_000;

/// The server's clock minus this PC's (ms): the server's time against the middle of the
/// round trip that read it.
pub fn measure_skew(pg: &mut postgres::Client) -> Result<i64> {
    let before = now_ms();
    let row = pg
        .query_one(
            "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint",
            &[],
        )
        .map_err(|e| SyncError::from_pg(e, |c, m| SyncError::Protocol(format!("{c}: {m}"))))?;
    let after = now_ms();
    let server: i64 = row.get(0);
    Ok(server - (before + (after - before) / 2))
}

/// What an administrator is told about a skew past [`SKEW_WARN_MS`] (None within it).
pub fn clock_warning(skew_ms: Option<i64>) -> Option<String> {
    let skew = skew_ms.filter(|s| s.abs() > SKEW_WARN_MS)?;
    let minutes = (skew.abs() + 30_000) / 60_000;
    let way = if skew > 0 { "behind" } else { "ahead of" };
    Some(format!(
        "This PC's clock is about {minutes} min {way} the server's: set this PC's date and \
         time (or the server's). Sync goes on meanwhile."
    ))
}

/// Keep the measured skew in the status (when it is new or moved).
/// The skew, for the server's list of devices (`sync.devices.skew_ms`).
fn report_skew(pg: &mut postgres::Client, skew: i64) -> Result<()> {
    let ms = i32::try_from(skew.clamp(i32::MIN as i64, i32::MAX as i64)).expect("clamped");
    pg.execute("SELECT sync.report_skew($1)", &[&ms])
        .map_err(|e| {
            SyncError::from_pg(e, |code, message| {
                SyncError::Protocol(format!("{code}: {message}"))
            })
        })?;
    Ok(())
}

fn record_skew(store: &Store, skew: i64) -> Result<()> {
    let known = store.read(|c| sync_meta::get(c, sync_meta::CLOCK_SKEW_MS))?;
    let known = known.and_then(|v| v.parse::<i64>().ok());
    if known.is_some_and(|k| (k - skew).abs() <= SKEW_RECORD_STEP_MS) {
        return Ok(());
    }
    store.write_as(WriteMode::Remote, None, |tx| -> Result<()> {
        Ok(sync_meta::set(
            tx,
            sync_meta::CLOCK_SKEW_MS,
            &skew.to_string(),
        )?)
    })
}

/// How stale `last_ok_at` may get while sync keeps succeeding.
const OK_REWRITE_MS: i64 = 30_000;

/// Record the last success or error (the error replaces the previous one; a success clears it).
pub fn record_outcome(store: &Store, err: Option<&SyncError>) -> Result<()> {
    if err.is_none() {
        // A success right after another is not written again (each write is a durable commit,
        // and the loop succeeds after every local commit): only every 30 s.
        let fresh = store.read(|c| -> Result<bool> {
            let ok = sync_meta::get(c, sync_meta::LAST_OK_AT)?.and_then(|v| v.parse::<i64>().ok());
            let failed = sync_meta::get(c, sync_meta::LAST_ERROR)?.is_some();
            Ok(!failed && ok.is_some_and(|t| now_ms().saturating_sub(t) < OK_REWRITE_MS))
        })?;
        if fresh {
            return Ok(());
        }
    }
    store.write_as(WriteMode::Remote, None, |tx| -> Result<()> {
        let now = now_ms();
        match err {
            None => {
                sync_meta::set(tx, sync_meta::LAST_OK_AT, &now.to_string())?;
                sync_meta::remove(tx, sync_meta::LAST_ERROR)?;
            }
            Some(e) => {
                let v =
                    serde_json::json!({ "code": e.code(), "message": e.to_string(), "at": now });
                sync_meta::set(tx, sync_meta::LAST_ERROR, &v.to_string())?;
            }
        }
        Ok(())
    })
}

/// The last error as recorded.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LastError {
    pub code: String,
    pub message: String,
    pub at: i64,
}

/// What a screen shows about sync.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Status {
    pub enrolled: bool,
    /// The server URL (no password).
    pub url: Option<String>,
    /// Whether the last attempt reached the server (the desktop loop knows; from the CLI,
    /// whether the last recorded outcome was a success).
    pub online: bool,
    /// Local changes the server has not acknowledged.
    pub pending_changes: i64,
    pub last_ok_at: Option<i64>,
    pub last_error: Option<LastError>,
    pub pull_cursor: i64,
    pub push_acked_seq: i64,
    /// The server's clock minus this PC's (ms), measured at the last connection.
    pub clock_skew_ms: Option<i64>,
}

/// The status as recorded in the database.
pub fn status(store: &Store) -> Result<Status> {
    store.read(|c| -> Result<Status> {
        let url = sync_meta::get(c, sync_meta::URL)?;
        let last_ok_at = sync_meta::get(c, sync_meta::LAST_OK_AT)?.and_then(|v| v.parse().ok());
        let last_error = sync_meta::get(c, sync_meta::LAST_ERROR)?.and_then(|v| {
            let j: serde_json::Value = serde_json::from_str(&v).ok()?;
            Some(LastError {
                code: j.get("code")?.as_str()?.to_string(),
                message: j.get("message")?.as_str()?.to_string(),
                at: j.get("at")?.as_i64()?,
            })
        });
        Ok(Status {
            enrolled: url.is_some(),
            url,
            online: last_ok_at.is_some() && last_error.is_none(),
            pending_changes: push::pending(c)?,
            last_ok_at,
            last_error,
            pull_cursor: sync_meta::get_i64(c, sync_meta::PULL_CURSOR, 0)?,
            push_acked_seq: sync_meta::get_i64(c, sync_meta::PUSH_ACKED_SEQ, 0)?,
            clock_skew_ms: sync_meta::get(c, sync_meta::CLOCK_SKEW_MS)?
                .and_then(|v| v.parse().ok()),
        })
    })
}
