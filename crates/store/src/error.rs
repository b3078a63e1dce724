use std::path::PathBuf;

/// Errors of the local store. Messages are meant to be shown to the user as they are.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database key is wrong, or {path} is not a ClinicDesk database")]
    WrongKey { path: PathBuf },
    #[error("no database key found for {path}: {hint}")]
    MissingKey { path: PathBuf, hint: String },
    #[error("the database key is malformed: {0}")]
    MalformedKey(String),
    // What to do first; the keyring's own (D-Bus) text last.
    #[error("the OS keyring is not available: pass --key-file PATH or set CLINICDESK_DB_KEY_FILE (or CLINICDESK_DB_KEY) instead: {0}")]
    Keyring(String),
    /// A key setting that cannot be used (e.g. CLINICDESK_DB_KEY that is not 64 hex digits).
    #[error("{0}")]
    KeySetting(String),
    #[error("this build of SQLite has no encryption (SQLCipher missing); refusing to store data in plain text")]
    NotEncrypted,
    #[error("database file {0} does not exist (run `clinicdesk init` first, or `clinicdesk restore-new` with a backup and its recovery key)")]
    NoDatabase(PathBuf),
    #[error("database file {0} already exists")]
    AlreadyExists(PathBuf),
    /// The file is gone but its id file (`<db>.id`) says a database lived there: never replaced
    /// silently by a new one.
    #[error("the database at {0} is missing: locate it (put the file back or reconnect its drive), restore a backup with the recovery key, or start a new clinic")]
    DatabaseMissing(PathBuf),
    /// `KeySource::create` never overwrites a keyring entry.
    #[error("the OS keyring already holds a key for database {0}; it was not overwritten")]
    KeyringEntryExists(String),
    /// A recovery key that is malformed, mistyped or does not open this backup.
    #[error("{0}")]
    Recovery(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("the data was refused by the database: {0}")]
    Constraint(String),
    /// `SQLITE_FULL`: the write was rolled back; it succeeds once there is space again.
    #[error("the disk is full: nothing was saved; free some space on this computer and try again")]
    DiskFull,
    #[error("backup or restore failed: {0}")]
    Backup(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write {path}: {reason}")]
    CannotWrite { path: PathBuf, reason: String },
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("data error: {0}")]
    Data(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        if let rusqlite::Error::SqliteFailure(f, msg) = &e {
            let msg = msg.clone().unwrap_or_default();
            match f.extended_code {
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    return StoreError::Conflict(unique_message(&msg));
                }
                rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                    return StoreError::Constraint(
                        "it refers to a record that does not exist".into(),
                    );
                }
                rusqlite::ffi::SQLITE_CONSTRAINT_CHECK
                | rusqlite::ffi::SQLITE_CONSTRAINT_NOTNULL
                | rusqlite::ffi::SQLITE_CONSTRAINT_TRIGGER
                | rusqlite::ffi::SQLITE_CONSTRAINT_DATATYPE => {
                    return StoreError::Constraint(msg);
                }
                _ => {}
            }
            if f.code == ErrorCode::DiskFull {
                return StoreError::DiskFull;
            }
            if f.code == ErrorCode::NotADatabase {
                return StoreError::WrongKey {
                    path: PathBuf::new(),
                };
            }
        }
        StoreError::Sqlite(e)
    }
}

fn unique_message(msg: &str) -> String {
    // "UNIQUE constraint failed: users.username" -> "a users record with this username already exists"
    match msg.strip_prefix("UNIQUE constraint failed: ") {
        Some(cols) => {
            let (table, col) = cols.split_once('.').unwrap_or((cols, ""));
            let col = col.split(',').next().unwrap_or(col).trim();
            if col.is_empty() {
                format!("a {table} record with the same values already exists")
            } else {
                let col = col.split('.').next_back().unwrap_or(col);
                format!("a {table} record with this {col} already exists")
            }
        }
        None => msg.to_string(),
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
