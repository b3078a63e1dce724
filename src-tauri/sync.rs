//! The desktop's sync (SYNC.md §4): when the opened database is enrolled, a background
//! `clinicdesk_sync::Runner` pushes after local commits and pulls on the server's hint or a
//! timer; rows it pulls raise the `sync_changed` event naming the tables, so screens refresh.
//! A supervisor thread starts the runner when the database is (or becomes) enrolled and
//! restarts it when the database is replaced (a restore on a new PC, a new clinic).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clinicdesk_api::keys::SecretPlace;
use clinicdesk_api::Store;
use clinicdesk_sync::enrol::ServerUrl;
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
    state.sync_status_view()
}

impl AppState {
    /// The sync status for the window (signed-in users).
    pub fn sync_status_view(&self) -> CmdResult<SyncStatusView> {
        let app = self.call(|app, _| Ok(app.clone()))?;
        let slot = self.sync.lock().unwrap_or_else(|p| p.into_inner());
        slot.status(app.store())
            .map(SyncStatusView::from)
            .map_err(sync_body)
    }
}

// Admin → Sync: enrolment of this PC and the server's devices ---------------------------------
//
// The server owner's password is an argument of one command, used for one connection and never
// stored; the device's password goes to the OS keyring (`sync:<database id>`) only. Each
// command is refused before anything is sent unless the signed-in user may administer sync
// (`App::sync_administration`, `App::sync_enrolment`: the organisation's owner).

fn sync_body(e: clinicdesk_sync::SyncError) -> clinicdesk_api::ErrorBody {
    clinicdesk_api::ErrorBody {
        code: e.code().to_string(),
        message: e.to_string(),
    }
}

fn parse_url(server_url: &str) -> CmdResult<ServerUrl> {
    ServerUrl::parse(server_url).map_err(|e| sync_body(e.into()))
}

/// What a connection test found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SyncServerInfo {
    pub server_id: String,
    /// The last server migration applied.
    pub schema_version: i64,
    pub postgres_version: String,
    /// The server's clock minus this PC's (ms).
    pub clock_skew_ms: i64,
    /// Past 2 minutes either way: what to fix.
    pub clock_warning: Option<String>,
    /// Devices enrolled on the server (revoked ones included).
    pub devices: i64,
}

/// What enrolling did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SyncEnrolled {
    pub device_id: String,
    /// The server as this PC's role (no password).
    pub server: String,
    pub role: String,
    pub clinics: Vec<String>,
    pub seeded_rows: Option<i64>,
    /// Where the device's password is kept (words, no secret).
    pub password_place: String,
}

/// A device as the server knows it; times in ms since the epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SyncDevice {
    pub device_id: String,
    pub role: String,
    pub clinics: Vec<String>,
    pub enrolled_at: i64,
    pub last_seen_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// This PC's own device.
    pub this_pc: bool,
}

/// What revoking did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SyncRevoked {
    pub device_id: String,
    pub role: String,
    /// Its sessions that were open and are now terminated.
    pub terminated: i64,
}

