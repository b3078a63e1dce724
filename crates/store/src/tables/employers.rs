use chrono::NaiveDate;
use clinicdesk_domain::EmployerId;
use serde::{Deserialize, Serialize};

use crate::table::{bool_int, Table};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Employer {
    pub id: EmployerId,
    pub employer_name: String,
    pub industry: Option<String>,
    pub employee_count: Option<i64>,
    pub primary_contact_name: Option<String>,
    pub primary_contact_email: Option<String>,
    pub primary_contact_phone: Option<String>,
    pub address_line1: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub contract_start_date: Option<NaiveDate>,
    pub contract_end_date: Option<NaiveDate>,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_active: bool,
    pub notes: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for Employer {
    const NAME: &'static str = "employer_accounts";
    type Id = EmployerId;
    fn id(&self) -> EmployerId {
        self.id
    }
}
