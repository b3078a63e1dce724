//! Capacity snapshots: the clinic's staff, rooms, slots and patients at one instant, computed
//! from the data (shift assignments, rooms, availability, today's appointments) in the clinic's
//! zone, stored immutably, with a `capacity_threshold_reached` KPI event in the same
//! transaction when the status is high or critical. Taken on demand and by the housekeeping
//! job, at most once per clinic and local clock hour.
//!
//! Definitions (ARCHITECTURE.md, "KPIs and capacity"):
//! - staff: available = active staff of the clinic employed today; scheduled = distinct staff
//!   with an assignment dated today (scheduled, on duty or completed); on duty = distinct
//!   staff whose assignment (scheduled or on duty) covers now, plus clinical staff working now
//!   through an `available` block. Staff utilization = on-duty clinical staff who are busy
//!   (an appointment in progress, or an open one whose time covers now) / on-duty clinical
//!   staff.
//! - rooms: total = active rooms that are not closed; in use = rooms of today's checked-in or
//!   in-progress appointments; maintenance = rooms under maintenance not in use; available =
//!   the rest. Room utilization = in use / (total − maintenance).
//! - slots: `SLOT_MINUTES`-minute slots of today's working time (shifts and `available`
//!   blocks of each provider minus blocking blocks, within the local day); booked = today's
//!   active appointments, each rounded up to whole slots; available = total − booked (≥ 0).
//! - patients: waiting = checked in; active in clinic = checked in + in progress; average wait
//!   = check-in → start of today's started visits; average visit = start → completion.
//! - status: critical when a utilization reaches `CRITICAL_UTILIZATION_PERCENT` or
//!   `CRITICAL_WAITING_PATIENTS` wait; high from `HIGH_UTILIZATION_PERCENT` or
//!   `HIGH_WAITING_PATIENTS`; else normal. At capacity = a utilization at 100%; over capacity =
//!   at capacity with patients waiting.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Timelike};
use clinicdesk_domain::{
    intersect, local_day_bounds, merge, parse_date, subtract, Capability, CapacitySnapshotId,
    CapacityStatus, ClinicId, DomainError, KpiEventType, ScheduleStatus, TimeRange, UserId,
};
use clinicdesk_store::tables::capacity_snapshots::CapacitySnapshot;
use clinicdesk_store::{table, WriteTx};
use rusqlite::params;

use super::kpis::{new_event, record};
use super::time::clinic_tz;
use crate::access::Scope;
use crate::error::ApiResult;
use crate::{App, Session};

/// The length of one appointment slot when counting today's capacity.
pub const SLOT_MINUTES: i64 = 30;
/// Room or staff utilization (percent) from which the status is high.
pub const HIGH_UTILIZATION_PERCENT: f64 = 85.0;
/// Room or staff utilization (percent) from which the status is critical (and at capacity).
pub const CRITICAL_UTILIZATION_PERCENT: f64 = 100.0;
/// Patients waiting (checked in, not started) from which the status is high.
pub const HIGH_WAITING_PATIENTS: i64 = 5;
/// Patients waiting from which the status is critical.
pub const CRITICAL_WAITING_PATIENTS: i64 = 10;
/// The most snapshots one list returns.
const MAX_LIST: u32 = 1000;

fn instant(v: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp_millis(v).unwrap_or_default()
}

fn range(a: i64, b: i64) -> Option<TimeRange> {
    TimeRange::new(instant(a), instant(b)).ok()
}

fn minutes(r: &[TimeRange]) -> i64 {
    r.iter().map(|x| x.duration().num_minutes()).sum()
}

/// One decimal place (percentages and minutes as people read them).
fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| round1(part as f64 * 100.0 / whole as f64))
}

