//! Managers: credentials (dashboard, expiring, at risk, alerts, the lifecycle), the roster
//! (assignments, swaps, time off, coverage needs), cases, KPIs and goals, capacity.

use clinicdesk_api::domain::{
    AppointmentId, CaseId, ClinicId, CoverageNeedId, CredentialAlertId, CredentialId, ShiftSwapId,
    StaffId, StaffScheduleId, TimeOffRequestId,
};
use clinicdesk_api::rows::{
    appointments::Appointment, capacity_snapshots::CapacitySnapshot, cases::Case,
    coverage_needs::CoverageNeed, credential_alerts::CredentialAlert, credentials::Credential,
    goals::GoalTemplate, kpi_events::KpiEvent, shift_swaps::ShiftSwap,
    staff_schedules::StaffSchedule, time_off::TimeOffRequest,
};
use clinicdesk_api::{
    AdverseActionRecorded, AtRiskStaff, BulkAssignment, CaseDetail, CaseWarning,
    CredentialAlertView, CredentialDashboard, CredentialExpiries, CredentialFilter,
    CredentialHistory, GoalProgress, KpiReport, ListQuery, MySwap, TimeOffDecision,
    VerificationRecorded,
};
use tauri::State;

use super::{CmdResult, FieldMap};
use crate::state::AppState;

// Credentials ---------------------------------------------------------------------------------

/// Expired and expiring credentials with counts, and the staff whose work is at risk, in one
/// read. `filter`: clinic_id, staff_id, credential_type_id, within_days (0–365, default 90),
/// horizon_days (1–366, default 90), limit (work listed per person, default 3).
#[tauri::command(async)]
#[specta::specta]
pub fn credential_dashboard(
    state: State<'_, AppState>,
    filter: CredentialFilter,
) -> CmdResult<CredentialDashboard> {
    state.call(|app, s| app.credential_dashboard(s, &filter))
}

/// Expired credentials and those expiring within `filter.within_days`, soonest first.
#[tauri::command(async)]
#[specta::specta]
pub fn credential_expiries(
    state: State<'_, AppState>,
    filter: CredentialFilter,
) -> CmdResult<CredentialExpiries> {
    state.call(|app, s| app.credential_expiries(s, &filter))
}

/// Staff with shifts or appointments in a lapse of a required credential (default limit 10).
#[tauri::command(async)]
#[specta::specta]
pub fn credentials_at_risk(
    state: State<'_, AppState>,
    filter: CredentialFilter,
) -> CmdResult<Vec<AtRiskStaff>> {
    state.call(|app, s| app.credentials_at_risk(s, &filter))
}

/// Expiry alerts (open ones unless `include_acknowledged`).
#[tauri::command(async)]
#[specta::specta]
pub fn list_credential_alerts(
    state: State<'_, AppState>,
    filter: CredentialFilter,
    include_acknowledged: bool,
) -> CmdResult<Vec<CredentialAlertView>> {
    state.call(|app, s| app.list_credential_alerts(s, &filter, include_acknowledged))
}

#[tauri::command(async)]
#[specta::specta]
pub fn acknowledge_credential_alert(
    state: State<'_, AppState>,
    alert_id: CredentialAlertId,
) -> CmdResult<CredentialAlert> {
    state.call(|app, s| app.acknowledge_credential_alert(s, alert_id))
}

/// Credentials, of one staff member or (with `query.clinic_id`) a clinic's staff.
#[tauri::command(async)]
#[specta::specta]
pub fn list_credentials(
    state: State<'_, AppState>,
    staff_id: Option<StaffId>,
    query: ListQuery,
) -> CmdResult<Vec<Credential>> {
    state.call(|app, s| app.list_credentials(s, staff_id, &query))
}

/// A credential on file. Fields: credential_type_id; optional credential_number,
/// issuing_authority, issuing_state, issue_date, expiry_date, status, verification_status,
/// document_ref, notes.
#[tauri::command(async)]
#[specta::specta]
pub fn create_credential(
    state: State<'_, AppState>,
    staff_id: StaffId,
    fields: FieldMap,
) -> CmdResult<Credential> {
    let f = super::fields(fields);
    state.call(|app, s| app.create_credential(s, staff_id, &f))
}

#[tauri::command(async)]
#[specta::specta]
pub fn update_credential(
    state: State<'_, AppState>,
    credential_id: CredentialId,
    fields: FieldMap,
) -> CmdResult<Credential> {
    let f = super::fields(fields);
    state.call(|app, s| app.update_credential(s, credential_id, &f))
}

