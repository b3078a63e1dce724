//! Patients and staff.

use clinicdesk_api::domain::{ClinicId, PatientId, StaffId};
use clinicdesk_api::rows::{patients::Patient, staff::Staff};
use clinicdesk_api::ListQuery;
use tauri::State;

use super::{CmdResult, FieldMap};
use crate::state::AppState;

/// Search by name, MRN, phone or date of birth across the clinics whose patients the user may
/// read (at most `limit`).
#[tauri::command(async)]
#[specta::specta]
pub fn search_patients(
    state: State<'_, AppState>,
    query: String,
    limit: u32,
) -> CmdResult<Vec<Patient>> {
    state.call(|app, s| app.search_patients(s, &query, limit))
}

#[tauri::command(async)]
#[specta::specta]
pub fn get_patient(state: State<'_, AppState>, patient_id: PatientId) -> CmdResult<Patient> {
    state.call(|app, s| app.get_patient(s, patient_id))
}

/// Register a patient at their home clinic. Fields: first_name, last_name; optional mrn,
/// middle_name, preferred_name, date_of_birth (YYYY-MM-DD), sex, email, phone, city, state,
/// postal_code, preferred_contact_method, consent_sms, consent_email (yes/no), notes.
#[tauri::command(async)]
#[specta::specta]
pub fn create_patient(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<Patient> {
    let f = super::fields(fields);
    state.call(|app, s| app.create_patient(s, clinic_id, &f))
}

/// Change a patient (fields as `create_patient`; only those given change).
#[tauri::command(async)]
#[specta::specta]
pub fn update_patient(
    state: State<'_, AppState>,
    patient_id: PatientId,
    fields: FieldMap,
) -> CmdResult<Patient> {
    let f = super::fields(fields);
    state.call(|app, s| app.update_patient(s, patient_id, &f))
}

/// Staff (`query.clinic_id` for one clinic's, `query.q` filters name, employee id,
/// discipline): the providers of the schedule.
#[tauri::command(async)]
#[specta::specta]
pub fn list_staff(state: State<'_, AppState>, query: ListQuery) -> CmdResult<Vec<Staff>> {
    state.call(|app, s| app.list_staff(s, &query))
}

#[tauri::command(async)]
#[specta::specta]
pub fn get_staff(state: State<'_, AppState>, staff_id: StaffId) -> CmdResult<Staff> {
    state.call(|app, s| app.get_staff(s, staff_id))
}

/// Managers: a staff member at their primary clinic. Fields: first_name, last_name; optional
/// middle_name, preferred_name, title, discipline, department, employee_id, employment_type,
/// email, phone, hire_date, termination_date, is_clinical, is_active, user_id,
/// emergency_contact_name, emergency_contact_phone, notes.
#[tauri::command(async)]
#[specta::specta]
pub fn create_staff(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<Staff> {
    let f = super::fields(fields);
    state.call(|app, s| app.create_staff(s, clinic_id, &f))
}

/// Managers: change a staff member (fields as `create_staff`).
#[tauri::command(async)]
#[specta::specta]
pub fn update_staff(
    state: State<'_, AppState>,
    staff_id: StaffId,
    fields: FieldMap,
) -> CmdResult<Staff> {
    let f = super::fields(fields);
    state.call(|app, s| app.update_staff(s, staff_id, &f))
}