/// Compute and store the clinic's snapshot at the transaction's instant (and the threshold
/// event when high or critical).
pub(crate) fn take(
    tx: &WriteTx<'_>,
    clinic: ClinicId,
    captured_by: Option<UserId>,
) -> ApiResult<CapacitySnapshot> {
    let now = tx.ctx.now_ms;
    let (_, tz) = clinic_tz(tx, clinic)?;
    let local = instant(now).with_timezone(&tz);
    let today = local.date_naive();
    let day = today.format("%Y-%m-%d").to_string();
    let (ds, de) = local_day_bounds(tz, today);
    let (ds, de) = (ds.timestamp_millis(), de.timestamp_millis());
    let id = clinic.to_string();
    let Some(day_range) = range(ds, de) else {
        return Err(DomainError::invalid("date", "this local day does not exist").into());
    };

    // Staff.
    let staff_available: i64 = tx.query_row(
        "SELECT count(*) FROM staff_profiles WHERE primary_clinic_id = ?1 AND is_active = 1 AND deleted_at IS NULL
           AND (hire_date IS NULL OR hire_date <= ?2) AND (termination_date IS NULL OR termination_date >= ?2)",
        params![id, day],
        |r| r.get(0),
    )?;
    let staff_scheduled: i64 = tx.query_row(
        &format!("SELECT count(DISTINCT staff_id) FROM ops_staff_schedules WHERE clinic_id = ?1 AND schedule_date = ?2
           AND deleted_at IS NULL AND status IN {}", ScheduleStatus::sql_in(ScheduleStatus::is_worked)),
        params![id, day],
        |r| r.get(0),
    )?;
    // Assignments touching today (scheduled, on duty, completed): (staff, start, end, status,
    // clinical).
    let shifts: Vec<(String, i64, i64, String, bool)> = tx
        .prepare_cached(
            &format!("SELECT s.staff_id, s.start_at, s.end_at, s.status, p.is_clinical FROM ops_staff_schedules s
             JOIN staff_profiles p ON p.id = s.staff_id
             WHERE s.clinic_id = ?1 AND s.start_at < ?3 AND s.start_at > ?2 - 86400000 AND s.end_at > ?2
               AND s.deleted_at IS NULL AND s.status IN {}", ScheduleStatus::sql_in(ScheduleStatus::is_worked)),
        )?
        .query_map(params![id, ds, de], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    // Availability blocks touching today: (provider or NULL, start, end, available).
    let blocks: Vec<(Option<String>, i64, i64, bool)> = tx
        .prepare_cached(
            "SELECT provider_id, start_at, end_at, is_available FROM availability_blocks
             WHERE clinic_id = ?1 AND start_at < ?3 AND end_at > ?2 AND deleted_at IS NULL",
        )?
        .query_map(params![id, ds, de], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let clinical: HashSet<String> = tx
        .prepare_cached("SELECT id FROM staff_profiles WHERE is_clinical = 1 AND is_active = 1 AND deleted_at IS NULL AND id IN (SELECT value FROM json_each(?1))")?
        .query_map(
            [serde_json::to_string(
                &blocks
                    .iter()
                    .filter_map(|b| b.0.clone())
                    .collect::<Vec<_>>(),
            )
            .unwrap_or_default()],
            |r| r.get(0),
        )?
        .collect::<Result<_, _>>()?;
    let mut on_duty: HashSet<&str> = HashSet::new();
    let mut on_duty_clinical: HashSet<&str> = HashSet::new();
    for (staff, s, e, status, is_clinical) in &shifts {
        if status != "completed" && *s <= now && now < *e {
            on_duty.insert(staff);
            if *is_clinical {
                on_duty_clinical.insert(staff);
            }
        }
    }
    for (p, s, e, available) in &blocks {
        if let Some(p) = p.as_deref().filter(|p| *available && clinical.contains(*p)) {
            if *s <= now && now < *e {
                on_duty.insert(p);
                on_duty_clinical.insert(p);
            }
        }
    }

    // Working time today per provider (clinical staff with shifts or available blocks).
    let mut working: HashMap<&str, Vec<TimeRange>> = HashMap::new();
    for (staff, s, e, _, is_clinical) in &shifts {
        if let (true, Some(r)) = (*is_clinical, range(*s, *e)) {
            working.entry(staff).or_default().push(r);
        }
    }
    for (p, s, e, available) in &blocks {
        if let Some(p) = p.as_deref().filter(|p| *available && clinical.contains(*p)) {
            if let Some(r) = range(*s, *e) {
                working.entry(p).or_default().push(r);
            }
        }
    }
    let mut slots_total = 0;
    for (p, w) in working {
        let blocked: Vec<TimeRange> = blocks
            .iter()
            .filter(|b| !b.3 && b.0.as_deref().is_none_or(|x| x == p))
            .filter_map(|b| range(b.1, b.2))
            .collect();
        let free = subtract(&intersect(&merge(w), &[day_range]), &blocked);
        slots_total += minutes(&free) / SLOT_MINUTES;
    }

    // Today's appointments.
    struct Visit {
        provider: String,
        room: Option<String>,
        status: String,
        start: i64,
        end: i64,
        checked_in: Option<i64>,
        started: Option<i64>,
        completed: Option<i64>,
    }
    let visits: Vec<Visit> = tx
        .prepare_cached(
            "SELECT provider_id, room_id, status, start_at, end_at, checked_in_at, started_at, completed_at
             FROM appointments WHERE clinic_id = ?1 AND start_at >= ?2 AND start_at < ?3 AND deleted_at IS NULL",
        )?
        .query_map(params![id, ds, de], |r| {
            Ok(Visit {
                provider: r.get(0)?,
                room: r.get(1)?,
                status: r.get(2)?,
                start: r.get(3)?,
                end: r.get(4)?,
                checked_in: r.get(5)?,
                started: r.get(6)?,
                completed: r.get(7)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut busy: HashSet<&str> = HashSet::new();
    let mut rooms_used: HashSet<&str> = HashSet::new();
    let (mut waiting, mut in_progress, mut slots_booked) = (0i64, 0i64, 0i64);
    let (mut waits, mut visits_done) = (Vec::new(), Vec::new());
    for v in &visits {
        let open = matches!(
            v.status.as_str(),
            "pending" | "confirmed" | "reminded" | "checked_in"
        );
        if v.status == "in_progress" || (open && v.start <= now && now < v.end) {
            busy.insert(&v.provider);
        }
        if matches!(v.status.as_str(), "checked_in" | "in_progress") {
            if let Some(r) = &v.room {
                rooms_used.insert(r);
            }
        }
        match v.status.as_str() {
            "checked_in" => waiting += 1,
            "in_progress" => in_progress += 1,
            _ => {}
        }
        if open || matches!(v.status.as_str(), "in_progress" | "completed") {
            let m = (v.end - v.start) / 60_000;
            slots_booked += (m + SLOT_MINUTES - 1) / SLOT_MINUTES;
        }
        if let (Some(c), Some(s)) = (v.checked_in, v.started) {
            waits.push((s - c).max(0) as f64 / 60_000.0);
        }
        if let (Some(s), Some(c), "completed") = (v.started, v.completed, v.status.as_str()) {
            visits_done.push((c - s).max(0) as f64 / 60_000.0);
        }
    }
    let avg = |v: &[f64]| (!v.is_empty()).then(|| round1(v.iter().sum::<f64>() / v.len() as f64));

    // Rooms.
    let rooms: Vec<(String, String)> = tx
        .prepare_cached(
            "SELECT id, status FROM ops_treatment_rooms WHERE clinic_id = ?1 AND is_active = 1
               AND deleted_at IS NULL AND status <> 'closed'",
        )?
        .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let total_rooms = rooms.len() as i64;
    let in_use = rooms
        .iter()
        .filter(|(r, _)| rooms_used.contains(r.as_str()))
        .count() as i64;
    let maintenance = rooms
        .iter()
        .filter(|(r, s)| s == "maintenance" && !rooms_used.contains(r.as_str()))
        .count() as i64;

    let busy_on_duty = on_duty_clinical
        .iter()
        .filter(|p| busy.contains(**p))
        .count() as i64;
    let staff_util = percent(busy_on_duty, on_duty_clinical.len() as i64);
    let room_util = percent(in_use, total_rooms - maintenance);
    let peak = staff_util.unwrap_or(0.0).max(room_util.unwrap_or(0.0));
    let status = if peak >= CRITICAL_UTILIZATION_PERCENT || waiting >= CRITICAL_WAITING_PATIENTS {
        CapacityStatus::Critical
    } else if peak >= HIGH_UTILIZATION_PERCENT || waiting >= HIGH_WAITING_PATIENTS {
        CapacityStatus::High
    } else {
        CapacityStatus::Normal
    };
    let at_capacity = peak >= CRITICAL_UTILIZATION_PERCENT;
    let snap = CapacitySnapshot {
        // A random id even for the housekeeping job's: snapshots are immutable rows, so two
        // PCs' snapshots of one hour cannot merge; both are kept and readers take one per
        // clinic and hour (SYNC.md §5 item 7).
        id: CapacitySnapshotId::new(),
        clinic_id: clinic,
        snapshot_timestamp: now,
        snapshot_date: today,
        snapshot_hour: local.hour() as i64,
        total_staff_available: staff_available,
        total_staff_scheduled: staff_scheduled,
        total_staff_on_duty: on_duty.len() as i64,
        staff_utilization_percent: staff_util,
        total_rooms,
        rooms_available: (total_rooms - in_use - maintenance).max(0),
        rooms_in_use: in_use,
        rooms_maintenance: maintenance,
        room_utilization_percent: room_util,
        total_appointment_slots: slots_total,
        slots_booked,
        slots_available: (slots_total - slots_booked).max(0),
        active_patients_in_clinic: waiting + in_progress,
        waiting_patients: waiting,
        critical_equipment_available: None,
        critical_equipment_in_use: None,
        average_wait_time_minutes: avg(&waits),
        average_visit_duration_minutes: avg(&visits_done),
        is_at_capacity: at_capacity,
        is_overcapacity: at_capacity && waiting > 0,
        capacity_status: status,
        service_line: None,
        shift_type: None,
        dimensions: serde_json::json!({
            "slot_minutes": SLOT_MINUTES,
            "clinical_staff_on_duty": on_duty_clinical.len(),
            "clinical_staff_busy": busy_on_duty,
        }),
        captured_by,
        notes: None,
        created_at: now,
    };
    table::insert(tx, &snap)?;
    if status != CapacityStatus::Normal {
        let mut e = new_event(tx, tz, KpiEventType::CapacityThresholdReached, clinic);
        e.metric_value = Some(peak);
        e.metric_unit = Some("percent".into());
        e.related_entity_type = Some("capacity_snapshot".into());
        e.related_entity_id = Some(snap.id.to_string());
        e.dimensions = serde_json::json!({
            "capacity_status": status,
            "staff_utilization_percent": staff_util,
            "room_utilization_percent": room_util,
            "waiting_patients": waiting,
        });
        record(tx, &e)?;
    }
    Ok(snap)
}

/// A snapshot by the housekeeping job unless the clinic already has one in this local clock
/// hour. Returns whether one was taken.
pub(crate) fn hourly(tx: &WriteTx<'_>, clinic: ClinicId) -> ApiResult<bool> {
    let now = tx.ctx.now_ms;
    let (_, tz) = clinic_tz(tx, clinic)?;
    let local = instant(now).with_timezone(&tz);
    let into_hour =
        (local.minute() as i64 * 60 + local.second() as i64) * 1000 + (now.rem_euclid(1000));
    let taken: bool = tx.query_row(
        "SELECT count(*) > 0 FROM ops_capacity_snapshots WHERE clinic_id = ?1 AND snapshot_timestamp >= ?2",
        params![clinic.to_string(), now - into_hour],
        |r| r.get(0),
    )?;
    if taken {
        return Ok(false);
    }
    take(tx, clinic, None)?;
    Ok(true)
}

impl App {
    /// Take the clinic's capacity snapshot now (managers and admins: the KPI capability).
    pub fn take_capacity_snapshot(
        &self,
        s: &Session,
        clinic: ClinicId,
    ) -> ApiResult<CapacitySnapshot> {
        self.require(
            s,
            Capability::ReadKpis,
            Scope::Clinic(clinic),
            "take capacity snapshots",
        )?;
        self.tx(s, |tx| take(tx, clinic, Some(s.user_id)))
    }

    /// The housekeeping job's snapshot of one clinic (as the system), at most one per local
    /// clock hour. Returns whether one was taken.
    pub(crate) fn hourly_capacity_snapshot(&self, clinic: ClinicId) -> ApiResult<bool> {
        self.store.write(None, |tx| hourly(tx, clinic))
    }

    /// The clinic's snapshots, newest first, optionally between two local dates (inclusive);
    /// the housekeeping job's once per clinic and local hour (several PCs may each take one).
    pub fn list_capacity_snapshots(
        &self,
        s: &Session,
        clinic: ClinicId,
        from: Option<&str>,
        to: Option<&str>,
        limit: Option<u32>,
    ) -> ApiResult<Vec<CapacitySnapshot>> {
        self.require(
            s,
            Capability::ReadKpis,
            Scope::Clinic(clinic),
            "see capacity snapshots",
        )?;
        let from = from.map(|d| parse_date("from", d)).transpose()?;
        let to = to.map(|d| parse_date("to", d)).transpose()?;
        if let (Some(a), Some(b)) = (from, to) {
            if b < a {
                return Err(DomainError::invalid("to", "must not be before from").into());
            }
        }
        let limit = limit.unwrap_or(100);
        if !(1..=MAX_LIST).contains(&limit) {
            return Err(
                DomainError::invalid("limit", format!("must be between 1 and {MAX_LIST}")).into(),
            );
        }
        self.store.read(|c| {
            clinic_tz(c, clinic)?;
            Ok(table::select::<CapacitySnapshot, _>(
                c,
                // The housekeeping job's snapshots: one per clinic and local hour even when
                // several PCs took one (the first by id; SYNC.md §5 item 7).
                "WHERE clinic_id = ?1 AND (?2 IS NULL OR snapshot_date >= ?2) AND (?3 IS NULL OR snapshot_date <= ?3)
                   AND NOT (captured_by IS NULL AND EXISTS (
                     SELECT 1 FROM ops_capacity_snapshots o WHERE o.clinic_id = ops_capacity_snapshots.clinic_id
                       AND o.captured_by IS NULL AND o.snapshot_date = ops_capacity_snapshots.snapshot_date
                       AND o.snapshot_hour = ops_capacity_snapshots.snapshot_hour AND o.id < ops_capacity_snapshots.id))
                 ORDER BY snapshot_timestamp DESC, id DESC LIMIT ?4",
                params![
                    clinic.to_string(),
                    from.map(|d| d.to_string()),
                    to.map(|d| d.to_string()),
                    limit
                ],
            )?)
        })
    }
}
