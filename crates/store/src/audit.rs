//! The audit log: append-only (triggers refuse UPDATE and DELETE) and hash-chained. Entries for
//! table writes are appended by the generated triggers (migrations/sqlite/V2…); this module adds
//! entries for events that change no row (permission refusals, logins) and verifies the chain.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Result;

mod rows;
mod seal;

pub(crate) use seal::{init_key as init_seal_key, seal};
pub use seal::{Seal, SealKey};

/// How a redacted column appears in the audit log (`cd_fingerprint`): a short sha256.
pub fn fingerprint(value: &str) -> String {
    format!(
        "sha256:{}",
        &hex::encode(Sha256::digest(value.as_bytes()))[..16]
    )
}

/// The details of a bulk load's baseline event (see `rows`): appended by `Store::write_as` in
/// `WriteMode::Bulk`.
pub(crate) fn append_baseline(conn: &Connection, ctx: &crate::WriteCtx) -> Result<()> {
    let details = rows::baseline(conn)?;
    append_event(conn, ctx, "database", None, "event", &details)
}

/// The fields an audit entry's hash covers, in order.
pub struct HashInput<'a> {
    pub seq: i64,
    pub prev_hash: Option<&'a str>,
    pub at: i64,
    pub table_name: &'a str,
    pub row_id: Option<&'a str>,
    pub action: &'a str,
    pub old_values: Option<&'a str>,
    pub new_values: Option<&'a str>,
    pub changed_fields: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub device_id: Option<&'a str>,
}

/// sha256 over a length-prefixed encoding of every field (NULL distinct from empty), as hex.
pub fn entry_hash(h: &HashInput<'_>) -> String {
    let mut d = Sha256::new();
    let mut field = |v: Option<&str>| match v {
        None => d.update(b"N;"),
        Some(s) => {
            d.update(format!("{}:", s.len()).as_bytes());
            d.update(s.as_bytes());
            d.update(b";");
        }
    };
    field(Some(&h.seq.to_string()));
    field(h.prev_hash);
    field(Some(&h.at.to_string()));
    field(Some(h.table_name));
    field(h.row_id);
    field(Some(h.action));
    field(h.old_values);
    field(h.new_values);
    field(h.changed_fields);
    field(h.user_id);
    field(h.device_id);
    hex::encode(d.finalize())
}

/// Append an entry that is not a row write (a refusal, a login, a failed login, an event).
/// Runs in its own statement; call it inside the transaction it belongs to.
pub fn append_event(
    conn: &Connection,
    ctx: &crate::WriteCtx,
    table_name: &str,
    row_id: Option<&str>,
    action: &str,
    details: &serde_json::Value,
) -> Result<()> {
    let (at, user_id, device_id) = (ctx.now_ms, ctx.user_id.as_deref(), ctx.device_id.as_str());
    let (seq, prev): (i64, Option<String>) = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)? + 1, Some(r.get(1)?))),
        )
        .optional()?
        .unwrap_or((1, None));
    let new_values = details.to_string();
    let hash = entry_hash(&HashInput {
        seq,
        prev_hash: prev.as_deref(),
        at,
        table_name,
        row_id,
        action,
        old_values: None,
        new_values: Some(&new_values),
        changed_fields: None,
        user_id,
        device_id: Some(device_id),
    });
    conn.execute(
        "INSERT INTO audit_log (seq, at, table_name, row_id, action, old_values, new_values, changed_fields, user_id, device_id, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, NULL, ?7, ?8, ?9, ?10)",
        params![seq, at, table_name, row_id, action, new_values, user_id, device_id, prev, hash],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, specta::Type)]
