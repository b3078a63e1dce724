//! Interop (crate `clinicdesk-interop`): the FHIR R4 bulk export to a folder and the FHIR
//! import of chosen files into a clinic (both with progress, cancellable, keeping nothing when
//! cancelled), a provider's appointments as an iCalendar file, and a holiday calendar (.ics)
//! imported as closures. The dialogs are opened here (the webview names no path); files are
//! read and written here, through the API's checks (never over the database's files, exports
//! 0600 and audited).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clinicdesk_api::domain::{ClinicId, DomainError, StaffId};
use clinicdesk_api::{ApiError, ClosureResult, ErrorBody, MigrationImport};
use clinicdesk_interop::fhir::{self, ExportOptions};
use clinicdesk_interop::ical::{self, CalendarOf, IcsOptions};
use serde::Serialize;
use tauri::{AppHandle, State};

use super::admin::{emit, finish, progress_of};
use super::{CmdResult, Progress};
use crate::files::{Chooser, Pick};
use crate::state::{body, AppState};

/// The length of an exported free slot (the desk's default booking length).
const SLOT_MINUTES: i64 = 30;
/// Free slots exported when only the first day is given: two weeks.
const DEFAULT_SLOT_DAYS: i64 = 14;

/// One resource type's file of a FHIR export.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct FhirFileCount {
    pub resource_type: String,
    /// The file's name in the folder.
    pub file: String,
    pub count: u64,
}

/// What a FHIR export wrote.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct FhirExportView {
    pub folder: String,
    /// Per resource type, in the manifest's order (empty types too).
    pub files: Vec<FhirFileCount>,
    pub total: u64,
}

/// What a FHIR import did: the migration's counts and errors (when `invalid` is not 0 nothing
/// was imported), the context resources left aside, and the files read.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct FhirImportView {
    pub files: Vec<String>,
    /// Bulk Data manifests among the chosen files: they only list the export's files.
    pub manifests_skipped: u64,
    pub result: MigrationImport,
    pub ignored: u64,
}

/// A calendar file written.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct IcsExportView {
    pub file: String,
    pub events: u64,
}

/// What a holiday calendar's import did.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct HolidayImportView {
    pub file: String,
    /// All-day events read (each date once).
    pub days: u64,
    /// Timed events, which are not closures.
    pub ignored: u64,
    pub closures: ClosureResult,
}

fn invalid(field: &'static str, message: impl Into<String>) -> ErrorBody {
    body(DomainError::invalid(field, message).into())
}

/// An optional date from the UI (YYYY-MM-DD; empty is none), refused naming the field.
fn date(field: &'static str, v: Option<&str>) -> CmdResult<Option<NaiveDate>> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| invalid(field, format!("'{v}' is not a date (use YYYY-MM-DD)"))),
    }
}

fn required_date(field: &'static str, v: &str) -> CmdResult<NaiveDate> {
    date(field, Some(v))?.ok_or_else(|| invalid(field, "is required"))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn read_text(p: &Path) -> CmdResult<String> {
    std::fs::read_to_string(p).map_err(|e| {
        invalid(
            "file",
            format!("{} cannot be read as text: {e}", p.display()),
        )
    })
}

/// A FHIR Bulk Data manifest (`manifest.json` of an export): an object with `output` and no
/// `resourceType`.
fn is_manifest(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| {
        v.get("resourceType").is_none() && v.get("output").is_some_and(|o| o.is_array())
    })
}

