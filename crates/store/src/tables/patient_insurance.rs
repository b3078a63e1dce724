use chrono::NaiveDate;
use clinicdesk_domain::{PatientId, PatientInsuranceId, PayerId};
use serde::{Deserialize, Serialize};

use crate::table::{bool_int, Table};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct PatientInsurance {
    pub id: PatientInsuranceId,
    pub patient_id: PatientId,
    pub payer_id: PayerId,
    pub coverage_priority: i64,
    pub policy_number: String,
    pub group_number: Option<String>,
    pub subscriber_name: Option<String>,
    pub subscriber_relationship: String,
    pub subscriber_date_of_birth: Option<NaiveDate>,
    pub effective_date: Option<NaiveDate>,
    pub termination_date: Option<NaiveDate>,
    pub copay_cents: Option<i64>,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_active: bool,
    pub notes: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for PatientInsurance {
    const NAME: &'static str = "patient_insurance";
    type Id = PatientInsuranceId;
    fn id(&self) -> PatientInsuranceId {
        self.id
    }
}
