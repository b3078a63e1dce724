//! KPIs: seed 003's metrics aggregated per clinic and local day, week (Monday first) or month;
//! goals on them and their progress; the KPI events staff report by hand (incidents, alerts,
//! equipment, supplies); and the room/treatment events of the appointment flow.
//!
//! Definitions (ARCHITECTURE.md, "KPIs and capacity"):
//! - An appointment belongs to the period holding its scheduled start's local date.
//! - `no_show_rate` = no-shows / (completed + no-shows): appointments that reached an
//!   attendance outcome. Cancelled ones never could, and count in `cancellation_rate`.
//! - `cancellation_rate` = cancelled / booked, where booked = every appointment of the period
//!   except `rescheduled` ones (a move counts once, as the appointment it created).
//! - `provider_utilization` = minutes of active appointments (pending … completed) / minutes of
//!   clinical staff's shift assignments (scheduled, on duty or completed) dated in the period.
//! - `waitlist_fill_rate` = accepted / offers made in the period (by the offer's local date).
//! - `waitlist_time_to_fill_hours` = median, over the accepted offers made in the period, of the
//!   hours from the slot freeing (the first offer of that provider and start time since it was
//!   last filled) to the booking (the acceptance).
//! - `credential_compliance` = active clinical staff of the clinic (hired, not terminated) who
//!   hold every required credential valid on the period's last day / all of them; the rule is
//!   `missing_credentials`' (status active or pending renewal, not expired, no suspension or
//!   revocation in force), evaluated in one pass for every period.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Duration, Months, NaiveDate};
use chrono_tz::Tz;
use clinicdesk_domain::{
    credential_valid_on, local_day_bounds, parse_date, AdverseActionType, AdverseSpan,
    AppointmentStatus, Capability, ClinicId, CredentialStatus, DomainError, GoalTemplateId,
    KpiEventId, KpiEventType, PatientId, ScheduleStatus, StaffId,
};
use clinicdesk_store::tables::{
    appointments::Appointment, goals::GoalTemplate, kpi_events::KpiEvent, patients::Patient,
    staff::Staff,
};
use clinicdesk_store::{table, WriteTx};
use rusqlite::{params, Connection};
use serde::Serialize;

use super::time::{clinic_tz, parse_when};
use crate::access::{allowed, Scope};
use crate::error::{ApiError, ApiResult};
use crate::fields::Fields;
use crate::{App, Session};

/// The most periods one report covers (a year of days and then some).
pub const MAX_REPORT_PERIODS: usize = 400;
/// The metrics, by the keys goals use (seed 003; `goal_templates.metric_key`).
pub const METRIC_KEYS: [&str; 6] = [
    "no_show_rate",
    "cancellation_rate",
    "provider_utilization",
    "waitlist_fill_rate",
    "waitlist_time_to_fill_hours",
    "credential_compliance",
];
/// The KPI events staff record by hand; every other type is recorded by the operation itself.
pub const MANUAL_EVENT_TYPES: [KpiEventType; 5] = [
    KpiEventType::Custom,
    KpiEventType::QualityIncident,
    KpiEventType::SafetyAlert,
    KpiEventType::EquipmentUsed,
    KpiEventType::SupplyDepleted,
];
/// How far back a hand-recorded event may be dated.
const MAX_BACKDATE_DAYS: i64 = 366;
/// A hand-recorded event may be dated this far ahead of the clock (clocks of PCs differ).
const FUTURE_GRACE_MS: i64 = 5 * 60_000;
const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];
const HOUR_MS: f64 = 3_600_000.0;

/// An optional date column, as stored (YYYY-MM-DD).
type Dated = Option<String>;

/// The length of an aggregation period, in the clinic's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum KpiPeriod {
    Day,
    Week,
    Month,
}

impl KpiPeriod {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" => Ok(KpiPeriod::Day),
            "week" => Ok(KpiPeriod::Week),
            "month" => Ok(KpiPeriod::Month),
            other => Err(DomainError::invalid(
                "period",
                format!("'{other}' is not a period (day, week or month)"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KpiPeriod::Day => "day",
            KpiPeriod::Week => "week",
            KpiPeriod::Month => "month",
        }
    }

    /// The first day of the period holding `d` (weeks start on Monday).
    pub fn start_of(self, d: NaiveDate) -> NaiveDate {
        match self {
            KpiPeriod::Day => d,
            KpiPeriod::Week => d - Duration::days(d.weekday().num_days_from_monday() as i64),
            KpiPeriod::Month => d.with_day(1).expect("day 1 exists"),
        }
    }

    /// The first day of the period after the one starting on `start`.
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            KpiPeriod::Day => start + Duration::days(1),
            KpiPeriod::Week => start + Duration::days(7),
            KpiPeriod::Month => start + Months::new(1),
        }
    }
}

