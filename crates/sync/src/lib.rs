//! The PC's side of sync (SYNC.md §4): this crate talks to the hosted PostgreSQL as the
//! device's own login role, beside the api (which holds no PostgreSQL client).
//!
//! - [`push`]: the local changes of whole transactions (`change_log` cut at `sync_txn`
//!   boundaries), in order, in bounded batches, each one `sync.push` call; the acknowledgement
//!   is recorded locally only after the server committed, so a lost one is replayed, never
//!   applied twice. A refused batch stops the queue (it is never discarded).
//! - [`pull`]: one REPEATABLE READ snapshot of the server up to `sync.clock` (the cursor
//!   cannot skip a late commit: pushes serialise on that row), applied in one local
//!   transaction with `WriteMode::Remote`, the cursor and the HLC floor saved in it; a group
//!   with a newer unacknowledged local change keeps the local value.
//! - [`join`]: a new PC's initial sync by binary COPY into a fresh database file, renamed
//!   into place only when complete.
//! - [`anchor`]: the audit chain's head reported after each round, the server's answer
//!   (anchored, or the history flagged) kept for `audit verify`.
//! - [`enrol`]: enrolment of an existing database (shared by the CLI and the desktop) and the
//!   owner's connection test, device list and revocation.
//! - [`engine`]: one round (`sync now`) and the status; [`runner`]: the desktop's background
//!   loop (push after local commits, pull on a NOTIFY hint or a timer, back-off with jitter).

pub mod anchor;
pub mod engine;
pub mod enrol;
mod failpoint;
pub mod join;
pub mod pull;
pub mod push;
pub mod runner;
pub mod tables;

pub use engine::{Settings, Status, SyncReport};
pub use runner::Runner;

use clinicdesk_server::admin::AdminError;
use clinicdesk_store::StoreError;

/// Why a sync step failed. [`SyncError::is_transient`] says whether trying again later can
/// help (the network, a restarting server) or a person must act (revoked, refused, restored).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("this PC is not enrolled for sync (run `clinicdesk sync enrol`)")]
    NotEnrolled,
    #[error("the sync server cannot be reached: {0}")]
    Offline(String),
    #[error(
        "this PC's sync access was revoked or its password is wrong: {0}; pending changes are kept"
    )]
    Revoked(String),
    #[error("the server refused this PC's changes {first}..{last} ({code}: {message}); they are kept and sync is stopped until this is resolved")]
    Refused {
        first: i64,
        last: i64,
        code: String,
        message: String,
    },
    #[error("this database reuses change numbers the server already acknowledged ({0}): a restored backup or a copied disk; sync is stopped — enrol this PC again")]
    CloneOrRestore(String),
    #[error("this PC was enrolled with server {expected}, but the server now is {found}; sync is stopped")]
    WrongServer { expected: String, found: String },
    #[error("the server's rows could not be applied here: {0}; nothing was applied")]
    Apply(String),
    #[error("the server refused the owner's password ({0}); nothing was changed")]
    OwnerPassword(String),
    #[error("{0}")]
    Enrol(String),
    #[error("the server answered something unexpected: {0}")]
    Protocol(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Admin(#[from] AdminError),
}

impl SyncError {
    /// A stable code for the UI and the CLI's JSON.
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::NotEnrolled => "sync_not_enrolled",
            SyncError::Offline(_) => "sync_offline",
            SyncError::Revoked(_) => "sync_revoked",
            SyncError::Refused { .. } => "sync_refused",
            SyncError::CloneOrRestore(_) => "sync_clone_or_restore",
            SyncError::WrongServer { .. } => "sync_wrong_server",
            SyncError::Apply(_) => "sync_apply_failed",
            SyncError::Protocol(_) => "sync_protocol",
            SyncError::OwnerPassword(_) => "sync_owner_password",
            SyncError::Enrol(_) => "sync_enrol_failed",
            SyncError::Store(_) => "sync_local_database",
            // A refused login is not the network: the header says sync is stopped, and why.
            SyncError::Admin(AdminError::Connect { reason, .. }) if is_auth_failure(reason) => {
                "sync_revoked"
            }
            SyncError::Admin(AdminError::Connect { .. }) => "sync_offline",
            SyncError::Admin(AdminError::BadUrl(_)) => "sync_bad_url",
            SyncError::Admin(AdminError::Refused(_)) => "sync_refused_by_server",
            SyncError::Admin(_) => "sync_server",
        }
    }

    /// Whether trying again later may succeed without anyone acting.
    pub fn is_transient(&self) -> bool {
        matches!(self, SyncError::Offline(_))
            || matches!(self, SyncError::Admin(AdminError::Connect { reason, .. }) if !is_auth_failure(reason))
    }

    /// A PostgreSQL error met while talking to the server: lost connections and a server
    /// shutting down are `Offline`; a refused login is `Revoked`; anything else `other`.
    pub(crate) fn from_pg(
        e: postgres::Error,
        other: impl FnOnce(String, String) -> SyncError,
    ) -> Self {
        match e.as_db_error() {
            None => SyncError::Offline(e.to_string()),
            Some(db) => {
                let code = db.code().code().to_string();
                let message = db.message().to_string();
                if code.starts_with("08") || code.starts_with("57P") || code == "53300" {
                    SyncError::Offline(message)
                } else if code == "28000" || code == "28P01" {
                    SyncError::Revoked(message)
                } else if code == clinicdesk_server::push::CLONE_OR_RESTORE {
                    SyncError::CloneOrRestore(message)
                } else {
                    other(code, message)
                }
            }
        }
    }
}

fn is_auth_failure(reason: &str) -> bool {
    reason.contains("password authentication failed")
        || reason.contains("not permitted to log in")
        || reason.contains("role") && reason.contains("does not exist")
}

pub type Result<T> = std::result::Result<T, SyncError>;
