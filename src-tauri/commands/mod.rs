//! Tauri commands: each is one call into the app API plus error mapping to `{code, message}`.
//!
//! Every command but the session ones (`session.rs`) runs through `AppState::call`, which
//! refuses with `not_signed_in` or `locked` before the API is reached and otherwise counts the
//! call as activity. The signed-in session never crosses the IPC boundary as an input: the UI
//! cannot send (or forge) one. Commands that touch the database run on Tauri's async pool
//! (`#[tauri::command(async)]`), off the UI's main thread.
//!
//! Create/update commands take `fields`: a map of field name → text, parsed by the API
//! (unknown fields are refused, errors name the field). The field names are the API's and are
//! listed on each command.

pub mod admin;
pub mod conflicts;
pub mod front_desk;
pub mod interop;
pub mod managers;
pub mod people;
pub mod recovery;
pub mod session;
pub mod waitlist;

use std::collections::BTreeMap;

use clinicdesk_api::Fields;
use serde::{Deserialize, Serialize};

pub use crate::state::CmdResult;

/// Create/update input from the UI: field name → text (empty text clears an optional field).
pub type FieldMap = BTreeMap<String, String>;

/// The API's boundary input from the UI's map.
pub fn fields(map: FieldMap) -> Fields {
    let mut f = Fields::new();
    for (k, v) in map {
        f.set(&k, v);
    }
    f
}

/// Progress of a long task (backup, restore, demo generation, patient import), emitted as the
/// `progress` event. `task` is the id the UI gave when it started the task (and passes to
/// `cancel_task`); `stage` names the step (`backup`, `restore`, the demo's table, or the
/// import's `validating`, `checking`, `importing`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "progress")]
pub struct Progress {
    pub task: String,
    pub stage: String,
    pub done: u64,
    pub total: u64,
}

/// New credential alerts raised by the periodic housekeeping (`credential_alerts` event; a
/// desktop notification is shown too). The UI refreshes its alert list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "credential_alerts")]
pub struct CredentialAlertsRaised {
    pub alerts_raised: u64,
    pub coverage_needs_raised: u64,
}
