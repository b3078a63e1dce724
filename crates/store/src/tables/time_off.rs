use chrono::NaiveDate;
use clinicdesk_domain::{ClinicId, StaffId, TimeOffRequestId, TimeOffStatus, UserId};
use serde::{Deserialize, Serialize};

use crate::table::Table;

/// Time off for a staff member over whole local dates (inclusive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct TimeOffRequest {
    pub id: TimeOffRequestId,
    pub clinic_id: ClinicId,
    pub staff_id: StaffId,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub kind: String,
    pub reason: Option<String>,
    pub status: TimeOffStatus,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<i64>,
    pub decision_note: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for TimeOffRequest {
    const NAME: &'static str = "ops_time_off_requests";
    type Id = TimeOffRequestId;
    fn id(&self) -> TimeOffRequestId {
        self.id
    }
}
