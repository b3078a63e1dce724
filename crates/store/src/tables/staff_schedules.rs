use chrono::NaiveDate;
use clinicdesk_domain::{ClinicId, ScheduleStatus, ShiftId, StaffId, StaffScheduleId};
use serde::{Deserialize, Serialize};

use crate::table::Table;

/// A staff member assigned to a shift on a date; start_at/end_at are the resolved instants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StaffSchedule {
    pub id: StaffScheduleId,
    pub clinic_id: ClinicId,
    pub staff_id: StaffId,
    pub shift_id: ShiftId,
    pub schedule_date: NaiveDate,
    pub start_at: i64,
    pub end_at: i64,
    pub status: ScheduleStatus,
    pub override_reason: Option<String>,
    pub notes: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for StaffSchedule {
    const NAME: &'static str = "ops_staff_schedules";
    type Id = StaffScheduleId;
    fn id(&self) -> StaffScheduleId {
        self.id
    }
}
