use clinicdesk_domain::{ClinicId, RoomId};
use serde::{Deserialize, Serialize};

use crate::table::{bool_int, Table};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Room {
    pub id: RoomId,
    pub clinic_id: ClinicId,
    pub name: String,
    pub room_type: Option<String>,
    pub capacity: i64,
    pub status: String,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for Room {
    const NAME: &'static str = "ops_treatment_rooms";
    type Id = RoomId;
    fn id(&self) -> RoomId {
        self.id
    }
}
