//! Administration: users and roles, clinics (with their reminder policy and idle lock), rooms,
//! credential types, shift templates, appointment types, availability and closures, the audit
//! log, backup and restore (with progress, cancellable), demo data and the patient import
//! (with progress, cancellable).

use std::path::Path;

use clinicdesk_api::domain::{
    AvailabilityBlockId, ClinicId, CredentialTypeId, Role, RoomId, ShiftId, UserId,
};
use clinicdesk_api::rows::{
    appointment_types::AppointmentType, availability_blocks::AvailabilityBlock, clinics::Clinic,
    credential_types::CredentialType, rooms::Room, shifts::ShiftTemplate,
    user_clinic_roles::UserClinicRole,
};
use clinicdesk_api::{
    ApiError, AuditQuery, ClosureResult, DisplayPreferences, ErrorBody, ListQuery, PatientImport,
    UserView,
};
use clinicdesk_api::{AuditEntry, VerifyReport};
use clinicdesk_demo::{DemoReport, DemoSize};
use tauri::{AppHandle, State};
use tauri_specta::Event;

use super::{CmdResult, FieldMap, Progress};
use crate::files::{Chooser, Pick};
use crate::state::{body, AppState, TaskHandle};

// Users and roles -----------------------------------------------------------------------------

/// Users (`query.q` filters username and display name).
#[tauri::command(async)]
#[specta::specta]
pub fn list_users(state: State<'_, AppState>, query: ListQuery) -> CmdResult<Vec<UserView>> {
    state.call(|app, s| app.list_users(s, &query))
}

/// Fields: username; optional display_name, email. The password is separate (never a field).
#[tauri::command(async)]
#[specta::specta]
pub fn create_user(
    state: State<'_, AppState>,
    fields: FieldMap,
    password: String,
) -> CmdResult<UserView> {
    let f = super::fields(fields);
    state.call(|app, s| app.create_user(s, &f, &password))
}

/// Fields: display_name, email, is_active (yes/no), unlock (yes: clear a sign-in lock-out).
#[tauri::command(async)]
#[specta::specta]
pub fn update_user(
    state: State<'_, AppState>,
    user_id: UserId,
    fields: FieldMap,
) -> CmdResult<UserView> {
    let f = super::fields(fields);
    state.call(|app, s| app.update_user(s, user_id, &f))
}

/// Reset another user's password (user managers, for the users of their clinics).
#[tauri::command(async)]
#[specta::specta]
pub fn set_password(
    state: State<'_, AppState>,
    user_id: UserId,
    password: String,
) -> CmdResult<()> {
    state.call(|app, s| app.set_password(s, user_id, &password))
}

/// Change one's own password; the current one is checked as a sign-in is.
#[tauri::command(async)]
#[specta::specta]
pub fn change_own_password(
    state: State<'_, AppState>,
    current_password: String,
    new_password: String,
) -> CmdResult<()> {
    state.call(|app, s| app.change_own_password(s, &current_password, &new_password))
}

/// The signed-in user's own display locale and hour cycle (None: the clinic's).
#[tauri::command(async)]
#[specta::specta]
pub fn display_preferences(state: State<'_, AppState>) -> CmdResult<DisplayPreferences> {
    state.call(|app, s| app.display_preferences(s))
}

/// Set or clear (empty) the signed-in user's own `display_locale` and `hour_cycle`.
#[tauri::command(async)]
#[specta::specta]
pub fn set_display_preferences(
    state: State<'_, AppState>,
    fields: FieldMap,
) -> CmdResult<DisplayPreferences> {
    let f = super::fields(fields);
    state.call(|app, s| app.set_display_preferences(s, &f))
}

#[tauri::command(async)]
#[specta::specta]
pub fn delete_user(state: State<'_, AppState>, user_id: UserId) -> CmdResult<()> {
    state.call(|app, s| app.delete_user(s, user_id))
}

/// Role assignments at a clinic.
#[tauri::command(async)]
#[specta::specta]
pub fn list_roles(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
) -> CmdResult<Vec<UserClinicRole>> {
    state.call(|app, s| app.list_roles(s, clinic_id))
}