impl AppState {
    /// The FHIR bulk export of everything the user may read into `dir` (created if missing),
    /// with free slots from `from` to `to` (`to` defaults to two weeks; neither: no slots).
    /// Reports `progress` (stage exporting — total unknown, 0 — then writing); cancelled
    /// through `cancel_task(task_id)`, writing nothing.
    pub fn export_fhir(
        &self,
        task_id: &str,
        dir: &Path,
        from: Option<&str>,
        to: Option<&str>,
        mut progress: impl FnMut(Progress),
    ) -> CmdResult<FhirExportView> {
        let slots = match (date("from", from)?, date("to", to)?) {
            (Some(f), Some(t)) => Some((f, t)),
            (Some(f), None) => Some((f, f + chrono::Duration::days(DEFAULT_SLOT_DAYS - 1))),
            (None, Some(_)) => return Err(invalid("from", "is required with an end date")),
            (None, None) => None,
        };
        let opts = ExportOptions {
            now_ms: now_ms(),
            as_of: chrono::Local::now().date_naive(),
            slots,
            slot_minutes: SLOT_MINUTES,
        };
        let task = self.start_task(task_id)?;
        let r = self.call(|app, s| {
            fhir::export_fhir(app, s, dir, &opts, &mut |stage, done, total| {
                progress(progress_of(&task, stage, done, total));
                !task.is_cancelled()
            })
        });
        let r = finish(r, &task, "the FHIR export was")?;
        Ok(FhirExportView {
            folder: dir.display().to_string(),
            files: r
                .files
                .into_iter()
                .map(|(resource_type, file, count)| FhirFileCount {
                    resource_type,
                    file,
                    count,
                })
                .collect(),
            total: r.total,
        })
    }

    /// Import the FHIR resources of `paths` (NDJSON or a Bundle each; a Bulk Data manifest
    /// among them is skipped) into `clinic`: all or nothing. Reports `progress`; cancelled
    /// through `cancel_task(task_id)`, keeping nothing. Invalid resources come back in the
    /// result (`invalid`, `errors` with line and path), and then nothing was imported.
    pub fn import_fhir(
        &self,
        task_id: &str,
        clinic: ClinicId,
        paths: &[PathBuf],
        mut progress: impl FnMut(Progress),
    ) -> CmdResult<FhirImportView> {
        let size: u64 = paths
            .iter()
            .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
            .sum();
        if size > fhir::import::MAX_FHIR_BYTES as u64 {
            return Err(invalid(
                "file",
                format!(
                    "the files hold more than {} MiB: import them a few at a time",
                    fhir::import::MAX_FHIR_BYTES / (1024 * 1024)
                ),
            ));
        }
        let mut sources = Vec::new();
        let mut manifests = 0;
        for p in paths {
            let text = read_text(p)?;
            if is_manifest(&text) {
                manifests += 1;
            } else {
                sources.push((file_name(p), text));
            }
        }
        if sources.is_empty() {
            return Err(invalid(
                "file",
                "no file of FHIR resources was chosen (a manifest.json only lists an export's files: choose the .ndjson files)",
            ));
        }
        let task = self.start_task(task_id)?;
        let r = self.call(|app, s| {
            fhir::import_fhir(app, s, clinic, &sources, &mut |stage, done, total| {
                progress(progress_of(&task, stage, done, total));
                !task.is_cancelled()
            })
        });
        let r = finish(r, &task, "the FHIR import was")?;
        Ok(FhirImportView {
            files: sources.into_iter().map(|(n, _)| n).collect(),
            manifests_skipped: manifests,
            result: r.result,
            ignored: r.ignored,
        })
    }

    /// A provider's appointments from `from` to `to` (inclusive) as an iCalendar file written
    /// to `path` (audited; `private`: no patient names, reasons or types).
    pub fn export_ics(
        &self,
        provider: StaffId,
        from: &str,
        to: &str,
        private: bool,
        path: &Path,
    ) -> CmdResult<IcsExportView> {
        let opts = IcsOptions {
            from: required_date("from", from)?,
            to: required_date("to", to)?,
            private,
            now_ms: now_ms(),
        };
        let destination = path.display().to_string();
        let ics = self.call(|app, s| {
            app.check_destination(path)?;
            let ics = ical::export_ics(
                app,
                s,
                CalendarOf::Appointments(provider),
                &opts,
                &destination,
            )?;
            app.write_export(path, ics.text.as_bytes())?;
            Ok(ics)
        })?;
        Ok(IcsExportView {
            file: destination,
            events: ics.events as u64,
        })
    }

