//! The desktop's sync (SYNC.md §4): when the opened database is enrolled, a background
//! `clinicdesk_sync::Runner` pushes after local commits and pulls on the server's hint or a
//! timer; rows it pulls raise the `sync_changed` event naming the tables, so screens refresh.
//! A supervisor thread starts the runner when the database is (or becomes) enrolled and
//! restarts it when the database is replaced (a restore on a new PC, a new clinic).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clinicdesk_api::keys::SecretPlace;
use clinicdesk_api::Store;
use clinicdesk_sync::{Runner, Settings, Status};
use serde::{Deserialize, Serialize};

use crate::state::{AppState, CmdResult};

/// Where the sync password is kept instead of the keyring (as for the CLI).
const SYNC_KEY_FILE_ENV: &str = "CLINICDESK_SYNC_KEY_FILE";
/// How often the supervisor looks at the database's enrolment.
const SUPERVISE_EVERY: Duration = Duration::from_secs(5);

/// Pulled rows changed these tables (`sync_changed` event): screens showing them reload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "sync_changed")]
pub struct SyncChanged {
    pub tables: Vec<String>,
}

/// The last sync error as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SyncErrorView {
    pub code: String,
    pub message: String,
    pub at: i64,
}

/// What the window shows about sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SyncStatusView {
    /// Whether this PC is enrolled (nothing else is meaningful when it is not).
    pub enrolled: bool,
    /// The server (its address and this PC's role; no password).
    pub server: Option<String>,
    /// Whether the server was reached on the last attempt.
    pub online: bool,
    /// Changes made here that the server has not acknowledged yet.
    pub pending_changes: i64,
    pub last_ok_at: Option<i64>,
    pub last_error: Option<SyncErrorView>,
    /// The server's clock minus this PC's (ms), measured at the last connection.
    pub clock_skew_ms: Option<i64>,
    /// Past 2 minutes either way: what an administrator is told (sync goes on).
    pub clock_warning: Option<String>,
}

impl From<Status> for SyncStatusView {
    fn from(s: Status) -> Self {
        SyncStatusView {
            enrolled: s.enrolled,
            server: s.url,
            online: s.online,
            pending_changes: s.pending_changes,
            last_ok_at: s.last_ok_at,
            last_error: s.last_error.map(|e| SyncErrorView {
                code: e.code,
                message: e.message,
                at: e.at,
            }),
            clock_warning: clinicdesk_sync::engine::clock_warning(s.clock_skew_ms),
            clock_skew_ms: s.clock_skew_ms,
        }
    }
}

/// The running loop and the store it serves.
#[derive(Default)]
pub struct SyncSlot {
    running: Option<(Arc<Store>, Runner)>,
}

impl SyncSlot {
    /// The loop's status, or what the database records when no loop runs.
    pub fn status(&self, store: &Store) -> clinicdesk_sync::Result<Status> {
        match &self.running {
            Some((s, r)) if std::ptr::eq(s.as_ref(), store) => r.status(),
            _ => clinicdesk_sync::engine::status(store),
        }
    }
}

fn settings(state: &AppState, store: &Store) -> clinicdesk_sync::Result<Settings> {
    let id = store.db_id()?;
    let file = std::env::var_os(SYNC_KEY_FILE_ENV).map(Into::into);
    let place = SecretPlace::sync(&state.location.keys, &id, file);
    Settings::of(store, &place)
}

/// Start the supervisor thread.
pub fn spawn(state: AppState, handle: tauri::AppHandle) {
    let slot = state.sync.clone();
    std::thread::Builder::new()
        .name("sync-supervisor".into())
        .spawn(move || loop {
            supervise(&state, &slot, &handle);
            std::thread::sleep(SUPERVISE_EVERY);
        })
        .expect("spawn the sync supervisor");
}

fn supervise(state: &AppState, slot: &Mutex<SyncSlot>, handle: &tauri::AppHandle) {
    let Ok(app) = state.app() else { return };
    let store = app.store().clone();
    let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((s, _)) = &slot.running {
        if Arc::ptr_eq(s, &store) {
            return;
        }
        // The database was replaced: stop the loop of the old one.
        if let Some((_, r)) = slot.running.take() {
            r.stop();
        }
    }
    let settings = match settings(state, &store) {
        Ok(s) => s,
        Err(clinicdesk_sync::SyncError::NotEnrolled) => return,
        Err(e) => {
            let _ = clinicdesk_sync::engine::record_outcome(&store, Some(&e));
            return;
        }
    };
    log::info!("sync: this PC is enrolled; starting the sync loop");
    let handle = handle.clone();
    let runner = Runner::start(store.clone(), settings, move |tables| {
        use tauri_specta::Event;
        let e = SyncChanged {
            tables: tables.to_vec(),
        };
        if let Err(err) = e.emit(&handle) {
            log::warn!("sync_changed event not delivered: {err}");
        }
    });
    slot.running = Some((store, runner));
}

/// The sync status for the window (signed-in users).
#[tauri::command(async)]
#[specta::specta]
pub fn sync_status(state: tauri::State<'_, AppState>) -> CmdResult<SyncStatusView> {
    let app = state.call(|app, _| Ok(app.clone()))?;
    let slot = state.sync.lock().unwrap_or_else(|p| p.into_inner());
    slot.status(app.store())
        .map(SyncStatusView::from)
        .map_err(|e| clinicdesk_api::ErrorBody {
            code: e.code().to_string(),
            message: e.to_string(),
        })
}
