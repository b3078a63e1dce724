//! The ClinicDesk desktop shell: a thin layer of Tauri commands over the app API.

mod commands;
pub mod files;
mod session;
mod state;
mod sync;

pub use commands::{fields, CredentialAlertsRaised, FieldMap, Progress};
pub use session::{SessionGuard, SessionStatus, Tick, LOCKED, NOT_SIGNED_IN, SLEEP_LOCKS_AFTER};
pub use state::{body, open_store, AppState, CmdResult, DbLocation, TaskHandle};
pub use sync::{
    SyncChanged, SyncDevice, SyncEnrolled, SyncErrorView, SyncRevoked, SyncRound, SyncServerInfo,
    SyncStatusView,
};

use commands::{
    admin, conflicts, front_desk, interop, managers, people, recovery, session as sess, waitlist,
};

/// The typed IPC surface: every command the UI may call and the events it may listen to.
/// `ui/src/bindings.ts` is generated from it (`cargo test --test bindings`, which fails when
/// the committed file is stale). Timestamps are i64 milliseconds: exported as `number`
/// (exact up to 2^53 ms, far beyond any date the app handles).
pub fn ipc() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            // Session
            sess::app_info,
            sess::first_run_setup,
            sess::login,
            sess::logout,
            sess::session_status,
            sess::lock,
            sess::unlock,
            sess::activity,
            sess::get_idle_timeout,
            sess::set_idle_timeout,
            // The database key's safety net
            recovery::take_recovery_key,
            recovery::recovery_kit,
            recovery::start_new_database,
            recovery::restore_new_database,
            // Front desk
            front_desk::list_clinics,
            front_desk::get_clinic,
            front_desk::clinic_directory,
            front_desk::list_rooms,
            front_desk::list_appointment_types,
            front_desk::day_schedule,
            front_desk::week_schedule,
            front_desk::list_roster,
            front_desk::list_availability_blocks,
            front_desk::available_slots,
            front_desk::book_appointment,
            front_desk::get_appointment,
            front_desk::reschedule_appointment,
            front_desk::set_appointment_status,
            front_desk::correct_appointment_status,
            front_desk::preview_series,
            front_desk::book_series,
            front_desk::edit_series,
            front_desk::cancel_series,
            front_desk::todays_appointments,
            front_desk::pending_reminders,
            front_desk::mark_reminder,
            front_desk::export_pending_reminders_csv,
            // People
            people::search_patients,
            people::get_patient,
            people::create_patient,
            people::update_patient,
            people::list_staff,
            people::get_staff,
            people::create_staff,
            people::update_staff,
            // Waitlist
            waitlist::list_waitlist,
            waitlist::add_to_waitlist,
            waitlist::remove_from_waitlist,
            waitlist::accept_offer,
            waitlist::decline_offer,
            // The sync conflicts inbox (issue 13).
            conflicts::list_sync_conflicts,
            conflicts::resolve_sync_conflict,
            conflicts::suggest_rebook_slots,
            conflicts::rebook_sync_conflict,
            conflicts::waitlist_sync_conflict,
            // Managers
            managers::credential_dashboard,
            managers::credential_expiries,
            managers::credentials_at_risk,
            managers::list_credential_alerts,
            managers::acknowledge_credential_alert,
            managers::list_credentials,
            managers::create_credential,
            managers::update_credential,
            managers::renew_credential,
            managers::record_credential_verification,
            managers::record_adverse_action,
            managers::credential_history,
            managers::assign_shift,
            managers::assign_shifts_bulk,
            managers::set_shift_status,
            managers::request_swap,
            managers::list_swaps,
            managers::decide_swap,
            managers::request_time_off,
            managers::list_time_off,
            managers::decide_time_off,
            managers::cancel_time_off,
            managers::my_swaps,
            managers::my_time_off,
            managers::cancel_swap,
            managers::list_coverage_needs,
            managers::create_coverage_need,
            managers::fill_coverage_need,
            managers::cancel_coverage_need,
            managers::list_cases,
            managers::get_case_detail,
            managers::create_case,
            managers::update_case,
            managers::set_case_status,
            managers::set_case_priority,
            managers::link_appointment_to_case,
            managers::case_warnings,
            managers::kpi_report,
            managers::list_goals,
            managers::create_goal,
            managers::goal_progress,
            managers::record_kpi_event,
            managers::take_capacity_snapshot,
            managers::list_capacity_snapshots,
            // Administration
            admin::list_users,
            admin::create_user,
            admin::update_user,
            admin::set_password,
            admin::change_own_password,
            admin::display_preferences,
            admin::set_display_preferences,
            admin::delete_user,
            admin::list_roles,
            admin::grant_role,
            admin::revoke_role,
            admin::create_clinic,
            admin::update_clinic,
            admin::create_room,
            admin::update_room,
            admin::delete_room,
            admin::list_credential_types,
            admin::create_credential_type,
            admin::update_credential_type,
            admin::delete_credential_type,
            admin::list_shift_templates,
            admin::create_shift_template,
            admin::update_shift_template,
            admin::delete_shift_template,
            admin::create_appointment_type,
            admin::create_availability_block,
            admin::delete_availability_block,
            admin::generate_closures,
            admin::list_audit,
            admin::verify_audit,
            admin::audit_anchor,
            admin::backup,
            admin::restore,
            admin::generate_demo,
            admin::import_patients,
            admin::cancel_task,
            // Interop: FHIR and iCalendar
            interop::export_fhir,
            interop::import_fhir,
            interop::export_ics,
            interop::import_holidays,
            // Sync
            sync::sync_status,
            sync::sync_test_connection,
            sync::sync_enrol,
            sync::sync_devices,
            sync::sync_revoke_device,
            sync::sync_now,
        ])
        .events(tauri_specta::collect_events![
            Progress,
            CredentialAlertsRaised,
            SyncChanged
        ])
        // The front desk's next steps per appointment status: the UI offers exactly these.
        .typ::<clinicdesk_api::domain::AppointmentAction>()
        .constant(
            "APPOINTMENT_NEXT_STEPS",
            clinicdesk_api::domain::appointment_next_steps(),
        )
        .dangerously_cast_bigints_to_number()
        .disable_serde_phases()
}

