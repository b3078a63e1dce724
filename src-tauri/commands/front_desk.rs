//! The front desk: reference data for the screens, the schedule (day, week, shifts and
//! availability behind the grid, free slots), booking and the visit flow, recurring series,
//! today's list and the reminder queue.

use std::path::PathBuf;

use clinicdesk_api::domain::{AppointmentId, AppointmentStatus, ClinicId, ReminderId, StaffId};
use clinicdesk_api::rows::{
    appointment_types::AppointmentType, appointments::Appointment,
    availability_blocks::AvailabilityBlock, clinics::Clinic, reminders::Reminder, rooms::Room,
};
use clinicdesk_api::{
    ClinicDirectory, DaySchedule, ListQuery, OccurrenceCheck, PendingReminder, RosterEntry,
    SeriesResult, Slot, Today,
};
use tauri::State;

use super::{CmdResult, FieldMap};
use crate::state::AppState;

// Reference data ------------------------------------------------------------------------------

/// Clinics where the signed-in user holds a role (`query`: q filters name/code).
#[tauri::command(async)]
#[specta::specta]
pub fn list_clinics(state: State<'_, AppState>, query: ListQuery) -> CmdResult<Vec<Clinic>> {
    state.call(|app, s| app.list_clinics(s, &query))
}

#[tauri::command(async)]
#[specta::specta]
pub fn get_clinic(state: State<'_, AppState>, clinic_id: ClinicId) -> CmdResult<Clinic> {
    state.call(|app, s| app.get_clinic(s, clinic_id))
}

/// The names the schedule grid shows for the ids in its entries: the clinic's providers,
/// rooms and appointment types. Load once per clinic.
#[tauri::command(async)]
#[specta::specta]
pub fn clinic_directory(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
) -> CmdResult<ClinicDirectory> {
    state.call(|app, s| app.clinic_directory(s, clinic_id))
}

/// Rooms (`query.clinic_id` for one clinic).
#[tauri::command(async)]
#[specta::specta]
pub fn list_rooms(state: State<'_, AppState>, query: ListQuery) -> CmdResult<Vec<Room>> {
    state.call(|app, s| app.list_rooms(s, &query))
}

/// The clinic's appointment types (and the organisation-wide ones).
#[tauri::command(async)]
#[specta::specta]
pub fn list_appointment_types(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
) -> CmdResult<Vec<AppointmentType>> {
    state.call(|app, s| app.list_appointment_types(s, clinic_id))
}

// The schedule --------------------------------------------------------------------------------

/// One clinic's local day (`date` YYYY-MM-DD; 23/25-hour days on DST changes), all providers
/// or one.
#[tauri::command(async)]
#[specta::specta]
pub fn day_schedule(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    date: String,
    provider_id: Option<StaffId>,
) -> CmdResult<DaySchedule> {
    state.call(|app, s| app.day_schedule(s, clinic_id, &date, provider_id))
}

/// Seven local days from `start` (YYYY-MM-DD, normally a Monday), each as `day_schedule`.
#[tauri::command(async)]
#[specta::specta]
pub fn week_schedule(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    start: String,
    provider_id: Option<StaffId>,
) -> CmdResult<Vec<DaySchedule>> {
    state.call(|app, s| app.week_schedule(s, clinic_id, &start, provider_id))
}

/// Shift assignments at a clinic between two local dates (inclusive), optionally one staff
/// member: the grid's working-time background, and the roster.
#[tauri::command(async)]
#[specta::specta]
pub fn list_roster(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    from: String,
    to: String,
    staff_id: Option<StaffId>,
) -> CmdResult<Vec<RosterEntry>> {
    state.call(|app, s| app.list_roster(s, clinic_id, &from, &to, staff_id))
}

