//! Shifts and staffing: assigning staff to shift templates on dates (one or in bulk), shift
//! swaps and time off (request → a manager approves or rejects; the staff member who asked may
//! see their own requests and withdraw them while they wait) and coverage needs (open, fill,
//! cancel). Every assignment — direct, bulk, by swap or by filling a need — goes through
//! `check_assignment`: no overlapping shifts, no shift on approved time off (hard), and the
//! required credentials held on the date (a manager may override with a reason, stored on the
//! assignment and so audited).

use chrono::{Datelike, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use clinicdesk_domain::{
    AppointmentStatus, Capability, ClinicId, CoverageNeedId, CoverageNeedStatus, CoverageReason,
    DomainError, KpiEventType, LocalShift, ScheduleStatus, ShiftId, ShiftSwapId, StaffId,
    StaffScheduleId, SwapStatus, TimeOffRequestId, TimeOffStatus, TimeRange,
};
use clinicdesk_store::tables::{
    appointments::Appointment, coverage_needs, coverage_needs::CoverageNeed,
    shift_swaps::ShiftSwap, shifts::ShiftTemplate, staff::Staff, staff_schedules::StaffSchedule,
    time_off::TimeOffRequest,
};
use clinicdesk_store::{table, WriteTx};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::booking::rules::missing_credentials_for;
use super::time::clinic_tz;
use crate::access::Scope;
use crate::error::{ApiError, ApiResult};
use crate::fields::Fields;
use crate::{App, Session};

/// The longest range one bulk assignment may cover.
const MAX_BULK_DAYS: i64 = 366;
const TIME_OFF_KINDS: &[&str] = &["vacation", "sick", "personal", "education", "other"];

fn staff_name(s: &Staff) -> String {
    format!("{} {}", s.first_name, s.last_name)
}

fn local_hm(tz: Tz, ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// The instants of `shift` on `date` in the clinic's zone (a night shift ends the next day).
fn shift_range(tz: Tz, shift: &ShiftTemplate, date: NaiveDate) -> ApiResult<TimeRange> {
    let t = |v: &str| {
        NaiveTime::parse_from_str(v, "%H:%M")
            .map_err(|_| DomainError::invalid("shift", format!("bad time '{v}' on the template")))
    };
    Ok(LocalShift {
        date,
        start: t(&shift.start_time)?,
        end: t(&shift.end_time)?,
    }
    .to_utc(tz)?)
}

/// What stands in the way of `staff` working `range` (the shift on `date`): a hard conflict
/// (another assignment overlapping, approved time off, inactive staff) is an `Err`; missing
/// credentials are returned as overridable problems. `exclude` are assignments being replaced.
fn check_assignment(
    conn: &Connection,
    tz: Tz,
    staff: &Staff,
    date: NaiveDate,
    range: &TimeRange,
    exclude: &[StaffScheduleId],
) -> ApiResult<Vec<String>> {
    let name = staff_name(staff);
    if !staff.is_active || staff.deleted_at.is_some() {
        return Err(ApiError::Conflict(format!(
            "{name} is not an active staff member"
        )));
    }
    if let Some(end) = staff.termination_date.filter(|t| *t < date) {
        return Err(ApiError::Conflict(format!("{name} left on {end}")));
    }
    let (start, end) = (
        range.start().timestamp_millis(),
        range.end().timestamp_millis(),
    );
    let excluded: Vec<String> = exclude.iter().map(|e| e.to_string()).collect();
    let mut q = conn.prepare_cached(
        &format!("SELECT s.id, s.start_at, s.end_at, t.name FROM ops_staff_schedules s JOIN ops_shifts t ON t.id = s.shift_id
         WHERE s.staff_id = ?1 AND s.deleted_at IS NULL AND s.status IN {}
           AND s.start_at < ?3 AND s.end_at > ?2 ORDER BY s.start_at", ScheduleStatus::sql_in(ScheduleStatus::is_assigned)),
    )?;
    let overlapping = q
        .query_map(params![staff.id.to_string(), start, end], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if let Some((_, s, e, shift)) = overlapping.iter().find(|(id, ..)| !excluded.contains(id)) {
        return Err(ApiError::Conflict(format!(
            "{name} is already on the {shift} shift {} – {}",
            local_hm(tz, *s),
            local_hm(tz, *e)
        )));
    }
    let day = date.format("%Y-%m-%d").to_string();
    let off: Option<(String, String)> = conn
        .query_row(
            "SELECT start_date, end_date FROM ops_time_off_requests WHERE staff_id = ?1 AND status = 'approved'
               AND deleted_at IS NULL AND start_date <= ?2 AND end_date >= ?2 LIMIT 1",
            params![staff.id.to_string(), day],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((a, b)) = off {
        return Err(ApiError::Conflict(format!(
            "{name} is on approved time off {a} – {b}"
        )));
    }
    missing_credentials_for(conn, staff.id, None, date, "this shift")
}

/// Insert an assignment after `check_assignment` (problems need `override_reason`).
#[allow(clippy::too_many_arguments)]
fn insert_assignment(
    tx: &WriteTx<'_>,
    tz: Tz,
    clinic: ClinicId,
    staff: &Staff,
    shift: &ShiftTemplate,
    date: NaiveDate,
    override_reason: Option<&str>,
    notes: Option<String>,
) -> ApiResult<StaffSchedule> {
    let range = shift_range(tz, shift, date)?;
    let problems = check_assignment(tx, tz, staff, date, &range, &[])?;
    if !problems.is_empty() && override_reason.is_none() {
        return Err(ApiError::Conflict(format!(
            "{} (a manager may override with a reason)",
            problems.join("; ")
        )));
    }
    let now = tx.ctx.now_ms;
    let row = StaffSchedule {
        id: StaffScheduleId::new(),
        clinic_id: clinic,
        staff_id: staff.id,
        shift_id: shift.id,
        schedule_date: date,
        start_at: range.start().timestamp_millis(),
        end_at: range.end().timestamp_millis(),
        status: ScheduleStatus::Scheduled,
        override_reason: if problems.is_empty() {
            None
        } else {
            override_reason.map(str::to_string)
        },
        notes,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    table::insert(tx, &row)?;
    Ok(row)
}

fn live_shift(conn: &Connection, clinic: ClinicId, id: ShiftId) -> ApiResult<ShiftTemplate> {
    let shift = table::get_live::<ShiftTemplate>(conn, &id)?;
    if shift.clinic_id != clinic {
        return Err(DomainError::invalid(
            "shift_id",
            "this shift template belongs to another clinic",
        )
        .into());
    }
    if !shift.is_active {
        return Err(ApiError::Conflict(format!(
            "the {} shift template is inactive",
            shift.name
        )));
    }
    Ok(shift)
}

fn required<T>(v: Option<T>, field: &'static str) -> Result<T, DomainError> {
    v.ok_or_else(|| DomainError::invalid(field, "is required"))
}

/// Result of a bulk assignment.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct BulkAssignment {
    pub assigned: Vec<StaffSchedule>,
    /// Dates not assigned (with `skip_conflicts`), and why.
    pub skipped: Vec<(NaiveDate, String)>,
}

/// What approving time off did.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct TimeOffDecision {
    pub request: TimeOffRequest,
    /// Assignments released because of it (now cancelled) with their open coverage needs.
    pub coverage_needs: Vec<CoverageNeed>,
    /// Appointments the staff member has in the period: the front desk must move them.
    pub affected_appointments: Vec<Appointment>,
}

/// A shift assignment with names, for lists.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct RosterEntry {
    pub schedule: StaffSchedule,
    pub staff_name: String,
    pub shift_name: String,
}

/// Assignments with their holder's and template's names; the caller adds `WHERE …`.
const ROSTER_SELECT: &str =
    "SELECT s.*, p.first_name || ' ' || p.last_name AS staff_name, t.name AS shift_name
     FROM ops_staff_schedules s JOIN staff_profiles p ON p.id = s.staff_id JOIN ops_shifts t ON t.id = s.shift_id";

fn roster_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RosterEntry> {
    Ok(RosterEntry {
        schedule: table::map_row(r)?,
        staff_name: r.get("staff_name")?,
        shift_name: r.get("shift_name")?,
    })
}

fn roster_entry(c: &Connection, id: StaffScheduleId) -> ApiResult<RosterEntry> {
    c.prepare_cached(&format!("{ROSTER_SELECT} WHERE s.id = ?1"))?
        .query_row([id.to_string()], roster_row)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("shift assignment {id} not found")))
}

/// A swap as one of its two staff members sees it (`my_swaps`).
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct MySwap {
    pub swap: ShiftSwap,
    pub requester_name: String,
    pub target_name: String,
    /// The requester's assignment being handed over (the target's once approved).
    pub handed_over: RosterEntry,
    /// The target's assignment taken in return, when the swap is an exchange.
    pub in_return: Option<RosterEntry>,
    /// The caller asked for the swap (and may withdraw it while it is requested); false when
    /// the caller is the staff member asked to take the shift.
    pub is_requester: bool,
}

/// What a user without a linked staff profile is told when asking for their own requests.
pub const NO_STAFF_PROFILE: &str =
    "your user account is not linked to a staff profile, so you have no requests of your own (an administrator links it on the staff record)";

impl App {
    fn staffing(&self, s: &Session, clinic: ClinicId, what: &str) -> ApiResult<()> {
        self.require(s, Capability::ApproveStaffing, Scope::Clinic(clinic), what)
    }

    /// Staffing rights, plus the right to override rules when an override reason is given.
    fn staffing_with(
        &self,
        s: &Session,
        clinic: ClinicId,
        what: &str,
        override_reason: Option<&str>,
    ) -> ApiResult<()> {
        self.staffing(s, clinic, what)?;
        if override_reason.is_some() {
            self.require(
                s,
                Capability::OverrideBookingRules,
                Scope::Clinic(clinic),
                "override staffing rules",
            )?;
        }
        Ok(())
    }

    /// A staff member may ask for their own swap or time off; managers for anyone.
    fn staff_request(
        &self,
        s: &Session,
        clinic: ClinicId,
        staff: &Staff,
        what: &str,
    ) -> ApiResult<()> {
        if staff.user_id == Some(s.user_id) {
            self.require(s, Capability::ReadClinicData, Scope::Clinic(clinic), what)
        } else {
            self.staffing(s, clinic, what)
        }
    }

    /// Assign a staff member to a shift template on a date. Fields: staff_id, shift_id, date;
    /// optional notes, override_reason (manager: works without a required credential).
    pub fn assign_shift(
        &self,
        s: &Session,
        clinic: ClinicId,
        f: &Fields,
    ) -> ApiResult<StaffSchedule> {
        self.staffing(s, clinic, "assign shifts")?;
        self.tx(s, |tx| {
            let (_, tz) = clinic_tz(tx, clinic)?;
            let staff = required(f.parsed("staff_id", StaffId::parse)?, "staff_id")?;
            let shift = required(f.parsed("shift_id", ShiftId::parse)?, "shift_id")?;
            let date = required(f.date("date")?.flatten(), "date")?;
            let notes = f.text("notes")?.flatten();
            let override_reason = f.text("override_reason")?.flatten();
            f.finish()?;
            let staff = table::get_live::<Staff>(tx, &staff)?;
            let shift = live_shift(tx, clinic, shift)?;
            insert_assignment(
                tx,
                tz,
                clinic,
                &staff,
                &shift,
                date,
                override_reason.as_deref(),
                notes,
            )
        })
    }

    /// Assign a template on chosen weekdays over a date range (inclusive, at most a year).
    /// Fields: staff_id, shift_id, from, to, weekdays (mon,wed,fri; default every day);
    /// optional override_reason, skip_conflicts (assign the dates that work, list the rest).
    /// Without skip_conflicts one conflict refuses the whole request, listing every one.
    pub fn assign_shifts_bulk(
        &self,
        s: &Session,
        clinic: ClinicId,
        f: &Fields,
    ) -> ApiResult<BulkAssignment> {
        self.staffing(s, clinic, "assign shifts")?;
        self.tx(s, |tx| {
            let (_, tz) = clinic_tz(tx, clinic)?;
            let staff = required(f.parsed("staff_id", StaffId::parse)?, "staff_id")?;
            let shift = required(f.parsed("shift_id", ShiftId::parse)?, "shift_id")?;
            let from = required(f.date("from")?.flatten(), "from")?;
            let to = required(f.date("to")?.flatten(), "to")?;
            let days = match f.text("weekdays")?.flatten() {
                Some(v) => clinicdesk_domain::parse_weekdays("weekdays", &v)?,
                None => Vec::new(),
            };
            let override_reason = f.text("override_reason")?.flatten();
            let skip = f.bool("skip_conflicts")?.unwrap_or(false);
            f.finish()?;
            if to < from {
                return Err(DomainError::invalid("to", "must not be before from").into());
            }
            if (to - from).num_days() >= MAX_BULK_DAYS {
                return Err(DomainError::invalid("to", "assign at most a year at a time").into());
            }
            let staff = table::get_live::<Staff>(tx, &staff)?;
            let shift = live_shift(tx, clinic, shift)?;
            let mut out = BulkAssignment {
                assigned: Vec::new(),
                skipped: Vec::new(),
            };
            let mut day = from;
            while day <= to {
                if days.is_empty() || days.contains(&day.weekday()) {
                    match insert_assignment(
                        tx,
                        tz,
                        clinic,
                        &staff,
                        &shift,
                        day,
                        override_reason.as_deref(),
                        None,
                    ) {
                        Ok(r) => out.assigned.push(r),
                        Err(ApiError::Conflict(m)) => out.skipped.push((day, m)),
                        Err(e) => return Err(e),
                    }
                }
                day = day.succ_opt().expect("date in range");
            }
            if !out.skipped.is_empty() && !skip {
                let list = out
                    .skipped
                    .iter()
                    .map(|(d, m)| format!("{d}: {m}"))
                    .collect::<Vec<_>>()
                    .join(" | ");
                return Err(ApiError::Conflict(format!(
                    "{} of {} dates cannot be assigned — {list}",
                    out.skipped.len(),
                    out.skipped.len() + out.assigned.len()
                )));
            }
            if out.assigned.is_empty() {
                return Err(ApiError::Conflict(
                    "no date in that range can be assigned".into(),
                ));
            }
            Ok(out)
        })
    }

    /// Move an assignment along its flow: `start` (on duty, KPI staff_shift_started), `end`
    /// (completed, KPI staff_shift_ended), `absent`, `cancel`. An absence or cancellation of a
    /// shift that has not ended raises a coverage need (demand).
    pub fn set_shift_status(
        &self,
        s: &Session,
        id: StaffScheduleId,
        action: &str,
    ) -> ApiResult<StaffSchedule> {
        let row = self.fetch::<StaffSchedule>(&id)?;
        self.staffing(s, row.clinic_id, "change shift assignments")?;
        let (to, event) = match action.trim() {
            "start" => (
                ScheduleStatus::OnDuty,
                Some(KpiEventType::StaffShiftStarted),
            ),
            "end" => (
                ScheduleStatus::Completed,
                Some(KpiEventType::StaffShiftEnded),
            ),
            "absent" => (ScheduleStatus::Absent, None),
            "cancel" => (ScheduleStatus::Cancelled, None),
            other => {
                return Err(DomainError::invalid(
                    "action",
                    format!("'{other}' is not an action (start, end, absent, cancel)"),
                )
                .into())
            }
        };
        self.tx(s, |tx| {
            let (_, tz) = clinic_tz(tx, row.clinic_id)?;
            let mut r = table::get_live::<StaffSchedule>(tx, &id)?;
            r.status = r.status.transition(to)?;
            r.updated_at = tx.ctx.now_ms;
            table::update(tx, &r)?;
            if let Some(kind) = event {
                staff_kpi(tx, tz, &r, kind)?;
            }
            if matches!(to, ScheduleStatus::Absent | ScheduleStatus::Cancelled)
                && r.end_at > tx.ctx.now_ms
            {
                coverage_needs::raise_for_schedule(
                    tx,
                    &r,
                    CoverageReason::Demand,
                    Some(format!("assignment {action}")),
                    tx.ctx.now_ms,
                )?;
            }
            Ok(r)
        })
    }

    /// Assignments at a clinic between two dates (inclusive), optionally one staff member.
    pub fn list_roster(
        &self,
        s: &Session,
        clinic: ClinicId,
        from: &str,
        to: &str,
        staff: Option<StaffId>,
    ) -> ApiResult<Vec<RosterEntry>> {
        self.require(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(clinic),
            "see the roster",
        )?;
        let from = clinicdesk_domain::parse_date("from", from)?;
        let to = clinicdesk_domain::parse_date("to", to)?;
        if to < from {
            return Err(DomainError::invalid("to", "must not be before from").into());
        }
        self.store.read(|c| {
            let mut q = c.prepare_cached(&format!(
                "{ROSTER_SELECT} WHERE s.clinic_id = ?1 AND s.schedule_date BETWEEN ?2 AND ?3 AND s.deleted_at IS NULL
                   AND (?4 IS NULL OR s.staff_id = ?4)
                 ORDER BY s.start_at, staff_name"
            ))?;
            let rows = q.query_map(
                params![clinic.to_string(), from.to_string(), to.to_string(), staff.map(|x| x.to_string())],
                roster_row,
            )?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Ask to hand an assignment to another staff member. Fields: requester_schedule_id,
    /// target_staff_id; optional target_schedule_id (one of theirs in return), reason.
    pub fn request_swap(&self, s: &Session, f: &Fields) -> ApiResult<ShiftSwap> {
        let mine = required(
            f.parsed("requester_schedule_id", StaffScheduleId::parse)?,
            "requester_schedule_id",
        )?;
        let mine = self.fetch::<StaffSchedule>(&mine)?;
        let requester = self.fetch::<Staff>(&mine.staff_id)?;
        self.staff_request(s, mine.clinic_id, &requester, "request shift swaps")?;
        self.tx(s, |tx| {
            let target = required(
                f.parsed("target_staff_id", StaffId::parse)?,
                "target_staff_id",
            )?;
            let theirs = f.parsed("target_schedule_id", StaffScheduleId::parse)?;
            let reason = f.text("reason")?.flatten();
            f.finish()?;
            if target == mine.staff_id {
                return Err(DomainError::invalid(
                    "target_staff_id",
                    "a swap needs another staff member",
                )
                .into());
            }
            if !mine.status.is_active() {
                return Err(ApiError::Conflict(format!(
                    "this assignment is {} and cannot be swapped",
                    mine.status
                )));
            }
            table::get_live::<Staff>(tx, &target)?;
            if let Some(t) = theirs {
                let t = table::get_live::<StaffSchedule>(tx, &t)?;
                if t.staff_id != target {
                    return Err(DomainError::invalid(
                        "target_schedule_id",
                        "that assignment is not the target staff member's",
                    )
                    .into());
                }
                if !t.status.is_active() {
                    return Err(ApiError::Conflict(format!(
                        "the other assignment is {} and cannot be swapped",
                        t.status
                    )));
                }
            }
            let now = tx.ctx.now_ms;
            let swap = ShiftSwap {
                id: ShiftSwapId::new(),
                clinic_id: mine.clinic_id,
                requester_staff_id: mine.staff_id,
                requester_schedule_id: mine.id,
                target_staff_id: target,
                target_schedule_id: theirs,
                status: SwapStatus::Requested,
                reason,
                decided_by: None,
                decided_at: None,
                decision_note: None,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            table::insert(tx, &swap)?;
            Ok(swap)
        })
    }

    /// Approve or reject a swap (manager). Approval re-checks both people against their new
    /// shifts (overlaps, time off, credentials — the last overridable with `override_reason`)
    /// and then exchanges the assignments.
    pub fn decide_swap(
        &self,
        s: &Session,
        id: ShiftSwapId,
        approve: bool,
        note: Option<&str>,
        override_reason: Option<&str>,
    ) -> ApiResult<ShiftSwap> {
        let swap = self.fetch::<ShiftSwap>(&id)?;
        self.staffing_with(s, swap.clinic_id, "approve shift swaps", override_reason)?;
        self.tx(s, |tx| {
            let (_, tz) = clinic_tz(tx, swap.clinic_id)?;
            let mut swap = table::get_live::<ShiftSwap>(tx, &id)?;
            let to = if approve {
                SwapStatus::Approved
            } else {
                SwapStatus::Rejected
            };
            swap.status = swap.status.transition(to)?;
            let now = tx.ctx.now_ms;
            if approve {
                let mut mine = table::get_live::<StaffSchedule>(tx, &swap.requester_schedule_id)?;
                let mut theirs = match swap.target_schedule_id {
                    Some(t) => Some(table::get_live::<StaffSchedule>(tx, &t)?),
                    None => None,
                };
                let requester = table::get_live::<Staff>(tx, &swap.requester_staff_id)?;
                let target = table::get_live::<Staff>(tx, &swap.target_staff_id)?;
                let mut exclude = vec![mine.id];
                exclude.extend(theirs.as_ref().map(|t| t.id));
                let mut problems = Vec::new();
                let hand = |row: &StaffSchedule,
                            who: &Staff,
                            problems: &mut Vec<String>|
                 -> ApiResult<()> {
                    if !row.status.is_active() {
                        return Err(ApiError::Conflict(format!(
                            "the assignment on {} is {} now",
                            row.schedule_date, row.status
                        )));
                    }
                    let range = clinicdesk_domain::TimeRange::new(
                        chrono::DateTime::from_timestamp_millis(row.start_at).unwrap_or_default(),
                        chrono::DateTime::from_timestamp_millis(row.end_at).unwrap_or_default(),
                    )?;
                    problems.extend(check_assignment(
                        tx,
                        tz,
                        who,
                        row.schedule_date,
                        &range,
                        &exclude,
                    )?);
                    Ok(())
                };
                hand(&mine, &target, &mut problems)?;
                if let Some(t) = &theirs {
                    hand(t, &requester, &mut problems)?;
                    // The two exchanged shifts must not overlap each other either.
                    if t.start_at < mine.end_at && mine.start_at < t.end_at {
                        return Err(ApiError::Conflict(
                            "the two shifts overlap; swapping them changes nothing".into(),
                        ));
                    }
                }
                if !problems.is_empty() && override_reason.is_none() {
                    return Err(ApiError::Conflict(format!(
                        "{} (a manager may override with a reason)",
                        problems.join("; ")
                    )));
                }
                let over = (!problems.is_empty())
                    .then(|| override_reason.map(str::to_string))
                    .flatten();
                mine.staff_id = target.id;
                mine.override_reason = over.clone();
                mine.updated_at = now;
                table::update(tx, &mine)?;
                if let Some(t) = theirs.as_mut() {
                    t.staff_id = requester.id;
                    t.override_reason = over;
                    t.updated_at = now;
                    table::update(tx, t)?;
                }
            }
            swap.decided_by = Some(s.user_id);
            swap.decided_at = Some(now);
            swap.decision_note = note
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string);
            swap.updated_at = now;
            table::update(tx, &swap)?;
            Ok(swap)
        })
    }

    /// Ask for time off. Fields: staff_id, start_date, end_date (inclusive); optional kind
    /// (vacation, sick, personal, education, other), reason.
    pub fn request_time_off(
        &self,
        s: &Session,
        clinic: ClinicId,
        f: &Fields,
    ) -> ApiResult<TimeOffRequest> {
        let staff = required(f.parsed("staff_id", StaffId::parse)?, "staff_id")?;
        let staff = self.fetch::<Staff>(&staff)?;
        self.staff_request(s, clinic, &staff, "request time off")?;
        self.tx(s, |tx| {
            let start = required(f.date("start_date")?.flatten(), "start_date")?;
            let end = required(f.date("end_date")?.flatten(), "end_date")?;
            let kind = f
                .text("kind")?
                .flatten()
                .unwrap_or_else(|| "vacation".into());
            let reason = f.text("reason")?.flatten();
            f.finish()?;
            if end < start {
                return Err(
                    DomainError::invalid("end_date", "must not be before start_date").into(),
                );
            }
            if (end - start).num_days() >= MAX_BULK_DAYS {
                return Err(
                    DomainError::invalid("end_date", "ask for at most a year at a time").into(),
                );
            }
            if !TIME_OFF_KINDS.contains(&kind.as_str()) {
                return Err(DomainError::invalid(
                    "kind",
                    format!("'{kind}' is not one of {}", TIME_OFF_KINDS.join(", ")),
                )
                .into());
            }
            let now = tx.ctx.now_ms;
            let r = TimeOffRequest {
                id: TimeOffRequestId::new(),
                clinic_id: clinic,
                staff_id: staff.id,
                start_date: start,
                end_date: end,
                kind,
                reason,
                status: TimeOffStatus::Requested,
                decided_by: None,
                decided_at: None,
                decision_note: None,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            table::insert(tx, &r)?;
            Ok(r)
        })
    }

    /// Approve or reject time off (manager). Approval releases the staff member's assignments
    /// in the period (cancelled, each raising an open coverage need with reason time_off) and
    /// lists their appointments in it for the front desk to move.
    pub fn decide_time_off(
        &self,
        s: &Session,
        id: TimeOffRequestId,
        approve: bool,
        note: Option<&str>,
    ) -> ApiResult<TimeOffDecision> {
        let req = self.fetch::<TimeOffRequest>(&id)?;
        self.staffing(s, req.clinic_id, "approve time off")?;
        self.tx(s, |tx| {
            let (_, tz) = clinic_tz(tx, req.clinic_id)?;
            let mut req = table::get_live::<TimeOffRequest>(tx, &id)?;
            let to = if approve {
                TimeOffStatus::Approved
            } else {
                TimeOffStatus::Rejected
            };
            req.status = req.status.transition(to)?;
            let now = tx.ctx.now_ms;
            req.decided_by = Some(s.user_id);
            req.decided_at = Some(now);
            req.decision_note = note
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string);
            req.updated_at = now;
            table::update(tx, &req)?;
            let mut out = TimeOffDecision {
                request: req.clone(),
                coverage_needs: Vec::new(),
                affected_appointments: Vec::new(),
            };
            if !approve {
                return Ok(out);
            }
            let released = table::select::<StaffSchedule, _>(
                tx,
                &format!(
                    "WHERE staff_id = ?1 AND status IN {} AND deleted_at IS NULL
                   AND schedule_date BETWEEN ?2 AND ?3 ORDER BY start_at",
                    ScheduleStatus::sql_in(ScheduleStatus::is_assigned)
                ),
                params![
                    req.staff_id.to_string(),
                    req.start_date.to_string(),
                    req.end_date.to_string()
                ],
            )?;
            for mut r in released {
                r.status = r.status.transition(ScheduleStatus::Cancelled)?;
                r.notes = Some(format!(
                    "released: time off {} – {}",
                    req.start_date, req.end_date
                ));
                r.updated_at = now;
                table::update(tx, &r)?;
                let (need, _) =
                    coverage_needs::raise_for_schedule(tx, &r, CoverageReason::TimeOff, None, now)?;
                out.coverage_needs.push(need);
            }
            let (from, _) = clinicdesk_domain::local_day_bounds(tz, req.start_date);
            let (_, until) = clinicdesk_domain::local_day_bounds(tz, req.end_date);
            out.affected_appointments = table::select::<Appointment, _>(
                tx,
                &format!(
                    "WHERE provider_id = ?1 AND deleted_at IS NULL AND status IN {}
                   AND start_at < ?3 AND end_at > ?2 ORDER BY start_at",
                    AppointmentStatus::sql_in(AppointmentStatus::is_upcoming)
                ),
                params![
                    req.staff_id.to_string(),
                    from.timestamp_millis(),
                    until.timestamp_millis()
                ],
            )?;
            Ok(out)
        })
    }

    /// Withdraw a time-off request: the staff member's own while it is requested, or (a
    /// manager) any request, also approved time off. Released assignments are not restored.
    pub fn cancel_time_off(&self, s: &Session, id: TimeOffRequestId) -> ApiResult<TimeOffRequest> {
        let req = self.fetch::<TimeOffRequest>(&id)?;
        let staff = self.fetch::<Staff>(&req.staff_id)?;
        self.staff_request(s, req.clinic_id, &staff, "cancel time off")?;
        if req.status == TimeOffStatus::Approved {
            // Its shifts went to coverage needs: withdrawing it is a roster decision.
            self.staffing(s, req.clinic_id, "withdraw approved time off")?;
        }
        self.tx(s, |tx| {
            let mut cur = table::get_live::<TimeOffRequest>(tx, &id)?;
            if cur.status == TimeOffStatus::Approved && req.status != TimeOffStatus::Approved {
                return Err(ApiError::Conflict(
                    "this time off was approved meanwhile; ask a manager to withdraw it".into(),
                ));
            }
            cur.status = cur.status.transition(TimeOffStatus::Cancelled)?;
            cur.updated_at = tx.ctx.now_ms;
            table::update(tx, &cur)?;
            Ok(cur)
        })
    }

    /// Open a coverage need for extra demand. Fields: shift_id, date; optional notes.
    pub fn create_coverage_need(
        &self,
        s: &Session,
        clinic: ClinicId,
        f: &Fields,
    ) -> ApiResult<CoverageNeed> {
        self.staffing(s, clinic, "manage coverage")?;
        self.tx(s, |tx| {
            let (_, tz) = clinic_tz(tx, clinic)?;
            let shift = required(f.parsed("shift_id", ShiftId::parse)?, "shift_id")?;
            let date = required(f.date("date")?.flatten(), "date")?;
            let notes = f.text("notes")?.flatten();
            f.finish()?;
            let shift = live_shift(tx, clinic, shift)?;
            let range = shift_range(tz, &shift, date)?;
            let now = tx.ctx.now_ms;
            let need = CoverageNeed {
                id: CoverageNeedId::new(),
                clinic_id: clinic,
                shift_id: Some(shift.id),
                schedule_id: None,
                need_date: date,
                start_at: range.start().timestamp_millis(),
                end_at: range.end().timestamp_millis(),
                reason: CoverageReason::Demand,
                status: CoverageNeedStatus::Open,
                original_staff_id: None,
                filled_by_staff_id: None,
                filled_schedule_id: None,
                notes,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            table::insert(tx, &need)?;
            Ok(need)
        })
    }

    /// Coverage needs at a clinic, open ones by default (`status` = open, filled, cancelled, all).
    pub fn list_coverage_needs(
        &self,
        s: &Session,
        clinic: ClinicId,
        status: Option<&str>,
    ) -> ApiResult<Vec<CoverageNeed>> {
        self.require(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(clinic),
            "see coverage needs",
        )?;
        let status = match status.map(str::trim) {
            None | Some("open") => Some(CoverageNeedStatus::Open),
            Some("all") => None,
            Some(v) => Some(CoverageNeedStatus::parse(v)?),
        };
        Ok(self.store.read(|c| {
            table::select::<CoverageNeed, _>(
                c,
                "WHERE clinic_id = ?1 AND deleted_at IS NULL AND (?2 IS NULL OR status = ?2) ORDER BY need_date, start_at",
                params![clinic.to_string(), status.map(|s| s.as_str())],
            )
        })?)
    }

    /// Fill an open need with a staff member: a new assignment to the need's shift and date
    /// through the same checks as any assignment (override_reason for a missing credential).
    pub fn fill_coverage_need(
        &self,
        s: &Session,
        id: CoverageNeedId,
        staff: StaffId,
        override_reason: Option<&str>,
    ) -> ApiResult<(CoverageNeed, StaffSchedule)> {
        let need = self.fetch::<CoverageNeed>(&id)?;
        self.staffing_with(s, need.clinic_id, "fill coverage needs", override_reason)?;
        self.tx(s, |tx| {
            let (_, tz) = clinic_tz(tx, need.clinic_id)?;
            let mut need = table::get_live::<CoverageNeed>(tx, &id)?;
            need.status = need.status.transition(CoverageNeedStatus::Filled)?;
            let shift_id = need
                .shift_id
                .ok_or_else(|| ApiError::Conflict("this need has no shift to assign".into()))?;
            let shift = table::get_live::<ShiftTemplate>(tx, &shift_id)?;
            let person = table::get_live::<Staff>(tx, &staff)?;
            if need.original_staff_id == Some(person.id) {
                return Err(ApiError::Conflict(format!(
                    "{} is the person this need replaces",
                    staff_name(&person)
                )));
            }
            let row = insert_assignment(
                tx,
                tz,
                need.clinic_id,
                &person,
                &shift,
                need.need_date,
                override_reason,
                Some("fills a coverage need".into()),
            )?;
            need.filled_by_staff_id = Some(person.id);
            need.filled_schedule_id = Some(row.id);
            need.updated_at = tx.ctx.now_ms;
            table::update(tx, &need)?;
            Ok((need, row))
        })
    }

    /// Close a need nobody will fill (reason required).
    pub fn cancel_coverage_need(
        &self,
        s: &Session,
        id: CoverageNeedId,
        reason: &str,
    ) -> ApiResult<CoverageNeed> {
        let need = self.fetch::<CoverageNeed>(&id)?;
        self.staffing(s, need.clinic_id, "manage coverage")?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(DomainError::invalid("reason", "say why the need is cancelled").into());
        }
        self.tx(s, |tx| {
            let mut need = table::get_live::<CoverageNeed>(tx, &id)?;
            need.status = need.status.transition(CoverageNeedStatus::Cancelled)?;
            need.notes = Some(match need.notes.take() {
                Some(n) => format!("{n}; cancelled: {reason}"),
                None => format!("cancelled: {reason}"),
            });
            need.updated_at = tx.ctx.now_ms;
            table::update(tx, &need)?;
            Ok(need)
        })
    }
}

/// The staff_shift_started / staff_shift_ended KPI event of an assignment.
fn staff_kpi(tx: &WriteTx<'_>, tz: Tz, r: &StaffSchedule, kind: KpiEventType) -> ApiResult<()> {
    let mut e = super::kpis::new_event(tx, tz, kind, r.clinic_id);
    e.staff_id = Some(r.staff_id);
    e.dimensions = serde_json::json!({ "shift_id": r.shift_id });
    e.related_entity_type = Some("shift_assignment".into());
    e.related_entity_id = Some(r.id.to_string());
    table::insert(tx, &e)?;
    Ok(())
}

/// A request status filter: `None`/"" → `default`; "all" → every status (`None`); otherwise
/// that status.
fn request_status<T>(
    status: Option<&str>,
    default: Option<T>,
    parse: fn(&str) -> Result<T, DomainError>,
) -> ApiResult<Option<T>> {
    Ok(match status.map(str::trim) {
        None | Some("") => default,
        Some("all") => None,
        Some(v) => Some(parse(v)?),
    })
}

/// Ids as a JSON array, for `IN (SELECT value FROM json_each(?))`.
fn json_ids<T: std::fmt::Display>(ids: &[T]) -> String {
    serde_json::Value::from(ids.iter().map(|i| i.to_string()).collect::<Vec<_>>()).to_string()
}

impl App {
    /// Swap requests at a clinic, oldest first: the manager's queue (`status` = requested by
    /// default, approved, rejected, cancelled or all). Managers (the staffing capability).
    pub fn list_swaps(
        &self,
        s: &Session,
        clinic: ClinicId,
        status: Option<&str>,
    ) -> ApiResult<Vec<ShiftSwap>> {
        self.staffing(s, clinic, "see swap requests")?;
        let status = request_status(status, Some(SwapStatus::Requested), SwapStatus::parse)?;
        Ok(self.store.read(|c| {
            table::select::<ShiftSwap, _>(
                c,
                "WHERE clinic_id = ?1 AND deleted_at IS NULL AND (?2 IS NULL OR status = ?2) ORDER BY created_at, id",
                params![clinic.to_string(), status.map(|s| s.as_str())],
            )
        })?)
    }

    /// Time-off requests at a clinic by start date: the manager's queue (`status` = requested
    /// by default, approved, rejected, cancelled or all). Managers (the staffing capability):
    /// the reasons are personal.
    pub fn list_time_off(
        &self,
        s: &Session,
        clinic: ClinicId,
        status: Option<&str>,
    ) -> ApiResult<Vec<TimeOffRequest>> {
        self.staffing(s, clinic, "see time-off requests")?;
        let status = request_status(status, Some(TimeOffStatus::Requested), TimeOffStatus::parse)?;
        Ok(self.store.read(|c| {
            table::select::<TimeOffRequest, _>(
                c,
                "WHERE clinic_id = ?1 AND deleted_at IS NULL AND (?2 IS NULL OR status = ?2) ORDER BY start_date, created_at, id",
                params![clinic.to_string(), status.map(|s| s.as_str())],
            )
        })?)
    }

    /// The caller's own staff profiles and the clinics their own requests are listed from:
    /// `clinic` (read rights there), or every clinic where they may read clinic data. A user
    /// without a linked staff profile gets `NO_STAFF_PROFILE` (not_found).
    fn own_requests_scope(
        &self,
        s: &Session,
        clinic: Option<ClinicId>,
        what: &str,
    ) -> ApiResult<(Vec<StaffId>, Vec<ClinicId>)> {
        let clinics = match clinic {
            Some(c) => {
                self.require(s, Capability::ReadClinicData, Scope::Clinic(c), what)?;
                vec![c]
            }
            None => {
                self.require(s, Capability::ReadClinicData, Scope::AnyClinic, what)?;
                crate::access::clinics_with(&self.roles(s)?, Capability::ReadClinicData)
            }
        };
        let staff: Vec<StaffId> = self
            .store
            .read(|c| {
                table::select::<Staff, _>(
                    c,
                    "WHERE user_id = ?1 AND deleted_at IS NULL ORDER BY id",
                    [s.user_id.to_string()],
                )
            })?
            .into_iter()
            .map(|st| st.id)
            .collect();
        if staff.is_empty() {
            return Err(ApiError::NotFound(NO_STAFF_PROFILE.into()));
        }
        Ok((staff, clinics))
    }

    /// The caller's own swaps, newest first: those they asked for and those they were asked
    /// to take, with names and both assignments. `clinic` narrows to one clinic; `status` =
    /// requested, approved, rejected or cancelled (default: all).
    pub fn my_swaps(
        &self,
        s: &Session,
        clinic: Option<ClinicId>,
        status: Option<&str>,
    ) -> ApiResult<Vec<MySwap>> {
        let (staff, clinics) = self.own_requests_scope(s, clinic, "see your swap requests")?;
        let status = request_status(status, None, SwapStatus::parse)?;
        self.store.read(|c| {
            let swaps = table::select::<ShiftSwap, _>(
                c,
                "WHERE deleted_at IS NULL AND clinic_id IN (SELECT value FROM json_each(?1))
                   AND (requester_staff_id IN (SELECT value FROM json_each(?2))
                        OR target_staff_id IN (SELECT value FROM json_each(?2)))
                   AND (?3 IS NULL OR status = ?3)
                 ORDER BY created_at DESC, id DESC",
                params![
                    json_ids(&clinics),
                    json_ids(&staff),
                    status.map(|s| s.as_str())
                ],
            )?;
            let name = |id: StaffId| -> ApiResult<String> {
                Ok(staff_name(&table::get::<Staff>(c, &id)?.ok_or_else(
                    || ApiError::NotFound(format!("staff member {id} not found")),
                )?))
            };
            swaps
                .into_iter()
                .map(|swap| {
                    Ok(MySwap {
                        requester_name: name(swap.requester_staff_id)?,
                        target_name: name(swap.target_staff_id)?,
                        handed_over: roster_entry(c, swap.requester_schedule_id)?,
                        in_return: swap
                            .target_schedule_id
                            .map(|t| roster_entry(c, t))
                            .transpose()?,
                        is_requester: staff.contains(&swap.requester_staff_id),
                        swap,
                    })
                })
                .collect()
        })
    }

    /// The caller's own time-off requests, latest start first. `clinic` narrows to one clinic;
    /// `status` = requested, approved, rejected or cancelled (default: all).
    pub fn my_time_off(
        &self,
        s: &Session,
        clinic: Option<ClinicId>,
        status: Option<&str>,
    ) -> ApiResult<Vec<TimeOffRequest>> {
        let (staff, clinics) = self.own_requests_scope(s, clinic, "see your time-off requests")?;
        let status = request_status(status, None, TimeOffStatus::parse)?;
        Ok(self.store.read(|c| {
            table::select::<TimeOffRequest, _>(
                c,
                "WHERE deleted_at IS NULL AND clinic_id IN (SELECT value FROM json_each(?1))
                   AND staff_id IN (SELECT value FROM json_each(?2)) AND (?3 IS NULL OR status = ?3)
                 ORDER BY start_date DESC, created_at DESC, id",
                params![
                    json_ids(&clinics),
                    json_ids(&staff),
                    status.map(|s| s.as_str())
                ],
            )
        })?)
    }

    /// Withdraw a swap while it is requested: the staff member who asked for it, or a manager.
    /// The staff member asked to take the shift cannot (a manager rejects it).
    pub fn cancel_swap(&self, s: &Session, id: ShiftSwapId) -> ApiResult<ShiftSwap> {
        let swap = self.fetch::<ShiftSwap>(&id)?;
        let requester = self.fetch::<Staff>(&swap.requester_staff_id)?;
        self.staff_request(s, swap.clinic_id, &requester, "withdraw shift swaps")?;
        self.tx(s, |tx| {
            let mut swap = table::get_live::<ShiftSwap>(tx, &id)?;
            swap.status = swap.status.transition(SwapStatus::Cancelled)?;
            swap.updated_at = tx.ctx.now_ms;
            table::update(tx, &swap)?;
            Ok(swap)
        })
    }
}
