//! Enrolment of this PC as a sync device (SYNC.md §4.3): what the enrolment needs from the
//! local database, and where it keeps the device's connection. The server side (roles,
//! `sync.devices`) is `clinicdesk_server::admin`, run by the CLI: the api holds no PostgreSQL
//! client (tests/layout.rs).

use clinicdesk_domain::{Capability, ClinicId};
use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::access::{live_clinics, Scope};
use crate::error::{ApiError, ApiResult};
use crate::{App, Session};

/// `local_meta` keys of an enrolled PC: the server URL (no owner, no password) and its role.
use clinicdesk_store::sync_meta;
pub use clinicdesk_store::sync_meta::{
    PUSH_ACKED_SEQ as SYNC_PUSH_ACKED_KEY, ROLE as SYNC_ROLE_KEY, URL as SYNC_URL_KEY,
};

/// Where a seeding PC stands after its seed: the last local change the server holds and the
/// server's clock (every row up to it came from this PC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeededAt {
    pub push_acked_seq: i64,
    pub server_seq: i64,
}

/// What enrolling this PC needs: its device id, the database id (which names the keyring
/// entry of the sync password) and the clinics it will sync.
#[derive(Debug, Clone, Serialize)]
pub struct SyncEnrolment {
    pub device_id: String,
    pub database_id: String,
    pub clinics: Vec<ClinicId>,
}

/// The server connection of an enrolled PC (the password is in the keyring or a key file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncConnection {
    pub url: String,
    pub role: String,
}

impl App {
    /// Enrolling reaches every clinic's data: only the organisation's owner (whoever may back
    /// up and restore the whole database) may do it, and not twice.
    pub fn sync_enrolment(&self, s: &Session) -> ApiResult<SyncEnrolment> {
        self.require(
            s,
            Capability::BackupRestore,
            Scope::EveryClinic,
            "enrol this computer for sync",
        )?;
        if let Some(c) = self.sync_connection()? {
            return Err(ApiError::Conflict(format!(
                "this database is already enrolled for sync (as {} at {}); nothing was changed",
                c.role, c.url
            )));
        }
        Ok(SyncEnrolment {
            device_id: self.store.device_id().to_string(),
            database_id: self.store.db_id()?.to_string(),
            clinics: self.store.read(live_clinics)?,
        })
    }

    /// Administering sync from this PC (testing the server as its owner, listing and revoking
    /// devices) is for the same people as enrolling: the organisation's owner.
    pub fn sync_administration(&self, s: &Session) -> ApiResult<()> {
        self.require(
            s,
            Capability::BackupRestore,
            Scope::EveryClinic,
            "administer sync",
        )
    }

    /// The server connection this PC was enrolled with, if any.
    pub fn sync_connection(&self) -> ApiResult<Option<SyncConnection>> {
        self.store.read(|c| -> ApiResult<_> {
            let get = |k: &str| {
                c.query_row("SELECT value FROM local_meta WHERE key = ?1", [k], |r| {
                    r.get::<_, String>(0)
                })
                .optional()
            };
            Ok(match (get(SYNC_URL_KEY)?, get(SYNC_ROLE_KEY)?) {
                (Some(url), Some(role)) => Some(SyncConnection { url, role }),
                _ => None,
            })
        })
    }

    /// Remember the server connection of this (just enrolled) PC and, when it seeded the
    /// server, the last local change the server holds; audited. Refused when a connection is
    /// already kept.
    pub fn record_sync_connection(
        &self,
        s: &Session,
        conn: &SyncConnection,
        seeded: Option<SeededAt>,
    ) -> ApiResult<()> {
        self.sync_enrolment(s)?;
        self.tx(s, |tx| {
            let acked = seeded.map(|n| n.push_acked_seq.to_string());
            let cursor = seeded.map(|n| n.server_seq.to_string());
            let incarnation = uuid::Uuid::now_v7().to_string();
            let mut meta = vec![
                (SYNC_URL_KEY, conn.url.as_str()),
                (SYNC_ROLE_KEY, conn.role.as_str()),
                (sync_meta::INCARNATION, incarnation.as_str()),
            ];
            if let (Some(a), Some(c)) = (&acked, &cursor) {
                meta.push((SYNC_PUSH_ACKED_KEY, a));
                meta.push((sync_meta::PULL_CURSOR, c));
            }
            for (k, v) in meta {
                tx.execute(
                    "INSERT INTO local_meta (key, value) VALUES (?1, ?2)",
                    [k, v],
                )?;
            }
            Ok(tx.audit_event(
                "database",
                None,
                "event",
                &serde_json::json!({ "sync_enrolled": { "url": conn.url, "role": conn.role } }),
            )?)
        })
    }
}