/// Availability blocks overlapping the local days `from`..=`to` (at most 366 days):
/// clinic-wide ones and every provider's, or clinic-wide ones and `provider_id`'s.
/// `is_available` true = extra bookable time, false = closed (with `block_reason`).
#[tauri::command(async)]
#[specta::specta]
pub fn list_availability_blocks(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    from: String,
    to: String,
    provider_id: Option<StaffId>,
) -> CmdResult<Vec<AvailabilityBlock>> {
    state.call(|app, s| app.list_availability_blocks(s, clinic_id, &from, &to, provider_id))
}

/// Free slots of one provider or of every active clinical provider between two local dates,
/// on a 15-minute grid (`duration_minutes` 5–720).
#[tauri::command(async)]
#[specta::specta]
pub fn available_slots(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    provider_id: Option<StaffId>,
    duration_minutes: i64,
    from: String,
    to: String,
) -> CmdResult<Vec<Slot>> {
    state
        .call(|app, s| app.available_slots(s, clinic_id, provider_id, duration_minutes, &from, &to))
}

// Appointments --------------------------------------------------------------------------------

/// Book. Fields: patient_id, provider_id, start (clinic wall-clock "YYYY-MM-DD HH:MM" or an
/// RFC 3339 instant), end or duration_minutes (default: the type's duration),
/// appointment_type_id, room_id, case_id, reason, notes, source, override_reason (managers:
/// outside working hours or without a required credential, stored on the appointment).
/// A double booking is refused with `conflict`.
#[tauri::command(async)]
#[specta::specta]
pub fn book_appointment(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<Appointment> {
    state.call(|app, s| app.book_appointment(s, clinic_id, &super::fields(fields)))
}

#[tauri::command(async)]
#[specta::specta]
pub fn get_appointment(
    state: State<'_, AppState>,
    appointment_id: AppointmentId,
) -> CmdResult<Appointment> {
    state.call(|app, s| app.get_appointment(s, appointment_id))
}

/// Move: the old appointment becomes `rescheduled`, the new one (returned) is linked to it.
/// Fields: start; optional duration_minutes, provider_id, room_id (empty = none), reason,
/// override_reason (managers).
#[tauri::command(async)]
#[specta::specta]
pub fn reschedule_appointment(
    state: State<'_, AppState>,
    appointment_id: AppointmentId,
    fields: FieldMap,
) -> CmdResult<Appointment> {
    state.call(|app, s| app.reschedule_appointment(s, appointment_id, &super::fields(fields)))
}

/// The visit flow: `action` is confirm, remind, check_in, start, complete, check_out, cancel
/// (`reason` required) or no_show (only after the start time).
#[tauri::command(async)]
#[specta::specta]
pub fn set_appointment_status(
    state: State<'_, AppState>,
    appointment_id: AppointmentId,
    action: String,
    reason: Option<String>,
) -> CmdResult<Appointment> {
    state.call(|app, s| app.set_appointment_status(s, appointment_id, &action, reason.as_deref()))
}

/// Managers: correct a final status (e.g. a no-show that was a cancellation), with a reason.
#[tauri::command(async)]
#[specta::specta]
pub fn correct_appointment_status(
    state: State<'_, AppState>,
    appointment_id: AppointmentId,
    to: AppointmentStatus,
    reason: String,
) -> CmdResult<Appointment> {
    state.call(|app, s| app.correct_appointment_status(s, appointment_id, to, &reason))
}

// Recurring series ----------------------------------------------------------------------------

/// Each occurrence of a proposed series and whether it can be booked. Fields: patient_id,
/// provider_id, start (wall-clock of the first), duration_minutes (or appointment_type_id), and
/// either rule (RRULE, e.g. FREQ=WEEKLY;BYDAY=TU,TH;COUNT=12) or weekdays (tue,thu) +
/// every_n_weeks + count or until; optional room_id, skip_conflicts, override_reason.
#[tauri::command(async)]
#[specta::specta]
pub fn preview_series(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<Vec<OccurrenceCheck>> {
    state.call(|app, s| app.preview_series(s, clinic_id, &super::fields(fields)))
}

/// Book a series (fields as `preview_series`): all or nothing unless skip_conflicts=yes.
#[tauri::command(async)]
#[specta::specta]
pub fn book_series(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<SeriesResult> {
    state.call(|app, s| app.book_series(s, clinic_id, &super::fields(fields)))
}

/// Edit `scope` (one, following, all) of the series `appointment_id` belongs to. Fields (at
/// least one change): time (HH:MM), shift_days (−6…6), duration_minutes, provider_id, room_id;
/// optional reason, override_reason. Nothing changes unless every occurrence can move.
#[tauri::command(async)]
#[specta::specta]
pub fn edit_series(
    state: State<'_, AppState>,
    appointment_id: AppointmentId,
    scope: String,
    fields: FieldMap,
) -> CmdResult<SeriesResult> {
    state.call(|app, s| app.edit_series(s, appointment_id, &scope, &super::fields(fields)))
}

/// Cancel `scope` (one, following, all) of a series, with a reason; returns the cancelled.
#[tauri::command(async)]
#[specta::specta]
pub fn cancel_series(
    state: State<'_, AppState>,
    appointment_id: AppointmentId,
    scope: String,
    reason: String,
) -> CmdResult<Vec<Appointment>> {
    state.call(|app, s| app.cancel_series(s, appointment_id, &scope, &reason))
}

// Today and reminders -------------------------------------------------------------------------

/// The clinic's today (its local date), optionally one provider, with counts.
#[tauri::command(async)]
#[specta::specta]
pub fn todays_appointments(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    provider_id: Option<StaffId>,
) -> CmdResult<Today> {
    state.call(|app, s| app.todays_appointments(s, clinic_id, provider_id))
}

/// Reminders due by `until_ms` (default now), oldest first.
#[tauri::command(async)]
#[specta::specta]
pub fn pending_reminders(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    until_ms: Option<i64>,
) -> CmdResult<Vec<PendingReminder>> {
    state.call(|app, s| app.pending_reminders(s, clinic_id, until_ms))
}

/// Record a reminder's outcome: sent, failed (with `failure_reason`) or retry.
#[tauri::command(async)]
#[specta::specta]
pub fn mark_reminder(
    state: State<'_, AppState>,
    reminder_id: ReminderId,
    outcome: String,
    failure_reason: Option<String>,
) -> CmdResult<Reminder> {
    state.call(|app, s| app.mark_reminder(s, reminder_id, &outcome, failure_reason.as_deref()))
}

impl AppState {
    /// The pending reminders as CSV (`App::export_pending_reminders_csv`, audited) written to
    /// `path` (`App::write_export`: never over the database's files, 0600, whole or not at
    /// all).
    pub fn export_pending_reminders_csv(
        &self,
        clinic_id: ClinicId,
        until_ms: Option<i64>,
        path: PathBuf,
    ) -> CmdResult<()> {
        let destination = path.display().to_string();
        self.call(|app, s| {
            app.check_destination(&path)?;
            let csv = app.export_pending_reminders_csv(s, clinic_id, until_ms, &destination)?;
            app.write_export(&path, csv.as_bytes())
        })
    }
}

/// Write the pending reminders as CSV to a file the user picks in a save dialog (opened
/// here). The file written, or None when the user cancelled the dialog.
#[tauri::command(async)]
#[specta::specta]
pub fn export_pending_reminders_csv(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    chooser: State<'_, crate::files::Chooser>,
    clinic_id: ClinicId,
    until_ms: Option<i64>,
) -> CmdResult<Option<String>> {
    let pick = crate::files::Pick {
        title: "Export reminders",
        suggested: "clinicdesk-reminders.csv",
        kind: ("CSV", &["csv"]),
    };
    let Some(path) = chooser.save(&app, &pick) else {
        return Ok(None);
    };
    state.export_pending_reminders_csv(clinic_id, until_ms, path.clone())?;
    Ok(Some(path.display().to_string()))
}