pub struct VerifyReport {
    /// Entries whose chain was checked (up to the first break).
    pub entries: u64,
    /// Every check that ran passed (see `seals_checked`: without the verification key the seals'
    /// MACs are not checked).
    pub ok: bool,
    /// The first entry whose chain breaks (its hash does not match its content, or its
    /// prev_hash does not match the entry before it, or a sequence number is missing), or the
    /// first entry a failed seal concerns.
    pub first_broken_seq: Option<i64>,
    /// The first problem.
    pub reason: Option<String>,
    /// Every problem found (row problems: the first 20; `row_problems` counts them all).
    pub problems: Vec<String>,
    /// Rows of the audited tables compared with their latest audited values.
    pub rows_checked: u64,
    /// Rows that differ from their latest audited values, have none, or are gone.
    pub row_problems: u64,
    /// Triggers that differ from those this version of ClinicDesk creates ("missing: name",
    /// "changed: name", "extra: name"): auditing may have been switched off.
    pub trigger_drift: Vec<String>,
    /// Seals found (each covers a range of entries, see `Store::seal_audit`).
    pub seals: u64,
    /// The seals' MACs were checked with the verification key.
    pub seals_checked: bool,
    /// The last entry covered by a seal.
    pub sealed_through: Option<i64>,
    /// Entries after the last seal: a key holder can still rewrite or cut these off unnoticed.
    pub unsealed_entries: u64,
}

impl VerifyReport {
    fn chain(entries: u64, broken: Option<(i64, String)>) -> VerifyReport {
        let (first_broken_seq, reason) = broken.map_or((None, None), |(s, r)| (Some(s), Some(r)));
        VerifyReport {
            entries,
            ok: reason.is_none(),
            first_broken_seq,
            problems: reason.iter().cloned().collect(),
            reason,
            rows_checked: 0,
            row_problems: 0,
            trigger_drift: Vec::new(),
            seals: 0,
            seals_checked: false,
            sealed_through: None,
            unsealed_entries: entries,
        }
    }
}

/// Everything `verify` checks, and: the triggers against those of this build (a dropped or
/// changed trigger), every audited row against its latest audited values (an edit that went
/// unaudited), and the seals (with the verification key `k0`, their MACs: history rewritten and
/// re-hashed, sealed entries cut off).
pub fn verify_all(conn: &Connection, k0: Option<&SealKey>) -> Result<VerifyReport> {
    let mut report = verify(conn)?;
    if let Some(drift) = crate::registry::trigger_drift(conn)? {
        report.trigger_drift = drift.describe();
        report.problems.push(format!(
            "the database's triggers differ from this version's ({}): auditing may have been switched off; run `clinicdesk audit repair-triggers`",
            report.trigger_drift.join("; ")
        ));
    }
    let (rows, row_problems, row_count) = rows::check_all(conn)?;
    report.rows_checked = rows;
    report.row_problems = row_count;
    report.problems.extend(row_problems);
    let seals = seal::check(conn, k0)?;
    report.seals = seals.seals;
    report.seals_checked = seals.checked;
    report.sealed_through = seals.sealed_through;
    let last: i64 = conn.query_row("SELECT coalesce(max(seq), 0) FROM audit_log", [], |r| {
        r.get(0)
    })?;
    report.unsealed_entries = (last - seals.sealed_through.unwrap_or(0)).max(0) as u64;
    if let Some((seq, what)) = seals.problem {
        report.problems.push(what);
        if report.first_broken_seq.is_none() {
            report.first_broken_seq = seq;
        }
    }
    report.ok = report.problems.is_empty();
    report.reason = report.problems.first().cloned();
    Ok(report)
}

