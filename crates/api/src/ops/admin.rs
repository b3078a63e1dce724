//! Backup, restore, the audit log (list and verification) and this device's idle lock.

use std::path::Path;

use clinicdesk_domain::{Capability, DomainError, PatientId, UserId};
use clinicdesk_store::audit::{self, AuditEntry, AuditFilter, Seal, SealKey, VerifyReport};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use crate::access::{clinics_with, live_clinics, Scope};
use crate::error::ApiResult;
use crate::read_audit::{PatientRead, Shown};
use crate::{App, Session};

impl App {
    pub fn backup(
        &self,
        s: &Session,
        dest: &Path,
        progress: impl FnMut(i32, i32) -> bool,
    ) -> ApiResult<()> {
        self.require(
            s,
            Capability::BackupRestore,
            Scope::EveryClinic,
            "make backups",
        )?;
        self.check_destination(dest)?;
        self.store.export_backup(dest, progress)?;
        let details = serde_json::json!({ "file": dest.display().to_string() });
        self.tx(s, |tx| {
            Ok(tx.audit_event(
                "database",
                None,
                "event",
                &serde_json::json!({ "backup": details }),
            )?)
        })
    }

    pub fn restore(
        &self,
        s: &Session,
        src: &Path,
        progress: impl FnMut(i32, i32) -> bool,
    ) -> ApiResult<()> {
        self.require(
            s,
            Capability::BackupRestore,
            Scope::EveryClinic,
            "restore backups",
        )?;
        self.store.restore_from(src, progress)?;
        let details = serde_json::json!({ "restored_from": src.display().to_string() });
        self.tx(s, |tx| {
            Ok(tx.audit_event("database", None, "event", &details)?)
        })
    }

    /// The recovery kit: a NEW recovery key (the database key is re-wrapped under it; the
    /// previous recovery key stops working for backups made from now on — earlier backups
    /// still open with the key they were made with), with what identifies the database.
    /// Audited. Only for whoever may restore backups (every clinic's admin, the owner).
    pub fn recovery_kit(&self, s: &Session) -> ApiResult<RecoveryKit> {
        self.require(
            s,
            Capability::BackupRestore,
            Scope::EveryClinic,
            "export the recovery kit",
        )?;
        let recovery_key = self
            .store
            .new_recovery_key(Some(&s.user_id.to_string()))?
            .to_string();
        let clinics = self.store.read(|c| -> ApiResult<Vec<String>> {
            let mut st = c.prepare(
                "SELECT name || ' (' || code || ')' FROM clinics WHERE deleted_at IS NULL ORDER BY name",
            )?;
            let names = st
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(names)
        })?;
        Ok(RecoveryKit {
            database_id: self.store.db_id()?.to_string(),
            clinics,
            recovery_key,
        })
    }

    pub fn verify_audit(&self, s: &Session) -> ApiResult<VerifyReport> {
        self.verify_audit_with(s, None)
    }

    /// `verify_audit`, and with the audit verification key (K_0, shown when the database was
    /// created) every seal's MAC: history rewritten and re-hashed, sealed entries cut off.
    pub fn verify_audit_with(
        &self,
        s: &Session,
        verification_key: Option<&SealKey>,
    ) -> ApiResult<VerifyReport> {
        self.require(
            s,
            Capability::ReadAudit,
            Scope::AnyClinic,
            "verify the audit log",
        )?;
        Ok(self.store.verify_audit_with(verification_key)?)
    }

    /// Seal the audit entries written since the last seal (see `Store::seal_audit`); None when
    /// there were none.
    pub fn seal_audit(&self, s: &Session) -> ApiResult<Option<Seal>> {
        self.require(
            s,
            Capability::BackupRestore,
            Scope::AnyClinic,
            "seal the audit log",
        )?;
        Ok(self.store.seal_audit()?)
    }

    /// Re-create the triggers that differ from this version's (a dropped or changed audit
    /// trigger), recording the repair in the audit log; returns what was repaired ("missing:
    /// name", …), empty when nothing was.
    pub fn repair_audit_triggers(&self, s: &Session) -> ApiResult<Vec<String>> {
        self.require(
            s,
            Capability::BackupRestore,
            Scope::AnyClinic,
            "repair the database's triggers",
        )?;
        let user = s.user_id.to_string();
        Ok(self
            .store
            .repair_triggers(Some(&user))?
            .map(|d| d.describe())
            .unwrap_or_default())
    }
}

