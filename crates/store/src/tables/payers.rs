use clinicdesk_domain::PayerId;
use serde::{Deserialize, Serialize};

use crate::table::{bool_int, Table};

pub const PAYER_TYPES: &[&str] = &[
    "commercial",
    "medicare",
    "medicaid",
    "workers_comp",
    "auto",
    "government",
    "self_pay",
    "other",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Payer {
    pub id: PayerId,
    pub payer_name: String,
    pub payer_code: Option<String>,
    pub payer_type: String,
    pub address_line1: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub claims_submission_url: Option<String>,
    pub eligibility_phone: Option<String>,
    pub authorization_phone: Option<String>,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_active: bool,
    pub notes: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for Payer {
    const NAME: &'static str = "insurance_payers";
    type Id = PayerId;
    fn id(&self) -> PayerId {
        self.id
    }
}
