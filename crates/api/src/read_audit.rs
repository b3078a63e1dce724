//! Patient reads leave a trace (HIPAA audit controls): every API operation that returns patient
//! data appends **one** audit event per call (not per row): who (the session's user, the
//! entry's `user_id`), what (`details`: the operation, the clinic, its arguments and the ids of
//! the patients it returned) and when (the entry's `at`). The entry is `table_name =
//! 'patients'`, `action = 'event'`, `row_id` the patient when the read returned exactly one:
//!
//! ```json
//! { "read": "day_schedule", "clinic_id": "…", "date": "2027-03-01",
//!   "patients": ["…", …], "count": 42 }
//! ```
//!
//! `patients` lists at most [`MAX_AUDITED_PATIENT_IDS`] ids (sorted); `count` is how many the
//! read returned, and `"truncated": true` says when the list stops short of it.
//!
//! **Written before the data is returned, in its own transaction**, so no read is served
//! without its record: a read that cannot be recorded (a full disk) fails, and a crash cannot
//! lose a recorded read. **A screen's refresh is not recorded again**: an identical event (same
//! user, operation, clinic, arguments and patients) recorded within the window
//! ([`READ_AUDIT_WINDOW_MINUTES`]) is skipped, once the entry it remembers is confirmed to be
//! still in the log (a restored database has another log). The memory is this process's only:
//! another process (the CLI) records its own reads. A read that returns no patient records
//! nothing.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use clinicdesk_domain::{AppointmentId, ClinicId, PatientId};
use rusqlite::OptionalExtension;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::ApiResult;
use crate::{App, Session};

/// An identical read event recorded this recently is not recorded again.
pub const READ_AUDIT_WINDOW_MINUTES: i64 = 5;
/// Most patient ids one read event lists (its `count` says how many the read returned).
pub const MAX_AUDITED_PATIENT_IDS: usize = 1000;
/// Most events remembered for the window; beyond it, the expired ones are forgotten first.
const MAX_REMEMBERED: usize = 10_000;

/// Whose data a read returned.
pub(crate) enum Shown {
    /// These patients (any order, repeats allowed).
    Patients(Vec<PatientId>),
    /// The patients of these appointments, with the name shown for each: the schedule grid's
    /// entries carry names, not patient ids (its covering index has none), so the ids are
    /// looked up only when the event is written, not on a refresh that is not recorded again.
    Appointments(Vec<(AppointmentId, String)>),
}

impl Shown {
    fn is_empty(&self) -> bool {
        match self {
            Shown::Patients(v) => v.is_empty(),
            Shown::Appointments(v) => v.is_empty(),
        }
    }
}

/// One read of patient data, as its audit event records it.
pub(crate) struct PatientRead {
    operation: &'static str,
    clinic: Option<ClinicId>,
    args: Map<String, Value>,
    shown: Shown,
}

impl PatientRead {
    /// `operation` (the API function's name) at `clinic` (None: a read across clinics, e.g.
    /// patient search; it names them with [`PatientRead::with`]).
    pub(crate) fn new(operation: &'static str, clinic: Option<ClinicId>, shown: Shown) -> Self {
        PatientRead {
            operation,
            clinic,
            args: Map::new(),
            shown,
        }
    }

    /// An argument of the read (a date, a filter), recorded in the event and part of what
    /// makes two reads identical. `None` values are left out.
    pub(crate) fn with(mut self, name: &str, value: impl Serialize) -> Self {
        if let Ok(v) = serde_json::to_value(value) {
            if !v.is_null() {
                self.args.insert(name.to_string(), v);
            }
        }
        self
    }

    /// What makes two events identical: the user, the operation, the clinic, the arguments
    /// and the patients shown (as a set).
    fn key(&self, user: &str) -> u64 {
        let mut h = DefaultHasher::new();
        (user, self.operation, self.clinic.map(|c| c.to_string())).hash(&mut h);
        Value::Object(self.args.clone()).to_string().hash(&mut h);
        match &self.shown {
            Shown::Patients(ids) => {
                let mut ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                ids.sort_unstable();
                ids.dedup();
                (0u8, ids).hash(&mut h);
            }
            Shown::Appointments(v) => {
                1u8.hash(&mut h);
                for (id, name) in v {
                    (id.to_string(), name).hash(&mut h);
                }
            }
        }
        h.finish()
    }

    fn details(&self, mut patients: Vec<String>) -> Value {
        patients.sort_unstable();
        patients.dedup();
        let count = patients.len();
        let mut d = Map::new();
        d.insert("read".into(), self.operation.into());
        if let Some(c) = self.clinic {
            d.insert("clinic_id".into(), c.to_string().into());
        }
        d.extend(self.args.clone());
        if let Shown::Appointments(v) = &self.shown {
            d.insert("appointments".into(), v.len().into());
        }
        if count > MAX_AUDITED_PATIENT_IDS {
            patients.truncate(MAX_AUDITED_PATIENT_IDS);
            d.insert("truncated".into(), true.into());
        }
        d.insert("patients".into(), patients.into());
        d.insert("count".into(), count.into());
        Value::Object(d)
    }
}

