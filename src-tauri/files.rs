//! File dialogs opened by Rust: the webview never names a path. A command that reads or
//! writes a file the user chooses (backup, restore, exports) asks [`Chooser`] for it; the path
//! then goes through the app's own checks (never the database's files, exports 0600 through a
//! temporary file, audited).

use std::path::{Path, PathBuf};

use tauri::AppHandle;
use tauri_plugin_dialog::DialogExt;

/// Environment variable for automation (the e2e tests): a folder that answers every file
/// dialog instead of the user — a save dialog with `<folder>/<suggested name>`, an open dialog
/// with the newest file there whose extension fits. The path still goes through every check.
pub const DIALOG_DIR_ENV: &str = "CLINICDESK_DIALOG_DIR";

/// What a dialog is for.
pub struct Pick<'a> {
    pub title: &'a str,
    /// The file name a save dialog suggests.
    pub suggested: &'a str,
    /// The file type's name and extensions (without dots).
    pub kind: (&'a str, &'a [&'a str]),
}

/// Who answers the file dialogs.
#[derive(Debug, Clone)]
pub enum Chooser {
    /// The platform's native dialog (tauri-plugin-dialog).
    Dialog,
    /// A folder (automation; see [`DIALOG_DIR_ENV`]).
    Folder(PathBuf),
}

impl Chooser {
    pub fn from_env() -> Self {
        match std::env::var_os(DIALOG_DIR_ENV) {
            Some(d) if !d.is_empty() => {
                log::warn!("file dialogs answered from {}", PathBuf::from(&d).display());
                Chooser::Folder(PathBuf::from(d))
            }
            _ => Chooser::Dialog,
        }
    }

    /// Where to write a new file; None when the user cancelled.
    pub fn save(&self, app: &AppHandle, p: &Pick<'_>) -> Option<PathBuf> {
        match self {
            Chooser::Dialog => app
                .dialog()
                .file()
                .set_title(p.title)
                .set_file_name(p.suggested)
                .add_filter(p.kind.0, p.kind.1)
                .blocking_save_file()
                .and_then(|f| f.into_path().ok()),
            Chooser::Folder(dir) => Some(dir.join(p.suggested)),
        }
    }

    /// A file to read; None when the user cancelled.
    pub fn open(&self, app: &AppHandle, p: &Pick<'_>) -> Option<PathBuf> {
        match self {
            Chooser::Dialog => app
                .dialog()
                .file()
                .set_title(p.title)
                .add_filter(p.kind.0, p.kind.1)
                .blocking_pick_file()
                .and_then(|f| f.into_path().ok()),
            Chooser::Folder(dir) => newest(dir, p.kind.1),
        }
    }
}

impl Chooser {
    /// Files to read (one or more); None when the user cancelled. Automation: every file in the
    /// folder whose extension fits, by name.
    pub fn open_many(&self, app: &AppHandle, p: &Pick<'_>) -> Option<Vec<PathBuf>> {
        match self {
            Chooser::Dialog => app
                .dialog()
                .file()
                .set_title(p.title)
                .add_filter(p.kind.0, p.kind.1)
                .blocking_pick_files()
                .map(|fs| fs.into_iter().filter_map(|f| f.into_path().ok()).collect()),
            Chooser::Folder(dir) => {
                let mut all = matching(dir, p.kind.1)?;
                all.sort();
                Some(all)
            }
        }
    }

    /// A folder to write into; None when the user cancelled. Automation: the folder itself.
    pub fn folder(&self, app: &AppHandle, title: &str) -> Option<PathBuf> {
        match self {
            Chooser::Dialog => app
                .dialog()
                .file()
                .set_title(title)
                .blocking_pick_folder()
                .and_then(|f| f.into_path().ok()),
            Chooser::Folder(dir) => Some(dir.clone()),
        }
    }
}

/// The files in `dir` with one of `extensions`.
fn matching(dir: &Path, extensions: &[&str]) -> Option<Vec<PathBuf>> {
    Some(
        std::fs::read_dir(dir)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .is_some_and(|x| extensions.iter().any(|w| x.eq_ignore_ascii_case(w)))
            })
            .collect(),
    )
}

/// The most recently modified file in `dir` with one of `extensions`.
fn newest(dir: &Path, extensions: &[&str]) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            e.path()
                .extension()
                .is_some_and(|x| extensions.iter().any(|w| x.eq_ignore_ascii_case(w)))
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, p)| p)
}
