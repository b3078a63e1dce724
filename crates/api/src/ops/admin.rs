//! Backup, restore and audit verification.

use std::path::Path;

use clinicdesk_domain::Capability;
use clinicdesk_store::audit::VerifyReport;

use crate::access::Scope;
use crate::error::ApiResult;
use crate::{App, Session};

impl App {
    pub fn backup(
        &self,
        s: &Session,
        dest: &Path,
        progress: impl FnMut(i32, i32) -> bool,
    ) -> ApiResult<()> {
        self.require(
            s,
            Capability::BackupRestore,
            Scope::AnyClinic,
            "make backups",
        )?;
        self.store.backup_to(dest, progress)?;
        let details = serde_json::json!({ "file": dest.display().to_string() });
        self.tx(s, |tx| {
            Ok(tx.audit_event(
                "database",
                None,
                "event",
                &serde_json::json!({ "backup": details }),
            )?)
        })
    }

    pub fn restore(
        &self,
        s: &Session,
        src: &Path,
        progress: impl FnMut(i32, i32) -> bool,
    ) -> ApiResult<()> {
        self.require(
            s,
            Capability::BackupRestore,
            Scope::AnyClinic,
            "restore backups",
        )?;
        self.store.restore_from(src, progress)?;
        let details = serde_json::json!({ "restored_from": src.display().to_string() });
        self.tx(s, |tx| {
            Ok(tx.audit_event("database", None, "event", &details)?)
        })
    }

    pub fn verify_audit(&self, s: &Session) -> ApiResult<VerifyReport> {
        self.require(
            s,
            Capability::ReadAudit,
            Scope::AnyClinic,
            "verify the audit log",
        )?;
        Ok(self.store.verify_audit()?)
    }
}