/// Render the TypeScript bindings.
pub fn export_bindings(path: &std::path::Path) -> Result<(), String> {
    ipc()
        .export(specta_typescript::Typescript::default().header("// Generated from the Rust commands by tauri-specta: do not edit. Regenerate with\n// UPDATE_BINDINGS=1 cargo test --test bindings\n"), path)
        .map_err(|e| e.to_string())
}

/// How often the system's housekeeping (lapsed waitlist offers, credential evaluation,
/// capacity snapshots) runs while the app is open.
const HOUSEKEEPING_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// Leaf pages of search-index merging per step (a few milliseconds), and steps per minute.
const SEARCH_MERGE_PAGES: u32 = 64;
const SEARCH_MERGE_STEPS: usize = 200;

/// Run `App::run_housekeeping` at start-up and then every minute on a background thread, on
/// the same opened `App` as the commands. New credential alerts raise a desktop notification
/// and the `credential_alerts` event.
fn spawn_housekeeping(state: AppState, handle: tauri::AppHandle) {
    std::thread::Builder::new()
        .name("housekeeping".into())
        .spawn(move || loop {
            // Checkpoint the WAL here, off the UI's write path (see Store::checkpoint).
            if let Ok(app) = state.app() {
                if let Err(e) = app.store().checkpoint() {
                    log::warn!("checkpoint failed: {e}");
                }
                // Merge the patient search index's segments in small steps (writes never do:
                // see Store::merge_search_index), each its own short transaction.
                for _ in 0..SEARCH_MERGE_STEPS {
                    match app.store().merge_search_index(SEARCH_MERGE_PAGES) {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => {
                            log::warn!("merging the search index failed: {e}");
                            break;
                        }
                    }
                }
                // Seal the audit entries of the last minute and evolve the sealing key (a key
                // holder from now on cannot re-seal them: see clinicdesk_store::audit::seal).
                if let Err(e) = app.store().seal_audit() {
                    log::warn!("sealing the audit log failed: {e}");
                }
            }
            match state.app().and_then(|app| app.run_housekeeping()) {
                Ok(r) => {
                    if r.offers_expired > 0 {
                        log::info!("housekeeping: {} lapsed offers passed on", r.offers_expired);
                    }
                    if r.credentials.alerts_raised > 0 {
                        notify_alerts(&handle, &r.credentials);
                    }
                }
                Err(e) => log::error!("housekeeping failed: {e}"),
            }
            std::thread::sleep(HOUSEKEEPING_EVERY);
        })
        .expect("spawn the housekeeping thread");
}

