//! The database key's safety net on the desktop: the recovery key shown once after first-run
//! setup, the admin's recovery kit, and the choices of the "database missing" screen (restore a
//! backup with the recovery key, or start a new clinic). The logic lives on `AppState`.

use std::path::Path;

use clinicdesk_api::keys::DbId;
use clinicdesk_api::{ApiError, RecoveryKit, StoreError};
use tauri::State;

use super::CmdResult;
use crate::commands::session::AppInfo;
use crate::state::{body, AppState};

impl AppState {
    /// Only while the database file is missing (the choices of the "database missing" screen).
    fn require_missing(&self) -> CmdResult<()> {
        if self.location.path.exists() {
            return Err(body(ApiError::Conflict(format!(
                "a database exists at {}: it is opened, never replaced",
                self.location.path.display()
            ))));
        }
        Ok(())
    }

    /// "Start a new clinic" on the missing-database screen: the id file of the missing
    /// database is kept aside (`<db>.id.<its id>`; its keyring entry is untouched), and a new
    /// empty database is created for first-run setup.
    pub fn start_new_database(&self) -> CmdResult<AppInfo> {
        self.require_missing()?;
        let path = &self.location.path;
        if let Some(old) = DbId::read(path).map_err(|e| body(e.into()))? {
            let id_file = DbId::file_of(path);
            let mut aside = id_file.clone().into_os_string();
            aside.push(format!(".{old}"));
            std::fs::rename(&id_file, aside).map_err(|e| body(StoreError::from(e).into()))?;
        }
        self.with_app_slot(|slot| {
            let store = clinicdesk_api::Store::create(path, &self.location.keys)
                .map_err(|e| body(e.into()))?;
            *slot = Some(clinicdesk_api::App::new(std::sync::Arc::new(store)));
            Ok(())
        })?;
        self.app().map_err(body)?;
        self.app_info()
    }

    /// "Restore a backup" on the missing-database screen, or at first-run setup on a new PC
    /// (a database never set up — no users — is replaced): the backup becomes the database at
    /// this location, its key unwrapped with the recovery key. A wrong recovery key or a
    /// damaged backup writes nothing; a database that is set up is never replaced.
    pub fn restore_new_database(&self, backup: &Path, recovery_key: &str) -> CmdResult<AppInfo> {
        let path = &self.location.path;
        self.with_app_slot(|slot| {
            if path.exists() {
                let app = match slot.take() {
                    Some(a) => a,
                    None => clinicdesk_api::App::new(std::sync::Arc::new(
                        crate::state::open_store(&self.location).map_err(body)?,
                    )),
                };
                if app.is_initialised().map_err(body)? {
                    *slot = Some(app);
                    return Err(body(ApiError::Conflict(format!(
                        "a database that is set up exists at {}: it is never replaced (use Restore in Admin → Backup)",
                        path.display()
                    ))));
                }
                // A new database that was never set up: check the backup and key first.
                let rk = clinicdesk_api::keys::RecoveryKey::parse(recovery_key)
                    .map_err(|e| body(e.into()));
                if let Err(e) = rk {
                    *slot = Some(app);
                    return Err(e);
                }
                drop(app);
                remove_new_database(path).map_err(|e| body(StoreError::from(e).into()))?;
            }
            let app = clinicdesk_api::restore_with_recovery_key(
                backup,
                recovery_key,
                path,
                &self.location.keys,
            )
            .map_err(body)?;
            *slot = Some(app);
            Ok(())
        })?;
        self.app().map_err(body)?;
        self.app_info()
    }
}

/// The files of a database never set up (and its id file): replaced by a restore.
fn remove_new_database(path: &Path) -> std::io::Result<()> {
    for suffix in ["-wal", "-shm", ""] {
        let mut p = path.as_os_str().to_os_string();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    match std::fs::remove_file(DbId::file_of(path)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The recovery key made by first-run setup, once (None afterwards, or when this process did
/// not set the database up).
#[tauri::command]
#[specta::specta]
pub fn take_recovery_key(state: State<'_, AppState>) -> Option<crate::state::FirstRunKeys> {
    state.take_recovery_key()
}

/// A new recovery kit (admin of every clinic): a NEW recovery key — the previous one no longer
/// opens backups made from now on. Show it once and have it printed.
#[tauri::command(async)]
#[specta::specta]
pub fn recovery_kit(state: State<'_, AppState>) -> CmdResult<RecoveryKit> {
    state.call(|a, s| a.recovery_kit(s))
}

/// The database file is missing: create a new, empty one (then first-run setup).
#[tauri::command(async)]
#[specta::specta]
pub fn start_new_database(state: State<'_, AppState>) -> CmdResult<AppInfo> {
    state.start_new_database()
}

/// The database file is missing (or this is a new PC): restore a backup file the user picks in
/// an open dialog (opened here: the page names no path) into it with the recovery key. None
/// when the user cancelled the dialog.
#[tauri::command(async)]
#[specta::specta]
pub fn restore_new_database(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    chooser: State<'_, crate::files::Chooser>,
    recovery_key: String,
) -> CmdResult<Option<AppInfo>> {
    let pick = crate::files::Pick {
        title: "Restore from",
        suggested: "",
        kind: super::admin::BACKUP_KIND,
    };
    let Some(backup) = chooser.open(&app, &pick) else {
        return Ok(None);
    };
    state.restore_new_database(&backup, &recovery_key).map(Some)
}
