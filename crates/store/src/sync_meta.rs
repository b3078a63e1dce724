//! What a sync-enrolled PC keeps about its sync in `local_meta` (SYNC.md §4): the names of its
//! keys, read and written by the api (enrolment) and the sync client, and by the store itself
//! (the HLC floor on open, a new incarnation on restore).

use rusqlite::{Connection, OptionalExtension};

use crate::Result;

/// The server URL this PC syncs with (its own role as the user; no password).
pub const URL: &str = "sync.url";
/// This PC's login role on the server.
pub const ROLE: &str = "sync.role";
/// The last local change (`change_log.seq`) the server acknowledged.
pub const PUSH_ACKED_SEQ: &str = "sync.push_acked_seq";
/// The last change of the batch being sent (written before the call): when its
/// acknowledgement is lost, the retry sends exactly that batch again, however many changes
/// were made since — the server replays a stored acknowledgement only for the same batch.
pub const PUSH_INFLIGHT_LAST: &str = "sync.push_inflight_last";
/// The server sequence up to which this PC has applied the server's rows (the pull cursor).
pub const PULL_CURSOR: &str = "sync.pull_cursor";
/// The server's id (`sync.clock.server_id`): a different server stops sync.
pub const SERVER_ID: &str = "sync.server_id";
/// This database's incarnation: a restored backup gets a new one, so the sequence numbers it
/// reuses are never taken for the ones the server acknowledged (SYNC.md §4.3).
pub const INCARNATION: &str = "sync.incarnation";
/// The highest HLC observed in rows pulled from the server (SYNC.md §6): the clock never
/// starts below it, even when no local change carries it.
pub const HLC_FLOOR: &str = "sync.hlc_floor";
/// When sync last succeeded (ms since the epoch).
pub const LAST_OK_AT: &str = "sync.last_ok_at";
/// The last error, as JSON `{code, message, at}`; removed by the next success.
pub const LAST_ERROR: &str = "sync.last_error";
/// The server's clock minus this PC's (ms), as measured at the last connection (SYNC.md §6).
pub const CLOCK_SKEW_MS: &str = "sync.clock_skew_ms";

/// The audit head the server last answered about (`clinicdesk_sync::anchor`): JSON `{seq,
/// hash, at, verdict}`.
pub const AUDIT_ANCHORED: &str = "sync.audit_anchored";
/// The first answer that flagged this PC's audit history (tampered or truncated), kept.
pub const AUDIT_FLAG: &str = "sync.audit_flag";

/// The value of `key`, if set.
pub fn get(c: &Connection, key: &str) -> Result<Option<String>> {
    Ok(
        c.query_row("SELECT value FROM local_meta WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?,
    )
}

/// Set `key` to `value` (inserted or replaced).
pub fn set(c: &Connection, key: &str, value: &str) -> Result<()> {
    c.execute(
        "INSERT INTO local_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

/// Remove `key`.
pub fn remove(c: &Connection, key: &str) -> Result<()> {
    c.execute("DELETE FROM local_meta WHERE key = ?1", [key])?;
    Ok(())
}

/// An integer `key`, or `default` when it is not set; a value that is not an integer is an
/// error (never silently 0: a cursor or watermark read as 0 would re-send or re-pull all).
pub fn get_i64(c: &Connection, key: &str, default: i64) -> Result<i64> {
    match get(c, key)? {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| {
            crate::StoreError::Data(format!("local_meta {key} is {v:?}, not an integer"))
        }),
    }
}
