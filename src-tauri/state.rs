//! Where the database is, the open app API handle, the signed-in session with its idle lock,
//! and the long tasks (backup, restore, demo) that can be cancelled.

use crate::session::Tick;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use clinicdesk_api::keys::{KeySource, KEY_ENV, KEY_FILE_ENV};
use clinicdesk_api::{ApiError, ApiResult, App, ErrorBody, Session};
use clinicdesk_api::{Store, StoreError};

use crate::session::{SessionGuard, SessionStatus};

/// The database file and where its key is kept. Default: `clinicdesk.db` in the app's data
/// folder, key in the OS keyring. CLINICDESK_DB / CLINICDESK_DB_KEY_FILE / CLINICDESK_DB_KEY
/// override (development, demo and automation).
#[derive(Debug, Clone)]
pub struct DbLocation {
    pub path: PathBuf,
    pub keys: KeySource,
}

impl DbLocation {
    /// The location from the environment (CLINICDESK_DB, CLINICDESK_DB_KEY_FILE,
    /// CLINICDESK_DB_KEY), else the default. A malformed CLINICDESK_DB_KEY is refused (with
    /// the message the CLI gives), never passed over for the keyring.
    pub fn from_env_or_default(data_dir: Option<PathBuf>) -> Result<Self, ApiError> {
        Self::from_settings(
            Some(Self::path_from_env_or_default(data_dir)),
            std::env::var_os(KEY_FILE_ENV).map(PathBuf::from),
            std::env::var_os(KEY_ENV).map(|v| v.to_string_lossy().into_owned()),
            None,
        )
    }

    /// `from_env_or_default` with the settings' values passed in.
    pub fn from_settings(
        db: Option<PathBuf>,
        key_file: Option<PathBuf>,
        key_hex: Option<String>,
        data_dir: Option<PathBuf>,
    ) -> Result<Self, ApiError> {
        Ok(DbLocation {
            keys: KeySource::from_settings(key_file, key_hex)?,
            path: db.unwrap_or_else(|| {
                data_dir
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join("clinicdesk.db")
            }),
        })
    }

    /// CLINICDESK_DB, else `clinicdesk.db` in the app's data folder.
    pub fn path_from_env_or_default(data_dir: Option<PathBuf>) -> PathBuf {
        std::env::var_os("CLINICDESK_DB")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                data_dir
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join("clinicdesk.db")
            })
    }
}

/// Open the database, or create it on a first run only: when neither the file nor its id file
/// (`<db>.id`) exists and its folder does. A database that existed and is gone (moved aside,
/// on a drive not mounted) is `database_missing`: the UI offers to locate it, restore a backup
/// or start a new clinic — it is never silently replaced by a new one.
pub fn open_store(loc: &DbLocation) -> Result<Store, ApiError> {
    if loc.path.exists() {
        return Ok(Store::open(&loc.path, &loc.keys)?);
    }
    let folder_missing = loc
        .path
        .parent()
        .is_some_and(|d| !d.as_os_str().is_empty() && !d.is_dir());
    if folder_missing {
        return Err(StoreError::DatabaseMissing(loc.path.clone()).into());
    }
    // Store::create refuses (database_missing) when the id file is there.
    Ok(Store::create(&loc.path, &loc.keys)?)
}

/// A command's result as the UI receives it.
pub type CmdResult<T> = Result<T, ErrorBody>;

/// An API error as the UI receives it: `{code, message}`.
pub fn body(e: ApiError) -> ErrorBody {
    e.body()
}

/// Cheap to clone: clones share one opened `App` (one writer connection per process), one
/// session and one task list.
#[derive(Clone)]
pub struct AppState {
    pub location: DbLocation,
    /// Why no database may be opened: key settings that cannot be used.
    refused: Option<String>,
    app: Arc<Mutex<Option<App>>>,
    session: Arc<Mutex<SessionGuard>>,
    tasks: Arc<Mutex<HashMap<String, Arc<AtomicBool>>>>,
    /// The keys of first-run setup, until the UI has shown them (`take_recovery_key`).
    recovery_key: Arc<Mutex<Option<FirstRunKeys>>>,
    /// The background sync loop of an enrolled database (`crate::sync`).
    pub(crate) sync: Arc<Mutex<crate::sync::SyncSlot>>,
}

/// What first-run setup shows once and stores nowhere.
#[derive(Debug, Clone, serde::Serialize, specta::Type)]
pub struct FirstRunKeys {
    /// Restores a backup on a new PC (the database key is wrapped under it in every backup).
    pub recovery_key: String,
    /// Checks the audit log's seals (`clinicdesk audit verify --verification-key`): the first
    /// sealing key, erased from this PC once shown. None when the database was not created by
    /// this process.
    pub audit_verification_key: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    pub fn new(location: DbLocation) -> Self {
        AppState {
            location,
            refused: None,
            app: Arc::new(Mutex::new(None)),
            session: Arc::new(Mutex::new(SessionGuard::new(
                clinicdesk_api::DEFAULT_IDLE_TIMEOUT_MINUTES as u32,
                Tick::now(),
            ))),
            tasks: Arc::new(Mutex::new(HashMap::new())),
            recovery_key: Arc::new(Mutex::new(None)),
            sync: Arc::new(Mutex::new(Default::default())),
        }
    }

