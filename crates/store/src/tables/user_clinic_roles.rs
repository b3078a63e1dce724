use clinicdesk_domain::{ClinicId, Role, UserClinicRoleId, UserId};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::table::{bool_int, select, Table};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct UserClinicRole {
    pub id: UserClinicRoleId,
    pub user_id: UserId,
    pub clinic_id: ClinicId,
    pub role: Role,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for UserClinicRole {
    const NAME: &'static str = "user_clinic_roles";
    type Id = UserClinicRoleId;
    fn id(&self) -> UserClinicRoleId {
        self.id
    }
}

/// Active roles of a user, all clinics.
pub fn active_for_user(conn: &Connection, user: &UserId) -> Result<Vec<UserClinicRole>> {
    select(
        conn,
        "WHERE user_id = ?1 AND is_active = 1 AND deleted_at IS NULL",
        [user.to_string()],
    )
}

pub fn for_clinic(conn: &Connection, clinic: &ClinicId) -> Result<Vec<UserClinicRole>> {
    select(
        conn,
        "WHERE clinic_id = ?1 AND deleted_at IS NULL ORDER BY user_id, role",
        [clinic.to_string()],
    )
}
