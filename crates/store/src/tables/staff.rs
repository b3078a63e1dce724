use chrono::NaiveDate;
use clinicdesk_domain::{ClinicId, EmploymentType, StaffId, UserId};
use serde::{Deserialize, Serialize};

use crate::table::{bool_int, Table};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Staff {
    pub id: StaffId,
    pub user_id: Option<UserId>,
    pub employee_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub middle_name: Option<String>,
    pub preferred_name: Option<String>,
    pub title: Option<String>,
    pub discipline: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub employment_type: EmploymentType,
    pub primary_clinic_id: ClinicId,
    pub hire_date: Option<NaiveDate>,
    pub termination_date: Option<NaiveDate>,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_active: bool,
    #[serde(deserialize_with = "bool_int")]
    #[specta(type = bool)]
    pub is_clinical: bool,
    pub emergency_contact_name: Option<String>,
    pub emergency_contact_phone: Option<String>,
    pub notes: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for Staff {
    const NAME: &'static str = "staff_profiles";
    type Id = StaffId;
    fn id(&self) -> StaffId {
        self.id
    }
}
