//! ClinicDesk local store: the SQLCipher-encrypted SQLite database, its migrations, the
//! per-table repositories, change capture (for sync) and the hash-chained audit log.
//!
//! Every write goes through [`Store::write`], which opens an IMMEDIATE transaction and tells
//! the generated triggers who is writing and when; the triggers append the audit entry and the
//! change-log entry in that same transaction.

pub mod audit;
pub mod bulk;
mod db;
pub mod error;
#[cfg(feature = "fault-injection")]
pub mod fault_vfs;
pub mod files;
pub mod key;
pub mod recovery;
pub mod registry;
pub mod sync_meta;
pub mod table;
pub mod tables;

/// The wire types (HLC, device id, change record) live in `clinicdesk-wire`.
pub use clinicdesk_wire::{hlc, ChangeRecord, DeviceId, Hlc};
pub use db::{
    now_ms, open_raw, read_backup_header, schema_in_memory, BackupHeader, Store, WriteCtx,
    WriteMode, WriteTx, CIPHER_PAGE_SIZE, CLOCK_SKEW_ENV, SEARCH_CRISIS_MERGE,
};
pub use error::{Result, StoreError};
pub use key::{DbId, DbKey, KeySource, SecretPlace, KEY_ENV, KEY_FILE_ENV};
pub use recovery::{RecoveryKey, WrappedKey};
pub use table::Table;
