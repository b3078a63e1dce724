use chrono::NaiveDate;
use clinicdesk_domain::{
    ClinicId, CoverageNeedId, CoverageNeedStatus, CoverageReason, ShiftId, StaffId, StaffScheduleId,
};
use serde::{Deserialize, Serialize};

use crate::table::Table;

/// Time that needs someone on it: a shift assignment lost to time off or a credential lapse,
/// or extra demand. At most one open need per assignment and reason (unique index).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CoverageNeed {
    pub id: CoverageNeedId,
    pub clinic_id: ClinicId,
    pub shift_id: Option<ShiftId>,
    pub schedule_id: Option<StaffScheduleId>,
    pub need_date: NaiveDate,
    pub start_at: i64,
    pub end_at: i64,
    pub reason: CoverageReason,
    pub status: CoverageNeedStatus,
    pub original_staff_id: Option<StaffId>,
    pub filled_by_staff_id: Option<StaffId>,
    pub filled_schedule_id: Option<StaffScheduleId>,
    pub notes: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for CoverageNeed {
    const NAME: &'static str = "ops_shift_coverage_needs";
    type Id = CoverageNeedId;
    fn id(&self) -> CoverageNeedId {
        self.id
    }
}

/// Raise an open need for `schedule` (an assignment that lost its person) unless one with the
/// same reason is already open. Returns the need, new or existing.
pub fn raise_for_schedule(
    conn: &rusqlite::Connection,
    schedule: &crate::tables::staff_schedules::StaffSchedule,
    reason: CoverageReason,
    notes: Option<String>,
    now: i64,
) -> crate::Result<(CoverageNeed, bool)> {
    if let Some(existing) = crate::table::select::<CoverageNeed, _>(
        conn,
        "WHERE schedule_id = ?1 AND reason = ?2 AND status = 'open' AND deleted_at IS NULL",
        rusqlite::params![schedule.id.to_string(), reason.as_str()],
    )?
    .into_iter()
    .next()
    {
        return Ok((existing, false));
    }
    // Derived from the schedule, the reason and how many needs it had before (any status):
    // two PCs raising the same need offline raise one row (the sync merges them), and a need
    // raised again after the first was filled or cancelled is a new one.
    let before: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM ops_shift_coverage_needs WHERE schedule_id = ?1 AND reason = ?2",
        )?
        .query_row(
            rusqlite::params![schedule.id.to_string(), reason.as_str()],
            |r| r.get(0),
        )?;
    let need = CoverageNeed {
        id: CoverageNeedId::derived(
            "coverage_need",
            &[
                &schedule.id.to_string(),
                reason.as_str(),
                &before.to_string(),
            ],
        ),
        clinic_id: schedule.clinic_id,
        shift_id: Some(schedule.shift_id),
        schedule_id: Some(schedule.id),
        need_date: schedule.schedule_date,
        start_at: schedule.start_at,
        end_at: schedule.end_at,
        reason,
        status: CoverageNeedStatus::Open,
        original_staff_id: Some(schedule.staff_id),
        filled_by_staff_id: None,
        filled_schedule_id: None,
        notes,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    crate::table::insert(conn, &need)?;
    Ok((need, true))
}
