//! Tauri commands: each is one call into the app API plus error mapping to `{code, message}`.

use clinicdesk_api::{ErrorBody, Session};
use serde::Serialize;
use tauri::State;

use crate::AppState;

#[derive(Debug, Serialize, specta::Type)]
pub struct AppInfo {
    pub version: String,
    pub database: String,
    pub initialised: bool,
    pub device_id: String,
}

#[tauri::command]
#[specta::specta]
pub fn app_info(state: State<'_, AppState>) -> Result<AppInfo, ErrorBody> {
    let app = state.app().map_err(|e| e.body())?;
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        database: state.location.path.display().to_string(),
        initialised: app.is_initialised().map_err(|e| e.body())?,
        device_id: app.store().device_id().to_string(),
    })
}

#[tauri::command(async)]
#[specta::specta]
pub fn login(
    state: State<'_, AppState>,
    username: String,
    password: String,
) -> Result<Session, ErrorBody> {
    let app = state.app().map_err(|e| e.body())?;
    app.login(&username, &password).map_err(|e| e.body())
}