/// What one round of "Sync now" did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SyncRound {
    pub pushed_changes: i64,
    pub pulled_rows: i64,
    pub server_seq: i64,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl AppState {
    /// Connect to the server as its owner and report who it is; nothing is written.
    pub fn sync_test_connection(
        &self,
        server_url: &str,
        owner_password: &str,
    ) -> CmdResult<SyncServerInfo> {
        self.call(|app, s| app.sync_administration(s))?;
        let url = parse_url(server_url)?;
        let i = clinicdesk_sync::enrol::test_connection(&url, owner_password).map_err(sync_body)?;
        Ok(SyncServerInfo {
            server_id: i.server_id,
            schema_version: i.schema_version,
            postgres_version: i.postgres_version,
            clock_warning: clinicdesk_sync::engine::clock_warning(Some(i.clock_skew_ms)),
            clock_skew_ms: i.clock_skew_ms,
            devices: i.devices,
        })
    }

    /// Enrol this database as a device (`seed`: copy every local row to the empty server,
    /// the first PC only); the background loop starts within seconds.
    pub fn sync_enrol(
        &self,
        server_url: &str,
        owner_password: &str,
        seed: bool,
    ) -> CmdResult<SyncEnrolled> {
        let url = parse_url(server_url)?;
        self.call(|app, s| {
            let e = app.sync_enrolment(s)?;
            let file = std::env::var_os(SYNC_KEY_FILE_ENV).map(Into::into);
            let place = SecretPlace::sync(&self.location.keys, &app.store().db_id()?, file);
            let device = app.store().device_id();
            let clinics: Vec<String> = e.clinics.iter().map(ToString::to_string).collect();
            let done = clinicdesk_sync::enrol::enrol(
                &clinicdesk_sync::enrol::EnrolRequest {
                    store: app.store(),
                    url: &url,
                    owner_password,
                    place: &place,
                    device: &device,
                    clinics: &clinics,
                    seed,
                },
                |local| {
                    let conn = clinicdesk_api::SyncConnection {
                        url: local.url.to_string(),
                        role: local.role.to_string(),
                    };
                    let seeded =
                        local
                            .seeded
                            .map(|(push_acked_seq, server_seq)| clinicdesk_api::SeededAt {
                                push_acked_seq,
                                server_seq,
                            });
                    app.record_sync_connection(s, &conn, seeded)
                        .map_err(|e| e.to_string())
                },
            );
            Ok(done.map(|d| SyncEnrolled {
                device_id: d.device_id,
                server: d.url,
                role: d.role,
                clinics: d.clinics,
                seeded_rows: d.seeded_rows.map(to_i64),
                password_place: d.password_place,
            }))
        })?
        .map_err(sync_body)
    }

    /// The server's devices, as its owner.
    pub fn sync_devices(
        &self,
        server_url: &str,
        owner_password: &str,
    ) -> CmdResult<Vec<SyncDevice>> {
        let me = self.call(|app, s| {
            app.sync_administration(s)?;
            Ok(app.store().device_id().to_string())
        })?;
        let url = parse_url(server_url)?;
        let list = clinicdesk_sync::enrol::list_devices(&url, owner_password).map_err(sync_body)?;
        Ok(list
            .into_iter()
            .map(|d| SyncDevice {
                this_pc: d.device_id == me,
                device_id: d.device_id,
                role: d.role,
                clinics: d.clinics,
                enrolled_at: d.enrolled_at,
                last_seen_at: d.last_seen_at,
                revoked_at: d.revoked_at,
            })
            .collect())
    }

    /// Revoke a device at once, as the server's owner.
    pub fn sync_revoke_device(
        &self,
        server_url: &str,
        owner_password: &str,
        device_id: &str,
    ) -> CmdResult<SyncRevoked> {
        self.call(|app, s| app.sync_administration(s))?;
        let url = parse_url(server_url)?;
        let device: clinicdesk_sync::enrol::DeviceId =
            device_id.parse().map_err(|_| clinicdesk_api::ErrorBody {
                code: "invalid".into(),
                message: format!("{device_id:?} is not a device id"),
            })?;
        let r = clinicdesk_sync::enrol::revoke_device(&url, owner_password, &device)
            .map_err(sync_body)?;
        Ok(SyncRevoked {
            device_id: device.to_string(),
            role: r.role,
            terminated: r.terminated,
        })
    }

    /// One round now (push, then pull), for the signed-in user; the background loop, if any, is
    /// stopped for it (two rounds at once would push the same batch twice) and restarted by the
    /// supervisor within seconds.
    pub fn sync_now(&self) -> CmdResult<SyncRound> {
        let app = self.call(|app, _| Ok(app.clone()))?;
        let store = app.store();
        let settings = settings(self, store).map_err(sync_body)?;
        let mut slot = self.sync.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, r)) = slot.running.take() {
            r.stop();
        }
        let mut pg = match settings.connect() {
            Ok(pg) => pg,
            Err(e) => {
                let _ = clinicdesk_sync::engine::record_outcome(store, Some(&e));
                return Err(sync_body(e));
            }
        };
        let r = clinicdesk_sync::engine::sync_now(store, &mut pg).map_err(sync_body)?;
        Ok(SyncRound {
            pushed_changes: to_i64(r.pushed_changes),
            pulled_rows: to_i64(r.pulled_rows),
            server_seq: r.server_seq,
        })
    }
}

/// Test the server as its owner (admins).
#[tauri::command(async)]
#[specta::specta]
pub fn sync_test_connection(
    state: tauri::State<'_, AppState>,
    server_url: String,
    owner_password: String,
) -> CmdResult<SyncServerInfo> {
    state.sync_test_connection(&server_url, &owner_password)
}

/// Enrol this PC (admins); the owner's password is used once and not kept.
#[tauri::command(async)]
#[specta::specta]
pub fn sync_enrol(
    state: tauri::State<'_, AppState>,
    server_url: String,
    owner_password: String,
    seed: bool,
) -> CmdResult<SyncEnrolled> {
    state.sync_enrol(&server_url, &owner_password, seed)
}

/// The server's devices (admins, with the owner's password).
#[tauri::command(async)]
#[specta::specta]
pub fn sync_devices(
    state: tauri::State<'_, AppState>,
    server_url: String,
    owner_password: String,
) -> CmdResult<Vec<SyncDevice>> {
    state.sync_devices(&server_url, &owner_password)
}

/// Revoke a device (admins, with the owner's password).
#[tauri::command(async)]
#[specta::specta]
pub fn sync_revoke_device(
    state: tauri::State<'_, AppState>,
    server_url: String,
    owner_password: String,
    device_id: String,
) -> CmdResult<SyncRevoked> {
    state.sync_revoke_device(&server_url, &owner_password, &device_id)
}

/// One sync round now (signed-in users of an enrolled PC).
#[tauri::command(async)]
#[specta::specta]
pub fn sync_now(state: tauri::State<'_, AppState>) -> CmdResult<SyncRound> {
    state.sync_now()
}
