//! The ClinicDesk desktop shell: a thin layer of Tauri commands over the app API.

mod commands;
mod state;

pub use state::{open_store, AppState, DbLocation};

pub fn run() {
    tauri::Builder::default()
        .setup(|app| {
            use tauri::Manager;
            let loc = DbLocation::from_env_or_default(app.path().app_data_dir().ok());
            app.manage(AppState::new(loc));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::login
        ])
        .run(tauri::generate_context!())
        .expect("error while running ClinicDesk");
}
