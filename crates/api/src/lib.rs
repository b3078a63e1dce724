//! The ClinicDesk app API: the use cases that every front door (Tauri commands, the CLI) calls.
//! Each operation parses its input at the boundary, checks the caller's role for the clinic it
//! touches (a refusal is audited and changes nothing), and runs in one store transaction so that
//! the change, its audit entries, its change-log entries and its KPI events commit together.

mod access;
mod auth;
pub mod error;
pub mod fields;
mod ops;
mod read_audit;

use std::sync::Arc;

use clinicdesk_domain::{ClinicId, Role, UserId};
use serde::Serialize;

pub use access::Scope;
pub use auth::{hash_password, needs_rehash, LOCKOUT_MINUTES, MAX_FAILED_LOGINS};
pub use error::{ApiError, ApiResult, ErrorBody};
pub use fields::Fields;
pub use ops::*;
pub use read_audit::{MAX_AUDITED_PATIENT_IDS, READ_AUDIT_WINDOW_MINUTES};

// What the front doors need from the layers below: they depend on the API only.
pub use clinicdesk_domain as domain;
pub use clinicdesk_store::audit::{AuditEntry, Seal, SealKey, VerifyReport};
pub use clinicdesk_store::files::PrivateFile;
pub use clinicdesk_store::tables as rows;
pub use clinicdesk_store::{Store, StoreError};
/// Where a database key is kept (`KeySource::from_settings` parses the front doors' settings).
pub mod keys {
    pub use clinicdesk_store::{
        DbId, DbKey, KeySource, RecoveryKey, SecretPlace, KEY_ENV, KEY_FILE_ENV,
    };
}

/// The application: a handle on the local store. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Arc<Store>,
    /// The patient reads recorded lately (`read_audit`), shared by the clones.
    reads: Arc<read_audit::ReadLog>,
}

/// A signed-in user. Roles are re-read from the database for every operation, so a revoked
/// role takes effect at once; the ones here are for display (navigation).
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Session {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<ClinicRole>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, specta::Type)]
pub struct ClinicRole {
    pub clinic_id: ClinicId,
    pub role: Role,
}

impl App {
    pub fn new(store: Arc<Store>) -> Self {
        App {
            store,
            reads: Arc::default(),
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
}