/// Renew. Fields: expiry_date (after the current one); optional credential_number,
/// issue_date, document_ref, notes. Closes the old expiry's alerts.
#[tauri::command(async)]
#[specta::specta]
pub fn renew_credential(
    state: State<'_, AppState>,
    credential_id: CredentialId,
    fields: FieldMap,
) -> CmdResult<Credential> {
    let f = super::fields(fields);
    state.call(|app, s| app.renew_credential(s, credential_id, &f))
}

/// A check with the issuer. Fields: method (primary_source, online_lookup, document, phone,
/// other), result (verified, failed, pending); optional reference, notes.
#[tauri::command(async)]
#[specta::specta]
pub fn record_credential_verification(
    state: State<'_, AppState>,
    credential_id: CredentialId,
    fields: FieldMap,
) -> CmdResult<VerificationRecorded> {
    let f = super::fields(fields);
    state.call(|app, s| app.record_credential_verification(s, credential_id, &f))
}

/// A suspension, revocation, probation or restriction. Fields: action_type, reason,
/// start_date; optional end_date (inclusive), authority.
#[tauri::command(async)]
#[specta::specta]
pub fn record_adverse_action(
    state: State<'_, AppState>,
    credential_id: CredentialId,
    fields: FieldMap,
) -> CmdResult<AdverseActionRecorded> {
    let f = super::fields(fields);
    state.call(|app, s| app.record_adverse_action(s, credential_id, &f))
}

/// A credential with its verifications, adverse actions and alerts.
#[tauri::command(async)]
#[specta::specta]
pub fn credential_history(
    state: State<'_, AppState>,
    credential_id: CredentialId,
) -> CmdResult<CredentialHistory> {
    state.call(|app, s| app.credential_history(s, credential_id))
}

// The roster ----------------------------------------------------------------------------------