/// What a clinic keeps on paper (or in a safe) to restore its backups on a new PC.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct RecoveryKit {
    pub database_id: String,
    pub clinics: Vec<String>,
    /// Shown once; stored nowhere on the PC.
    pub recovery_key: String,
}

impl RecoveryKit {
    /// The kit as a text file to print.
    pub fn text(&self) -> String {
        format!(
            "ClinicDesk recovery kit\n\
             =======================\n\
             Clinics: {}\n\
             Database id: {}\n\
             Recovery key: {}\n\n\
             With this key, a ClinicDesk backup of this database restores on any PC\n\
             (desktop: \"Restore a backup\"; command line: clinicdesk restore-new).\n\
             Print it and keep it away from the PC and its backups (a safe, the owner's home).\n\
             Anyone holding this key and a backup can read every patient record in it.\n\
             A newer recovery kit replaces this key for backups made after it.\n",
            self.clinics.join(", "),
            self.database_id,
            self.recovery_key
        )
    }
}

/// Restore a backup on a PC that lacks its database key (a new PC): the recovery key unwraps
/// the key from the backup's header; the backup becomes the database at `new_path`, its key
/// kept by `keys`. Nothing is written when the recovery key is wrong or the backup damaged.
/// The restore is audited in the restored database.
pub fn restore_with_recovery_key(
    backup: &Path,
    recovery_key: &str,
    new_path: &Path,
    keys: &clinicdesk_store::KeySource,
) -> ApiResult<App> {
    let rk = clinicdesk_store::RecoveryKey::parse(recovery_key)?;
    let store = clinicdesk_store::Store::restore_with_recovery_key(backup, &rk, new_path, keys)?;
    store.write(None, |tx| {
        tx.audit_event(
            "database",
            None,
            "event",
            &serde_json::json!({ "restored_with_recovery_key": backup.display().to_string() }),
        )
    })?;
    Ok(App::new(std::sync::Arc::new(store)))
}

/// The idle lock when none was set on this device.
pub const DEFAULT_IDLE_TIMEOUT_MINUTES: i64 = 15;
/// The longest idle lock an admin may set (as the clinics' `idle_lock_minutes`).
pub const MAX_IDLE_TIMEOUT_MINUTES: i64 = 480;
const IDLE_TIMEOUT_KEY: &str = "idle_timeout_minutes";

/// Filters of the audit log list; every one optional. Newest first, at most `limit` (1–1000,
/// default 200); `before_seq` gives the next (older) page.
#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
#[serde(default)]
pub struct AuditQuery {
    /// A table name (e.g. appointments) or an event area (users, permission, database, settings).
    pub table_name: Option<String>,
    pub row_id: Option<String>,
    /// insert, update, soft_delete, restore, denied, login, login_failed, event.
    pub action: Option<String>,
    pub user_id: Option<UserId>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: Option<u32>,
}

fn read_idle_timeout(conn: &rusqlite::Connection) -> ApiResult<i64> {
    let v: Option<String> = conn
        .query_row(
            "SELECT value FROM local_meta WHERE key = ?1",
            [IDLE_TIMEOUT_KEY],
            |r| r.get(0),
        )
        .optional()?;
    Ok(v.and_then(|v| v.parse::<i64>().ok())
        .filter(|m| (1..=MAX_IDLE_TIMEOUT_MINUTES).contains(m))
        .unwrap_or(DEFAULT_IDLE_TIMEOUT_MINUTES))
}

