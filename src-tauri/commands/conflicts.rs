//! The sync conflicts inbox (issue 13): the server's verdicts against this PC's (or, for
//! managers, their clinics') bookings, free slots to rebook the lost appointment, and the
//! resolutions (rebooked, waitlisted, dismissed with a note).

use clinicdesk_api::{ConflictResolution, RebookSlot, SyncConflictView};
use tauri::State;

use super::CmdResult;
use crate::state::AppState;

/// The conflicts of the clinics where the caller manages the schedule: the open ones, or all
/// (the history) with `all`; newest first.
#[tauri::command(async)]
#[specta::specta]
pub fn list_sync_conflicts(
    state: State<'_, AppState>,
    all: bool,
) -> CmdResult<Vec<SyncConflictView>> {
    state.call(|app, s| app.list_sync_conflicts(s, all))
}

/// Resolve an open conflict: `resolution` is rebooked (with `rebooked_appointment_id`, an
/// active booking of the same patient at the same clinic), waitlisted or dismissed.
#[tauri::command(async)]
#[specta::specta]
pub fn resolve_sync_conflict(
    state: State<'_, AppState>,
    id: String,
    resolution: String,
    note: Option<String>,
    rebooked_appointment_id: Option<String>,
) -> CmdResult<SyncConflictView> {
    state.call(|app, s| {
        let how = match (resolution.trim(), rebooked_appointment_id) {
            ("rebooked", Some(a)) => ConflictResolution::Rebooked(a),
            ("rebooked", None) => {
                return Err(clinicdesk_api::domain::DomainError::invalid(
                    "rebooked_appointment_id",
                    "is required to resolve as rebooked",
                )
                .into())
            }
            ("waitlisted", _) => ConflictResolution::Waitlisted,
            ("dismissed", _) => ConflictResolution::Dismissed,
            (other, _) => {
                return Err(clinicdesk_api::domain::DomainError::invalid(
                    "resolution",
                    format!("'{other}' is not one of rebooked, waitlisted, dismissed"),
                )
                .into())
            }
        };
        app.resolve_sync_conflict(s, &id, &how, note.as_deref())
    })
}

/// Free slots for the lost appointment (its length): the same provider's first, then the
/// clinic's other providers', from the lost day (or today) for two weeks.
#[tauri::command(async)]
#[specta::specta]
pub fn suggest_rebook_slots(
    state: State<'_, AppState>,
    conflict_id: String,
) -> CmdResult<Vec<RebookSlot>> {
    state.call(|app, s| app.suggest_rebook_slots(s, &conflict_id))
}

/// Book the chosen slot for the lost appointment's patient and resolve the conflict as
/// rebooked, in one step (nothing changes when the slot is no longer free).
#[tauri::command(async)]
#[specta::specta]
pub fn rebook_sync_conflict(
    state: State<'_, AppState>,
    conflict_id: String,
    provider_id: String,
    start: String,
    note: Option<String>,
) -> CmdResult<SyncConflictView> {
    state.call(|app, s| {
        app.rebook_sync_conflict(s, &conflict_id, &provider_id, &start, note.as_deref())
    })
}

/// Put the patient on the waitlist (the lost appointment's length and provider, two weeks)
/// and resolve the conflict as waitlisted, in one step.
#[tauri::command(async)]
#[specta::specta]
pub fn waitlist_sync_conflict(
    state: State<'_, AppState>,
    conflict_id: String,
    note: Option<String>,
) -> CmdResult<SyncConflictView> {
    state.call(|app, s| app.waitlist_sync_conflict(s, &conflict_id, note.as_deref()))
}