#[tauri::command(async)]
#[specta::specta]
pub fn grant_role(
    state: State<'_, AppState>,
    user_id: UserId,
    clinic_id: ClinicId,
    role: Role,
) -> CmdResult<UserClinicRole> {
    state.call(|app, s| app.grant_role(s, user_id, clinic_id, role))
}

/// Revoking takes effect at once (roles are re-read on every command).
#[tauri::command(async)]
#[specta::specta]
pub fn revoke_role(
    state: State<'_, AppState>,
    user_id: UserId,
    clinic_id: ClinicId,
    role: Role,
) -> CmdResult<()> {
    state.call(|app, s| app.revoke_role(s, user_id, clinic_id, role))
}

// Clinics and their catalogs ------------------------------------------------------------------

/// A new clinic; its creator becomes its admin. Fields: name, code (2–6 capitals), timezone
/// (IANA); optional address_line1, city, state, postal_code, country, phone, email,
/// reminder_offsets_minutes (the reminder policy: minutes before, e.g. 2880,120),
/// idle_lock_minutes.
#[tauri::command(async)]
#[specta::specta]
pub fn create_clinic(state: State<'_, AppState>, fields: FieldMap) -> CmdResult<Clinic> {
    let f = super::fields(fields);
    state.call(|app, s| app.create_clinic(s, &f))
}