/// One metric of one period: `value` = numerator / denominator (None without a denominator);
/// for the median time to fill, `numerator` is None and `denominator` the number of fills.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, specta::Type)]
pub struct Metric {
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

impl Metric {
    fn rate(numerator: f64, denominator: f64) -> Metric {
        Metric {
            value: (denominator > 0.0).then(|| numerator / denominator),
            numerator: Some(numerator),
            denominator: Some(denominator),
        }
    }
}

/// Every metric of one period.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct KpiRow {
    pub period_start: NaiveDate,
    /// The period's last day (inclusive).
    pub period_end: NaiveDate,
    pub no_show_rate: Metric,
    pub cancellation_rate: Metric,
    pub provider_utilization: Metric,
    pub waitlist_fill_rate: Metric,
    pub waitlist_time_to_fill_hours: Metric,
    pub credential_compliance: Metric,
}

impl KpiRow {
    /// The metric a goal's `metric_key` names.
    pub fn metric(&self, key: &str) -> Option<Metric> {
        Some(match key {
            "no_show_rate" => self.no_show_rate,
            "cancellation_rate" => self.cancellation_rate,
            "provider_utilization" => self.provider_utilization,
            "waitlist_fill_rate" => self.waitlist_fill_rate,
            "waitlist_time_to_fill_hours" => self.waitlist_time_to_fill_hours,
            "credential_compliance" => self.credential_compliance,
            _ => return None,
        })
    }
}

/// A clinic's KPIs, one row per period from the period holding `from` to the one holding `to`.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct KpiReport {
    pub clinic_id: ClinicId,
    pub timezone: String,
    pub period: KpiPeriod,
    /// First day of the first period, last day of the last.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<KpiRow>,
}

/// A goal with its value in the period holding the date asked about.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct GoalProgress {
    pub goal: GoalTemplate,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub target: f64,
    /// The value meets the target (false while there is no value).
    pub met: bool,
    /// value − target (None while there is no value).
    pub gap: Option<f64>,
}

// Aggregation --------------------------------------------------------------------------------

/// One period's bounds: local dates and the instants (UTC ms) they span.
struct Bucket {
    start: NaiveDate,
    next: NaiveDate,
    from_ms: i64,
    to_ms: i64,
}

#[derive(Default)]
struct Acc {
    completed: f64,
    no_show: f64,
    booked: f64,
    cancelled: f64,
    booked_minutes: f64,
    shift_minutes: f64,
    offers: f64,
    accepted: f64,
    fill_hours: Vec<f64>,
    compliant: f64,
    clinical_staff: f64,
}

fn buckets(tz: Tz, period: KpiPeriod, first: NaiveDate, n: usize) -> Vec<Bucket> {
    let mut out = Vec::with_capacity(n);
    let mut d = first;
    for _ in 0..n {
        let next = period.next(d);
        out.push(Bucket {
            start: d,
            next,
            from_ms: local_day_bounds(tz, d).0.timestamp_millis(),
            to_ms: local_day_bounds(tz, next).0.timestamp_millis(),
        });
        d = next;
    }
    out
}

fn bucket_of_instant(b: &[Bucket], t: i64) -> Option<usize> {
    let i = b.partition_point(|x| x.to_ms <= t);
    (i < b.len() && b[i].from_ms <= t).then_some(i)
}

