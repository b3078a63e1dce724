//! Where the database is and the open app API handle.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clinicdesk_api::{ApiError, App};
use clinicdesk_store::{DbKey, KeySource, Store, KEY_ENV};

/// The database file and where its key is kept. Default: `clinicdesk.db` in the app's data
/// folder, key in the OS keyring. CLINICDESK_DB / CLINICDESK_DB_KEY_FILE / CLINICDESK_DB_KEY
/// override (development, demo and automation).
#[derive(Debug, Clone)]
pub struct DbLocation {
    pub path: PathBuf,
    pub keys: KeySource,
}

impl DbLocation {
    pub fn from_env_or_default(data_dir: Option<PathBuf>) -> Self {
        let path = std::env::var_os("CLINICDESK_DB")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                data_dir
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join("clinicdesk.db")
            });
        let keys = if let Some(f) = std::env::var_os("CLINICDESK_DB_KEY_FILE") {
            KeySource::File(PathBuf::from(f))
        } else if let Some(k) = std::env::var(KEY_ENV)
            .ok()
            .and_then(|h| DbKey::from_hex(&h).ok())
        {
            KeySource::Literal(k)
        } else {
            KeySource::Keyring
        };
        DbLocation { path, keys }
    }
}

pub fn open_store(loc: &DbLocation) -> Result<Store, ApiError> {
    Ok(if loc.path.exists() {
        Store::open(&loc.path, &loc.keys)?
    } else {
        Store::create(&loc.path, &loc.keys)?
    })
}

/// Cheap to clone: clones share one opened `App` (one writer connection per process).
#[derive(Clone)]
pub struct AppState {
    pub location: DbLocation,
    app: Arc<Mutex<Option<App>>>,
}

impl AppState {
    pub fn new(location: DbLocation) -> Self {
        AppState {
            location,
            app: Arc::new(Mutex::new(None)),
        }
    }

    /// The app API, opening the database on first use.
    pub fn app(&self) -> Result<App, ApiError> {
        let mut guard = self.app.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(a) = guard.as_ref() {
            return Ok(a.clone());
        }
        let app = App::new(Arc::new(open_store(&self.location)?));
        *guard = Some(app.clone());
        Ok(app)
    }
}
