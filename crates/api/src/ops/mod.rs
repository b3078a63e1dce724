//! The operations of the app API, grouped by area.

mod admin;
mod booking;
mod capacity;
mod cases;
mod catalog;
mod closures;
mod conflicts;
mod credentials;
mod dbcheck;
mod directory;
mod housekeeping;
mod import;
mod kpis;
mod listing;
mod migration;
mod org;
mod people;
mod reminders;
mod scheduling;
mod series;
mod staffing;
mod sync;
mod time;
mod today;
mod waitlist;

pub use admin::{
    restore_with_recovery_key, AuditQuery, RecoveryKit, DEFAULT_IDLE_TIMEOUT_MINUTES,
    MAX_IDLE_TIMEOUT_MINUTES,
};
pub use booking::effects::OFFER_HOLD_MINUTES;
pub use capacity::{
    CRITICAL_UTILIZATION_PERCENT, CRITICAL_WAITING_PATIENTS, HIGH_UTILIZATION_PERCENT,
    HIGH_WAITING_PATIENTS, SLOT_MINUTES,
};
pub use cases::{CaseDetail, CaseWarning, CASE_BLOCK_SIZE};
pub use closures::ClosureResult;
pub use conflicts::{ConflictResolution, RebookSlot, SyncConflictView, SUGGESTED_SLOTS};
pub use credentials::{
    AdverseActionRecorded, AtRiskAppointment, AtRiskShift, AtRiskStaff, CredentialAlertView,
    CredentialDashboard, CredentialEvaluation, CredentialExpiries, CredentialExpiry,
    CredentialFilter, CredentialHistory, ExpiryCounts, Lapse, LapseKind, VerificationRecorded,
    AT_RISK_HORIZON_DAYS,
};
pub use dbcheck::{CheckResult, DatabaseCheck};
pub use directory::{ClinicDirectory, DirectoryProvider, DirectoryRoom, DirectoryType};
pub use housekeeping::Housekeeping;
pub use import::{
    ImportRowError, PatientImport, IMPORT_COLUMNS, MAX_IMPORT_BYTES, MAX_IMPORT_ERRORS,
    MAX_IMPORT_ROWS,
};
pub use kpis::{
    GoalProgress, KpiPeriod, KpiReport, KpiRow, Metric, MANUAL_EVENT_TYPES, MAX_REPORT_PERIODS,
    METRIC_KEYS,
};
pub use listing::{AppointmentListEntry, AppointmentQuery, DEFAULT_LIST_ROWS, MAX_LIST_ROWS};
pub use migration::{
    Migrated, MigratedAppointment, MigrationError, MigrationImport, MigrationRecord,
    MAX_MIGRATION_RECORDS,
};
pub use org::{DisplayPreferences, InitResult, UserView};
pub use reminders::PendingReminder;
pub use scheduling::{DaySchedule, GridEntry, ScheduleEntry, Slot, UNNAMED_PATIENT};
pub use series::{OccurrenceCheck, SeriesResult, SeriesScope};
pub use staffing::{BulkAssignment, MySwap, RosterEntry, TimeOffDecision, NO_STAFF_PROFILE};
pub use sync::{
    SeededAt, SyncConnection, SyncEnrolment, SYNC_PUSH_ACKED_KEY, SYNC_ROLE_KEY, SYNC_URL_KEY,
};
pub use time::parse_when;
pub use today::{Today, TodayCounts, TodayEntry};
pub use waitlist::WaitlistView;

use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::{App, Session};
use clinicdesk_store::{table, Table, WriteTx};