/// Fields: staff_id, shift_id, date; optional notes, override_reason (manager: works without
/// a required credential). Overlaps, approved time off and inactive staff are refused.
#[tauri::command(async)]
#[specta::specta]
pub fn assign_shift(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<StaffSchedule> {
    let f = super::fields(fields);
    state.call(|app, s| app.assign_shift(s, clinic_id, &f))
}

/// Fields: staff_id, shift_id, from, to, weekdays (mon,wed,fri; default every day); optional
/// override_reason, skip_conflicts.
#[tauri::command(async)]
#[specta::specta]
pub fn assign_shifts_bulk(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<BulkAssignment> {
    let f = super::fields(fields);
    state.call(|app, s| app.assign_shifts_bulk(s, clinic_id, &f))
}

/// `action`: start, end, absent, cancel.
#[tauri::command(async)]
#[specta::specta]
pub fn set_shift_status(
    state: State<'_, AppState>,
    schedule_id: StaffScheduleId,
    action: String,
) -> CmdResult<StaffSchedule> {
    state.call(|app, s| app.set_shift_status(s, schedule_id, &action))
}

/// Fields: requester_schedule_id, target_staff_id; optional target_schedule_id, reason.
#[tauri::command(async)]
#[specta::specta]
pub fn request_swap(state: State<'_, AppState>, fields: FieldMap) -> CmdResult<ShiftSwap> {
    let f = super::fields(fields);
    state.call(|app, s| app.request_swap(s, &f))
}

/// Swap requests at a clinic, oldest first: `status` requested (default), approved, rejected,
/// cancelled or all. Managers.
#[tauri::command(async)]
#[specta::specta]
pub fn list_swaps(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    status: Option<String>,
) -> CmdResult<Vec<ShiftSwap>> {
    state.call(|app, s| app.list_swaps(s, clinic_id, status.as_deref()))
}

/// Approve (re-checks both people) or reject a swap.
#[tauri::command(async)]
#[specta::specta]
pub fn decide_swap(
    state: State<'_, AppState>,
    swap_id: ShiftSwapId,
    approve: bool,
    note: Option<String>,
    override_reason: Option<String>,
) -> CmdResult<ShiftSwap> {
    state.call(|app, s| {
        app.decide_swap(
            s,
            swap_id,
            approve,
            note.as_deref(),
            override_reason.as_deref(),
        )
    })
}

/// Fields: staff_id, start_date, end_date (inclusive); optional kind (vacation, sick,
/// personal, education, other), reason.
#[tauri::command(async)]
#[specta::specta]
pub fn request_time_off(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<TimeOffRequest> {
    let f = super::fields(fields);
    state.call(|app, s| app.request_time_off(s, clinic_id, &f))
}

/// Time-off requests at a clinic by start date: `status` requested (default), approved,
/// rejected, cancelled or all. Managers.
#[tauri::command(async)]
#[specta::specta]
pub fn list_time_off(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    status: Option<String>,
) -> CmdResult<Vec<TimeOffRequest>> {
    state.call(|app, s| app.list_time_off(s, clinic_id, status.as_deref()))
}

/// Approve (releases the person's assignments into coverage needs, lists their appointments
/// to move) or reject.
#[tauri::command(async)]
#[specta::specta]
pub fn decide_time_off(
    state: State<'_, AppState>,
    request_id: TimeOffRequestId,
    approve: bool,
    note: Option<String>,
) -> CmdResult<TimeOffDecision> {
    state.call(|app, s| app.decide_time_off(s, request_id, approve, note.as_deref()))
}

/// Withdraw time off: staff their own while requested; managers any, also approved.
#[tauri::command(async)]
#[specta::specta]
pub fn cancel_time_off(
    state: State<'_, AppState>,
    request_id: TimeOffRequestId,
) -> CmdResult<TimeOffRequest> {
    state.call(|app, s| app.cancel_time_off(s, request_id))
}

/// The signed-in user's own swaps (asked for, or asked to take), newest first, with names and
/// both assignments: at `clinic_id` (null: every clinic they may read); `status` requested,
/// approved, rejected, cancelled or all (default). `not_found` without a linked staff profile.
#[tauri::command(async)]
#[specta::specta]
pub fn my_swaps(
    state: State<'_, AppState>,
    clinic_id: Option<ClinicId>,
    status: Option<String>,
) -> CmdResult<Vec<MySwap>> {
    state.call(|app, s| app.my_swaps(s, clinic_id, status.as_deref()))
}

/// The signed-in user's own time-off requests, latest start first (as `my_swaps`).
#[tauri::command(async)]
#[specta::specta]
pub fn my_time_off(
    state: State<'_, AppState>,
    clinic_id: Option<ClinicId>,
    status: Option<String>,
) -> CmdResult<Vec<TimeOffRequest>> {
    state.call(|app, s| app.my_time_off(s, clinic_id, status.as_deref()))
}

/// Withdraw a swap while it is requested: the staff member who asked, or a manager.
#[tauri::command(async)]
#[specta::specta]
pub fn cancel_swap(state: State<'_, AppState>, swap_id: ShiftSwapId) -> CmdResult<ShiftSwap> {
    state.call(|app, s| app.cancel_swap(s, swap_id))
}

/// `status`: open (default), filled, cancelled, all.
#[tauri::command(async)]
#[specta::specta]
pub fn list_coverage_needs(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    status: Option<String>,
) -> CmdResult<Vec<CoverageNeed>> {
    state.call(|app, s| app.list_coverage_needs(s, clinic_id, status.as_deref()))
}

/// Extra demand. Fields: shift_id, date; optional notes.
#[tauri::command(async)]
#[specta::specta]
pub fn create_coverage_need(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<CoverageNeed> {
    let f = super::fields(fields);
    state.call(|app, s| app.create_coverage_need(s, clinic_id, &f))
}

/// Fill a need by assigning `staff_id` (the assignment's checks apply): the need and the new
/// assignment.
#[tauri::command(async)]
#[specta::specta]
pub fn fill_coverage_need(
    state: State<'_, AppState>,
    need_id: CoverageNeedId,
    staff_id: StaffId,
    override_reason: Option<String>,
) -> CmdResult<(CoverageNeed, StaffSchedule)> {
    state.call(|app, s| app.fill_coverage_need(s, need_id, staff_id, override_reason.as_deref()))
}

#[tauri::command(async)]
#[specta::specta]
pub fn cancel_coverage_need(
    state: State<'_, AppState>,
    need_id: CoverageNeedId,
    reason: String,
) -> CmdResult<CoverageNeed> {
    state.call(|app, s| app.cancel_coverage_need(s, need_id, &reason))
}

// Cases ---------------------------------------------------------------------------------------

/// A clinic's cases, newest first (`status` e.g. active).
#[tauri::command(async)]
#[specta::specta]
pub fn list_cases(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    status: Option<String>,
) -> CmdResult<Vec<Case>> {
    state.call(|app, s| app.list_cases(s, clinic_id, status.as_deref()))
}

/// A case with its appointments (oldest first).
#[tauri::command(async)]
#[specta::specta]
pub fn get_case_detail(state: State<'_, AppState>, case_id: CaseId) -> CmdResult<CaseDetail> {
    state.call(|app, s| app.get_case_detail(s, case_id))
}

/// Open a case. Fields: patient_id, case_type; optional priority, diagnosis_code,
/// diagnosis_description, target_completion_date, primary_clinician_id, chief_complaint,
/// treatment_plan, authorization_number, authorization_expiry, employer_id, payer_id,
/// referral_source, tags (comma list).
#[tauri::command(async)]
#[specta::specta]
pub fn create_case(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<Case> {
    let f = super::fields(fields);
    state.call(|app, s| app.create_case(s, clinic_id, &f))
}

#[tauri::command(async)]
#[specta::specta]
pub fn update_case(
    state: State<'_, AppState>,
    case_id: CaseId,
    fields: FieldMap,
) -> CmdResult<Case> {
    let f = super::fields(fields);
    state.call(|app, s| app.update_case(s, case_id, &f))
}

#[tauri::command(async)]
#[specta::specta]
pub fn set_case_status(
    state: State<'_, AppState>,
    case_id: CaseId,
    status: String,
) -> CmdResult<Case> {
    state.call(|app, s| app.set_case_status(s, case_id, &status))
}

#[tauri::command(async)]
#[specta::specta]
pub fn set_case_priority(
    state: State<'_, AppState>,
    case_id: CaseId,
    priority: String,
) -> CmdResult<Case> {
    state.call(|app, s| app.set_case_priority(s, case_id, &priority))
}

/// Link an appointment to a case of the same clinic and patient; `case_id` null unlinks.
#[tauri::command(async)]
#[specta::specta]
pub fn link_appointment_to_case(
    state: State<'_, AppState>,
    appointment_id: AppointmentId,
    case_id: Option<CaseId>,
) -> CmdResult<Appointment> {
    state.call(|app, s| app.link_appointment_to_case(s, appointment_id, case_id))
}

/// Open cases whose authorization has expired or expires within `within_days`.
#[tauri::command(async)]
#[specta::specta]
pub fn case_warnings(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    within_days: i64,
) -> CmdResult<Vec<CaseWarning>> {
    state.call(|app, s| app.case_warnings(s, clinic_id, within_days))
}

// KPIs and goals ------------------------------------------------------------------------------

/// KPIs per `period` (day, week, month) from the period holding `from` to the one holding
/// `to` (local dates).
#[tauri::command(async)]
#[specta::specta]
pub fn kpi_report(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    period: String,
    from: String,
    to: String,
) -> CmdResult<KpiReport> {
    state.call(|app, s| app.kpi_report(s, clinic_id, &period, &from, &to))
}

#[tauri::command(async)]
#[specta::specta]
pub fn list_goals(state: State<'_, AppState>, clinic_id: ClinicId) -> CmdResult<Vec<GoalTemplate>> {
    state.call(|app, s| app.list_goals(s, clinic_id))
}

/// Fields: name, metric_key, comparator (lt, lte, gt, gte), target_value (0.05 or 5%);
/// optional period (day, week, month; default month), description.
#[tauri::command(async)]
#[specta::specta]
pub fn create_goal(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<GoalTemplate> {
    let f = super::fields(fields);
    state.call(|app, s| app.create_goal(s, clinic_id, &f))
}

/// Each goal's value in its period holding `date` (default the clinic's today).
#[tauri::command(async)]
#[specta::specta]
pub fn goal_progress(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    date: Option<String>,
) -> CmdResult<Vec<GoalProgress>> {
    state.call(|app, s| app.goal_progress(s, clinic_id, date.as_deref()))
}

/// An event staff report by hand. Fields: event_type (custom, quality_incident, safety_alert,
/// equipment_used, supply_depleted), event_name (custom), item, severity, metric_value,
/// metric_unit, staff_id, patient_id, occurred_at, notes, tags.
#[tauri::command(async)]
#[specta::specta]
pub fn record_kpi_event(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<KpiEvent> {
    let f = super::fields(fields);
    state.call(|app, s| app.record_kpi_event(s, clinic_id, &f))
}

// Capacity ------------------------------------------------------------------------------------

/// A capacity snapshot of the clinic now (rooms, staff, slots, waiting; status).
#[tauri::command(async)]
#[specta::specta]
pub fn take_capacity_snapshot(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
) -> CmdResult<CapacitySnapshot> {
    state.call(|app, s| app.take_capacity_snapshot(s, clinic_id))
}

/// The clinic's snapshots, newest first, optionally between two local dates (inclusive).
#[tauri::command(async)]
#[specta::specta]
pub fn list_capacity_snapshots(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u32>,
) -> CmdResult<Vec<CapacitySnapshot>> {
    state.call(|app, s| {
        app.list_capacity_snapshots(s, clinic_id, from.as_deref(), to.as_deref(), limit)
    })
}