    /// Close `clinic` on the all-day events of the holiday calendar at `path` (all or nothing,
    /// idempotent); lists the appointments now on closed days.
    pub fn import_holidays(&self, clinic: ClinicId, path: &Path) -> CmdResult<HolidayImportView> {
        let meta = std::fs::metadata(path)
            .map_err(|e| invalid("file", format!("{} cannot be read: {e}", path.display())))?;
        if meta.len() > ical::MAX_ICS_BYTES as u64 {
            return Err(body(ApiError::from(DomainError::invalid(
                "ics",
                format!(
                    "the calendar is larger than {} KiB",
                    ical::MAX_ICS_BYTES / 1024
                ),
            ))));
        }
        let text = read_text(path)?;
        let r = self.call(|app, s| ical::import_holidays(app, s, clinic, &text))?;
        Ok(HolidayImportView {
            file: path.display().to_string(),
            days: r.days.len() as u64,
            ignored: r.ignored as u64,
            closures: r.closures,
        })
    }
}

/// FHIR bulk export into a folder the user picks (opened here). Emits `progress` events for
/// `task_id`. `from`, `to` (YYYY-MM-DD): free slots for these days (none when `from` is
/// empty). None when the user cancelled the dialog.
#[tauri::command(async)]
#[specta::specta]
pub fn export_fhir(
    app: AppHandle,
    state: State<'_, AppState>,
    chooser: State<'_, Chooser>,
    task_id: String,
    from: Option<String>,
    to: Option<String>,
) -> CmdResult<Option<FhirExportView>> {
    let Some(dir) = chooser.folder(&app, "Export FHIR resources to") else {
        return Ok(None);
    };
    state
        .export_fhir(&task_id, &dir, from.as_deref(), to.as_deref(), |p| {
            emit(&app, p)
        })
        .map(Some)
}

/// A FHIR file type the dialogs offer.
const FHIR_KIND: (&str, &[&str]) = ("FHIR resources (NDJSON or a Bundle)", &["ndjson", "json"]);

/// Import FHIR resources from one or more files the user picks (opened here) into
/// `clinic_id`. Emits `progress` events for `task_id`. None when the user cancelled the dialog.
#[tauri::command(async)]
#[specta::specta]
pub fn import_fhir(
    app: AppHandle,
    state: State<'_, AppState>,
    chooser: State<'_, Chooser>,
    task_id: String,
    clinic_id: ClinicId,
) -> CmdResult<Option<FhirImportView>> {
    let pick = Pick {
        title: "Import FHIR resources",
        suggested: "",
        kind: FHIR_KIND,
    };
    let Some(paths) = chooser.open_many(&app, &pick).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    state
        .import_fhir(&task_id, clinic_id, &paths, |p| emit(&app, p))
        .map(Some)
}

/// A provider's appointments from `from` to `to` (YYYY-MM-DD, inclusive) as an `.ics` file the
/// user picks in a save dialog; `without_patient_names`: leave patient names (and reasons,
/// types) out. None when the user cancelled the dialog.
#[tauri::command(async)]
#[specta::specta]
pub fn export_ics(
    app: AppHandle,
    state: State<'_, AppState>,
    chooser: State<'_, Chooser>,
    provider_id: StaffId,
    from: String,
    to: String,
    without_patient_names: bool,
) -> CmdResult<Option<IcsExportView>> {
    let suggested = format!("clinicdesk-appointments-{}.ics", from.trim());
    let pick = Pick {
        title: "Export calendar",
        suggested: &suggested,
        kind: ("iCalendar", &["ics"]),
    };
    let Some(path) = chooser.save(&app, &pick) else {
        return Ok(None);
    };
    state
        .export_ics(provider_id, &from, &to, without_patient_names, &path)
        .map(Some)
}

/// Close `clinic_id` on the holidays (all-day events) of an `.ics` calendar the user picks.
/// None when the user cancelled the dialog.
#[tauri::command(async)]
#[specta::specta]
pub fn import_holidays(
    app: AppHandle,
    state: State<'_, AppState>,
    chooser: State<'_, Chooser>,
    clinic_id: ClinicId,
) -> CmdResult<Option<HolidayImportView>> {
    let pick = Pick {
        title: "Import holidays",
        suggested: "",
        kind: ("iCalendar", &["ics"]),
    };
    let Some(path) = chooser.open(&app, &pick) else {
        return Ok(None);
    };
    state.import_holidays(clinic_id, &path).map(Some)
}
