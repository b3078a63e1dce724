use chrono::NaiveDate;
use clinicdesk_domain::{CaseId, ClinicId, KpiEventId, KpiEventType, PatientId, StaffId, UserId};
use serde::{Deserialize, Serialize};

use crate::table::{json_text, Table};

/// One KPI event (seed 000). Immutable: the table refuses UPDATE and DELETE (trigger).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct KpiEvent {
    pub id: KpiEventId,
    pub event_type: KpiEventType,
    pub event_name: String,
    pub clinic_id: ClinicId,
    pub staff_id: Option<StaffId>,
    pub patient_id: Option<PatientId>,
    pub case_id: Option<CaseId>,
    pub event_timestamp: i64,
    /// The clinic's local date of `event_timestamp`.
    pub event_date: NaiveDate,
    pub metric_value: Option<f64>,
    pub metric_unit: Option<String>,
    #[serde(deserialize_with = "json_text")]
    #[specta(type = serde_json::Value)]
    pub dimensions: serde_json::Value,
    pub related_entity_type: Option<String>,
    pub related_entity_id: Option<String>,
    #[serde(deserialize_with = "json_text")]
    #[specta(type = Vec<String>)]
    pub tags: Vec<String>,
    #[serde(deserialize_with = "json_text")]
    #[specta(type = serde_json::Value)]
    pub metadata: serde_json::Value,
    pub triggered_by: Option<UserId>,
    pub created_at: i64,
}

impl Table for KpiEvent {
    const NAME: &'static str = "ops_kpi_events";
    type Id = KpiEventId;
    fn id(&self) -> KpiEventId {
        self.id
    }
}
