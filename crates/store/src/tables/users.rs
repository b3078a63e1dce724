use clinicdesk_domain::{DisplayLocale, HourCycle, UserId};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::table::{bool_int, map_row, Table};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// Argon2id PHC string. Never serialised towards a front door (the API maps to UserView).
    pub password_hash: String,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_active: bool,
    pub failed_login_count: i64,
    pub locked_until: Option<i64>,
    pub last_login_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    /// The user's own display locale (None: the clinic's).
    pub display_locale: Option<DisplayLocale>,
    /// The user's own hour cycle (None: the clinic's, else the locale's).
    pub hour_cycle: Option<HourCycle>,
}

impl Table for User {
    const NAME: &'static str = "users";
    type Id = UserId;
    fn id(&self) -> UserId {
        self.id
    }
}

pub fn by_username(conn: &Connection, username: &str) -> Result<Option<User>> {
    Ok(conn
        .prepare_cached("SELECT * FROM users WHERE username = ?1")?
        .query_row([username], map_row::<User>)
        .optional()?)
}
