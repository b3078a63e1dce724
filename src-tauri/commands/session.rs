//! First run, sign-in, the idle lock and the session's status. The logic lives on `AppState`
//! (plain functions the commands wrap, so tests call them without Tauri).

use crate::session::Tick;

use clinicdesk_api::Fields;
use serde::Serialize;
use tauri::State;

use super::{fields, CmdResult, FieldMap};
use crate::session::SessionStatus;
use crate::state::{body, AppState};

#[derive(Debug, Serialize, specta::Type)]
pub struct AppInfo {
    pub version: String,
    pub database: String,
    /// False on a new database: the UI shows first-run setup (or demo generation).
    pub initialised: bool,
    pub device_id: String,
}

impl AppState {
    pub fn app_info(&self) -> CmdResult<AppInfo> {
        let app = self.app().map_err(body)?;
        Ok(AppInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            database: self.location.path.display().to_string(),
            initialised: app.is_initialised().map_err(body)?,
            device_id: app.store().device_id().to_string(),
        })
    }

    /// First run: the first clinic and its admin (`App::initialise`, refused once any user
    /// exists), then signed in as that admin.
    pub fn first_run_setup(
        &self,
        clinic: &Fields,
        username: &str,
        password: &str,
    ) -> CmdResult<SessionStatus> {
        let app = self.app().map_err(body)?;
        let init = app.initialise(clinic, username, password).map_err(body)?;
        self.keep_recovery_key(crate::state::FirstRunKeys {
            recovery_key: init.recovery_key,
            audit_verification_key: app.store().take_initial_seal_key().map(|k| k.to_hex()),
        });
        self.login(&init.admin.username, password)
    }

    /// Sign in (`App::login`: lock-out after repeated failures, audited). Replaces any
    /// session, locked or not.
    pub fn login(&self, username: &str, password: &str) -> CmdResult<SessionStatus> {
        let app = self.app().map_err(body)?;
        let s = app.login(username, password).map_err(body)?;
        let minutes = app.idle_lock_minutes_for(&s).map_err(body)?;
        let now = Tick::now();
        Ok(self.with_session(|g| {
            g.set_idle_timeout(u32::try_from(minutes).unwrap_or(u32::MAX));
            g.sign_in(s, now);
            g.status(now)
        }))
    }

    pub fn logout(&self) -> SessionStatus {
        let now = Tick::now();
        self.with_session(|g| {
            g.sign_out();
            g.status(now)
        })
    }

    pub fn lock(&self) -> CmdResult<SessionStatus> {
        let now = Tick::now();
        self.with_session(|g| {
            g.lock()?;
            Ok(g.status(now))
        })
    }

    /// Unlock with the signed-in user's password, checked by `App::login` (so wrong passwords
    /// count towards the account's lock-out and are audited).
    pub fn unlock_at(&self, password: &str, now: Tick) -> CmdResult<SessionStatus> {
        let username = self.with_session(|g| g.locked_username())?;
        let app = self.app().map_err(body)?;
        let fresh = app.login(&username, password).map_err(body)?;
        let minutes = app.idle_lock_minutes_for(&fresh).map_err(body)?;
        self.with_session(|g| {
            g.unlock(fresh, now)?;
            g.set_idle_timeout(u32::try_from(minutes).unwrap_or(u32::MAX));
            Ok(g.status(now))
        })
    }

    /// The UI saw input: counts as activity (refused when locked or signed out).
    pub fn activity_at(&self, now: Tick) -> CmdResult<SessionStatus> {
        self.with_session(|g| {
            g.enter(now)?;
            Ok(g.status(now))
        })
    }

    /// Change this device's idle lock (`App::set_idle_timeout`: admins only, 1–480 minutes,
    /// audited); applies to the running session at once (a clinic's shorter
    /// `idle_lock_minutes` still wins).
    pub fn set_idle_timeout(&self, minutes: i64) -> CmdResult<SessionStatus> {
        let m = self.call(|app, s| {
            app.set_idle_timeout(s, minutes)?;
            app.idle_lock_minutes_for(s)
        })?;
        let now = Tick::now();
        Ok(self.with_session(|g| {
            g.set_idle_timeout(u32::try_from(m).unwrap_or(u32::MAX));
            g.status(now)
        }))
    }
}

/// Version, database file, whether it is set up, and this PC's device id. Needs no session.
#[tauri::command(async)]
#[specta::specta]
pub fn app_info(state: State<'_, AppState>) -> CmdResult<AppInfo> {
    state.app_info()
}

/// First run on a new database: creates the first clinic (`clinic` fields: name, code,
/// timezone (IANA); optional address_line1, city, state, postal_code, country, phone, email,
/// reminder_offsets_minutes, idle_lock_minutes) and its admin user, then signs in as the admin.
/// Refused with `conflict` once the database is set up.
#[tauri::command(async)]
#[specta::specta]
pub fn first_run_setup(
    state: State<'_, AppState>,
    clinic: FieldMap,
    username: String,
    password: String,
) -> CmdResult<SessionStatus> {
    state.first_run_setup(&fields(clinic), &username, &password)
}

/// Sign in; replaces the current session (locked or not). Errors: `bad_credentials`,
/// `account_locked` (after 5 wrong passwords, for 15 minutes).
#[tauri::command(async)]
#[specta::specta]
pub fn login(
    state: State<'_, AppState>,
    username: String,
    password: String,
) -> CmdResult<SessionStatus> {
    state.login(&username, &password)
}

#[tauri::command]
#[specta::specta]
pub fn logout(state: State<'_, AppState>) -> SessionStatus {
    state.logout()
}

/// Signed in? locked? who, with which roles; the idle timeout and the seconds left before the
/// lock. Not activity (poll it freely); it applies the lock when the time is up.
#[tauri::command]
#[specta::specta]
pub fn session_status(state: State<'_, AppState>) -> SessionStatus {
    state.session_status_at(Tick::now())
}

/// Lock now (the user steps away).
#[tauri::command]
#[specta::specta]
pub fn lock(state: State<'_, AppState>) -> CmdResult<SessionStatus> {
    state.lock()
}

/// Unlock with the signed-in user's password. Another user must `login` instead.
#[tauri::command(async)]
#[specta::specta]
pub fn unlock(state: State<'_, AppState>, password: String) -> CmdResult<SessionStatus> {
    state.unlock_at(&password, Tick::now())
}

/// The user is active (keyboard/mouse): call on input, at most every few seconds. Refused
/// with `locked` when the idle time already ran out.
#[tauri::command]
#[specta::specta]
pub fn activity(state: State<'_, AppState>) -> CmdResult<SessionStatus> {
    state.activity_at(Tick::now())
}

/// This device's idle lock in minutes (default 15).
#[tauri::command(async)]
#[specta::specta]
pub fn get_idle_timeout(state: State<'_, AppState>) -> CmdResult<i64> {
    state.call(|app, _| app.get_idle_timeout())
}

/// Set this device's idle lock (1–480 minutes). Admins only; audited.
#[tauri::command(async)]
#[specta::specta]
pub fn set_idle_timeout(state: State<'_, AppState>, minutes: i64) -> CmdResult<SessionStatus> {
    state.set_idle_timeout(minutes)
}