/// Walk the whole chain in order and report the first entry that breaks it (the chain only: a
/// backup is checked with this before a restore; `verify_all` checks everything).
pub fn verify(conn: &Connection) -> Result<VerifyReport> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, table_name, row_id, action, old_values, new_values, changed_fields, user_id, device_id, prev_hash, hash
         FROM audit_log ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut prev_hash: Option<String> = None;
    let mut expected_seq: Option<i64> = None;
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        n += 1;
        let seq: i64 = r.get(0)?;
        let stored_prev: Option<String> = r.get(10)?;
        let stored_hash: String = r.get(11)?;
        let broken = |reason: &str| VerifyReport::chain(n, Some((seq, reason.to_string())));
        if let Some(e) = expected_seq {
            if seq != e {
                return Ok(broken(&format!("entry {e} is missing")));
            }
        }
        if stored_prev != prev_hash {
            return Ok(broken("its link to the previous entry does not match"));
        }
        let at: i64 = r.get(1)?;
        let fields: Vec<Option<String>> =
            (2..10).map(|i| r.get(i)).collect::<rusqlite::Result<_>>()?;
        let computed = entry_hash(&HashInput {
            seq,
            prev_hash: stored_prev.as_deref(),
            at,
            table_name: fields[0].as_deref().unwrap_or(""),
            row_id: fields[1].as_deref(),
            action: fields[2].as_deref().unwrap_or(""),
            old_values: fields[3].as_deref(),
            new_values: fields[4].as_deref(),
            changed_fields: fields[5].as_deref(),
            user_id: fields[6].as_deref(),
            device_id: fields[7].as_deref(),
        });
        if computed != stored_hash {
            return Ok(broken("its content does not match its hash (altered)"));
        }
        prev_hash = Some(stored_hash);
        expected_seq = Some(seq + 1);
    }
    Ok(VerifyReport::chain(n, None))
}

/// One audit entry as stored (JSON columns as their text).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, specta::Type)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    pub table_name: String,
    pub row_id: Option<String>,
    pub action: String,
    pub old_values: Option<String>,
    pub new_values: Option<String>,
    pub changed_fields: Option<String>,
    pub user_id: Option<String>,
    pub device_id: Option<String>,
    pub hash: String,
}

/// Filters of [`list`]; every one optional. Newest first; `before_seq` pages backwards.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter<'a> {
    pub table_name: Option<&'a str>,
    pub row_id: Option<&'a str>,
    pub action: Option<&'a str>,
    pub user_id: Option<&'a str>,
    /// Entries at or after this instant (ms).
    pub from_ms: Option<i64>,
    /// Entries before this instant (ms).
    pub to_ms: Option<i64>,
    /// Entries with a smaller sequence number than this (the next page).
    pub before_seq: Option<i64>,
    /// Only entries about these clinics (None: every entry): rows whose values name one of
    /// them as `clinic_id` (appointments, patients, staff, refusals at a clinic …) and the
    /// clinics' own rows. Entries about organisation-wide records (users, sign-ins, credential
    /// types, payers …) name no clinic and are left out.
    pub clinics: Option<&'a [String]>,
    pub limit: i64,
}

/// Audit entries matching `f`, newest first.
pub fn list(conn: &Connection, f: &AuditFilter<'_>) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, table_name, row_id, action, old_values, new_values, changed_fields, user_id, device_id, hash
         FROM audit_log
         WHERE (?1 IS NULL OR table_name = ?1) AND (?2 IS NULL OR row_id = ?2)
           AND (?3 IS NULL OR action = ?3) AND (?4 IS NULL OR user_id = ?4)
           AND (?5 IS NULL OR at >= ?5) AND (?6 IS NULL OR at < ?6)
           AND (?7 IS NULL OR seq < ?7)
           AND (?9 IS NULL
                OR coalesce(json_extract(new_values, '$.clinic_id'), json_extract(old_values, '$.clinic_id'))
                   IN (SELECT value FROM json_each(?9))
                OR (table_name = 'clinics' AND row_id IN (SELECT value FROM json_each(?9))))
         ORDER BY seq DESC LIMIT ?8",
    )?;
    let clinics = f
        .clinics
        .map(|c| serde_json::to_string(c).unwrap_or_else(|_| "[]".into()));
    let rows = stmt.query_map(
        params![
            f.table_name,
            f.row_id,
            f.action,
            f.user_id,
            f.from_ms,
            f.to_ms,
            f.before_seq,
            f.limit,
            clinics
        ],
        |r| {
            Ok(AuditEntry {
                seq: r.get(0)?,
                at: r.get(1)?,
                table_name: r.get(2)?,
                row_id: r.get(3)?,
                action: r.get(4)?,
                old_values: r.get(5)?,
                new_values: r.get(6)?,
                changed_fields: r.get(7)?,
                user_id: r.get(8)?,
                device_id: r.get(9)?,
                hash: r.get(10)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
