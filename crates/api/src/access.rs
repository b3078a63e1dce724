//! Permission checks: every operation names the capability it needs and the clinic it touches.

use clinicdesk_domain::{Capability, ClinicId, Role, UserId};
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
    /// At every live clinic of the organisation: what reaches all clinics' data at once
    /// (backup and restore of the whole database). The organisation's owner is whoever holds
    /// the capability at every clinic (the first admin, who becomes admin of each clinic they
    /// create).
    EveryClinic,
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

/// Whether `roles` grant `cap` in `scope`. `Scope::EveryClinic` needs the live clinics: see
/// [`allowed_everywhere`].
pub(crate) fn allowed(roles: &[(ClinicId, Role)], cap: Capability, scope: Scope) -> bool {
    roles.iter().any(|(c, r)| {
        r.has(cap)
            && match scope {
                Scope::AnyClinic => true,
                Scope::Clinic(x) => x == *c,
                Scope::EveryClinic => false,
            }
    })
}

/// Whether `roles` grant `cap` at each of `clinics` (and there is at least one).
pub(crate) fn allowed_everywhere(
    roles: &[(ClinicId, Role)],
    cap: Capability,
    clinics: &[ClinicId],
) -> bool {
    !clinics.is_empty()
        && clinics
            .iter()
            .all(|c| allowed(roles, cap, Scope::Clinic(*c)))
}

/// The clinics where `user` holds a (live) role, active or not.
pub(crate) fn user_clinics(conn: &Connection, user: UserId) -> ApiResult<Vec<ClinicId>> {
    parse_clinic_ids(
        conn,
        "SELECT DISTINCT clinic_id FROM user_clinic_roles WHERE user_id = ?1 AND deleted_at IS NULL ORDER BY clinic_id",
        [user.to_string()],
    )
}

fn parse_clinic_ids<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> ApiResult<Vec<ClinicId>> {
    let ids: Vec<String> = conn
        .prepare_cached(sql)?
        .query_map(params, |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    ids.iter()
        .map(|s| ClinicId::parse(s).map_err(Into::into))
        .collect()
}

/// The organisation's live clinics.
pub(crate) fn live_clinics(conn: &Connection) -> ApiResult<Vec<ClinicId>> {
    parse_clinic_ids(
        conn,
        "SELECT id FROM clinics WHERE deleted_at IS NULL ORDER BY id",
        [],
    )
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
        let (roles, ok) = self.store.read(|c| -> ApiResult<_> {
            let roles = roles_of(c, s)?;
            let ok = match scope {
                Scope::EveryClinic => allowed_everywhere(&roles, cap, &live_clinics(c)?),
                _ => allowed(&roles, cap, scope),
            };
            Ok((roles, ok))
        })?;
        if ok {
            return Ok(roles);
        }
        let clinic = match scope {
            Scope::Clinic(c) => Some(c),
            Scope::AnyClinic | Scope::EveryClinic => None,
        };
        let suffix = match scope {
            Scope::Clinic(_) => " at this clinic",
            Scope::AnyClinic => "",
            Scope::EveryClinic => " (it needs the right at every clinic of the organisation)",
        };
        Err(self.deny(
            s,
            cap,
            clinic,
            what,
            &format!("you are not allowed to {what}{suffix}"),
        )?)
    }

    /// Record a refusal in the audit log and return the error to give the caller.
    pub(crate) fn deny(
        &self,
        s: &Session,
        cap: Capability,
        clinic: Option<ClinicId>,
        what: &str,
        message: &str,
    ) -> ApiResult<ApiError> {
        let clinic = clinic.map(|c| c.to_string());
        let details = serde_json::json!({ "operation": what, "capability": cap.as_str(), "clinic_id": clinic });
        self.store.write(Some(&s.user_id.to_string()), |tx| {
            tx.audit_event("permission", clinic.as_deref(), "denied", &details)
        })?;
        Ok(ApiError::Denied(message.to_string()))
    }

    /// Refuse (audited) unless the caller may manage users and every clinic where `target`
    /// holds a role is one where the caller may: an admin of clinic B cannot reset the
    /// password of, deactivate or delete a user who also works at clinic A. A user with no
    /// role yet is any user manager's.
    pub(crate) fn require_manager_of_user(
        &self,
        s: &Session,
        target: UserId,
        what: &str,
    ) -> ApiResult<()> {
        let roles = self.require_roles(s, Capability::ManageUsers, Scope::AnyClinic, what)?;
        let mine = clinics_with(&roles, Capability::ManageUsers);
        let theirs = self.store.read(|c| user_clinics(c, target))?;
        if theirs.iter().all(|c| mine.contains(c)) {
            return Ok(());
        }
        Err(self.deny(
            s,
            Capability::ManageUsers,
            None,
            what,
            &format!("you are not allowed to {what}: this user also works at a clinic you do not administer"),
        )?)
    }

    pub(crate) fn roles(&self, s: &Session) -> ApiResult<Vec<(ClinicId, Role)>> {
        self.store.read(|c| roles_of(c, s))
    }
}
