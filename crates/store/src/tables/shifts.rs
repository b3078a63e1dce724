use clinicdesk_domain::{ClinicId, ShiftId, ShiftType};
use serde::{Deserialize, Serialize};

use crate::table::{bool_int, Table};

/// A shift template. start_time/end_time are local 'HH:MM'; end < start crosses midnight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ShiftTemplate {
    pub id: ShiftId,
    pub clinic_id: ClinicId,
    pub name: String,
    pub shift_type: ShiftType,
    pub start_time: String,
    pub end_time: String,
    pub default_capacity: i64,
    pub color: Option<String>,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for ShiftTemplate {
    const NAME: &'static str = "ops_shifts";
    type Id = ShiftId;
    fn id(&self) -> ShiftId {
        self.id
    }
}