/// Change clinic settings, the reminder policy included (fields as `create_clinic`).
#[tauri::command(async)]
#[specta::specta]
pub fn update_clinic(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<Clinic> {
    let f = super::fields(fields);
    state.call(|app, s| app.update_clinic(s, clinic_id, &f))
}

/// Fields: name; optional room_type, capacity, status (available, maintenance, closed),
/// is_active.
#[tauri::command(async)]
#[specta::specta]
pub fn create_room(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<Room> {
    let f = super::fields(fields);
    state.call(|app, s| app.create_room(s, clinic_id, &f))
}

#[tauri::command(async)]
#[specta::specta]
pub fn update_room(
    state: State<'_, AppState>,
    room_id: RoomId,
    fields: FieldMap,
) -> CmdResult<Room> {
    let f = super::fields(fields);
    state.call(|app, s| app.update_room(s, room_id, &f))
}

#[tauri::command(async)]
#[specta::specta]
pub fn delete_room(state: State<'_, AppState>, room_id: RoomId) -> CmdResult<()> {
    state.call(|app, s| app.delete_room(s, room_id))
}

#[tauri::command(async)]
#[specta::specta]
pub fn list_credential_types(
    state: State<'_, AppState>,
    query: ListQuery,
) -> CmdResult<Vec<CredentialType>> {
    state.call(|app, s| app.list_credential_types(s, &query))
}

/// Fields: name, code; optional description, required_for_disciplines (comma list),
/// is_required_for_clinical, alert_thresholds_days (e.g. 90,60,30,7), renewal_period_months,
/// is_active.
#[tauri::command(async)]
#[specta::specta]
pub fn create_credential_type(
    state: State<'_, AppState>,
    fields: FieldMap,
) -> CmdResult<CredentialType> {
    let f = super::fields(fields);
    state.call(|app, s| app.create_credential_type(s, &f))
}

#[tauri::command(async)]
#[specta::specta]
pub fn update_credential_type(
    state: State<'_, AppState>,
    credential_type_id: CredentialTypeId,
    fields: FieldMap,
) -> CmdResult<CredentialType> {
    let f = super::fields(fields);
    state.call(|app, s| app.update_credential_type(s, credential_type_id, &f))
}

#[tauri::command(async)]
#[specta::specta]
pub fn delete_credential_type(
    state: State<'_, AppState>,
    credential_type_id: CredentialTypeId,
) -> CmdResult<()> {
    state.call(|app, s| app.delete_credential_type(s, credential_type_id))
}

#[tauri::command(async)]
#[specta::specta]
pub fn list_shift_templates(
    state: State<'_, AppState>,
    query: ListQuery,
) -> CmdResult<Vec<ShiftTemplate>> {
    state.call(|app, s| app.list_shift_templates(s, &query))
}

/// Fields: name, start_time, end_time (HH:MM; an end before the start crosses midnight);
/// optional shift_type, default_capacity, color, is_active.
#[tauri::command(async)]
#[specta::specta]
pub fn create_shift_template(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<ShiftTemplate> {
    let f = super::fields(fields);
    state.call(|app, s| app.create_shift_template(s, clinic_id, &f))
}

#[tauri::command(async)]
#[specta::specta]
pub fn update_shift_template(
    state: State<'_, AppState>,
    shift_id: ShiftId,
    fields: FieldMap,
) -> CmdResult<ShiftTemplate> {
    let f = super::fields(fields);
    state.call(|app, s| app.update_shift_template(s, shift_id, &f))
}

#[tauri::command(async)]
#[specta::specta]
pub fn delete_shift_template(state: State<'_, AppState>, shift_id: ShiftId) -> CmdResult<()> {
    state.call(|app, s| app.delete_shift_template(s, shift_id))
}

/// Fields: name, duration_minutes; optional code, color, required_credential_type_ids.
#[tauri::command(async)]
#[specta::specta]
pub fn create_appointment_type(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<AppointmentType> {
    let f = super::fields(fields);
    state.call(|app, s| app.create_appointment_type(s, clinic_id, &f))
}

/// Fields: start, end (wall-clock or instant); optional provider_id (default clinic-wide),
/// is_available (yes = extra bookable time; default no = closed, with a reason), reason.
#[tauri::command(async)]
#[specta::specta]
pub fn create_availability_block(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<AvailabilityBlock> {
    let f = super::fields(fields);
    state.call(|app, s| app.create_availability_block(s, clinic_id, &f))
}

/// Remove a block; reopened time is offered to the waitlist.
#[tauri::command(async)]
#[specta::specta]
pub fn delete_availability_block(
    state: State<'_, AppState>,
    block_id: AvailabilityBlockId,
) -> CmdResult<()> {
    state.call(|app, s| app.delete_availability_block(s, block_id))
}

/// Close weekends and holidays. Fields: from, to (at most two years); optional weekends
/// (default yes), weekend_days (default sat,sun), holidays ("2027-12-25=Christmas Day,…"),
/// provider_id. Lists the appointments now on closed days (to move).
#[tauri::command(async)]
#[specta::specta]
pub fn generate_closures(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<ClosureResult> {
    let f = super::fields(fields);
    state.call(|app, s| app.generate_closures(s, clinic_id, &f))
}

// The audit log -------------------------------------------------------------------------------

/// Audit entries, newest first. `query`: table_name, row_id, action, user_id, from_ms, to_ms,
/// before_seq (next page), limit (1–1000, default 200).
#[tauri::command(async)]
#[specta::specta]
pub fn list_audit(state: State<'_, AppState>, query: AuditQuery) -> CmdResult<Vec<AuditEntry>> {
    state.call(|app, s| app.list_audit(s, &query))
}

/// Check the whole hash chain; reports the first broken entry.
#[tauri::command(async)]
#[specta::specta]
pub fn verify_audit(state: State<'_, AppState>) -> CmdResult<VerifyReport> {
    state.call(|app, s| app.verify_audit(s))
}

/// The audit chain's head as last anchored on the sync server, and any flag (issue 13).
#[derive(Debug, Clone, serde::Serialize, specta::Type)]
pub struct AuditAnchorView {
    /// The last entry the server accepted as this PC's head (None: not enrolled, or no round
    /// reported yet).
    pub seq: Option<i64>,
    pub at: Option<i64>,
    /// The server's first flag of this PC's history: `tamper_suspected` or `truncated`.
    pub flag: Option<String>,
    pub flagged_at: Option<i64>,
    /// The anchored entry's hash here is no longer the one reported.
    pub anchored_entry_changed: bool,
}

/// Where this PC's audit chain stands on the sync server (read_audit, like verifying).
#[tauri::command(async)]
#[specta::specta]
pub fn audit_anchor(state: State<'_, AppState>) -> CmdResult<AuditAnchorView> {
    state.call(|app, s| {
        app.require(
            s,
            clinicdesk_api::domain::Capability::ReadAudit,
            clinicdesk_api::Scope::AnyClinic,
            "verify the audit log",
        )?;
        let sync_err = |e: clinicdesk_sync::SyncError| match e {
            clinicdesk_sync::SyncError::Store(e) => clinicdesk_api::ApiError::Store(e),
            other => clinicdesk_api::ApiError::Conflict(other.to_string()),
        };
        let st = clinicdesk_sync::anchor::status(app.store()).map_err(sync_err)?;
        let changed =
            clinicdesk_sync::anchor::anchored_entry_changed(app.store(), &st).map_err(sync_err)?;
        Ok(AuditAnchorView {
            seq: st.last.as_ref().map(|a| a.seq),
            at: st.last.as_ref().map(|a| a.at),
            flag: st.flag.as_ref().map(|f| f.verdict.clone()),
            flagged_at: st.flag.as_ref().map(|f| f.at),
            anchored_entry_changed: changed,
        })
    })
}

// Long tasks: backup, restore, demo, patient import --------------------------------------------

/// A failed task that was cancelled is reported as `cancelled`.
pub(crate) fn finish<T>(r: CmdResult<T>, task: &TaskHandle, what: &str) -> CmdResult<T> {
    match r {
        Err(_) if task.is_cancelled() => Err(ErrorBody {
            code: "cancelled".into(),
            message: format!("{what} cancelled"),
        }),
        r => r,
    }
}

pub(crate) fn progress_of(task: &TaskHandle, stage: &str, done: u64, total: u64) -> Progress {
    Progress {
        task: task.id.clone(),
        stage: stage.to_string(),
        done,
        total,
    }
}

impl AppState {
    /// Back the database up to `dest` (a new file), reporting `progress` in pages; cancelled
    /// through `cancel_task(task_id)` (the partial file is removed).
    pub fn backup(
        &self,
        task_id: &str,
        dest: &Path,
        mut progress: impl FnMut(Progress),
    ) -> CmdResult<()> {
        let task = self.start_task(task_id)?;
        let r = self.call(|app, s| {
            app.backup(s, dest, |done, total| {
                progress(progress_of(&task, "backup", pages(done), pages(total)));
                !task.is_cancelled()
            })
        });
        finish(r, &task, "the backup was")
    }

    /// Replace the database with the backup at `src` (checked first), reporting `progress`;
    /// cancellable until the copy completes (the database is then unchanged). Afterwards the
    /// session ends: the restored data decides who may sign in.
    pub fn restore(
        &self,
        task_id: &str,
        src: &Path,
        mut progress: impl FnMut(Progress),
    ) -> CmdResult<()> {
        let task = self.start_task(task_id)?;
        let r = self.call(|app, s| {
            app.restore(s, src, |done, total| {
                progress(progress_of(&task, "restore", pages(done), pages(total)));
                !task.is_cancelled()
            })
        });
        let r = finish(r, &task, "the restore was");
        if r.is_ok() {
            self.logout();
            let minutes = self
                .app()
                .and_then(|a| a.get_idle_timeout())
                .map_err(body)?;
            self.with_session(|g| g.set_idle_timeout(u32::try_from(minutes).unwrap_or(u32::MAX)));
        }
        r
    }

    /// Fill a new, empty database with demo data (`size`: small or large) whose users all get
    /// `password`; refused once the database holds users or patients. Needs no session (there
    /// is nobody to sign in as yet). Cancelled runs keep nothing.
    pub fn generate_demo(
        &self,
        task_id: &str,
        size: &str,
        password: &str,
        mut progress: impl FnMut(Progress),
    ) -> CmdResult<DemoReport> {
        let size = DemoSize::parse(size).map_err(|e| body(ApiError::from(e)))?;
        let task = self.start_task(task_id)?;
        let app = self.app().map_err(body)?;
        let r = clinicdesk_demo::generate_demo(
            app.store(),
            size,
            password,
            &mut |stage, done, total| {
                progress(progress_of(&task, stage, done, total));
                !task.is_cancelled()
            },
        )
        .map_err(body);
        finish(r, &task, "demo generation was")
    }

    /// Import the clinic's patients from CSV text (`App::import_patients`: all rows or none,
    /// rows imported before skipped), reporting `progress` (stage validating, checking,
    /// importing; in rows); cancelled through `cancel_task(task_id)`, keeping nothing.
    pub fn import_patients(
        &self,
        task_id: &str,
        clinic: ClinicId,
        csv: &str,
        mut progress: impl FnMut(Progress),
    ) -> CmdResult<PatientImport> {
        let task = self.start_task(task_id)?;
        let r = self.call(|app, s| {
            app.import_patients(s, clinic, csv, &mut |stage, done, total| {
                progress(progress_of(&task, stage, done, total));
                !task.is_cancelled()
            })
        });
        finish(r, &task, "the patient import was")
    }
}

fn pages(n: i32) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A backup file type the dialogs offer.
pub(crate) const BACKUP_KIND: (&str, &[&str]) =
    ("ClinicDesk backup", &["cdbk", "db", "clinicdesk"]);

/// Back up to a new file the user picks in a save dialog (opened here: the webview names no
/// path). Emits `progress` events for `task_id` (an id the UI chooses, also for
/// `cancel_task`). The file written, or None when the user cancelled the dialog.
#[tauri::command(async)]
#[specta::specta]
pub fn backup(
    app: AppHandle,
    state: State<'_, AppState>,
    chooser: State<'_, Chooser>,
    task_id: String,
) -> CmdResult<Option<String>> {
    let suggested = format!(
        "clinicdesk-backup-{}.cdbk",
        chrono::Local::now().format("%Y-%m-%d-%H%M")
    );
    let pick = Pick {
        title: "Back up to",
        suggested: &suggested,
        kind: BACKUP_KIND,
    };
    let Some(path) = chooser.save(&app, &pick) else {
        return Ok(None);
    };
    state.backup(&task_id, &path, |p| emit(&app, p))?;
    Ok(Some(path.display().to_string()))
}

/// Restore from a backup the user picks in an open dialog. Emits `progress` events for
/// `task_id`. Signs out on success. The file restored, or None when the user cancelled.
#[tauri::command(async)]
#[specta::specta]
pub fn restore(
    app: AppHandle,
    state: State<'_, AppState>,
    chooser: State<'_, Chooser>,
    task_id: String,
) -> CmdResult<Option<String>> {
    let pick = Pick {
        title: "Restore from",
        suggested: "",
        kind: BACKUP_KIND,
    };
    let Some(path) = chooser.open(&app, &pick) else {
        return Ok(None);
    };
    state.restore(&task_id, &path, |p| emit(&app, p))?;
    Ok(Some(path.display().to_string()))
}

/// Demo data into a new database (`size`: small or large); emits `progress` events (stage =
/// the table being filled). Then sign in as admin, manager, frontdesk, clinician or viewer
/// with `password`.
#[tauri::command(async)]
#[specta::specta]
pub fn generate_demo(
    app: AppHandle,
    state: State<'_, AppState>,
    task_id: String,
    size: String,
    password: String,
) -> CmdResult<DemoReport> {
    state.generate_demo(&task_id, &size, &password, |p| emit(&app, p))
}

/// Import patients into `clinic_id` from the text of a CSV file the user chose (header row:
/// legacy_id, first_name, last_name required; mrn, date_of_birth, sex, phone, email, … — see
/// `IMPORT_COLUMNS`). Emits `progress` events for `task_id`. Invalid rows are in the result
/// (`invalid`, `errors` by line), and then nothing was imported.
#[tauri::command(async)]
#[specta::specta]
pub fn import_patients(
    app: AppHandle,
    state: State<'_, AppState>,
    task_id: String,
    clinic_id: ClinicId,
    csv: String,
) -> CmdResult<PatientImport> {
    state.import_patients(&task_id, clinic_id, &csv, |p| emit(&app, p))
}

/// Ask the running task `task_id` to stop; false when there is no such task (any more). The
/// task's own command then fails with code `cancelled`.
#[tauri::command]
#[specta::specta]
pub fn cancel_task(state: State<'_, AppState>, task_id: String) -> bool {
    state.cancel_task(&task_id)
}

pub(crate) fn emit(app: &AppHandle, p: Progress) {
    if let Err(e) = p.emit(app) {
        log::warn!("progress event not delivered: {e}");
    }
}