/// Paging and filters common to list operations.
#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
#[serde(default)]
pub struct ListQuery {
    /// Restrict to one clinic (otherwise: every clinic the caller may read).
    pub clinic_id: Option<clinicdesk_domain::ClinicId>,
    /// Text filter (name/code), case-insensitive substring.
    pub q: Option<String>,
    pub include_deleted: bool,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

impl ListQuery {
    pub(crate) fn limit(&self) -> i64 {
        self.limit.unwrap_or(200).clamp(1, 5000) as i64
    }
    pub(crate) fn offset(&self) -> i64 {
        self.offset.unwrap_or(0) as i64
    }
    pub(crate) fn like(&self) -> String {
        format!(
            "%{}%",
            self.q
                .as_deref()
                .unwrap_or("")
                .trim()
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    }
}

impl App {
    /// A local write on behalf of the signed-in user.
    pub(crate) fn tx<T>(
        &self,
        s: &Session,
        f: impl FnOnce(&WriteTx<'_>) -> ApiResult<T>,
    ) -> ApiResult<T> {
        self.store.write(Some(&s.user_id.to_string()), f)
    }

    /// A live row by id (the caller checks rights with what the row says).
    pub(crate) fn fetch<T: Table>(&self, id: &T::Id) -> ApiResult<T> {
        Ok(self.store.read(|c| table::get_live::<T>(c, id))?)
    }

    /// Soft-delete a row on behalf of the caller (rights already checked).
    pub(crate) fn remove<T: Table>(&self, s: &Session, id: &T::Id) -> ApiResult<()> {
        self.tx(s, |tx| Ok(table::soft_delete::<T>(tx, id, tx.ctx.now_ms)?))
    }

    /// The checks every booking path makes before its transaction: the right to book at the
    /// clinic and, when an override reason is given, the right to override. Returns the reason.
    pub(crate) fn require_booking(
        &self,
        s: &Session,
        clinic: clinicdesk_domain::ClinicId,
        f: &crate::Fields,
        what: &str,
    ) -> ApiResult<Option<String>> {
        use crate::access::Scope;
        use clinicdesk_domain::Capability;
        self.require(s, Capability::ManageSchedule, Scope::Clinic(clinic), what)?;
        let reason = f.text("override_reason")?.flatten();
        if reason.is_some() {
            self.require(
                s,
                Capability::OverrideBookingRules,
                Scope::Clinic(clinic),
                "override booking rules",
            )?;
        }
        Ok(reason)
    }
}

/// `a IN (...)` over clinic ids for SQL (ids are validated UUIDs, so inlining is safe).
pub(crate) fn clinic_list(ids: &[clinicdesk_domain::ClinicId]) -> String {
    if ids.is_empty() {
        "''".to_string()
    } else {
        ids.iter()
            .map(|c| format!("'{c}'"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Internals that tests outside this crate check against each other (the demo crate's tests
/// run them on generated data). Not part of the API.
#[doc(hidden)]
pub mod internals {
    pub use super::booking::rules::missing_credentials;
    pub use super::kpis::compliance;
    pub use super::scheduling::day_entries;
}

/// An export: patient data leaving the app (a file, standard output, another system).
pub struct Export<'a> {
    /// What was exported (e.g. `pending_reminders_csv`).
    pub what: &'a str,
    pub clinic: Option<clinicdesk_domain::ClinicId>,
    /// Where it went, as the front door describes it (a file path, "standard output").
    pub destination: &'a str,
    pub rows: usize,
    /// The patients whose data it holds (ids; the first `EXPORT_PATIENTS_LISTED`).
    pub patients: &'a [String],
}

/// At most this many patient ids are listed in an export's audit entry (with the count).
pub const EXPORT_PATIENTS_LISTED: usize = 1000;

impl crate::App {
    /// Every export is audited, once per export (not per row): who (the session's user), when
    /// (the entry's time), what, where to, how many rows and which patients.
    /// Public for the exports made beside the API (`clinicdesk-interop`: FHIR, iCalendar).
    pub fn record_export(&self, s: &crate::Session, e: &Export<'_>) -> crate::ApiResult<()> {
        let mut patients: Vec<&str> = e.patients.iter().map(String::as_str).collect();
        patients.sort_unstable();
        patients.dedup();
        let count = patients.len();
        patients.truncate(EXPORT_PATIENTS_LISTED);
        let details = serde_json::json!({
            "export": e.what,
            "clinic_id": e.clinic.map(|c| c.to_string()),
            "destination": e.destination,
            "rows": e.rows,
            "patient_count": count,
            "patients": patients,
        });
        self.tx(s, |tx| {
            Ok(tx.audit_event("exports", None, "event", &details)?)
        })
    }
}

impl crate::App {
    /// Refuse a destination that is the database or one of its companion files (check it
    /// before making an export, so that a refused destination exports nothing).
    pub fn check_destination(&self, path: &std::path::Path) -> crate::ApiResult<()> {
        if clinicdesk_store::files::is_database_file(self.store.path(), path) {
            return Err(clinicdesk_domain::DomainError::invalid(
                "file",
                format!(
                    "{} is this clinic's database (or one of its files): choose another file name",
                    path.display()
                ),
            )
            .into());
        }
        Ok(())
    }

    /// Write an export the caller already has (and that was audited when it was made) to
    /// `path`: refused when `path` is the database or one of its companion files (the WAL,
    /// a backup in progress …) — an export must never destroy the data it came from; written
    /// through a temporary file with owner-only permissions (0600) and renamed into place.
    pub fn write_export(&self, path: &std::path::Path, bytes: &[u8]) -> crate::ApiResult<()> {
        self.check_destination(path)?;
        clinicdesk_store::files::write_private(path, bytes).map_err(|e| cannot_write(path, e))
    }

    /// An export too large to hold in memory, written a piece at a time (refused and made as
    /// `write_export`): it appears at `path` only when the caller commits it, after the
    /// export was audited.
    pub fn export_file(
        &self,
        path: &std::path::Path,
    ) -> crate::ApiResult<clinicdesk_store::files::PrivateFile> {
        self.check_destination(path)?;
        clinicdesk_store::files::PrivateFile::create(path).map_err(|e| cannot_write(path, e))
    }
}

/// An export that could not be written, and why.
pub fn cannot_write(path: &std::path::Path, e: impl std::fmt::Display) -> crate::ApiError {
    crate::ApiError::Store(clinicdesk_store::StoreError::CannotWrite {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}
