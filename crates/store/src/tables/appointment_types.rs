use clinicdesk_domain::{AppointmentTypeId, ClinicId, CredentialTypeId};
use serde::{Deserialize, Serialize};

use crate::table::{bool_int, json_text, Table};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct AppointmentType {
    pub id: AppointmentTypeId,
    pub clinic_id: Option<ClinicId>,
    pub name: String,
    pub code: String,
    pub duration_minutes: i64,
    pub color: Option<String>,
    #[serde(deserialize_with = "json_text")]
    #[specta(type = Vec<CredentialTypeId>)]
    pub required_credential_type_ids: Vec<CredentialTypeId>,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for AppointmentType {
    const NAME: &'static str = "appointment_types";
    type Id = AppointmentTypeId;
    fn id(&self) -> AppointmentTypeId {
        self.id
    }
}
