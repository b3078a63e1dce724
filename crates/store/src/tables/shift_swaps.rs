use clinicdesk_domain::{ClinicId, ShiftSwapId, StaffId, StaffScheduleId, SwapStatus, UserId};
use serde::{Deserialize, Serialize};

use crate::table::Table;

/// A request to hand a shift assignment to another staff member (optionally taking one of
/// theirs in return); a manager approves or rejects it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ShiftSwap {
    pub id: ShiftSwapId,
    pub clinic_id: ClinicId,
    pub requester_staff_id: StaffId,
    pub requester_schedule_id: StaffScheduleId,
    pub target_staff_id: StaffId,
    pub target_schedule_id: Option<StaffScheduleId>,
    pub status: SwapStatus,
    pub reason: Option<String>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<i64>,
    pub decision_note: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for ShiftSwap {
    const NAME: &'static str = "ops_shift_swaps";
    type Id = ShiftSwapId;
    fn id(&self) -> ShiftSwapId {
        self.id
    }
}