fn bucket_of_date(b: &[Bucket], d: NaiveDate) -> Option<usize> {
    let i = b.partition_point(|x| x.next <= d);
    (i < b.len() && b[i].start <= d).then_some(i)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// The metrics of `n` consecutive periods starting on `first`, read on `c` (the caller holds a
/// read transaction so that every query sees the same data).
pub(crate) fn compute(
    c: &Connection,
    clinic: ClinicId,
    tz: Tz,
    period: KpiPeriod,
    first: NaiveDate,
    n: usize,
) -> ApiResult<Vec<KpiRow>> {
    let b = buckets(tz, period, first, n);
    let (Some(lo), Some(hi)) = (b.first(), b.last()) else {
        return Ok(Vec::new());
    };
    let (from_ms, to_ms) = (lo.from_ms, hi.to_ms);
    let clinic_id = clinic.to_string();
    let mut acc: Vec<Acc> = (0..b.len()).map(|_| Acc::default()).collect();

    // Appointments, by their scheduled start.
    let mut q = c.prepare_cached(
        "SELECT start_at, end_at, status FROM appointments
         WHERE clinic_id = ?1 AND start_at >= ?2 AND start_at < ?3 AND deleted_at IS NULL",
    )?;
    let mut rows = q.query(params![clinic_id, from_ms, to_ms])?;
    while let Some(r) = rows.next()? {
        let (start, end): (i64, i64) = (r.get(0)?, r.get(1)?);
        let Some(i) = bucket_of_instant(&b, start) else {
            continue;
        };
        let a = &mut acc[i];
        let status = r.get_ref(2)?.as_str().unwrap_or("");
        match status {
            "completed" => a.completed += 1.0,
            "no_show" => a.no_show += 1.0,
            "cancelled" => a.cancelled += 1.0,
            _ => {}
        }
        if status != "rescheduled" {
            a.booked += 1.0;
        }
        if matches!(
            status,
            "pending" | "confirmed" | "reminded" | "checked_in" | "in_progress" | "completed"
        ) {
            a.booked_minutes += (end - start) as f64 / 60_000.0;
        }
    }

    // Shift minutes of clinical staff, by the assignment's (local) date. An assignment starts
    // on its date, so a day's margin either side finds every one on the time index.
    let mut q = c.prepare_cached(&format!(
        "SELECT s.schedule_date, s.start_at, s.end_at FROM ops_staff_schedules s
         JOIN staff_profiles p ON p.id = s.staff_id
         WHERE s.clinic_id = ?1 AND s.start_at >= ?2 AND s.start_at < ?3 AND s.deleted_at IS NULL
           AND s.status IN {} AND p.is_clinical = 1",
        ScheduleStatus::sql_in(ScheduleStatus::is_worked)
    ))?;
    let day = 86_400_000;
    let mut rows = q.query(params![clinic_id, from_ms - day, to_ms + day])?;
    while let Some(r) = rows.next()? {
        let date = r.get_ref(0)?.as_str().unwrap_or("");
        let Ok(date) = NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
            continue;
        };
        if let Some(i) = bucket_of_date(&b, date) {
            let (s, e): (i64, i64) = (r.get(1)?, r.get(2)?);
            acc[i].shift_minutes += (e - s) as f64 / 60_000.0;
        }
    }

    // Waitlist offers, by when they were made.
    let offers: Vec<(String, i64, i64, String, Option<i64>)> = c
        .prepare_cached(
            "SELECT provider_id, start_at, created_at, outcome, decided_at FROM waitlist_offers
             WHERE clinic_id = ?1 AND created_at >= ?2 AND created_at < ?3 AND deleted_at IS NULL",
        )?
        .query_map(params![clinic_id, from_ms, to_ms], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut chain = c.prepare_cached(
        "SELECT created_at, outcome FROM waitlist_offers
         WHERE provider_id = ?1 AND start_at = ?2 AND clinic_id = ?3 AND created_at < ?4 AND deleted_at IS NULL
         ORDER BY created_at DESC",
    )?;
    for (provider, start, created, outcome, decided) in offers {
        let Some(i) = bucket_of_instant(&b, created) else {
            continue;
        };
        acc[i].offers += 1.0;
        if outcome != "accepted" {
            continue;
        }
        acc[i].accepted += 1.0;
        // The slot freed when the first offer of this chain was made: walk back over the
        // earlier offers of the same slot until one that was accepted (an earlier fill).
        let mut freed = created;
        let earlier = chain
            .query_map(params![provider, start, clinic_id, created], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (at, o) in earlier {
            if o == "accepted" {
                break;
            }
            freed = at;
        }
        if let Some(d) = decided {
            acc[i].fill_hours.push((d - freed).max(0) as f64 / HOUR_MS);
        }
    }

    // Credential compliance on each period's last day.
    let last_days: Vec<NaiveDate> = b.iter().map(|x| x.next - Duration::days(1)).collect();
    for (i, (ok, all)) in compliance(c, clinic, &last_days)?.into_iter().enumerate() {
        acc[i].compliant = ok;
        acc[i].clinical_staff = all;
    }

    Ok(b.iter()
        .zip(acc)
        .map(|(b, a)| {
            let fills = a.fill_hours.len() as f64;
            KpiRow {
                period_start: b.start,
                period_end: b.next - Duration::days(1),
                no_show_rate: Metric::rate(a.no_show, a.completed + a.no_show),
                cancellation_rate: Metric::rate(a.cancelled, a.booked),
                provider_utilization: Metric::rate(a.booked_minutes, a.shift_minutes),
                waitlist_fill_rate: Metric::rate(a.accepted, a.offers),
                waitlist_time_to_fill_hours: Metric {
                    value: median(a.fill_hours),
                    numerator: None,
                    denominator: Some(fills),
                },
                credential_compliance: Metric::rate(a.compliant, a.clinical_staff),
            }
        })
        .collect())
}

/// For each date: (clinical staff holding every required credential, clinical staff) among
/// the clinic's active clinical staff employed that day. The rule of `missing_credentials`
/// (without an appointment type), evaluated for every date from one read of the credentials.
pub fn compliance(
    c: &Connection,
    clinic: ClinicId,
    dates: &[NaiveDate],
) -> ApiResult<Vec<(f64, f64)>> {
    struct Type {
        id: String,
        disciplines: Vec<String>,
        clinical: bool,
    }
    let types: Vec<Type> = c
        .prepare_cached(
            "SELECT id, required_for_disciplines, is_required_for_clinical FROM ops_credential_types
             WHERE deleted_at IS NULL AND is_active = 1",
        )?
        .query_map([], |r| {
            let d: String = r.get(1)?;
            Ok(Type {
                id: r.get(0)?,
                disciplines: serde_json::from_str(&d).unwrap_or_default(),
                clinical: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let clinic_id = clinic.to_string();
    // (id, discipline, hire date, termination date)
    let staff: Vec<(String, Option<String>, Option<String>, Dated)> = c
        .prepare_cached(
            "SELECT id, discipline, hire_date, termination_date FROM staff_profiles
             WHERE primary_clinic_id = ?1 AND is_clinical = 1 AND is_active = 1 AND deleted_at IS NULL",
        )?
        .query_map([&clinic_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    // Credentials by (staff, type): (status, expiry date, adverse actions).
    type Held = (CredentialStatus, Option<NaiveDate>, Vec<AdverseSpan>);
    let mut by_id: HashMap<String, ((String, String), Held)> = HashMap::new();
    let mut q = c.prepare_cached(
        "SELECT c.id, c.staff_id, c.credential_type_id, c.status, c.expiry_date FROM ops_credentials c
         JOIN staff_profiles s ON s.id = c.staff_id
         WHERE s.primary_clinic_id = ?1 AND s.is_clinical = 1 AND c.deleted_at IS NULL",
    )?;
    let mut rows = q.query([&clinic_id])?;
    while let Some(r) = rows.next()? {
        let status = CredentialStatus::parse(&r.get::<_, String>(3)?)?;
        let expiry = r
            .get::<_, Dated>(4)?
            .map(|e| parse_date("expiry_date", &e))
            .transpose()?;
        by_id.insert(
            r.get(0)?,
            ((r.get(1)?, r.get(2)?), (status, expiry, Vec::new())),
        );
    }
    let mut q = c.prepare_cached(
        "SELECT a.credential_id, a.action_type, a.start_date, a.end_date FROM ops_adverse_actions a
         JOIN ops_credentials c ON c.id = a.credential_id JOIN staff_profiles s ON s.id = c.staff_id
         WHERE s.primary_clinic_id = ?1 AND a.deleted_at IS NULL",
    )?;
    let mut rows = q.query([&clinic_id])?;
    while let Some(r) = rows.next()? {
        if let Some((_, (_, _, acts))) = by_id.get_mut(&r.get::<_, String>(0)?) {
            acts.push(AdverseSpan {
                action_type: AdverseActionType::parse(&r.get::<_, String>(1)?)?,
                start: parse_date("start_date", &r.get::<_, String>(2)?)?,
                end: r
                    .get::<_, Dated>(3)?
                    .map(|e| parse_date("end_date", &e))
                    .transpose()?,
            });
        }
    }
    let mut held: HashMap<(String, String), Vec<Held>> = HashMap::new();
    for (_, (key, h)) in by_id {
        held.entry(key).or_default().push(h);
    }
    let required: Vec<Vec<&str>> = staff
        .iter()
        .map(|(_, discipline, _, _)| {
            types
                .iter()
                .filter(|t| {
                    t.clinical
                        || discipline
                            .as_ref()
                            .is_some_and(|d| t.disciplines.iter().any(|x| x == d))
                })
                .map(|t| t.id.as_str())
                .collect()
        })
        .collect();
    let mut out = Vec::with_capacity(dates.len());
    for date in dates {
        let day = date.format("%Y-%m-%d").to_string();
        let day = day.as_str();
        let (mut ok, mut all) = (0.0, 0.0);
        for ((id, _, hired, left), required) in staff.iter().zip(&required) {
            if hired.as_deref().is_some_and(|h| h > day) || left.as_deref().is_some_and(|l| l < day)
            {
                continue;
            }
            all += 1.0;
            let holds = |t: &str| {
                held.get(&(id.clone(), t.to_string())).is_some_and(|creds| {
                    creds.iter().any(|(status, expiry, acts)| {
                        credential_valid_on(*status, *expiry, acts, *date)
                    })
                })
            };
            if required.iter().all(|t| holds(t)) {
                ok += 1.0;
            }
        }
        out.push((ok, all));
    }
    Ok(out)
}

fn compare(value: f64, comparator: &str, target: f64) -> bool {
    match comparator {
        "lt" => value < target,
        "lte" => value <= target,
        "gt" => value > target,
        "gte" => value >= target,
        _ => false,
    }
}

/// The goal target's number: a rate may be written as a fraction (0.05) or a percentage (5%).
fn parse_target(metric: &str, raw: &str) -> Result<f64, DomainError> {
    let t = raw.trim();
    let bad = || {
        DomainError::invalid(
            "target_value",
            format!("'{t}' is not a number (for example 0.05 or 5%)"),
        )
    };
    let (number, percent) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (t, false),
    };
    let mut v: f64 = number.parse().map_err(|_| bad())?;
    if !v.is_finite() {
        return Err(bad());
    }
    if percent {
        if metric == "waitlist_time_to_fill_hours" {
            return Err(DomainError::invalid(
                "target_value",
                "the time to fill is in hours, not a percentage",
            ));
        }
        v /= 100.0;
    }
    let (lo, hi, what) = match metric {
        "waitlist_time_to_fill_hours" => (0.0, 24.0 * 366.0, "between 0 and 8784 hours"),
        "provider_utilization" => (0.0, 10.0, "between 0 and 10 (0% and 1000%)"),
        _ => (0.0, 1.0, "a rate between 0 and 1 (0% and 100%)"),
    };
    if !(lo..=hi).contains(&v) {
        return Err(DomainError::invalid(
            "target_value",
            format!("must be {what}"),
        ));
    }
    Ok(v)
}

fn goal_order(g: &GoalTemplate) -> (bool, String) {
    (!g.is_system, g.name.to_lowercase())
}

// Events of the appointment flow ---------------------------------------------------------------

fn event(tx: &WriteTx<'_>, tz: Tz, kind: KpiEventType, clinic: ClinicId, at: i64) -> KpiEvent {
    let date = chrono::DateTime::from_timestamp_millis(at)
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive();
    KpiEvent {
        id: KpiEventId::new(),
        event_type: kind,
        event_name: kind.as_str().replace('_', " "),
        clinic_id: clinic,
        staff_id: None,
        patient_id: None,
        case_id: None,
        event_timestamp: at,
        event_date: date,
        metric_value: None,
        metric_unit: None,
        dimensions: serde_json::json!({}),
        related_entity_type: None,
        related_entity_id: None,
        tags: Vec::new(),
        metadata: serde_json::json!({}),
        triggered_by: tx
            .ctx
            .user_id
            .as_deref()
            .and_then(|u| clinicdesk_domain::UserId::parse(u).ok()),
        created_at: tx.ctx.now_ms,
    }
}

/// Record a KPI event built by `event` (and adjusted by the caller) in the caller's transaction.
pub(crate) fn record(tx: &WriteTx<'_>, e: &KpiEvent) -> ApiResult<()> {
    table::insert(tx, e)?;
    Ok(())
}

/// `room_occupied` when an appointment with a room starts (→ in_progress), `room_released`
/// (with the minutes occupied) when it leaves in_progress, and `treatment_completed` (with the
/// treatment's minutes) when it completes. Called by `set_appointment_status` after the change,
/// in its transaction.
pub(crate) fn appointment_flow_events(
    tx: &WriteTx<'_>,
    tz: Tz,
    a: &Appointment,
    from: AppointmentStatus,
) -> ApiResult<()> {
    use AppointmentStatus::{Completed, InProgress};
    let now = tx.ctx.now_ms;
    let entering = a.status == InProgress && from != InProgress;
    let leaving = from == InProgress && a.status != InProgress;
    let minutes = a.started_at.map(|s| ((now - s).max(0) / 60_000) as f64);
    let base = |kind| {
        let mut e = event(tx, tz, kind, a.clinic_id, now);
        e.staff_id = Some(a.provider_id);
        e.patient_id = Some(a.patient_id);
        e.case_id = a.case_id;
        e
    };
    if let Some(room) = a.room_id.filter(|_| entering || leaving) {
        let mut e = base(if entering {
            KpiEventType::RoomOccupied
        } else {
            KpiEventType::RoomReleased
        });
        e.related_entity_type = Some("room".into());
        e.related_entity_id = Some(room.to_string());
        e.dimensions = serde_json::json!({ "appointment_id": a.id, "room_id": room });
        if leaving {
            e.metric_value = minutes;
            e.metric_unit = minutes.map(|_| "minutes".into());
        }
        record(tx, &e)?;
    }
    if leaving && a.status == Completed {
        let mut e = base(KpiEventType::TreatmentCompleted);
        e.related_entity_type = Some("appointment".into());
        e.related_entity_id = Some(a.id.to_string());
        e.dimensions = serde_json::json!({ "source": a.source.as_str(), "appointment_type_id": a.appointment_type_id });
        e.metric_value = minutes;
        e.metric_unit = minutes.map(|_| "minutes".into());
        record(tx, &e)?;
    }
    Ok(())
}

/// A KPI event for the clinic, stamped now in its zone (for other modules: capacity).
pub(crate) fn new_event(
    tx: &WriteTx<'_>,
    tz: Tz,
    kind: KpiEventType,
    clinic: ClinicId,
) -> KpiEvent {
    event(tx, tz, kind, clinic, tx.ctx.now_ms)
}

impl App {
    // Aggregates ----------------------------------------------------------------------------

    /// The clinic's KPIs per local day, week (Monday first) or month, one row for each period
    /// from the one holding `from` to the one holding `to` (dates, inclusive). Computed from
    /// the data each time (read-only).
    pub fn kpi_report(
        &self,
        s: &Session,
        clinic: ClinicId,
        period: &str,
        from: &str,
        to: &str,
    ) -> ApiResult<KpiReport> {
        self.require(s, Capability::ReadKpis, Scope::Clinic(clinic), "read KPIs")?;
        let period = KpiPeriod::parse(period)?;
        let (from, to) = (parse_date("from", from)?, parse_date("to", to)?);
        if to < from {
            return Err(DomainError::invalid("to", "must not be before from").into());
        }
        let first = period.start_of(from);
        let mut n = 0;
        let mut d = first;
        while d <= to {
            n += 1;
            if n > MAX_REPORT_PERIODS {
                return Err(DomainError::invalid(
                    "to",
                    format!(
                        "a report covers at most {MAX_REPORT_PERIODS} periods (use a longer period)"
                    ),
                )
                .into());
            }
            d = period.next(d);
        }
        self.store.read(|c| {
            let tx = c.unchecked_transaction()?;
            let (clinic_row, tz) = clinic_tz(&tx, clinic)?;
            let rows = compute(&tx, clinic, tz, period, first, n)?;
            Ok(KpiReport {
                clinic_id: clinic,
                timezone: clinic_row.timezone,
                period,
                from: first,
                to: d - Duration::days(1),
                rows,
            })
        })
    }

    // Goals ----------------------------------------------------------------------------------

    /// The active goals that apply to the clinic: the system's and the clinic's own.
    pub fn list_goals(&self, s: &Session, clinic: ClinicId) -> ApiResult<Vec<GoalTemplate>> {
        self.require(s, Capability::ReadKpis, Scope::Clinic(clinic), "see goals")?;
        self.store.read(|c| {
            clinic_tz(c, clinic)?;
            let mut v = table::select::<GoalTemplate, _>(
                c,
                "WHERE (clinic_id IS NULL OR clinic_id = ?1) AND is_active = 1 AND deleted_at IS NULL",
                [clinic.to_string()],
            )?;
            v.sort_by_key(goal_order);
            Ok(v)
        })
    }

    /// A clinic goal. Fields: name, metric_key (see `METRIC_KEYS`), comparator (lt, lte, gt,
    /// gte), target_value (a rate as 0.05 or 5%; utilization as a ratio; time to fill in
    /// hours), period (day, week, month; default month), description. Managers and admins
    /// (the KPI capability).
    pub fn create_goal(
        &self,
        s: &Session,
        clinic: ClinicId,
        f: &Fields,
    ) -> ApiResult<GoalTemplate> {
        self.require(s, Capability::ReadKpis, Scope::Clinic(clinic), "set goals")?;
        self.tx(s, |tx| {
            clinic_tz(tx, clinic)?;
            let name = f.required_name("name", true, "")?;
            let description = f.text("description")?.flatten();
            if description.as_ref().is_some_and(|d| d.chars().count() > 1000) {
                return Err(DomainError::invalid("description", "must be at most 1000 characters").into());
            }
            let metric = f
                .text("metric_key")?
                .flatten()
                .ok_or_else(|| DomainError::invalid("metric_key", "is required"))?
                .to_ascii_lowercase();
            if !METRIC_KEYS.contains(&metric.as_str()) {
                return Err(DomainError::invalid(
                    "metric_key",
                    format!("'{metric}' is not a metric; expected one of: {}", METRIC_KEYS.join(", ")),
                )
                .into());
            }
            let comparator = match f
                .text("comparator")?
                .flatten()
                .ok_or_else(|| DomainError::invalid("comparator", "is required"))?
                .to_ascii_lowercase()
                .as_str()
            {
                "lt" | "<" => "lt",
                "lte" | "<=" => "lte",
                "gt" | ">" => "gt",
                "gte" | ">=" => "gte",
                other => {
                    return Err(DomainError::invalid(
                        "comparator",
                        format!("'{other}' is not a comparator (lt, lte, gt or gte)"),
                    )
                    .into())
                }
            };
            let target = parse_target(
                &metric,
                &f.text("target_value")?
                    .flatten()
                    .ok_or_else(|| DomainError::invalid("target_value", "is required"))?,
            )?;
            let period = f
                .parsed("period", KpiPeriod::parse)?
                .unwrap_or(KpiPeriod::Month);
            f.finish()?;
            let taken: bool = tx.query_row(
                "SELECT count(*) > 0 FROM goal_templates WHERE clinic_id = ?1 AND lower(name) = lower(?2)
                 AND is_active = 1 AND deleted_at IS NULL",
                params![clinic.to_string(), name],
                |r| r.get(0),
            )?;
            if taken {
                return Err(ApiError::Conflict(format!(
                    "this clinic already has a goal named '{name}'"
                )));
            }
            let now = tx.ctx.now_ms;
            let g = GoalTemplate {
                id: GoalTemplateId::new(),
                clinic_id: Some(clinic),
                name,
                description,
                metric_key: metric,
                comparator: comparator.into(),
                target_value: target,
                period: period.as_str().into(),
                is_system: false,
                is_active: true,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            table::insert(tx, &g)?;
            Ok(g)
        })
    }

    /// Each active goal of the clinic (system and own) with its metric in the goal's period
    /// holding `date` (default: the clinic's today), the target, whether it is met and the gap.
    pub fn goal_progress(
        &self,
        s: &Session,
        clinic: ClinicId,
        date: Option<&str>,
    ) -> ApiResult<Vec<GoalProgress>> {
        self.require(
            s,
            Capability::ReadKpis,
            Scope::Clinic(clinic),
            "see goal progress",
        )?;
        let date = date.map(|d| parse_date("date", d)).transpose()?;
        self.store.read(|c| {
            let tx = c.unchecked_transaction()?;
            let (_, tz) = clinic_tz(&tx, clinic)?;
            let date = date.unwrap_or_else(|| {
                chrono::Utc::now().with_timezone(&tz).date_naive()
            });
            let mut goals = table::select::<GoalTemplate, _>(
                &tx,
                "WHERE (clinic_id IS NULL OR clinic_id = ?1) AND is_active = 1 AND deleted_at IS NULL",
                [clinic.to_string()],
            )?;
            goals.sort_by_key(goal_order);
            let mut rows: BTreeMap<KpiPeriod, KpiRow> = BTreeMap::new();
            let mut out = Vec::with_capacity(goals.len());
            for g in goals {
                let period = KpiPeriod::parse(&g.period)?;
                let row = match rows.entry(period) {
                    Entry::Occupied(o) => o.into_mut(),
                    Entry::Vacant(v) => v.insert(
                        compute(&tx, clinic, tz, period, period.start_of(date), 1)?
                            .pop()
                            .ok_or_else(|| ApiError::Conflict("no period to measure".into()))?,
                    ),
                };
                let m = row.metric(&g.metric_key).unwrap_or_default();
                out.push(GoalProgress {
                    period_start: row.period_start,
                    period_end: row.period_end,
                    value: m.value,
                    numerator: m.numerator,
                    denominator: m.denominator,
                    target: g.target_value,
                    met: m.value.is_some_and(|v| compare(v, &g.comparator, g.target_value)),
                    gap: m.value.map(|v| v - g.target_value),
                    goal: g,
                });
            }
            Ok(out)
        })
    }

    // Events staff report ------------------------------------------------------------------

    /// Record a KPI event staff report by hand (front desk, clinicians, managers, admins; not
    /// viewers). Fields: event_type (custom, quality_incident, safety_alert, equipment_used,
    /// supply_depleted), event_name (required for custom), item (the equipment or supply;
    /// required for equipment_used and supply_depleted), severity (low, medium, high,
    /// critical; incidents and alerts), metric_value, metric_unit, staff_id, patient_id,
    /// occurred_at (instant or clinic wall-clock time; default now; not in the future, at most
    /// a year back), notes, tags (comma list).
    pub fn record_kpi_event(
        &self,
        s: &Session,
        clinic: ClinicId,
        f: &Fields,
    ) -> ApiResult<KpiEvent> {
        let roles = self.roles(s)?;
        if !allowed(&roles, Capability::ManageSchedule, Scope::Clinic(clinic)) {
            self.require(
                s,
                Capability::UpdateOwnCases,
                Scope::Clinic(clinic),
                "record KPI events",
            )?;
        }
        self.tx(s, |tx| {
            let (_, tz) = clinic_tz(tx, clinic)?;
            let now = tx.ctx.now_ms;
            let kind = f
                .parsed("event_type", KpiEventType::parse)?
                .ok_or_else(|| DomainError::invalid("event_type", "is required"))?;
            if !MANUAL_EVENT_TYPES.contains(&kind) {
                return Err(DomainError::invalid(
                    "event_type",
                    format!(
                        "{kind} events are recorded by the app itself; record one of: {}",
                        MANUAL_EVENT_TYPES.map(|k| k.as_str()).join(", ")
                    ),
                )
                .into());
            }
            let name = match f.name("event_name")? {
                Some(n) => n,
                None if kind == KpiEventType::Custom => {
                    return Err(DomainError::invalid("event_name", "a custom event needs a name").into())
                }
                None => kind.as_str().replace('_', " "),
            };
            let item = f.name("item")?;
            let needs_item = matches!(kind, KpiEventType::EquipmentUsed | KpiEventType::SupplyDepleted);
            if needs_item && item.is_none() {
                return Err(DomainError::invalid(
                    "item",
                    format!("say which {} (item=…)", if kind == KpiEventType::EquipmentUsed { "equipment" } else { "supply" }),
                )
                .into());
            }
            let severity = match f.text("severity")?.flatten().map(|v| v.to_ascii_lowercase()) {
                None => None,
                Some(v) if !matches!(kind, KpiEventType::QualityIncident | KpiEventType::SafetyAlert | KpiEventType::Custom) => {
                    return Err(DomainError::invalid("severity", format!("a severity ('{v}') applies to incidents, alerts and custom events only")).into())
                }
                Some(v) if SEVERITIES.contains(&v.as_str()) => Some(v),
                Some(v) => {
                    return Err(DomainError::invalid("severity", format!("'{v}' is not a severity (low, medium, high or critical)")).into())
                }
            };
            let value = match f.text("metric_value")?.flatten() {
                None => None,
                Some(v) => {
                    let n: f64 = v.parse().ok().filter(|n: &f64| n.is_finite()).ok_or_else(|| {
                        DomainError::invalid("metric_value", format!("'{v}' is not a number"))
                    })?;
                    if needs_item && n < 0.0 {
                        return Err(DomainError::invalid("metric_value", "must not be negative").into());
                    }
                    Some(n)
                }
            };
            let unit = f.text("metric_unit")?.flatten();
            if let Some(u) = &unit {
                if value.is_none() {
                    return Err(DomainError::invalid("metric_unit", "give a metric_value with a unit").into());
                }
                if u.chars().count() > 32 {
                    return Err(DomainError::invalid("metric_unit", "must be at most 32 characters").into());
                }
            }
            let staff = f.parsed("staff_id", StaffId::parse)?;
            if let Some(st) = staff {
                table::get_live::<Staff>(tx, &st)?;
            }
            let patient = f.parsed("patient_id", PatientId::parse)?;
            if let Some(p) = patient {
                table::get_live::<Patient>(tx, &p)?;
            }
            let at = match f.text("occurred_at")?.flatten() {
                None => now,
                Some(v) => parse_when("occurred_at", tz, &v)?.timestamp_millis(),
            };
            if at > now + FUTURE_GRACE_MS {
                return Err(DomainError::invalid("occurred_at", "must not be in the future").into());
            }
            if at < now - MAX_BACKDATE_DAYS * 86_400_000 {
                return Err(DomainError::invalid("occurred_at", format!("must be within the last {MAX_BACKDATE_DAYS} days")).into());
            }
            let notes = f.text("notes")?.flatten();
            if notes.as_ref().is_some_and(|n| n.chars().count() > 2000) {
                return Err(DomainError::invalid("notes", "must be at most 2000 characters").into());
            }
            let mut tags: Vec<String> = Vec::new();
            for t in f.text("tags")?.flatten().unwrap_or_default().split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if t.chars().count() > 50 {
                    return Err(DomainError::invalid("tags", format!("'{t}' is longer than 50 characters")).into());
                }
                if !tags.iter().any(|x| x == t) {
                    tags.push(t.to_string());
                }
            }
            if tags.len() > 20 {
                return Err(DomainError::invalid("tags", "at most 20 tags").into());
            }
            f.finish()?;
            let mut e = event(tx, tz, kind, clinic, at);
            e.event_name = name;
            e.staff_id = staff;
            e.patient_id = patient;
            e.metric_value = value;
            e.metric_unit = unit;
            let mut dims = serde_json::Map::new();
            dims.insert("reported".into(), true.into());
            if let Some(i) = item {
                dims.insert("item".into(), i.into());
            }
            if let Some(sv) = severity {
                dims.insert("severity".into(), sv.into());
            }
            e.dimensions = serde_json::Value::Object(dims);
            e.tags = tags;
            if let Some(n) = notes {
                e.metadata = serde_json::json!({ "notes": n });
            }
            record(tx, &e)?;
            Ok(e)
        })
    }
}
