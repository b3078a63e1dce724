//! The database key: a random 256-bit raw SQLCipher key. By default it lives in the OS keyring
//! (Secret Service, Windows Credential Manager, Apple keychain); headless automation may point
//! to a key file or pass the key in an environment variable instead. Never stored in plain text
//! by default.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;

use crate::error::{Result, StoreError};

pub const KEYRING_SERVICE: &str = "ClinicDesk";
/// Environment variable holding the key as 64 hex digits (automation only).
pub const KEY_ENV: &str = "CLINICDESK_DB_KEY";
/// Environment variable naming a key file.
pub const KEY_FILE_ENV: &str = "CLINICDESK_DB_KEY_FILE";

#[derive(Clone, PartialEq, Eq)]
pub struct DbKey([u8; 32]);

impl DbKey {
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        DbKey(k)
    }
    pub fn from_hex(s: &str) -> Result<Self> {
        let bytes = hex::decode(s.trim())
            .map_err(|_| StoreError::MalformedKey("expected 64 hexadecimal digits".into()))?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| {
            StoreError::MalformedKey("expected 64 hexadecimal digits (32 bytes)".into())
        })?;
        Ok(DbKey(arr))
    }
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    /// The value of `PRAGMA key` for a raw key: no key derivation, ~0.1 ms per open.
    pub(crate) fn pragma_value(&self) -> String {
        format!("\"x'{}'\"", self.to_hex())
    }
}

impl fmt::Debug for DbKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DbKey(<redacted>)")
    }
}

/// Where the key of a database is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The OS keyring, under service "ClinicDesk" and an account derived from the database path.
    Keyring,
    /// A file holding 64 hex digits (created with mode 0600).
    File(PathBuf),
    /// The key itself, e.g. read from CLINICDESK_DB_KEY.
    Literal(DbKey),
}

impl KeySource {
    /// The key source the front doors' settings name: a key file (`--key-file` /
    /// CLINICDESK_DB_KEY_FILE) first, else the key itself (CLINICDESK_DB_KEY, 64 hex digits),
    /// else the OS keyring. A malformed key is refused, never passed over for the keyring.
    pub fn from_settings(key_file: Option<PathBuf>, literal_hex: Option<String>) -> Result<Self> {
        if let Some(f) = key_file {
            return Ok(KeySource::File(f));
        }
        match literal_hex {
            Some(hex) => DbKey::from_hex(&hex).map(KeySource::Literal).map_err(|_| {
                StoreError::KeySetting(format!("{KEY_ENV} is malformed: expected 64 hex digits"))
            }),
            None => Ok(KeySource::Keyring),
        }
    }

    /// Load the key of an existing database.
    pub fn load(&self, db_path: &Path) -> Result<DbKey> {
        match self {
            KeySource::Literal(k) => Ok(k.clone()),
            KeySource::File(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| StoreError::MissingKey {
                    path: db_path.to_path_buf(),
                    hint: format!("cannot read key file {}: {e}", p.display()),
                })?;
                DbKey::from_hex(&text)
            }
            KeySource::Keyring => {
                let entry = keyring_entry(db_path)?;
                match entry.get_password() {
                    Ok(hex) => DbKey::from_hex(&hex),
                    Err(keyring_core::Error::NoEntry) => Err(StoreError::MissingKey {
                        path: db_path.to_path_buf(),
                        hint: "the OS keyring has no key for this database (was it created on another account or with --key-file?)".into(),
                    }),
                    Err(e) => Err(StoreError::Keyring(e.to_string())),
                }
            }
        }
    }

    /// Create and remember a new key for a new database. A key file that already exists is
    /// reused (so a script can provision the key first); a keyring entry that exists is refused
    /// because it belongs to another database at this path.
    pub fn create(&self, db_path: &Path) -> Result<DbKey> {
        match self {
            KeySource::Literal(k) => Ok(k.clone()),
            KeySource::File(p) => {
                if p.exists() {
                    return self.load(db_path);
                }
                let key = DbKey::generate();
                write_private_file(p, key.to_hex().as_bytes())?;
                Ok(key)
            }
            KeySource::Keyring => {
                let entry = keyring_entry(db_path)?;
                let key = DbKey::generate();
                entry
                    .set_password(&key.to_hex())
                    .map_err(|e| StoreError::Keyring(e.to_string()))?;
                Ok(key)
            }
        }
    }
}

fn keyring_entry(db_path: &Path) -> Result<keyring_core::Entry> {
    ensure_default_keyring()?;
    let abs = std::path::absolute(db_path).unwrap_or_else(|_| db_path.to_path_buf());
    keyring_core::Entry::new(KEYRING_SERVICE, &format!("db:{}", abs.display()))
        .map_err(|e| StoreError::Keyring(e.to_string()))
}

/// Installs the platform credential store as keyring-core's default, unless one is set
/// (tests set `keyring_core::mock::Store`).
fn ensure_default_keyring() -> Result<()> {
    if keyring_core::get_default_store().is_some() {
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    let store = zbus_secret_service_keyring_store::Store::new();
    #[cfg(target_os = "windows")]
    let store = windows_native_keyring_store::Store::new();
    #[cfg(target_os = "macos")]
    let store = apple_native_keyring_store::keychain::Store::new();
    #[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "macos")))]
    let store: keyring_core::Result<std::sync::Arc<keyring_core::CredentialStore>> = Err(
        keyring_core::Error::NotSupportedByStore("no keyring on this platform".into()),
    );
    let store = store.map_err(|e| StoreError::Keyring(e.to_string()))?;
    keyring_core::set_default_store(store);
    Ok(())
}

fn write_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}
