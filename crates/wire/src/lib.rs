//! The wire types of ClinicDesk sync: what a PC and the sync server exchange, apart from the
//! row structs of the local store (which are the SQLite contract) and from the UI's types.
//! Pure: no I/O, no database. The store writes [`ChangeRecord`]s through its triggers
//! (`change_log`), the sync client sends them in order, and the server keeps [`Cursor`]s.
//! [`merge`] is the model of how the server (and a PC applying pulled rows) merges them.
//!
//! Every type here parses at the boundary: an invalid value is an error, never a panic.

pub mod change;
pub mod cursor;
pub mod device;
pub mod hlc;
pub mod merge;

pub use change::{ChangeOp, ChangeRecord};
pub use cursor::Cursor;
pub use device::DeviceId;
pub use hlc::Hlc;
pub use merge::{apply, Change, MergeError, MergeSchema, Rank, RowState, Version};

/// Why a wire value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("{what}: {message}")]
    Invalid { what: &'static str, message: String },
}

impl WireError {
    pub(crate) fn invalid(what: &'static str, message: impl Into<String>) -> Self {
        WireError::Invalid {
            what,
            message: message.into(),
        }
    }
}
