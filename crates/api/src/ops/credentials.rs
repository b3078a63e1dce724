//! The credential lifecycle and the manager's view of it.
//!
//! - Verifications, adverse actions (suspension, revocation, probation, restriction) and
//!   renewals; each is one transaction that also re-evaluates the staff member, so a suspension
//!   that is already in force suspends the credential (and raises coverage needs) at once.
//! - The evaluator ([`App::evaluate_credentials`], a system job that housekeeping runs at
//!   start-up and every minute): on each clinic's local date, past expiry → expired (one
//!   `credential_expired` KPI event per credential and expiry date), suspension and revocation
//!   periods applied and suspensions lifted after their end date, one alert per credential,
//!   threshold and expiry date (the smallest threshold reached; never a duplicate), and one
//!   `credential_lapse` coverage need per shift assignment that falls in a lapse — cancelled
//!   again when the credential becomes valid for that shift. Running it twice changes nothing.
//! - The manager's view: expired and expiring credentials, the at-risk list (assigned shifts and
//!   booked appointments that fall in a lapse of a credential the staff member's discipline
//!   requires), alerts and their acknowledgement.
//!
//! A credential is valid on a date when it is neither revoked nor expired, the date is not
//! after its expiry date (the expiry date is the last valid day, as for the booking rules), and
//! no suspension or revocation is in force on that date.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use clinicdesk_domain::{
    credential_valid_on, has_suspensions, local_date, local_day_bounds, revoked_on, suspended_on,
    AdverseActionId, AdverseActionType, AppointmentId, AppointmentStatus, Capability, ClinicId,
    CoverageNeedId, CoverageNeedStatus, CoverageReason, CredentialAlertId, CredentialId,
    CredentialStatus, CredentialTypeId, CredentialVerificationId, DomainError, KpiEventType,
    PatientId, ScheduleStatus, ShiftId, StaffId, StaffScheduleId, VerificationMethod,
    VerificationStatus,
};
use clinicdesk_store::tables::{
    adverse_actions::AdverseAction, clinics::Clinic, coverage_needs, coverage_needs::CoverageNeed,
    credential_alerts::CredentialAlert, credential_types::CredentialType, credentials::Credential,
    staff::Staff, staff_schedules::StaffSchedule, verifications::CredentialVerification,
};
use clinicdesk_store::{table, WriteTx};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::access::{clinics_with, Scope};
use crate::error::{ApiError, ApiResult};
use crate::fields::Fields;
use crate::read_audit::{PatientRead, Shown};
use crate::{App, Session};

/// How far ahead (days from the clinic's today) the evaluator checks assigned shifts, and the
/// default horizon of the at-risk list.
pub const AT_RISK_HORIZON_DAYS: i64 = 90;
/// Default "expiring within" window of the manager's view (the usual ones: 7, 30, 60, 90).
const DEFAULT_WITHIN_DAYS: i64 = 90;
/// Shifts and appointments listed per at-risk staff member unless the caller asks for more:
/// in the at-risk view, and in the dashboard (a preview; `more_shifts`/`more_appointments`
/// say there is more).
const AT_RISK_ITEMS_PER_STAFF: usize = 10;
const DASHBOARD_ITEMS_PER_STAFF: usize = 3;
/// The expiry windows counted on the dashboard.
const WINDOWS: [i64; 4] = [7, 30, 60, 90];
const DAY_MS: i64 = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

/// What one evaluator run changed.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
pub struct CredentialEvaluation {
    pub credentials_checked: usize,
    pub expired: usize,
    pub suspended: usize,
    /// Suspensions lifted after their end date.
    pub reinstated: usize,
    pub revoked: usize,
    pub alerts_raised: usize,
    pub kpi_events: usize,
    /// Assigned shifts (within the horizon) that fall in a lapse.
    pub shifts_at_risk: usize,
    pub coverage_needs_raised: usize,
    pub coverage_needs_cancelled: usize,
}

/// Filters of the manager's view. Every field is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
#[serde(default)]
pub struct CredentialFilter {
    /// One clinic (otherwise every clinic where the caller manages credentials).
    pub clinic_id: Option<ClinicId>,
    pub staff_id: Option<StaffId>,
    pub credential_type_id: Option<CredentialTypeId>,
    /// Expiring within this many days (0–365; default 90).
    pub within_days: Option<i64>,
    /// At-risk work up to this many days ahead (1–366; default 90).
    pub horizon_days: Option<i64>,
    /// Shifts and appointments listed per at-risk staff member (1–1000; default 10 in the
    /// at-risk view, 3 in the dashboard).
    pub limit: Option<i64>,
}

/// One credential on the expiry lists.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CredentialExpiry {
    pub credential_id: CredentialId,
    pub staff_id: StaffId,
    pub staff_name: String,
    pub clinic_id: ClinicId,
    pub credential_type_id: CredentialTypeId,
    pub credential_type: String,
    pub credential_number: Option<String>,
    pub expiry_date: NaiveDate,
    /// Days from the clinic's today to the expiry date (negative once expired).
    pub days_left: i64,
    pub status: CredentialStatus,
    /// The smallest of the 7/30/60/90-day windows the expiry falls in (none once expired).
    pub window_days: Option<i64>,
}

/// Cumulative counts: `within_30` includes `within_7`.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
pub struct ExpiryCounts {
    pub expired: usize,
    pub within_7: usize,
    pub within_30: usize,
    pub within_60: usize,
    pub within_90: usize,
}

/// Expired credentials and those expiring within `within_days`, soonest first. A credential
/// superseded by a valid one of the same type (a new licence recorded separately) is left out.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CredentialExpiries {
    pub within_days: i64,
    pub counts: ExpiryCounts,
    pub expired: Vec<CredentialExpiry>,
    pub expiring: Vec<CredentialExpiry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum LapseKind {
    /// No credential of the type on file.
    Missing,
    /// Expired before today (or marked expired).
    Expired,
    /// Will expire within the horizon.
    Expires,
    Suspended,
    Revoked,
}

/// A run of days without a valid credential of a required type.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Lapse {
    pub credential_type_id: CredentialTypeId,
    pub credential_type: String,
    /// The credential the lapse is about (the type's latest), when one is on file.
    pub credential_id: Option<CredentialId>,
    pub kind: LapseKind,
    /// First day without a valid credential (the clinic's local date).
    pub from: NaiveDate,
    /// Last such day within the horizon; none when the lapse runs on past it.
    pub until: Option<NaiveDate>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AtRiskShift {
    pub schedule_id: StaffScheduleId,
    pub clinic_id: ClinicId,
    pub shift_id: ShiftId,
    pub schedule_date: NaiveDate,
    pub start_at: i64,
    pub end_at: i64,
    pub status: String,
    /// The open `credential_lapse` coverage need raised for it, if any.
    pub coverage_need_id: Option<CoverageNeedId>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AtRiskAppointment {
    pub appointment_id: AppointmentId,
    pub clinic_id: ClinicId,
    pub patient_id: PatientId,
    /// In the at-risk view; the dashboard's preview leaves names out (one lookup per row).
    pub patient_name: Option<String>,
    pub start_at: i64,
    pub end_at: i64,
    /// Local wall-clock start, "2027-03-01 09:00".
    pub local_start: String,
    pub status: AppointmentStatus,
    pub reason: String,
}

/// A staff member with work that falls in a lapse of a required credential.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AtRiskStaff {
    pub staff_id: StaffId,
    pub staff_name: String,
    pub clinic_id: ClinicId,
    pub discipline: Option<String>,
    pub lapses: Vec<Lapse>,
    /// The first `limit` affected shifts, in time order.
    pub shifts: Vec<AtRiskShift>,
    /// More affected shifts than listed.
    pub more_shifts: bool,
    pub appointments: Vec<AtRiskAppointment>,
    pub more_appointments: bool,
}

/// The manager's credential dashboard: expiries and the at-risk list in one read.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CredentialDashboard {
    #[serde(flatten)]
    pub expiries: CredentialExpiries,
    pub horizon_days: i64,
    pub at_risk: Vec<AtRiskStaff>,
}

