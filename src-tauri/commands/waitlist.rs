//! The waitlist: entries, and the offers of freed slots (made by the API when a slot frees).

use clinicdesk_api::domain::{ClinicId, WaitlistEntryId};
use clinicdesk_api::rows::{
    appointments::Appointment,
    waitlist::{WaitlistEntry, WaitlistOffer},
};
use clinicdesk_api::WaitlistView;
use tauri::State;

use super::{CmdResult, FieldMap};
use crate::state::AppState;

/// The clinic's waitlist (waiting and offered entries, best first) with their live offers.
#[tauri::command(async)]
#[specta::specta]
pub fn list_waitlist(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
) -> CmdResult<Vec<WaitlistView>> {
    state.call(|app, s| app.list_waitlist(s, clinic_id))
}

/// Fields: patient_id, earliest_date, latest_date, duration_minutes (or appointment_type_id);
/// optional provider_ids (comma list; empty = any), preferred_days (mon,wed),
/// preferred_time_start, preferred_time_end (HH:MM), priority (1 most urgent … 5), notes.
#[tauri::command(async)]
#[specta::specta]
pub fn add_to_waitlist(
    state: State<'_, AppState>,
    clinic_id: ClinicId,
    fields: FieldMap,
) -> CmdResult<WaitlistEntry> {
    let f = super::fields(fields);
    state.call(|app, s| app.add_to_waitlist(s, clinic_id, &f))
}

#[tauri::command(async)]
#[specta::specta]
pub fn remove_from_waitlist(
    state: State<'_, AppState>,
    entry_id: WaitlistEntryId,
) -> CmdResult<WaitlistEntry> {
    state.call(|app, s| app.remove_from_waitlist(s, entry_id))
}

/// The patient takes the offered slot: books it (every booking rule) and returns the booking.
#[tauri::command(async)]
#[specta::specta]
pub fn accept_offer(state: State<'_, AppState>, offer_id: String) -> CmdResult<Appointment> {
    state.call(|app, s| app.accept_offer(s, &offer_id))
}

/// The patient declines: the slot passes to the next entry (returned when there is one).
#[tauri::command(async)]
#[specta::specta]
pub fn decline_offer(
    state: State<'_, AppState>,
    offer_id: String,
) -> CmdResult<Option<WaitlistOffer>> {
    state.call(|app, s| app.decline_offer(s, &offer_id))
}
