use chrono::NaiveDate;
use clinicdesk_domain::{
    CaseId, CasePriority, CaseStatus, ClinicId, EmployerId, PatientId, PayerId, StaffId, UserId,
};
use serde::{Deserialize, Serialize};

use crate::table::{json_text, Table};

/// An episode of care (seed 000's `ops_cases`). `case_number` is CODE-YY-NNNN, unique per
/// clinic and year, drawn from the device's case-number blocks (see case_number_blocks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Case {
    pub id: CaseId,
    pub case_number: String,
    pub patient_id: PatientId,
    pub clinic_id: ClinicId,
    pub case_type: String,
    pub diagnosis_code: Option<String>,
    pub diagnosis_description: Option<String>,
    pub status: CaseStatus,
    pub priority: CasePriority,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub target_completion_date: Option<NaiveDate>,
    pub primary_clinician_id: Option<StaffId>,
    #[serde(deserialize_with = "json_text")]
    #[specta(type = Vec<StaffId>)]
    pub assigned_team_ids: Vec<StaffId>,
    pub chief_complaint: Option<String>,
    pub treatment_plan: Option<String>,
    pub clinical_notes: Option<String>,
    pub authorization_number: Option<String>,
    pub authorization_expiry: Option<NaiveDate>,
    pub employer_id: Option<EmployerId>,
    pub payer_id: Option<PayerId>,
    pub referral_source: Option<String>,
    pub outcome_status: Option<String>,
    pub discharge_disposition: Option<String>,
    pub readmission_risk_score: Option<f64>,
    #[serde(deserialize_with = "json_text")]
    #[specta(type = Vec<String>)]
    pub tags: Vec<String>,
    #[serde(deserialize_with = "json_text")]
    #[specta(type = serde_json::Map<String, serde_json::Value>)]
    pub custom_fields: serde_json::Map<String, serde_json::Value>,
    pub created_by: Option<UserId>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for Case {
    const NAME: &'static str = "ops_cases";
    type Id = CaseId;
    fn id(&self) -> CaseId {
        self.id
    }
}

/// A run of case numbers granted to one device for one clinic and year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CaseNumberBlock {
    pub id: String,
    pub clinic_id: ClinicId,
    pub year: i64,
    pub device_id: String,
    pub first_number: i64,
    pub last_number: i64,
    /// "local" (the database stands alone and is its own authority) or "server".
    pub granted_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for CaseNumberBlock {
    const NAME: &'static str = "case_number_blocks";
    type Id = String;
    fn id(&self) -> String {
        self.id.clone()
    }
}
