//! The ClinicDesk desktop shell: a thin layer of Tauri commands over the app API.

mod commands;
mod state;

pub use state::{open_store, AppState, DbLocation};

/// The typed IPC surface: every command the UI may call. `ui/src/bindings.ts` is generated
/// from it (`cargo test --test bindings`, which fails when the committed file is stale).
pub fn ipc() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new().commands(tauri_specta::collect_commands![
        commands::app_info,
        commands::login
    ])
}

/// Render the TypeScript bindings.
pub fn export_bindings(path: &std::path::Path) -> Result<(), String> {
    ipc()
        .export(specta_typescript::Typescript::default().header("// Generated from the Rust commands by tauri-specta: do not edit. Regenerate with\n// UPDATE_BINDINGS=1 cargo test --test bindings\n"), path)
        .map_err(|e| e.to_string())
}

/// How often the system's housekeeping (lapsed waitlist offers, …) runs while the app is open.
const HOUSEKEEPING_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Run `App::run_housekeeping` at start-up and then every minute on a background thread, on
/// the same opened `App` as the commands.
fn spawn_housekeeping(state: AppState) {
    std::thread::Builder::new()
        .name("housekeeping".into())
        .spawn(move || loop {
            // Checkpoint the WAL here, off the UI's write path (see Store::checkpoint).
            if let Ok(app) = state.app() {
                if let Err(e) = app.store().checkpoint() {
                    eprintln!("checkpoint failed: {e}");
                }
            }
            match state.app().and_then(|app| app.run_housekeeping()) {
                Ok(r) if r.offers_expired > 0 => {
                    eprintln!("housekeeping: {} lapsed offers passed on", r.offers_expired)
                }
                Ok(_) => {}
                Err(e) => eprintln!("housekeeping failed: {e}"),
            }
            std::thread::sleep(HOUSEKEEPING_EVERY);
        })
        .expect("spawn the housekeeping thread");
}

pub fn run() {
    let ipc = ipc();
    tauri::Builder::default()
        .setup(|app| {
            use tauri::Manager;
            let loc = DbLocation::from_env_or_default(app.path().app_data_dir().ok());
            let state = AppState::new(loc);
            app.manage(state.clone());
            spawn_housekeeping(state);
            Ok(())
        })
        .invoke_handler(ipc.invoke_handler())
        .run(tauri::generate_context!())
        .expect("error while running ClinicDesk");
}
