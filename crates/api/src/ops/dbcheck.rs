//! `check_database`: SQLite's integrity check, SQLCipher's page HMAC check and the audit chain
//! in one operation (admins). A damaged file is reported, not raised: each check says what it
//! found, including the error it stopped on.

use clinicdesk_domain::Capability;
use clinicdesk_store::audit::VerifyReport;
use rusqlite::Connection;
use serde::Serialize;

use crate::access::Scope;
use crate::error::ApiResult;
use crate::{App, Session};

/// One check: passed or not, and what it reported (SQLite's lines, or the error it stopped on).
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CheckResult {
    pub ok: bool,
    pub messages: Vec<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DatabaseCheck {
    /// `PRAGMA integrity_check`: the b-trees, indexes and constraints.
    pub integrity: CheckResult,
    /// `PRAGMA cipher_integrity_check`: every page's HMAC (SQLCipher).
    pub cipher_integrity: CheckResult,
    /// The audit log's hash chain (as `audit verify`).
    pub audit: CheckResult,
    /// Every check passed.
    pub ok: bool,
}

/// A PRAGMA's rows; `passed` tells whether they mean no damage.
fn pragma(c: &Connection, sql: &str, passed: fn(&[String]) -> bool) -> CheckResult {
    let rows = c.prepare(sql).and_then(|mut st| {
        st.query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<String>>>()
    });
    match rows {
        Ok(messages) => CheckResult {
            ok: passed(&messages),
            messages,
        },
        Err(e) => CheckResult {
            ok: false,
            messages: vec![e.to_string()],
        },
    }
}

fn audit_result(r: Result<VerifyReport, String>) -> CheckResult {
    match r {
        Ok(r) if r.ok => CheckResult {
            ok: true,
            messages: vec![format!("{} entries verified", r.entries)],
        },
        Ok(r) => CheckResult {
            ok: false,
            messages: match r.first_broken_seq {
                Some(seq) => vec![format!(
                    "broken at entry {seq}: {}",
                    r.reason.unwrap_or_default()
                )],
                // Triggers or rows (see `audit::verify_all`): every problem.
                None => r.problems,
            },
        },
        Err(e) => CheckResult {
            ok: false,
            messages: vec![e],
        },
    }
}

impl App {
    /// The database's three checks (admins: the capability of backup and restore).
    pub fn check_database(&self, s: &Session) -> ApiResult<DatabaseCheck> {
        self.require(
            s,
            Capability::BackupRestore,
            Scope::AnyClinic,
            "check the database",
        )?;
        let (integrity, cipher_integrity) = self.store.read(|c| -> ApiResult<_> {
            Ok((
                pragma(c, "PRAGMA integrity_check", |m| m == ["ok"]),
                pragma(c, "PRAGMA cipher_integrity_check", <[String]>::is_empty),
            ))
        })?;
        let audit = audit_result(self.store.verify_audit().map_err(|e| e.to_string()));
        Ok(DatabaseCheck {
            ok: integrity.ok && cipher_integrity.ok && audit.ok,
            integrity,
            cipher_integrity,
            audit,
        })
    }
}