/// An alert with what a manager needs to read it.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct CredentialAlertView {
    #[serde(flatten)]
    pub alert: CredentialAlert,
    pub staff_name: String,
    pub clinic_id: ClinicId,
    pub credential_type_id: CredentialTypeId,
    pub credential_type: String,
    /// About the credential's current expiry date (false once it was renewed).
    #[serde(deserialize_with = "table::bool_int")]
    #[specta(type = bool)]
    pub current: bool,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct VerificationRecorded {
    pub verification: CredentialVerification,
    pub credential: Credential,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AdverseActionRecorded {
    pub action: AdverseAction,
    pub credential: Credential,
}

/// A credential with its verifications, adverse actions and alerts (oldest first).
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CredentialHistory {
    pub credential: Credential,
    pub verifications: Vec<CredentialVerification>,
    pub adverse_actions: Vec<AdverseAction>,
    pub alerts: Vec<CredentialAlert>,
}

// ---------------------------------------------------------------------------------------------
// What is known about every credential (read once per evaluation or view)
// ---------------------------------------------------------------------------------------------

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn date_of(v: Option<String>) -> Option<NaiveDate> {
    v.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
}

fn next_day(d: NaiveDate) -> NaiveDate {
    d.succ_opt().unwrap_or(d)
}

fn prev_day(d: NaiveDate) -> NaiveDate {
    d.pred_opt().unwrap_or(d)
}

struct ClinicDay {
    tz: Tz,
    today: NaiveDate,
}

struct StaffRow {
    id: StaffId,
    name: String,
    clinic: ClinicId,
    discipline: Option<String>,
    is_clinical: bool,
    is_active: bool,
}

struct TypeRow {
    id: CredentialTypeId,
    name: String,
    thresholds: Vec<i64>,
    disciplines: Vec<String>,
    clinical: bool,
    /// Live and active: can be required.
    in_use: bool,
}

struct CredRow {
    id: CredentialId,
    staff: StaffId,
    ty: CredentialTypeId,
    number: Option<String>,
    expiry: Option<NaiveDate>,
    status: CredentialStatus,
}

struct Snapshot {
    clinics: HashMap<ClinicId, ClinicDay>,
    staff: HashMap<StaffId, StaffRow>,
    types: HashMap<CredentialTypeId, TypeRow>,
    creds: Vec<CredRow>,
    by_staff: HashMap<StaffId, Vec<usize>>,
    /// Suspensions and revocations (the actions that make a credential invalid).
    actions: HashMap<CredentialId, Vec<AdverseAction>>,
}

impl Snapshot {
    fn load(conn: &Connection, now_ms: i64, only_staff: Option<StaffId>) -> ApiResult<Snapshot> {
        let only = only_staff.map(|s| s.to_string());
        let mut clinics = HashMap::new();
        let rows: Vec<(String, String)> = conn
            .prepare_cached("SELECT id, timezone FROM clinics WHERE deleted_at IS NULL")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (id, tz) in rows {
            // Time zones are validated on the way in; a clinic without one has no local date.
            let Ok(tz) = tz.parse::<Tz>() else { continue };
            let today = local_date(tz, instant(now_ms));
            clinics.insert(ClinicId::parse(&id)?, ClinicDay { tz, today });
        }

        let mut staff = HashMap::new();
        {
            let mut q = conn.prepare_cached(
                "SELECT id, first_name || ' ' || last_name, primary_clinic_id, discipline, is_clinical, is_active
                 FROM staff_profiles WHERE deleted_at IS NULL AND (?1 IS NULL OR id = ?1)",
            )?;
            let mut rows = q.query([&only])?;
            while let Some(r) = rows.next()? {
                let id = StaffId::parse(text_at(r, 0)?)?;
                let discipline = r
                    .get_ref(3)?
                    .as_str_or_null()
                    .ok()
                    .flatten()
                    .map(|d| d.trim().to_lowercase())
                    .filter(|d| !d.is_empty());
                staff.insert(
                    id,
                    StaffRow {
                        id,
                        name: r.get(1)?,
                        clinic: ClinicId::parse(text_at(r, 2)?)?,
                        discipline,
                        is_clinical: r.get(4)?,
                        is_active: r.get(5)?,
                    },
                );
            }
        }

        let mut types = HashMap::new();
        {
            let mut q = conn.prepare_cached(
                "SELECT id, name, alert_thresholds_days, required_for_disciplines, is_required_for_clinical,
                        is_active = 1 AND deleted_at IS NULL
                 FROM ops_credential_types",
            )?;
            let mut rows = q.query([])?;
            while let Some(r) = rows.next()? {
                let id = CredentialTypeId::parse(text_at(r, 0)?)?;
                let mut thresholds: Vec<i64> =
                    serde_json::from_str(text_at(r, 2)?).unwrap_or_default();
                thresholds.retain(|t| *t >= 0);
                let disciplines: Vec<String> = serde_json::from_str::<Vec<String>>(text_at(r, 3)?)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|d| d.trim().to_lowercase())
                    .collect();
                types.insert(
                    id,
                    TypeRow {
                        id,
                        name: r.get(1)?,
                        thresholds,
                        disciplines,
                        clinical: r.get(4)?,
                        in_use: r.get(5)?,
                    },
                );
            }
        }

        let mut creds = Vec::new();
        let mut by_staff: HashMap<StaffId, Vec<usize>> = HashMap::new();
        {
            let mut q = conn.prepare_cached(
                "SELECT id, staff_id, credential_type_id, credential_number, expiry_date, status
                 FROM ops_credentials WHERE deleted_at IS NULL AND (?1 IS NULL OR staff_id = ?1)",
            )?;
            let mut rows = q.query([&only])?;
            while let Some(r) = rows.next()? {
                let st = StaffId::parse(text_at(r, 1)?)?;
                if !staff.contains_key(&st) {
                    continue;
                }
                let expiry = r
                    .get_ref(4)?
                    .as_str_or_null()
                    .ok()
                    .flatten()
                    .and_then(|e| NaiveDate::parse_from_str(e, "%Y-%m-%d").ok());
                by_staff.entry(st).or_default().push(creds.len());
                creds.push(CredRow {
                    id: CredentialId::parse(text_at(r, 0)?)?,
                    staff: st,
                    ty: CredentialTypeId::parse(text_at(r, 2)?)?,
                    number: r.get(3)?,
                    expiry,
                    status: CredentialStatus::parse(text_at(r, 5)?)?,
                });
            }
        }

        let mut actions: HashMap<CredentialId, Vec<AdverseAction>> = HashMap::new();
        for a in table::select::<AdverseAction, _>(
            conn,
            "WHERE deleted_at IS NULL AND action_type IN ('suspension', 'revocation')
               AND (?1 IS NULL OR staff_id = ?1) ORDER BY start_date",
            [&only],
        )? {
            actions.entry(a.credential_id).or_default().push(a);
        }
        Ok(Snapshot {
            clinics,
            staff,
            types,
            creds,
            by_staff,
            actions,
        })
    }

    fn acts(&self, c: CredentialId) -> &[AdverseAction] {
        self.actions.get(&c).map(Vec::as_slice).unwrap_or(&[])
    }

    fn creds_of(&self, st: StaffId) -> impl Iterator<Item = &CredRow> {
        self.by_staff
            .get(&st)
            .into_iter()
            .flatten()
            .map(|&i| &self.creds[i])
    }

    /// The staff member's clinic day (None when the clinic is gone).
    fn day_of(&self, st: &StaffRow) -> Option<&ClinicDay> {
        self.clinics.get(&st.clinic)
    }

    /// Credential types the staff member must hold: those required for their discipline, and
    /// those required for clinical work when they are clinical. Sorted by name.
    fn required_types(&self, st: &StaffRow) -> Vec<&TypeRow> {
        let mut v: Vec<&TypeRow> = self
            .types
            .values()
            .filter(|t| {
                t.in_use
                    && ((t.clinical && st.is_clinical)
                        || st
                            .discipline
                            .as_ref()
                            .is_some_and(|d| t.disciplines.iter().any(|x| x == d)))
            })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Another live credential of the same staff member and type that is (or will be) valid
    /// for longer makes `c` history rather than a problem.
    fn superseded(&self, c: &CredRow, today: NaiveDate) -> bool {
        let Some(e) = c.expiry else { return false };
        self.creds_of(c.staff).any(|o| {
            o.id != c.id
                && o.ty == c.ty
                && !matches!(
                    o.status,
                    CredentialStatus::Revoked | CredentialStatus::Expired
                )
                && o.expiry.is_none_or(|oe| oe > e && oe >= today)
        })
    }

    /// The lapses of `st`'s required credentials (optionally one type) from `today` to `last`.
    fn lapses(
        &self,
        st: &StaffRow,
        only_type: Option<CredentialTypeId>,
        today: NaiveDate,
        last: NaiveDate,
    ) -> Vec<Lapse> {
        let mut out = Vec::new();
        for t in self.required_types(st) {
            if only_type.is_some_and(|o| o != t.id) {
                continue;
            }
            let creds: Vec<&CredRow> = self.creds_of(st.id).filter(|c| c.ty == t.id).collect();
            out.extend(lapses_of_type(self, t, &creds, today, last));
        }
        out.sort_by_key(|l| l.from);
        out
    }
}

/// The status the evaluator settles a credential on for the clinic's `today`: revoked is
/// final; past expiry → expired; a suspension in force → suspended; a suspended credential
/// whose suspensions (adverse actions) have all ended → active again. A suspension set by hand
/// (no adverse action on record) stays until it is changed by hand.
fn settled_status(
    status: CredentialStatus,
    expiry: Option<NaiveDate>,
    acts: &[AdverseAction],
    today: NaiveDate,
) -> CredentialStatus {
    use CredentialStatus::*;
    if status == Revoked || revoked_on(acts, today).is_some() {
        return Revoked;
    }
    if expiry.is_some_and(|e| e < today) {
        return Expired;
    }
    if suspended_on(acts, today).is_some() {
        return Suspended;
    }
    if status == Suspended && has_suspensions(acts) {
        return Active;
    }
    status
}

/// The one credential rule (`clinicdesk_domain::credential_valid_on`) for a row of the snapshot.
fn valid_on(c: &CredRow, acts: &[AdverseAction], d: NaiveDate) -> bool {
    credential_valid_on(c.status, c.expiry, acts, d)
}

/// Why no credential of type `t` is valid on `d`, told about the type's latest credential.
fn describe(
    snap: &Snapshot,
    t: &TypeRow,
    creds: &[&CredRow],
    d: NaiveDate,
    today: NaiveDate,
) -> (LapseKind, String, Option<CredentialId>) {
    let Some(c) = creds.iter().max_by_key(|c| {
        (
            c.status != CredentialStatus::Revoked,
            c.expiry.unwrap_or(NaiveDate::MAX),
        )
    }) else {
        return (LapseKind::Missing, format!("no {} on file", t.name), None);
    };
    let acts = snap.acts(c.id);
    let name = &t.name;
    let id = Some(c.id);
    if let Some(a) = revoked_on(acts, d) {
        return (
            LapseKind::Revoked,
            format!("{name} revoked from {}", a.start_date),
            id,
        );
    }
    if c.status == CredentialStatus::Revoked {
        return (LapseKind::Revoked, format!("{name} revoked"), id);
    }
    if let Some(e) = c.expiry.filter(|e| *e < d) {
        return if e < today {
            (LapseKind::Expired, format!("{name} expired on {e}"), id)
        } else {
            (LapseKind::Expires, format!("{name} expires on {e}"), id)
        };
    }
    if c.status == CredentialStatus::Expired {
        return (LapseKind::Expired, format!("{name} is marked expired"), id);
    }
    match suspended_on(acts, d) {
        Some(a) => {
            let period = match a.end_date {
                Some(e) => format!("from {} to {e}", a.start_date),
                None => format!("from {}", a.start_date),
            };
            (
                LapseKind::Suspended,
                format!("{name} suspended {period}"),
                id,
            )
        }
        None => (LapseKind::Suspended, format!("{name} is suspended"), id),
    }
}

/// The runs of days in [today, last] on which none of `creds` (all of type `t`) is valid.
fn lapses_of_type(
    snap: &Snapshot,
    t: &TypeRow,
    creds: &[&CredRow],
    today: NaiveDate,
    last: NaiveDate,
) -> Vec<Lapse> {
    // Validity only changes on these days.
    let mut points = vec![today];
    for c in creds {
        if let Some(e) = c.expiry {
            points.push(next_day(e));
        }
        for a in snap.acts(c.id) {
            points.push(a.start_date);
            if let Some(e) = a.end_date {
                points.push(next_day(e));
            }
        }
    }
    points.retain(|p| *p >= today && *p <= last);
    points.sort();
    points.dedup();
    let mut out: Vec<Lapse> = Vec::new();
    for (i, &p) in points.iter().enumerate() {
        let end = points.get(i + 1).map_or(last, |n| prev_day(*n));
        if creds.iter().any(|c| valid_on(c, snap.acts(c.id), p)) {
            continue;
        }
        let (kind, reason, credential_id) = describe(snap, t, creds, p, today);
        if let Some(prev) = out.last_mut() {
            if prev.until == Some(prev_day(p))
                && prev.kind == kind
                && prev.credential_id == credential_id
            {
                prev.until = Some(end);
                continue;
            }
        }
        out.push(Lapse {
            credential_type_id: t.id,
            credential_type: t.name.clone(),
            credential_id,
            kind,
            from: p,
            until: Some(end),
            reason,
        });
    }
    for l in &mut out {
        if l.until == Some(last) {
            l.until = None;
        }
    }
    out
}

/// The lapses merged into disjoint runs of days, each with the reasons that apply.
fn merged_runs(lapses: &[Lapse], last: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut runs: Vec<(NaiveDate, NaiveDate)> = lapses
        .iter()
        .map(|l| (l.from, l.until.unwrap_or(last)))
        .collect();
    runs.sort();
    let mut out: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for (a, b) in runs {
        match out.last_mut() {
            Some(prev) if a <= next_day(prev.1) => prev.1 = prev.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn reasons_on(lapses: &[Lapse], d: NaiveDate, last: NaiveDate) -> String {
    lapses
        .iter()
        .filter(|l| l.from <= d && d <= l.until.unwrap_or(last))
        .map(|l| l.reason.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Which appointments `work_in_lapses` lists.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Appointments {
    None,
    Listed,
    WithNames,
}

/// A text column without copying it.
fn text_at<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    r.get_ref(i)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Shifts and appointments of a staff member in the lapses.
struct Work {
    shifts: Vec<AtRiskShift>,
    more_shifts: bool,
    appointments: Vec<AtRiskAppointment>,
    more_appointments: bool,
}

fn work_in_lapses(
    conn: &Connection,
    staff: StaffId,
    tz: Tz,
    lapses: &[Lapse],
    last: NaiveDate,
    cap: Option<usize>,
    appointments: Appointments,
) -> ApiResult<Work> {
    let mut w = Work {
        shifts: Vec::new(),
        more_shifts: false,
        appointments: Vec::new(),
        more_appointments: false,
    };
    let full = |n: usize| cap.is_some_and(|c| n >= c);
    let id = staff.to_string();
    let mut shifts = conn.prepare_cached(&format!(
        "SELECT s.id, s.clinic_id, s.shift_id, s.schedule_date, s.start_at, s.end_at, s.status, n.id
         FROM ops_staff_schedules s
         LEFT JOIN ops_shift_coverage_needs n ON n.schedule_id = s.id AND n.reason = 'credential_lapse'
              AND n.status = 'open' AND n.deleted_at IS NULL
         WHERE s.staff_id = ?1 AND s.start_at >= ?2 AND s.start_at < ?3 AND s.deleted_at IS NULL
           AND s.status IN {}
         ORDER BY s.start_at",
        ScheduleStatus::sql_in(ScheduleStatus::is_assigned)
    ))?;
    let (name, join) = if appointments == Appointments::WithNames {
        (
            "p.first_name || ' ' || p.last_name",
            "JOIN patients p ON p.id = a.patient_id",
        )
    } else {
        ("NULL", "")
    };
    let mut appts = conn.prepare_cached(&format!(
        "SELECT a.id, a.clinic_id, a.patient_id, {name}, a.start_at, a.end_at, a.status
         FROM appointments a {join}
         WHERE a.provider_id = ?1 AND a.start_at >= ?2 AND a.start_at < ?3 AND a.deleted_at IS NULL
           AND a.status IN {}
         ORDER BY a.start_at",
        AppointmentStatus::sql_in(AppointmentStatus::awaits_visit)
    ))?;
    for (from, to) in merged_runs(lapses, last) {
        let start = local_day_bounds(tz, from).0.timestamp_millis();
        let end = local_day_bounds(tz, to).1.timestamp_millis();
        if !w.more_shifts {
            // A margin of a day either side: the assignment's own date decides.
            let mut rows = shifts.query(params![id, start - DAY_MS, end + DAY_MS])?;
            while let Some(r) = rows.next()? {
                let Ok(date) = NaiveDate::parse_from_str(text_at(r, 3)?, "%Y-%m-%d") else {
                    continue;
                };
                if date < from || date > to {
                    continue;
                }
                if full(w.shifts.len()) {
                    w.more_shifts = true;
                    break;
                }
                let need = match r.get_ref(7)? {
                    rusqlite::types::ValueRef::Null => None,
                    _ => Some(CoverageNeedId::parse(text_at(r, 7)?)?),
                };
                w.shifts.push(AtRiskShift {
                    schedule_id: StaffScheduleId::parse(text_at(r, 0)?)?,
                    clinic_id: ClinicId::parse(text_at(r, 1)?)?,
                    shift_id: ShiftId::parse(text_at(r, 2)?)?,
                    schedule_date: date,
                    start_at: r.get(4)?,
                    end_at: r.get(5)?,
                    status: r.get(6)?,
                    coverage_need_id: need,
                    reason: reasons_on(lapses, date, last),
                });
            }
        }
        if appointments != Appointments::None && !w.more_appointments {
            let mut rows = appts.query(params![id, start, end])?;
            while let Some(r) = rows.next()? {
                if full(w.appointments.len()) {
                    w.more_appointments = true;
                    break;
                }
                let start_at: i64 = r.get(4)?;
                let local = instant(start_at).with_timezone(&tz);
                w.appointments.push(AtRiskAppointment {
                    appointment_id: AppointmentId::parse(text_at(r, 0)?)?,
                    clinic_id: ClinicId::parse(text_at(r, 1)?)?,
                    patient_id: PatientId::parse(text_at(r, 2)?)?,
                    patient_name: r.get(3)?,
                    start_at,
                    end_at: r.get(5)?,
                    local_start: local.format("%Y-%m-%d %H:%M").to_string(),
                    status: AppointmentStatus::parse(text_at(r, 6)?)?,
                    reason: reasons_on(lapses, local.date_naive(), last),
                });
            }
        }
    }
    Ok(w)
}

/// The smallest alert threshold reached on `today` for a credential expiring on `expiry`.
fn due_threshold(thresholds: &[i64], expiry: NaiveDate, today: NaiveDate) -> Option<i64> {
    let left = (expiry - today).num_days();
    thresholds.iter().copied().filter(|&t| left <= t).min()
}

fn alert_message(staff: &str, ty: &str, expiry: NaiveDate, today: NaiveDate) -> String {
    let left = (expiry - today).num_days();
    match left {
        l if l < 0 => format!("{staff}'s {ty} expired on {expiry}"),
        0 => format!("{staff}'s {ty} expires today ({expiry})"),
        1 => format!("{staff}'s {ty} expires tomorrow ({expiry})"),
        l => format!("{staff}'s {ty} expires on {expiry}, in {l} days"),
    }
}

/// Record a credential KPI event in the caller's transaction.
fn credential_kpi(
    tx: &WriteTx<'_>,
    kind: KpiEventType,
    clinic: ClinicId,
    tz: Tz,
    c: &Credential,
    dimensions: serde_json::Value,
) -> ApiResult<()> {
    let mut e = super::kpis::new_event(tx, tz, kind, clinic);
    e.staff_id = Some(c.staff_id);
    e.dimensions = dimensions;
    e.related_entity_type = Some("credential".into());
    e.related_entity_id = Some(c.id.to_string());
    table::insert(tx, &e)?;
    Ok(())
}

fn expired_event_recorded(
    conn: &Connection,
    c: CredentialId,
    expiry: NaiveDate,
) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM ops_kpi_events
             WHERE related_entity_type = 'credential' AND related_entity_id = ?1 AND event_type = 'credential_expired'
               AND json_extract(dimensions, '$.expiry_date') = ?2 LIMIT 1",
        )?
        .query_row(params![c.to_string(), expiry.to_string()], |_| Ok(()))
        .optional()?
        .is_some())
}

fn alert_exists(
    conn: &Connection,
    c: CredentialId,
    threshold: i64,
    expiry: NaiveDate,
) -> ApiResult<bool> {
    // Soft-deleted rows count too: the unique index does not look at deleted_at.
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM ops_credential_alerts WHERE credential_id = ?1 AND threshold_days = ?2 AND expiry_date = ?3",
        )?
        .query_row(params![c.to_string(), threshold, expiry.to_string()], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The evaluator, in the caller's transaction: every credential (or one staff member's).
pub(crate) fn evaluate(
    tx: &WriteTx<'_>,
    only_staff: Option<StaffId>,
) -> ApiResult<CredentialEvaluation> {
    let now = tx.ctx.now_ms;
    let mut snap = Snapshot::load(tx, now, only_staff)?;
    let mut r = CredentialEvaluation::default();

    // 1. Statuses: expiry, suspension periods, revocations.
    for i in 0..snap.creds.len() {
        let (id, staff, status, expiry) = {
            let c = &snap.creds[i];
            (c.id, c.staff, c.status, c.expiry)
        };
        let Some(st) = snap.staff.get(&staff) else {
            continue;
        };
        let Some(day) = snap.day_of(st) else { continue };
        let (clinic, tz, today) = (st.clinic, day.tz, day.today);
        r.credentials_checked += 1;
        let to = settled_status(status, expiry, snap.acts(id), today);
        if to == status {
            continue;
        }
        let mut row = table::get_live::<Credential>(tx, &id)?;
        row.status = row.status.transition(to)?;
        row.updated_at = now;
        table::update(tx, &row)?;
        match to {
            CredentialStatus::Expired => r.expired += 1,
            CredentialStatus::Suspended => r.suspended += 1,
            CredentialStatus::Revoked => r.revoked += 1,
            CredentialStatus::Active | CredentialStatus::PendingRenewal => r.reinstated += 1,
        }
        if to == CredentialStatus::Expired {
            if let Some(e) = row.expiry_date {
                if !expired_event_recorded(tx, id, e)? {
                    // KPI events are immutable rows: two PCs' events of one expiry are both
                    // kept, and the KPI report counts an expiry once (SYNC.md §5 item 7).
                    credential_kpi(
                        tx,
                        KpiEventType::CredentialExpired,
                        clinic,
                        tz,
                        &row,
                        serde_json::json!({
                            "credential_type_id": row.credential_type_id,
                            "expiry_date": e,
                        }),
                    )?;
                    r.kpi_events += 1;
                }
            }
        }
        snap.creds[i].status = to;
    }

    // 2. Alerts: the smallest threshold reached, once per credential, threshold and expiry.
    for c in &snap.creds {
        let Some(st) = snap.staff.get(&c.staff).filter(|s| s.is_active) else {
            continue;
        };
        let (Some(day), Some(ty), Some(expiry)) =
            (snap.day_of(st), snap.types.get(&c.ty), c.expiry)
        else {
            continue;
        };
        if c.status == CredentialStatus::Revoked || snap.superseded(c, day.today) {
            continue;
        }
        let Some(threshold) = due_threshold(&ty.thresholds, expiry, day.today) else {
            continue;
        };
        if alert_exists(tx, c.id, threshold, expiry)? {
            continue;
        }
        table::insert(
            tx,
            &CredentialAlert {
                // One alert per credential, threshold and expiry on every PC (the unique key).
                id: CredentialAlertId::derived(
                    "credential_alert",
                    &[
                        &c.id.to_string(),
                        &threshold.to_string(),
                        &expiry.to_string(),
                    ],
                ),
                credential_id: c.id,
                staff_id: c.staff,
                threshold_days: threshold,
                expiry_date: expiry,
                alert_date: day.today,
                message: alert_message(&st.name, &ty.name, expiry, day.today),
                acknowledged_at: None,
                acknowledged_by: None,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            },
        )?;
        r.alerts_raised += 1;
    }

    // 3. Coverage: one credential_lapse need per assigned shift in a lapse (any earlier need for
    //    the assignment — open, filled or cancelled by a manager — counts), and open ones
    //    cancelled when the assignment is no longer at risk.
    struct NeedRow {
        id: String,
        schedule: String,
        status: String,
        staff: Option<String>,
        date: Option<NaiveDate>,
    }
    let oldest_today = snap
        .clinics
        .values()
        .map(|d| d.today)
        .min()
        .unwrap_or_default();
    let needs: Vec<NeedRow> = tx
        .prepare_cached(
            "SELECT id, schedule_id, status, original_staff_id, need_date FROM ops_shift_coverage_needs
             WHERE reason = 'credential_lapse' AND schedule_id IS NOT NULL AND deleted_at IS NULL
               AND need_date >= ?1 AND (?2 IS NULL OR original_staff_id = ?2)",
        )?
        .query_map(
            params![
                prev_day(oldest_today).to_string(),
                only_staff.map(|s| s.to_string())
            ],
            |r| {
                Ok(NeedRow {
                    id: r.get(0)?,
                    schedule: r.get(1)?,
                    status: r.get(2)?,
                    staff: r.get(3)?,
                    date: date_of(r.get(4)?),
                })
            },
        )?
        .collect::<rusqlite::Result<_>>()?;
    let has_need: HashSet<&str> = needs.iter().map(|n| n.schedule.as_str()).collect();
    let mut at_risk: HashSet<StaffScheduleId> = HashSet::new();
    let mut staff_ids: Vec<StaffId> = snap
        .staff
        .values()
        .filter(|s| s.is_active)
        .map(|s| s.id)
        .collect();
    staff_ids.sort();
    for sid in staff_ids {
        let st = &snap.staff[&sid];
        let Some(day) = snap.day_of(st) else { continue };
        let last = day.today + Duration::days(AT_RISK_HORIZON_DAYS);
        let lapses = snap.lapses(st, None, day.today, last);
        if lapses.is_empty() {
            continue;
        }
        let work = work_in_lapses(tx, st.id, day.tz, &lapses, last, None, Appointments::None)?;
        for sh in work.shifts {
            r.shifts_at_risk += 1;
            at_risk.insert(sh.schedule_id);
            if has_need.contains(sh.schedule_id.to_string().as_str()) {
                continue;
            }
            let row = table::get_live::<StaffSchedule>(tx, &sh.schedule_id)?;
            let (_, created) = coverage_needs::raise_for_schedule(
                tx,
                &row,
                CoverageReason::CredentialLapse,
                Some(sh.reason),
                now,
            )?;
            if created {
                r.coverage_needs_raised += 1;
            }
        }
    }
    for n in needs.iter().filter(|n| n.status == "open") {
        let sched = StaffScheduleId::parse(&n.schedule)?;
        if at_risk.contains(&sched) {
            continue;
        }
        // Only while the same person is still assigned (a cancelled or reassigned shift still
        // needs someone) and the shift is within the horizon the evaluator looked at.
        let Some(row) = table::get::<StaffSchedule>(tx, &StaffScheduleId::parse(&n.schedule)?)?
        else {
            continue;
        };
        let Some(day) = snap
            .staff
            .get(&row.staff_id)
            .filter(|s| s.is_active)
            .and_then(|s| snap.day_of(s))
        else {
            continue;
        };
        let within = n.date.is_some_and(|d| {
            d >= day.today && d <= day.today + Duration::days(AT_RISK_HORIZON_DAYS)
        });
        let same_person = n.staff.as_deref() == Some(row.staff_id.to_string().as_str());
        if row.deleted_at.is_some()
            || !matches!(
                row.status,
                ScheduleStatus::Scheduled | ScheduleStatus::OnDuty
            )
            || !same_person
            || !within
        {
            continue;
        }
        let mut need = table::get_live::<CoverageNeed>(tx, &CoverageNeedId::parse(&n.id)?)?;
        need.status = need.status.transition(CoverageNeedStatus::Cancelled)?;
        let note = "cancelled: the credential is valid for this shift again";
        need.notes = Some(match need.notes.take() {
            Some(old) => format!("{old}; {note}"),
            None => note.to_string(),
        });
        need.updated_at = now;
        table::update(tx, &need)?;
        r.coverage_needs_cancelled += 1;
    }
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// Input parsing
// ---------------------------------------------------------------------------------------------

fn required<T>(v: Option<T>, field: &'static str, what: &str) -> Result<T, DomainError> {
    v.ok_or_else(|| DomainError::invalid(field, format!("is required ({what})")))
}

/// The validated numbers of a filter.
struct ReviewScope {
    clinics: HashSet<ClinicId>,
    staff: Option<StaffId>,
    ty: Option<CredentialTypeId>,
    within: i64,
    horizon: i64,
    /// None: the view's default.
    limit: Option<usize>,
}

fn bounded(
    v: Option<i64>,
    field: &'static str,
    min: i64,
    max: i64,
    default: i64,
) -> ApiResult<i64> {
    match v {
        None => Ok(default),
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(n) => Err(DomainError::invalid(
            field,
            format!("{n} is out of range: use {min} to {max} days"),
        )
        .into()),
    }
}

impl App {
    fn credential_and_staff(&self, id: CredentialId) -> ApiResult<(Credential, Staff)> {
        let c = self.fetch::<Credential>(&id)?;
        let st = self.fetch::<Staff>(&c.staff_id)?;
        Ok((c, st))
    }

    /// Who may review what: the clinics (one, the staff member's, or every clinic where the
    /// caller manages credentials) and the validated numbers.
    fn review_scope(&self, s: &Session, f: &CredentialFilter) -> ApiResult<ReviewScope> {
        let within = bounded(f.within_days, "within_days", 0, 365, DEFAULT_WITHIN_DAYS)?;
        let horizon = bounded(f.horizon_days, "horizon_days", 1, 366, AT_RISK_HORIZON_DAYS)?;
        let limit = match f.limit {
            None => None,
            Some(n) if (1..=1000).contains(&n) => Some(n as usize),
            Some(n) => {
                return Err(DomainError::invalid(
                    "limit",
                    format!("{n} is out of range: list 1 to 1000 items per staff member"),
                )
                .into())
            }
        };
        if let Some(t) = f.credential_type_id {
            self.fetch::<CredentialType>(&t)?;
        }
        let what = "review credentials";
        let clinics = if let Some(st) = f.staff_id {
            let staff = self.fetch::<Staff>(&st)?;
            if f.clinic_id.is_some_and(|c| c != staff.primary_clinic_id) {
                return Err(DomainError::invalid(
                    "staff_id",
                    "this staff member belongs to another clinic than the one given",
                )
                .into());
            }
            self.require(
                s,
                Capability::ManageCredentials,
                Scope::Clinic(staff.primary_clinic_id),
                what,
            )?;
            vec![staff.primary_clinic_id]
        } else if let Some(c) = f.clinic_id {
            self.fetch::<Clinic>(&c)?;
            self.require(s, Capability::ManageCredentials, Scope::Clinic(c), what)?;
            vec![c]
        } else {
            self.require(s, Capability::ManageCredentials, Scope::AnyClinic, what)?;
            clinics_with(&self.roles(s)?, Capability::ManageCredentials)
        };
        Ok(ReviewScope {
            clinics: clinics.into_iter().collect(),
            staff: f.staff_id,
            ty: f.credential_type_id,
            within,
            horizon,
            limit,
        })
    }

    // Lifecycle ------------------------------------------------------------------------------

    /// Record a check of the credential with its issuer. Fields: method (primary_source,
    /// online_lookup, document, phone, other), result (verified, failed, pending), reference,
    /// notes. The credential's verification status moves through its transition; a completed
    /// check (verified or failed) also sets verified_at/verified_by.
    pub fn record_credential_verification(
        &self,
        s: &Session,
        id: CredentialId,
        f: &Fields,
    ) -> ApiResult<VerificationRecorded> {
        let (_, staff) = self.credential_and_staff(id)?;
        self.require(
            s,
            Capability::ManageCredentials,
            Scope::Clinic(staff.primary_clinic_id),
            "verify credentials",
        )?;
        self.tx(s, |tx| {
            let now = tx.ctx.now_ms;
            let method = required(
                f.parsed("method", VerificationMethod::parse)?,
                "method",
                "primary_source, online_lookup, document, phone or other",
            )?;
            let result = required(
                f.parsed("result", VerificationStatus::parse)?,
                "result",
                "verified, failed or pending",
            )?;
            if result == VerificationStatus::NotVerified {
                return Err(DomainError::invalid(
                    "result",
                    "a verification's result is verified, failed or pending",
                )
                .into());
            }
            let reference = f.text("reference")?.flatten();
            let notes = f.text("notes")?.flatten();
            f.finish()?;
            let mut c = table::get_live::<Credential>(tx, &id)?;
            if c.verification_status != result {
                c.verification_status = c.verification_status.transition(result)?;
            }
            if result != VerificationStatus::Pending {
                c.verified_at = Some(now);
                c.verified_by = Some(s.user_id);
            }
            c.updated_at = now;
            let v = CredentialVerification {
                id: CredentialVerificationId::new(),
                credential_id: id,
                verified_by: Some(s.user_id),
                method,
                result,
                verified_at: now,
                reference,
                notes,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            table::insert(tx, &v)?;
            table::update(tx, &c)?;
            Ok(VerificationRecorded {
                verification: v,
                credential: c,
            })
        })
    }

    /// Record a suspension, revocation, probation or restriction. Fields: action_type, reason,
    /// start_date, optional end_date (inclusive; none for a revocation, which is final) and
    /// authority. A suspension or revocation already in force changes the credential's status
    /// at once (and raises coverage needs for shifts it affects); a later one when it starts.
    pub fn record_adverse_action(
        &self,
        s: &Session,
        id: CredentialId,
        f: &Fields,
    ) -> ApiResult<AdverseActionRecorded> {
        let (_, staff) = self.credential_and_staff(id)?;
        self.require(
            s,
            Capability::ManageCredentials,
            Scope::Clinic(staff.primary_clinic_id),
            "record adverse actions",
        )?;
        self.tx(s, |tx| {
            let now = tx.ctx.now_ms;
            let kind = required(
                f.parsed("action_type", AdverseActionType::parse)?,
                "action_type",
                "suspension, revocation, probation or restriction",
            )?;
            let reason = required(f.text("reason")?.flatten(), "reason", "say why")?;
            let authority = f.text("authority")?.flatten();
            let start = required(
                f.date("start_date")?.flatten(),
                "start_date",
                "the first day it applies",
            )?;
            let end = f.date("end_date")?.flatten();
            f.finish()?;
            if end.is_some_and(|e| e < start) {
                return Err(
                    DomainError::invalid("end_date", "must not be before the start date").into(),
                );
            }
            if kind == AdverseActionType::Revocation && end.is_some() {
                return Err(DomainError::invalid(
                    "end_date",
                    "a revocation is final: leave the end date out",
                )
                .into());
            }
            let c = table::get_live::<Credential>(tx, &id)?;
            if c.status == CredentialStatus::Revoked {
                return Err(ApiError::Conflict(
                    "this credential is revoked; nothing more can be recorded against it".into(),
                ));
            }
            let action = AdverseAction {
                id: AdverseActionId::new(),
                credential_id: id,
                staff_id: c.staff_id,
                action_type: kind,
                reason,
                authority,
                start_date: start,
                end_date: end,
                reported_by: Some(s.user_id),
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            table::insert(tx, &action)?;
            evaluate(tx, Some(c.staff_id))?;
            let credential = table::get_live::<Credential>(tx, &id)?;
            Ok(AdverseActionRecorded { action, credential })
        })
    }

    /// Renew: a new expiry date after the current one (and not already past at the clinic),
    /// optionally a new number, issue date, document_ref and notes. The credential is active
    /// again (suspended while a suspension is in force; a revoked one cannot be renewed), open
    /// alerts about the old expiry are closed, a `credential_renewed` KPI event is recorded and
    /// the staff member is re-evaluated — all in one transaction.
    pub fn renew_credential(
        &self,
        s: &Session,
        id: CredentialId,
        f: &Fields,
    ) -> ApiResult<Credential> {
        let (_, staff) = self.credential_and_staff(id)?;
        self.require(
            s,
            Capability::ManageCredentials,
            Scope::Clinic(staff.primary_clinic_id),
            "renew credentials",
        )?;
        self.tx(s, |tx| {
            let now = tx.ctx.now_ms;
            let expiry = required(
                f.date("expiry_date")?.flatten(),
                "expiry_date",
                "the new expiry date",
            )?;
            let issue = f.date("issue_date")?.flatten();
            let number = f.text("credential_number")?.flatten();
            let document = f.text("document_ref")?.flatten();
            let notes = f.text("notes")?.flatten();
            f.finish()?;
            let mut c = table::get_live::<Credential>(tx, &id)?;
            if c.status == CredentialStatus::Revoked {
                return Err(ApiError::Conflict(
                    "this credential is revoked and cannot be renewed; record a new credential"
                        .into(),
                ));
            }
            let st = table::get_live::<Staff>(tx, &c.staff_id)?;
            let (_, tz) = super::time::clinic_tz(tx, st.primary_clinic_id)?;
            let today = local_date(tz, instant(now));
            let old = c.expiry_date;
            if let Some(old) = old.filter(|o| expiry <= *o) {
                return Err(DomainError::invalid(
                    "expiry_date",
                    format!("must be after the current expiry date {old}"),
                )
                .into());
            }
            if expiry < today {
                return Err(DomainError::invalid(
                    "expiry_date",
                    format!("{expiry} has already passed (it is {today} at the clinic)"),
                )
                .into());
            }
            if issue.is_some_and(|i| i > expiry) {
                return Err(DomainError::invalid(
                    "issue_date",
                    "must not be after the new expiry date",
                )
                .into());
            }
            let acts: Vec<AdverseAction> = table::select(
                tx,
                "WHERE credential_id = ?1 AND deleted_at IS NULL AND action_type = 'suspension'",
                [id.to_string()],
            )?;
            let stays_suspended = suspended_on(&acts, today).is_some()
                || (c.status == CredentialStatus::Suspended && acts.is_empty());
            let to = if stays_suspended {
                CredentialStatus::Suspended
            } else {
                CredentialStatus::Active
            };
            if c.status != to {
                c.status = c.status.transition(to)?;
            }
            c.expiry_date = Some(expiry);
            if issue.is_some() {
                c.issue_date = issue;
            }
            if number.is_some() {
                c.credential_number = number;
            }
            if document.is_some() {
                c.document_ref = document;
            }
            if notes.is_some() {
                c.notes = notes;
            }
            c.renewed_at = Some(now);
            c.updated_at = now;
            table::update(tx, &c)?;
            // Alerts about the old expiry no longer apply: closed by the renewal.
            for mut a in table::select::<CredentialAlert, _>(
                tx,
                "WHERE credential_id = ?1 AND acknowledged_at IS NULL AND deleted_at IS NULL AND expiry_date <> ?2",
                params![id.to_string(), expiry.to_string()],
            )? {
                a.acknowledged_at = Some(now);
                a.acknowledged_by = Some(s.user_id);
                a.updated_at = now;
                table::update(tx, &a)?;
            }
            credential_kpi(
                tx,
                KpiEventType::CredentialRenewed,
                st.primary_clinic_id,
                tz,
                &c,
                serde_json::json!({
                    "credential_type_id": c.credential_type_id,
                    "old_expiry_date": old,
                    "expiry_date": expiry,
                }),
            )?;
            evaluate(tx, Some(c.staff_id))?;
            Ok(table::get_live::<Credential>(tx, &id)?)
        })
    }

    /// A credential with its verifications, adverse actions and alerts.
    pub fn credential_history(
        &self,
        s: &Session,
        id: CredentialId,
    ) -> ApiResult<CredentialHistory> {
        let (_, staff) = self.credential_and_staff(id)?;
        self.require(
            s,
            Capability::ManageCredentials,
            Scope::Clinic(staff.primary_clinic_id),
            "review credentials",
        )?;
        let id = id.to_string();
        self.store.read(|c| {
            let tx = c.unchecked_transaction()?;
            Ok(CredentialHistory {
                credential: table::get_live::<Credential>(&tx, &CredentialId::parse(&id)?)?,
                verifications: table::select(
                    &tx,
                    "WHERE credential_id = ?1 AND deleted_at IS NULL ORDER BY verified_at, id",
                    [&id],
                )?,
                adverse_actions: table::select(
                    &tx,
                    "WHERE credential_id = ?1 AND deleted_at IS NULL ORDER BY start_date, id",
                    [&id],
                )?,
                alerts: table::select(
                    &tx,
                    "WHERE credential_id = ?1 AND deleted_at IS NULL ORDER BY created_at, threshold_days DESC",
                    [&id],
                )?,
            })
        })
    }

    // The evaluator --------------------------------------------------------------------------

    /// Re-evaluate every credential on each clinic's local date (a system job: no user; run by
    /// housekeeping at start-up and every minute, and by `clinicdesk credential evaluate`).
    /// Idempotent: a second run on the same day changes nothing.
    pub fn evaluate_credentials(&self) -> ApiResult<CredentialEvaluation> {
        self.store.write(None, |tx| evaluate(tx, None))
    }

    // Alerts ---------------------------------------------------------------------------------

    /// Open alerts about the credentials' current expiry dates (with `include_acknowledged`:
    /// every alert), soonest expiry first.
    pub fn list_credential_alerts(
        &self,
        s: &Session,
        f: &CredentialFilter,
        include_acknowledged: bool,
    ) -> ApiResult<Vec<CredentialAlertView>> {
        let scope = self.review_scope(s, f)?;
        let mut clinics: Vec<ClinicId> = scope.clinics.into_iter().collect();
        clinics.sort();
        self.store.read(|c| {
            let mut q = c.prepare_cached(&format!(
                "SELECT a.*, s.first_name || ' ' || s.last_name AS staff_name, s.primary_clinic_id AS clinic_id,
                        c.credential_type_id, t.name AS credential_type,
                        coalesce(a.expiry_date = c.expiry_date, 0) AS current
                 FROM ops_credential_alerts a
                 JOIN ops_credentials c ON c.id = a.credential_id
                 JOIN staff_profiles s ON s.id = a.staff_id
                 JOIN ops_credential_types t ON t.id = c.credential_type_id
                 WHERE a.deleted_at IS NULL AND c.deleted_at IS NULL AND s.deleted_at IS NULL
                   AND s.primary_clinic_id IN ({})
                   AND (?1 IS NULL OR a.staff_id = ?1) AND (?2 IS NULL OR c.credential_type_id = ?2)
                   AND (?3 OR (a.acknowledged_at IS NULL AND a.expiry_date = c.expiry_date))
                 ORDER BY a.expiry_date, staff_name, a.threshold_days DESC",
                super::clinic_list(&clinics)
            ))?;
            let rows = q.query_map(
                params![
                    scope.staff.map(|x| x.to_string()),
                    scope.ty.map(|x| x.to_string()),
                    include_acknowledged
                ],
                table::map_row::<CredentialAlertView>,
            )?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    pub fn acknowledge_credential_alert(
        &self,
        s: &Session,
        id: CredentialAlertId,
    ) -> ApiResult<CredentialAlert> {
        let a = self.fetch::<CredentialAlert>(&id)?;
        let staff = self.fetch::<Staff>(&a.staff_id)?;
        self.require(
            s,
            Capability::ManageCredentials,
            Scope::Clinic(staff.primary_clinic_id),
            "acknowledge credential alerts",
        )?;
        self.tx(s, |tx| {
            let mut a = table::get_live::<CredentialAlert>(tx, &id)?;
            if let Some(at) = a.acknowledged_at {
                let when = instant(at).format("%Y-%m-%d %H:%M UTC");
                return Err(ApiError::Conflict(format!(
                    "this alert was already acknowledged ({when})"
                )));
            }
            a.acknowledged_at = Some(tx.ctx.now_ms);
            a.acknowledged_by = Some(s.user_id);
            a.updated_at = tx.ctx.now_ms;
            table::update(tx, &a)?;
            Ok(a)
        })
    }

    // The manager's view ---------------------------------------------------------------------

    /// Expired credentials and those expiring within `within_days` (default 90).
    pub fn credential_expiries(
        &self,
        s: &Session,
        f: &CredentialFilter,
    ) -> ApiResult<CredentialExpiries> {
        let scope = self.review_scope(s, f)?;
        self.store.read(|c| {
            let tx = c.unchecked_transaction()?;
            let snap = Snapshot::load(&tx, clinicdesk_store::now_ms(), scope.staff)?;
            Ok(expiries(&snap, &scope))
        })
    }

    /// Staff with assigned shifts or booked appointments (up to `horizon_days` ahead) that fall
    /// in a lapse of a credential their discipline requires, with the first `limit` of each.
    pub fn credentials_at_risk(
        &self,
        s: &Session,
        f: &CredentialFilter,
    ) -> ApiResult<Vec<AtRiskStaff>> {
        let scope = self.review_scope(s, f)?;
        let staff = self.store.read(|c| {
            let tx = c.unchecked_transaction()?;
            let snap = Snapshot::load(&tx, clinicdesk_store::now_ms(), scope.staff)?;
            at_risk(
                &tx,
                &snap,
                &scope,
                AT_RISK_ITEMS_PER_STAFF,
                Appointments::WithNames,
            )
        })?;
        self.audit_read(s, at_risk_read("credentials_at_risk", &scope, &staff))?;
        Ok(staff)
    }

    /// The dashboard: expiries and the at-risk list in one consistent read.
    pub fn credential_dashboard(
        &self,
        s: &Session,
        f: &CredentialFilter,
    ) -> ApiResult<CredentialDashboard> {
        let scope = self.review_scope(s, f)?;
        let dashboard = self.store.read(|c| {
            let tx = c.unchecked_transaction()?;
            let snap = Snapshot::load(&tx, clinicdesk_store::now_ms(), scope.staff)?;
            Ok::<_, ApiError>(CredentialDashboard {
                expiries: expiries(&snap, &scope),
                horizon_days: scope.horizon,
                at_risk: at_risk(
                    &tx,
                    &snap,
                    &scope,
                    DASHBOARD_ITEMS_PER_STAFF,
                    Appointments::Listed,
                )?,
            })
        })?;
        let read = at_risk_read("credential_dashboard", &scope, &dashboard.at_risk);
        self.audit_read(s, read)?;
        Ok(dashboard)
    }
}

/// The audit event of an at-risk list: the patients of the appointments it lists (their ids
/// and times; names in the at-risk view), at the clinic of the view or across its clinics.
fn at_risk_read(
    operation: &'static str,
    scope: &ReviewScope,
    staff: &[AtRiskStaff],
) -> PatientRead {
    let patients = staff
        .iter()
        .flat_map(|st| st.appointments.iter().map(|a| a.patient_id))
        .collect();
    let mut clinics: Vec<ClinicId> = scope.clinics.iter().copied().collect();
    clinics.sort();
    let one = match clinics.as_slice() {
        [c] => Some(*c),
        _ => None,
    };
    PatientRead::new(operation, one, Shown::Patients(patients))
        .with("clinic_ids", one.is_none().then_some(clinics))
        .with("staff_id", scope.staff)
        .with("credential_type_id", scope.ty)
        .with("horizon_days", scope.horizon)
        .with("limit", scope.limit)
}

/// Staff of the view, by name.
fn staff_in_scope<'a>(snap: &'a Snapshot, scope: &ReviewScope) -> Vec<&'a StaffRow> {
    let mut v: Vec<&StaffRow> = snap
        .staff
        .values()
        .filter(|st| {
            st.is_active
                && scope.clinics.contains(&st.clinic)
                && scope.staff.is_none_or(|x| x == st.id)
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    v
}

fn expiries(snap: &Snapshot, scope: &ReviewScope) -> CredentialExpiries {
    let mut out = CredentialExpiries {
        within_days: scope.within,
        counts: ExpiryCounts::default(),
        expired: Vec::new(),
        expiring: Vec::new(),
    };
    for st in staff_in_scope(snap, scope) {
        let Some(day) = snap.day_of(st) else { continue };
        for c in snap.creds_of(st.id) {
            if scope.ty.is_some_and(|t| t != c.ty) || c.status == CredentialStatus::Revoked {
                continue;
            }
            let Some(expiry) = c.expiry else { continue };
            if snap.superseded(c, day.today) {
                continue;
            }
            let left = (expiry - day.today).num_days();
            let expired = left < 0 || c.status == CredentialStatus::Expired;
            let window = (!expired)
                .then(|| WINDOWS.iter().copied().find(|w| left <= *w))
                .flatten();
            if expired {
                out.counts.expired += 1;
            } else {
                let n = &mut out.counts;
                for (w, slot) in WINDOWS.iter().zip([
                    &mut n.within_7,
                    &mut n.within_30,
                    &mut n.within_60,
                    &mut n.within_90,
                ]) {
                    if left <= *w {
                        *slot += 1;
                    }
                }
            }
            if !expired && left > scope.within {
                continue;
            }
            let e = CredentialExpiry {
                credential_id: c.id,
                staff_id: st.id,
                staff_name: st.name.clone(),
                clinic_id: st.clinic,
                credential_type_id: c.ty,
                credential_type: snap
                    .types
                    .get(&c.ty)
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                credential_number: c.number.clone(),
                expiry_date: expiry,
                days_left: left,
                status: c.status,
                window_days: window,
            };
            if expired {
                out.expired.push(e);
            } else {
                out.expiring.push(e);
            }
        }
    }
    let order = |a: &CredentialExpiry, b: &CredentialExpiry| {
        (a.expiry_date, &a.staff_name, &a.credential_type).cmp(&(
            b.expiry_date,
            &b.staff_name,
            &b.credential_type,
        ))
    };
    out.expired.sort_by(order);
    out.expiring.sort_by(order);
    out
}

fn at_risk(
    conn: &Connection,
    snap: &Snapshot,
    scope: &ReviewScope,
    default_limit: usize,
    appointments: Appointments,
) -> ApiResult<Vec<AtRiskStaff>> {
    let limit = scope.limit.unwrap_or(default_limit);
    let mut out = Vec::new();
    for st in staff_in_scope(snap, scope) {
        let Some(day) = snap.day_of(st) else { continue };
        let last = day.today + Duration::days(scope.horizon);
        let lapses = snap.lapses(st, scope.ty, day.today, last);
        if lapses.is_empty() {
            continue;
        }
        let w = work_in_lapses(
            conn,
            st.id,
            day.tz,
            &lapses,
            last,
            Some(limit),
            appointments,
        )?;
        if w.shifts.is_empty() && w.appointments.is_empty() {
            continue;
        }
        out.push(AtRiskStaff {
            staff_id: st.id,
            staff_name: st.name.clone(),
            clinic_id: st.clinic,
            discipline: st.discipline.clone(),
            lapses,
            shifts: w.shifts,
            more_shifts: w.more_shifts,
            appointments: w.appointments,
            more_appointments: w.more_appointments,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn action(kind: AdverseActionType, start: &str, end: Option<&str>) -> AdverseAction {
        AdverseAction {
            id: AdverseActionId::new(),
            credential_id: CredentialId::new(),
            staff_id: StaffId::new(),
            action_type: kind,
            reason: "x".into(),
            authority: None,
            start_date: d(start),
            end_date: end.map(d),
            reported_by: None,
            created_at: 0,
            updated_at: 0,
            deleted_at: None,
        }
    }

    #[test]
    fn thresholds_pick_the_smallest_reached() {
        let t = [90, 60, 30, 7, 0];
        let exp = d("2027-06-30");
        assert_eq!(due_threshold(&t, exp, d("2027-01-01")), None);
        assert_eq!(due_threshold(&t, exp, d("2027-04-01")), Some(90));
        assert_eq!(due_threshold(&t, exp, d("2027-06-10")), Some(30));
        assert_eq!(due_threshold(&t, exp, d("2027-06-30")), Some(0));
        assert_eq!(due_threshold(&t, exp, d("2027-07-05")), Some(0));
        assert_eq!(due_threshold(&[], exp, d("2027-07-05")), None);
    }

    #[test]
    fn settled_status_applies_expiry_suspensions_and_revocations() {
        use CredentialStatus::*;
        let today = d("2027-03-10");
        let exp = Some(d("2027-06-30"));
        let s_now = [action(
            AdverseActionType::Suspension,
            "2027-03-01",
            Some("2027-03-31"),
        )];
        let s_past = [action(
            AdverseActionType::Suspension,
            "2027-02-01",
            Some("2027-03-09"),
        )];
        let s_later = [action(AdverseActionType::Suspension, "2027-04-01", None)];
        let r_now = [action(AdverseActionType::Revocation, "2027-03-10", None)];
        assert_eq!(settled_status(Active, exp, &[], today), Active);
        assert_eq!(
            settled_status(Active, Some(d("2027-03-09")), &[], today),
            Expired
        );
        assert_eq!(settled_status(Active, Some(today), &[], today), Active);
        assert_eq!(settled_status(Active, exp, &s_now, today), Suspended);
        assert_eq!(settled_status(Suspended, exp, &s_past, today), Active);
        assert_eq!(settled_status(Active, exp, &s_later, today), Active);
        // A suspension set by hand stays.
        assert_eq!(settled_status(Suspended, exp, &[], today), Suspended);
        assert_eq!(
            settled_status(Suspended, Some(d("2027-03-01")), &s_now, today),
            Expired
        );
        assert_eq!(settled_status(Active, exp, &r_now, today), Revoked);
        assert_eq!(settled_status(Revoked, exp, &[], today), Revoked);
        assert_eq!(
            settled_status(PendingRenewal, exp, &s_now, today),
            Suspended
        );
    }

    #[test]
    fn merged_runs_join_touching_lapses() {
        let mk = |from: &str, until: Option<&str>| Lapse {
            credential_type_id: CredentialTypeId::new(),
            credential_type: "T".into(),
            credential_id: None,
            kind: LapseKind::Expires,
            from: d(from),
            until: until.map(d),
            reason: "r".into(),
        };
        let last = d("2027-12-31");
        let runs = merged_runs(
            &[
                mk("2027-03-01", Some("2027-03-05")),
                mk("2027-03-06", Some("2027-03-07")),
                mk("2027-04-01", None),
                mk("2027-04-10", Some("2027-04-12")),
            ],
            last,
        );
        assert_eq!(
            runs,
            vec![(d("2027-03-01"), d("2027-03-07")), (d("2027-04-01"), last)]
        );
    }
}
