use clinicdesk_domain::CredentialTypeId;
use serde::{Deserialize, Serialize};

use crate::table::{bool_int, json_text, Table};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CredentialType {
    pub id: CredentialTypeId,
    pub name: String,
    pub code: String,
    pub description: Option<String>,
    /// Disciplines (e.g. "physiotherapy") for which this credential is required.
    #[serde(deserialize_with = "json_text")]
    #[specta(type = Vec<String>)]
    pub required_for_disciplines: Vec<String>,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_required_for_clinical: bool,
    pub renewal_period_months: Option<i64>,
    #[serde(deserialize_with = "json_text")]
    #[specta(type = Vec<i64>)]
    pub alert_thresholds_days: Vec<i64>,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for CredentialType {
    const NAME: &'static str = "ops_credential_types";
    type Id = CredentialTypeId;
    fn id(&self) -> CredentialTypeId {
        self.id
    }
}