    /// Keep first-run setup's keys until the UI shows them.
    pub(crate) fn keep_recovery_key(&self, keys: FirstRunKeys) {
        *lock(&self.recovery_key) = Some(keys);
    }

    /// The keys of first-run setup, once.
    pub fn take_recovery_key(&self) -> Option<FirstRunKeys> {
        lock(&self.recovery_key).take()
    }

    /// Run `f` on the opened app's slot, with every other opener waiting (the database is
    /// being created or replaced by a restore). The idle lock is read again afterwards.
    pub(crate) fn with_app_slot<T>(
        &self,
        f: impl FnOnce(&mut Option<App>) -> CmdResult<T>,
    ) -> CmdResult<T> {
        let out = f(&mut lock(&self.app))?;
        if let Some(app) = lock(&self.app).clone() {
            let minutes = app.get_idle_timeout().map_err(body)?;
            lock(&self.session).set_idle_timeout(u32::try_from(minutes).unwrap_or(u32::MAX));
        }
        Ok(out)
    }

    /// The state of a desktop whose key settings cannot be used (a malformed
    /// CLINICDESK_DB_KEY, `DbLocation::from_env_or_default`'s error): every command returns
    /// that error as it would an error opening the database (`malformed_key`), and no
    /// database is opened or created.
    pub fn refusing(path: PathBuf, error: ApiError) -> Self {
        AppState {
            refused: Some(error.to_string()),
            ..AppState::new(DbLocation {
                path,
                keys: KeySource::Keyring,
            })
        }
    }

    /// The app API, opening the database on first use (and reading this device's idle lock).
    pub fn app(&self) -> Result<App, ApiError> {
        if let Some(e) = &self.refused {
            return Err(StoreError::KeySetting(e.clone()).into());
        }
        let mut guard = lock(&self.app);
        if let Some(a) = guard.as_ref() {
            return Ok(a.clone());
        }
        let app = App::new(Arc::new(open_store(&self.location)?));
        let minutes = app.get_idle_timeout()?;
        lock(&self.session).set_idle_timeout(u32::try_from(minutes).unwrap_or(u32::MAX));
        *guard = Some(app.clone());
        Ok(app)
    }

    /// Run one API call for the signed-in user: refused with `not_signed_in` or `locked`
    /// before the API is reached; otherwise the call counts as activity. Every command but the
    /// session ones goes through here.
    pub fn call<T>(&self, f: impl FnOnce(&App, &Session) -> ApiResult<T>) -> CmdResult<T> {
        let s = self.enter_at(Tick::now())?;
        let app = self.app().map_err(body)?;
        f(&app, &s).map_err(body)
    }

    /// The session gate at `now` (see `SessionGuard::enter`).
    pub fn enter_at(&self, now: Tick) -> CmdResult<Session> {
        lock(&self.session).enter(now)
    }

    /// The session and idle clock, for the session commands.
    pub fn with_session<T>(&self, f: impl FnOnce(&mut SessionGuard) -> T) -> T {
        f(&mut lock(&self.session))
    }

    pub fn session_status_at(&self, now: Tick) -> SessionStatus {
        lock(&self.session).status(now)
    }

    /// Register a cancellable task under the id the UI chose; refused when one with that id
    /// is running. The flag turns true when `cancel_task` is called.
    pub fn start_task(&self, id: &str) -> CmdResult<TaskHandle> {
        let id = id.trim();
        if id.is_empty() {
            return Err(ErrorBody {
                code: "invalid_input".into(),
                message: "task id: is required".into(),
            });
        }
        let mut tasks = lock(&self.tasks);
        if tasks.contains_key(id) {
            return Err(ErrorBody {
                code: "conflict".into(),
                message: format!("a task {id} is already running"),
            });
        }
        let flag = Arc::new(AtomicBool::new(false));
        tasks.insert(id.to_string(), flag.clone());
        Ok(TaskHandle {
            id: id.to_string(),
            cancelled: flag,
            tasks: self.tasks.clone(),
        })
    }

    /// Ask a running task to stop; false when no task has that id (finished or never started).
    pub fn cancel_task(&self, id: &str) -> bool {
        match lock(&self.tasks).get(id.trim()) {
            Some(flag) => {
                flag.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }
}

/// A running cancellable task; removed from the list when dropped.
pub struct TaskHandle {
    pub id: String,
    cancelled: Arc<AtomicBool>,
    tasks: Arc<Mutex<HashMap<String, Arc<AtomicBool>>>>,
}

impl TaskHandle {
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        lock(&self.tasks).remove(&self.id);
    }
}