/// The audit entry an event was recorded as (to confirm it is still in the log).
#[derive(Clone)]
struct Recorded {
    at: i64,
    seq: i64,
    hash: String,
}

/// The read events this process recorded within the window.
pub(crate) struct ReadLog {
    window_ms: AtomicI64,
    recent: Mutex<HashMap<u64, Recorded>>,
}

impl Default for ReadLog {
    fn default() -> Self {
        ReadLog {
            window_ms: AtomicI64::new(READ_AUDIT_WINDOW_MINUTES * 60_000),
            recent: Mutex::new(HashMap::new()),
        }
    }
}

impl ReadLog {
    fn recent(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Recorded>> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl App {
    /// Record that `s` read patient data (see the module's documentation). Call it after the
    /// read and before returning its data.
    pub(crate) fn audit_read(&self, s: &Session, read: PatientRead) -> ApiResult<()> {
        if read.shown.is_empty() {
            return Ok(());
        }
        let user = s.user_id.to_string();
        let key = read.key(&user);
        let window = self.reads.window_ms.load(Ordering::Relaxed);
        let now = clinicdesk_store::now_ms();
        let seen = self.reads.recent().get(&key).cloned();
        if let Some(r) = seen.filter(|r| now - r.at < window) {
            let hash: Option<String> = self.store.read(|c| -> ApiResult<_> {
                Ok(
                    c.prepare_cached("SELECT hash FROM audit_log WHERE seq = ?1")?
                        .query_row([r.seq], |row| row.get(0))
                        .optional()?,
                )
            })?;
            if hash.as_deref() == Some(r.hash.as_str()) {
                return Ok(());
            }
        }
        let recorded = self.tx(s, |tx| {
            let patients: Vec<String> = match &read.shown {
                Shown::Patients(ids) => ids.iter().map(ToString::to_string).collect(),
                Shown::Appointments(v) => {
                    let ids: Vec<String> = v.iter().map(|(id, _)| id.to_string()).collect();
                    tx.prepare_cached(
                        "SELECT DISTINCT patient_id FROM appointments
                         WHERE id IN (SELECT value FROM json_each(?1))",
                    )?
                    .query_map([Value::from(ids).to_string()], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
                }
            };
            let details = read.details(patients);
            let row = match details["patients"].as_array().map(Vec::as_slice) {
                Some([one]) => one.as_str().map(str::to_string),
                _ => None,
            };
            tx.audit_event("patients", row.as_deref(), "event", &details)?;
            let (seq, hash) = tx.query_row(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(Recorded {
                at: tx.ctx.now_ms,
                seq,
                hash,
            })
        })?;
        let mut recent = self.reads.recent();
        if recent.len() >= MAX_REMEMBERED {
            recent.retain(|_, r| now - r.at < window);
            if recent.len() >= MAX_REMEMBERED {
                recent.clear();
            }
        }
        recent.insert(key, recorded);
        Ok(())
    }

    /// How long an identical read event is not recorded again (default
    /// [`READ_AUDIT_WINDOW_MINUTES`]; zero records every read). For tests and measurements.
    #[doc(hidden)]
    pub fn set_read_audit_window(&self, window: std::time::Duration) {
        let ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        self.reads.window_ms.store(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_read_lists_the_first_ids_and_says_how_many_it_returned() {
        let many: Vec<PatientId> = (0..MAX_AUDITED_PATIENT_IDS + 500)
            .map(|_| PatientId::new())
            .collect();
        let clinic = ClinicId::new();
        let read = PatientRead::new("list", Some(clinic), Shown::Patients(many.clone()));
        let d = read.details(many.iter().map(ToString::to_string).collect());
        assert_eq!(d["count"], MAX_AUDITED_PATIENT_IDS + 500);
        assert_eq!(d["truncated"], true);
        assert_eq!(d["clinic_id"], clinic.to_string());
        let listed = d["patients"].as_array().unwrap();
        assert_eq!(listed.len(), MAX_AUDITED_PATIENT_IDS);
        let mut first: Vec<String> = many.iter().map(ToString::to_string).collect();
        first.sort();
        assert_eq!(listed[0], first[0]);

        // Repeats count once; a small read lists every id and is not truncated.
        let one = PatientRead::new("get", None, Shown::Patients(vec![many[0], many[0]]));
        let d = one.details(vec![many[0].to_string(), many[0].to_string()]);
        assert_eq!((d["count"].as_u64(), d.get("truncated")), (Some(1), None));
        assert!(d.get("clinic_id").is_none());
    }

    #[test]
    fn the_key_ignores_order_and_repeats_but_not_the_user_or_the_arguments() {
        let (a, b) = (PatientId::new(), PatientId::new());
        let read = |ids: Vec<PatientId>, date: &str| {
            PatientRead::new("day", None, Shown::Patients(ids)).with("date", date)
        };
        let k = read(vec![a, b], "2027-03-01").key("u1");
        assert_eq!(read(vec![b, a, b], "2027-03-01").key("u1"), k);
        assert_ne!(read(vec![a, b], "2027-03-01").key("u2"), k);
        assert_ne!(read(vec![a, b], "2027-03-02").key("u1"), k);
        assert_ne!(read(vec![a], "2027-03-01").key("u1"), k);
    }
}
