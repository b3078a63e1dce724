//! Permission checks: every operation names the capability it needs and the clinic it touches.

use clinicdesk_domain::{Capability, ClinicId, Role};
use clinicdesk_store::tables::user_clinic_roles;
use rusqlite::Connection;

use crate::error::{ApiError, ApiResult};
use crate::{App, Session};

/// Where a capability is needed.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// At this clinic.
    Clinic(ClinicId),
    /// At any clinic (organisation-wide records: users, credential types, payers, employers).
    AnyClinic,
}

pub(crate) fn roles_of(conn: &Connection, s: &Session) -> ApiResult<Vec<(ClinicId, Role)>> {
    // A deactivated or deleted user holds no role, whatever the assignments say.
    let active: bool = conn
        .query_row(
            "SELECT is_active = 1 AND deleted_at IS NULL FROM users WHERE id = ?1",
            [s.user_id.to_string()],
            |r| r.get(0),
        )
        .unwrap_or(false);
    if !active {
        return Ok(Vec::new());
    }
    Ok(user_clinic_roles::active_for_user(conn, &s.user_id)?
        .into_iter()
        .map(|r| (r.clinic_id, r.role))
        .collect())
}

pub(crate) fn allowed(roles: &[(ClinicId, Role)], cap: Capability, scope: Scope) -> bool {
    roles.iter().any(|(c, r)| {
        r.has(cap)
            && match scope {
                Scope::AnyClinic => true,
                Scope::Clinic(x) => x == *c,
            }
    })
}

/// Clinics where the caller holds `cap`.
pub(crate) fn clinics_with(roles: &[(ClinicId, Role)], cap: Capability) -> Vec<ClinicId> {
    let mut v: Vec<ClinicId> = roles
        .iter()
        .filter(|(_, r)| r.has(cap))
        .map(|(c, _)| *c)
        .collect();
    v.sort();
    v.dedup();
    v
}

impl App {
    /// Refuse (and audit the refusal) unless the caller holds `cap` in `scope`.
    pub fn require(&self, s: &Session, cap: Capability, scope: Scope, what: &str) -> ApiResult<()> {
        self.require_roles(s, cap, scope, what).map(drop)
    }

    /// As [`App::require`], and the caller's roles it read, so that the operation can check
    /// a further capability (e.g. whether to show patient names) without reading them again.
    pub(crate) fn require_roles(
        &self,
        s: &Session,
        cap: Capability,
        scope: Scope,
        what: &str,
    ) -> ApiResult<Vec<(ClinicId, Role)>> {
        let roles = self.store.read(|c| roles_of(c, s))?;
        if allowed(&roles, cap, scope) {
            return Ok(roles);
        }
        let clinic = match scope {
            Scope::Clinic(c) => Some(c.to_string()),
            Scope::AnyClinic => None,
        };
        let details = serde_json::json!({ "operation": what, "capability": cap.as_str(), "clinic_id": clinic });
        self.store.write(Some(&s.user_id.to_string()), |tx| {
            tx.audit_event("permission", clinic.as_deref(), "denied", &details)
        })?;
        Err(ApiError::Denied(format!(
            "you are not allowed to {what}{}",
            match scope {
                Scope::Clinic(_) => " at this clinic",
                Scope::AnyClinic => "",
            }
        )))
    }

    pub(crate) fn roles(&self, s: &Session) -> ApiResult<Vec<(ClinicId, Role)>> {
        self.store.read(|c| roles_of(c, s))
    }
}
