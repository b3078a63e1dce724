//! The database key: a random 256-bit raw SQLCipher key. By default it lives in the OS keyring
//! (Secret Service, Windows Credential Manager, Apple keychain); headless automation may point
//! to a key file or pass the key in an environment variable instead. Never stored in plain text
//! by default. The keyring entry is named after the database's id (`DbId`, in the id file
//! `<db>.id`), never overwritten; the recovery key (`recovery.rs`) is the way back without it.

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
    pub(crate) fn bytes(&self) -> [u8; 32] {
        self.0
    }
    pub(crate) fn from_bytes(b: [u8; 32]) -> Self {
        DbKey(b)
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

/// A database's id: a UUID chosen at creation, kept in the database (`local_meta.db_id`) and,
/// in plain text, in the id file `<db>.id` beside it, so the keyring entry (`db:<id>`) can be
/// found before the database is decrypted. It holds no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbId(String);

impl DbId {
    pub fn generate() -> Self {
        DbId(uuid::Uuid::now_v7().to_string())
    }
    pub fn parse(s: &str) -> Result<Self> {
        uuid::Uuid::parse_str(s.trim())
            .map(|u| DbId(u.to_string()))
            .map_err(|_| StoreError::Data(format!("{:?} is not a database id", s.trim())))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The id file of the database at `db_path`: `<file name>.id` beside it.
    pub fn file_of(db_path: &Path) -> PathBuf {
        let mut name = db_path.file_name().unwrap_or_default().to_os_string();
        name.push(".id");
        db_path.with_file_name(name)
    }
    /// The id in the id file of `db_path`, if there is one.
    pub fn read(db_path: &Path) -> Result<Option<DbId>> {
        match std::fs::read_to_string(Self::file_of(db_path)) {
            Ok(s) => Self::parse(&s).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    /// Write the id file of `db_path`; never replaces one.
    pub fn write(&self, db_path: &Path) -> Result<()> {
        write_private_file(&Self::file_of(db_path), format!("{}\n", self.0).as_bytes())
    }
}

impl fmt::Display for DbId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the key of a database is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The OS keyring, under service "ClinicDesk" and the account `db:<database id>` (the id
    /// is read from the id file beside the database). Databases created before ids existed
    /// have their key under `db:<absolute path>`; the first open copies it to the id entry.
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

    /// Load the key of an existing database: from the keyring entry named by its id file,
    /// else (a database created before ids) the entry named by its path.
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
                let id = DbId::read(db_path)?;
                if let Some(id) = &id {
                    if let Some(k) = keyring_get(&id_entry(id)?)? {
                        return Ok(k);
                    }
                }
                match keyring_get(&legacy_entry(db_path)?)? {
                    Some(k) => Ok(k),
                    None => Err(StoreError::MissingKey {
                        path: db_path.to_path_buf(),
                        hint: format!(
                            "the OS keyring has no key for this database (was it created on another account or with --key-file?{}); on another PC, restore a backup with the recovery key",
                            if id.is_none() {
                                format!(" If the database was moved, move its id file {} with it", DbId::file_of(db_path).display())
                            } else {
                                String::new()
                            }
                        ),
                    }),
                }
            }
        }
    }

    /// Create and remember a new key for the new database `id`. A key file that already exists
    /// is reused (so a script can provision the key first); a keyring entry for this id is
    /// never overwritten (refused with `KeyringEntryExists`).
    pub fn create(&self, id: &DbId) -> Result<DbKey> {
        match self {
            KeySource::Literal(k) => Ok(k.clone()),
            KeySource::File(p) => {
                if p.exists() {
                    let text = std::fs::read_to_string(p)?;
                    return DbKey::from_hex(&text);
                }
                let key = DbKey::generate();
                write_private_file(p, key.to_hex().as_bytes())?;
                Ok(key)
            }
            KeySource::Keyring => {
                let key = DbKey::generate();
                keyring_put_new(&id_entry(id)?, id, &key)?;
                Ok(key)
            }
        }
    }

    /// Make sure the key of the opened database `id` is where the next open looks for it: for
    /// the keyring, the entry `db:<id>` (copied from a legacy path entry, written and read back;
    /// the legacy entry is left in place). An id entry holding another key is refused.
    pub(crate) fn remember(&self, id: &DbId, key: &DbKey) -> Result<()> {
        match self {
            KeySource::Keyring => {
                let entry = id_entry(id)?;
                match keyring_get(&entry)? {
                    Some(k) if &k == key => Ok(()),
                    Some(_) => Err(StoreError::KeyringEntryExists(id.to_string())),
                    None => keyring_put_new(&entry, id, key),
                }
            }
            KeySource::File(_) | KeySource::Literal(_) => Ok(()),
        }
    }

    /// Keep `key` for a database restored from a backup (its id `id`): in the keyring (an
    /// entry holding another key is refused), or in a new key file (an existing file must hold
    /// this key), or it must equal the literal key.
    pub(crate) fn adopt(&self, id: &DbId, key: &DbKey) -> Result<()> {
        match self {
            KeySource::Keyring => self.remember(id, key),
            KeySource::File(p) if p.exists() => {
                if &DbKey::from_hex(&std::fs::read_to_string(p)?)? == key {
                    Ok(())
                } else {
                    Err(StoreError::KeySetting(format!(
                        "the key file {} holds another database's key: name a new key file",
                        p.display()
                    )))
                }
            }
            KeySource::File(p) => write_private_file(p, key.to_hex().as_bytes()),
            KeySource::Literal(k) if k == key => Ok(()),
            KeySource::Literal(_) => Err(StoreError::KeySetting(format!(
                "{KEY_ENV} is not the key of this backup: unset it to keep the key in the keyring"
            ))),
        }
    }
}

/// The keyring account of a database id.
pub fn keyring_account(id: &DbId) -> String {
    format!("db:{id}")
}

fn id_entry(id: &DbId) -> Result<keyring_core::Entry> {
    ensure_default_keyring()?;
    keyring_core::Entry::new(KEYRING_SERVICE, &keyring_account(id))
        .map_err(|e| StoreError::Keyring(e.to_string()))
}

/// The entry of a database created before ids: named after its absolute path.
fn legacy_entry(db_path: &Path) -> Result<keyring_core::Entry> {
    ensure_default_keyring()?;
    let abs = std::path::absolute(db_path).unwrap_or_else(|_| db_path.to_path_buf());
    keyring_core::Entry::new(KEYRING_SERVICE, &format!("db:{}", abs.display()))
        .map_err(|e| StoreError::Keyring(e.to_string()))
}

fn keyring_get(entry: &keyring_core::Entry) -> Result<Option<DbKey>> {
    match entry.get_password() {
        Ok(hex) => DbKey::from_hex(&hex).map(Some),
        Err(keyring_core::Error::NoEntry) => Ok(None),
        Err(e) => Err(StoreError::Keyring(e.to_string())),
    }
}

/// Write a new entry (refused if one exists) and read it back.
fn keyring_put_new(entry: &keyring_core::Entry, id: &DbId, key: &DbKey) -> Result<()> {
    if keyring_get(entry)?.is_some() {
        return Err(StoreError::KeyringEntryExists(id.to_string()));
    }
    entry
        .set_password(&key.to_hex())
        .map_err(|e| StoreError::Keyring(e.to_string()))?;
    match keyring_get(entry)? {
        Some(k) if &k == key => Ok(()),
        _ => Err(StoreError::Keyring(format!(
            "the key of database {id} did not read back from the keyring"
        ))),
    }
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

pub(crate) fn write_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
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

/// Where a secret kept beside the database key lives: the sync password of an enrolled PC
/// (SYNC.md §3.1). In the OS keyring under `ClinicDesk / sync:<database id>`, or in a 0600
/// file (headless use, like a DB key file). Never overwritten: [`SecretPlace::put_new`]
/// refuses an existing entry or file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretPlace {
    Keyring { account: String },
    File(PathBuf),
}

impl SecretPlace {
    /// Where the sync password of database `id` goes: `file` when given, else `<key file>.sync`
    /// when the database key is in a key file, else the keyring entry `sync:<id>`.
    pub fn sync(key: &KeySource, id: &DbId, file: Option<PathBuf>) -> Self {
        match (file, key) {
            (Some(f), _) => SecretPlace::File(f),
            (None, KeySource::File(k)) => {
                let mut name = k.as_os_str().to_os_string();
                name.push(".sync");
                SecretPlace::File(PathBuf::from(name))
            }
            (None, _) => SecretPlace::Keyring {
                account: format!("sync:{id}"),
            },
        }
    }

    /// For messages: the keyring entry or the file.
    pub fn describe(&self) -> String {
        match self {
            SecretPlace::Keyring { account } => {
                format!("the OS keyring entry {KEYRING_SERVICE} / {account}")
            }
            SecretPlace::File(p) => format!("the file {}", p.display()),
        }
    }

    fn entry(account: &str) -> Result<keyring_core::Entry> {
        ensure_default_keyring()?;
        keyring_core::Entry::new(KEYRING_SERVICE, account)
            .map_err(|e| StoreError::Keyring(e.to_string()))
    }

    /// The secret, if one is kept there.
    pub fn get(&self) -> Result<Option<String>> {
        match self {
            SecretPlace::Keyring { account } => match Self::entry(account)?.get_password() {
                Ok(s) => Ok(Some(s)),
                Err(keyring_core::Error::NoEntry) => Ok(None),
                Err(e) => Err(StoreError::Keyring(e.to_string())),
            },
            SecretPlace::File(p) => match std::fs::read_to_string(p) {
                Ok(s) => Ok(Some(s.trim_end().to_string())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            },
        }
    }

    /// Remove the secret kept here (undoing a [`SecretPlace::put_new`] whose enrolment did not
    /// complete); nothing kept is not an error.
    pub fn remove(&self) -> Result<()> {
        match self {
            SecretPlace::Keyring { account } => match Self::entry(account)?.delete_credential() {
                Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
                Err(e) => Err(StoreError::Keyring(e.to_string())),
            },
            SecretPlace::File(p) => match std::fs::remove_file(p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            },
        }
    }

    /// Keep `secret` here; refused (nothing written) when a secret is already kept here.
    pub fn put_new(&self, secret: &str) -> Result<()> {
        if self.get()?.is_some() {
            return Err(StoreError::Conflict(format!(
                "{} already holds a sync password; it was not overwritten",
                self.describe()
            )));
        }
        match self {
            SecretPlace::Keyring { account } => {
                Self::entry(account)?
                    .set_password(secret)
                    .map_err(|e| StoreError::Keyring(e.to_string()))?;
                if self.get()?.as_deref() != Some(secret) {
                    return Err(StoreError::Keyring(format!(
                        "the sync password did not read back from {}",
                        self.describe()
                    )));
                }
                Ok(())
            }
            SecretPlace::File(p) => write_private_file(p, secret.as_bytes()),
        }
    }
}