fn notify_alerts(handle: &tauri::AppHandle, c: &clinicdesk_api::CredentialEvaluation) {
    use tauri_plugin_notification::NotificationExt;
    use tauri_specta::Event;
    let n = c.alerts_raised;
    log::info!("housekeeping: {n} new credential alerts");
    let event = CredentialAlertsRaised {
        alerts_raised: n as u64,
        coverage_needs_raised: c.coverage_needs_raised as u64,
    };
    if let Err(e) = event.emit(handle) {
        log::warn!("credential_alerts event not delivered: {e}");
    }
    let body = if n == 1 {
        "1 credential expires soon or has lapsed. Open Credentials to review it.".to_string()
    } else {
        format!("{n} credentials expire soon or have lapsed. Open Credentials to review them.")
    };
    if let Err(e) = handle
        .notification()
        .builder()
        .title("ClinicDesk: credential alerts")
        .body(body)
        .show()
    {
        log::warn!("desktop notification not shown: {e}");
    }
}

/// The single-instance id on Linux when `CLINICDESK_DB` names the database (development,
/// demo, automation): one instance per database file, so runs on different databases (tests
/// in parallel, a demo beside the real one) do not hand over to each other. Without it: one
/// instance per user (the default database).
#[cfg(target_os = "linux")]
fn instance_id(identifier: &str) -> Option<String> {
    let db = std::env::var_os("CLINICDESK_DB")?;
    let path = std::path::absolute(std::path::PathBuf::from(db)).ok()?;
    // FNV-1a: stable across builds (the id must match between two launches).
    let hash = path
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    Some(format!("{identifier}.db{hash:016x}"))
}

/// WebKitGTK's accelerated compositing off unless the user chose (WEBKIT_DISABLE_COMPOSITING_MODE
/// set either way): the UI is forms and a grid with nothing to composite on a GPU, and on this
/// platform compositing costs the most where clinics' PCs are weakest — with software GL (VMs,
/// thin clients, no GPU driver) every frame went through a software compositor (typeahead p95
/// 194 → 86 ms) and its tiles held ~240 MB; it is also the usual cause of blank WebKitGTK
/// windows on some GPU drivers. Called first thing, before any thread starts.
#[cfg(target_os = "linux")]
fn webkit_defaults() {
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
}

pub fn run() {
    #[cfg(target_os = "linux")]
    webkit_defaults();
    let ipc = ipc();
    let invoke = ipc.invoke_handler();
    let context = tauri::generate_context!();
    // A second launch hands over to the running app, which comes to the front.
    #[allow(unused_mut)]
    let mut single = tauri_plugin_single_instance::Builder::new().callback(|app, _argv, _cwd| {
        use tauri::Manager;
        if let Some(w) = app.get_webview_window("main") {
            let _ = w.unminimize();
            let _ = w.show();
            let _ = w.set_focus();
        }
    });
    #[cfg(target_os = "linux")]
    if let Some(id) = instance_id(&context.config().identifier) {
        single = single.dbus_id(id);
    }
    tauri::Builder::default()
        // First, so that a second instance stops before anything else starts.
        .plugin(single.build())
        .plugin(
            tauri_plugin_log::Builder::new()
                .level(log::LevelFilter::Info)
                .targets([
                    tauri_plugin_log::Target::new(tauri_plugin_log::TargetKind::LogDir {
                        file_name: Some("clinicdesk".into()),
                    }),
                    tauri_plugin_log::Target::new(tauri_plugin_log::TargetKind::Stderr),
                ])
                .build(),
        )
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .setup(move |app| {
            use tauri::Manager;
            ipc.mount_events(app);
            let data_dir = app.path().app_data_dir().ok();
            // The default database's folder exists from the start: a missing folder means a
            // missing database (`open_store`), not a first run.
            if let Some(d) = &data_dir {
                let _ = std::fs::create_dir_all(d);
            }
            let state = match DbLocation::from_env_or_default(data_dir.clone()) {
                Ok(loc) => {
                    log::info!("database: {}", loc.path.display());
                    AppState::new(loc)
                }
                // Shown by the UI as an error opening the database; nothing is opened.
                Err(e) => {
                    log::error!("{e}");
                    AppState::refusing(DbLocation::path_from_env_or_default(data_dir), e)
                }
            };
            app.manage(state.clone());
            app.manage(files::Chooser::from_env());
            spawn_housekeeping(state.clone(), app.handle().clone());
            sync::spawn(state, app.handle().clone());
            Ok(())
        })
        .invoke_handler(invoke)
        .run(context)
        .expect("error while running ClinicDesk");
}