/// A text filter as given: None when absent or blank.
fn clean(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl App {
    /// This device's idle lock: minutes without input before the desktop session locks
    /// (default 15). A device setting (`local_meta`, not replicated); the shell reads it
    /// without a session to enforce the lock.
    pub fn get_idle_timeout(&self) -> ApiResult<i64> {
        self.store.read(read_idle_timeout)
    }

    /// The idle lock that applies to `s`'s session on this device: the device's setting, or
    /// a clinic's `idle_lock_minutes` when shorter — the strictest clinic where the user holds
    /// a role decides (a clinic asks for its patients' data to be locked away sooner).
    pub fn idle_lock_minutes_for(&self, s: &Session) -> ApiResult<i64> {
        self.store.read(|c| -> ApiResult<i64> {
            let device = read_idle_timeout(c)?;
            let clinic: Option<i64> = c.query_row(
                "SELECT min(cl.idle_lock_minutes) FROM clinics cl
                 JOIN user_clinic_roles r ON r.clinic_id = cl.id
                 WHERE r.user_id = ?1 AND r.is_active = 1 AND r.deleted_at IS NULL AND cl.deleted_at IS NULL",
                [s.user_id.to_string()],
                |r| r.get(0),
            )?;
            Ok(clinic
                .filter(|m| (1..=MAX_IDLE_TIMEOUT_MINUTES).contains(m))
                .map_or(device, |m| m.min(device)))
        })
    }

    /// Set this device's idle lock (1–480 minutes). Admins only; audited with the old and new
    /// value. Returns the new value.
    pub fn set_idle_timeout(&self, s: &Session, minutes: i64) -> ApiResult<i64> {
        self.require(
            s,
            Capability::ManageClinics,
            Scope::AnyClinic,
            "change the idle lock",
        )?;
        if !(1..=MAX_IDLE_TIMEOUT_MINUTES).contains(&minutes) {
            return Err(DomainError::invalid(
                "minutes",
                format!("must be between 1 and {MAX_IDLE_TIMEOUT_MINUTES}"),
            )
            .into());
        }
        self.tx(s, |tx| {
            let old = read_idle_timeout(tx)?;
            tx.execute(
                "INSERT INTO local_meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                rusqlite::params![IDLE_TIMEOUT_KEY, minutes.to_string()],
            )?;
            tx.audit_event(
                "settings",
                Some(IDLE_TIMEOUT_KEY),
                "event",
                &serde_json::json!({ "setting": IDLE_TIMEOUT_KEY, "from": old, "to": minutes }),
            )?;
            Ok(minutes)
        })
    }

    /// The audit log, newest first, filtered (see [`AuditQuery`]). Needs the right to read the
    /// audit log; a caller who holds it at every clinic sees every entry, anyone else only the
    /// entries about their clinics (the log holds whole patient records).
    pub fn list_audit(&self, s: &Session, q: &AuditQuery) -> ApiResult<Vec<AuditEntry>> {
        let roles = self.require_roles(
            s,
            Capability::ReadAudit,
            Scope::AnyClinic,
            "read the audit log",
        )?;
        let mine = clinics_with(&roles, Capability::ReadAudit);
        let everywhere = self
            .store
            .read(live_clinics)?
            .iter()
            .all(|c| mine.contains(c));
        let scope: Option<Vec<String>> =
            (!everywhere).then(|| mine.iter().map(ToString::to_string).collect());
        let limit = match q.limit {
            None => 200,
            Some(n @ 1..=1000) => n,
            Some(_) => {
                return Err(DomainError::invalid("limit", "must be between 1 and 1000").into())
            }
        };
        if let (Some(a), Some(b)) = (q.from_ms, q.to_ms) {
            if b < a {
                return Err(DomainError::invalid("to_ms", "must not be before from_ms").into());
            }
        }
        let user = q.user_id.map(|u| u.to_string());
        let filter = AuditFilter {
            table_name: clean(&q.table_name),
            row_id: clean(&q.row_id),
            action: clean(&q.action),
            user_id: user.as_deref(),
            from_ms: q.from_ms,
            to_ms: q.to_ms,
            before_seq: q.before_seq,
            clinics: scope.as_deref(),
            limit: i64::from(limit),
        };
        let entries = self.store.read(|c| audit::list(c, &filter))?;
        // The entries of row changes hold whole patient records: listing them is a patient
        // read (events — sign-ins, refusals, reads — are left out, so that reading the log
        // does not feed on its own read events).
        let patients: Vec<PatientId> = entries
            .iter()
            .filter(|e| e.action != "event")
            .flat_map(|e| {
                let own = if e.table_name == "patients" {
                    e.row_id.clone()
                } else {
                    None
                };
                let referenced = [&e.new_values, &e.old_values]
                    .into_iter()
                    .flatten()
                    .filter_map(|v| serde_json::from_str::<serde_json::Value>(v).ok())
                    .filter_map(|v| v.get("patient_id")?.as_str().map(str::to_string));
                own.into_iter().chain(referenced).collect::<Vec<_>>()
            })
            .filter_map(|id| PatientId::parse(&id).ok())
            .collect();
        self.audit_read(
            s,
            PatientRead::new("list_audit", None, Shown::Patients(patients))
                .with("table_name", clean(&q.table_name))
                .with("row_id", clean(&q.row_id))
                .with("action", clean(&q.action))
                .with("user_id", q.user_id)
                .with("from_ms", q.from_ms)
                .with("to_ms", q.to_ms)
                .with("before_seq", q.before_seq),
        )?;
        Ok(entries)
    }
}
