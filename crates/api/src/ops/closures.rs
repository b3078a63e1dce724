//! The weekend and holiday generator: whole local days closed clinic-wide (or for one
//! provider) as blocking availability blocks, idempotently, with the appointments they hit.

use chrono::{Datelike, NaiveDate, Weekday};
use clinicdesk_domain::{
    local_day_bounds, AppointmentStatus, AvailabilityBlockId, Capability, ClinicId, DomainError,
    StaffId,
};
use clinicdesk_store::table;
use clinicdesk_store::tables::{
    appointments::Appointment, availability_blocks::AvailabilityBlock, staff::Staff,
};
use serde::Serialize;

use super::time::clinic_tz;
use crate::access::Scope;
use crate::error::ApiResult;
use crate::fields::Fields;
use crate::{App, Session};

/// The longest range one run may close.
const MAX_DAYS: i64 = 731;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ClosureResult {
    /// The blocks created, one per closed day.
    pub created: Vec<AvailabilityBlock>,
    /// Days left alone because a blocking block already covers the whole day.
    pub already_closed: Vec<NaiveDate>,
    /// Active appointments that now fall on a closed day: the front desk must move them.
    pub affected: Vec<Appointment>,
}

/// `2027-12-25=Christmas Day,2027-12-26` → [(date, name)].
fn holidays(v: &str) -> Result<Vec<(NaiveDate, Option<String>)>, DomainError> {
    v.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| {
            let (d, name) = match h.split_once('=') {
                Some((d, n)) => (
                    d.trim(),
                    Some(n.trim().to_string()).filter(|n| !n.is_empty()),
                ),
                None => (h, None),
            };
            Ok((clinicdesk_domain::parse_date("holidays", d)?, name))
        })
        .collect()
}

impl App {
    /// Close weekends and holidays between `from` and `to` (inclusive, clinic dates, at most
    /// two years). Fields: from, to; weekends (default yes) and weekend_days (default sat,sun);
    /// holidays ("2027-12-25=Christmas Day,2027-12-26"); provider_id (default: clinic-wide).
    /// Each closed day is one blocking block over the whole local day (23 or 25 hours on
    /// daylight-saving days). Running it again creates nothing new.
    pub fn generate_closures(
        &self,
        s: &Session,
        clinic: ClinicId,
        f: &Fields,
    ) -> ApiResult<ClosureResult> {
        self.require(
            s,
            Capability::ManageScheduleSettings,
            Scope::Clinic(clinic),
            "manage availability",
        )?;
        self.tx(s, |tx| {
            let (_, tz) = clinic_tz(tx, clinic)?;
            let from = f
                .date("from")?
                .flatten()
                .ok_or_else(|| DomainError::invalid("from", "is required"))?;
            let to = f
                .date("to")?
                .flatten()
                .ok_or_else(|| DomainError::invalid("to", "is required"))?;
            if to < from {
                return Err(DomainError::invalid("to", "must not be before from").into());
            }
            if (to - from).num_days() >= MAX_DAYS {
                return Err(DomainError::invalid("to", "close at most two years at a time").into());
            }
            let weekends = f.bool("weekends")?.unwrap_or(true);
            let weekend_days = match f.text("weekend_days")?.flatten() {
                Some(v) => clinicdesk_domain::parse_weekdays("weekend_days", &v)?,
                None => vec![Weekday::Sat, Weekday::Sun],
            };
            let holidays = match f.text("holidays")?.flatten() {
                Some(v) => holidays(&v)?,
                None => Vec::new(),
            };
            let provider = f.parsed("provider_id", StaffId::parse)?;
            if let Some(p) = provider {
                table::get_live::<Staff>(tx, &p)?;
            }
            f.finish()?;
            if !weekends && holidays.is_empty() {
                return Err(DomainError::invalid(
                    "holidays",
                    "nothing to close: give holidays or leave weekends on",
                )
                .into());
            }
            if let Some((d, _)) = holidays.iter().find(|(d, _)| *d < from || *d > to) {
                return Err(DomainError::invalid(
                    "holidays",
                    format!("{d} is outside {from} … {to}"),
                )
                .into());
            }
            let provider_s = provider.map(|p| p.to_string());
            let now = tx.ctx.now_ms;
            let mut out = ClosureResult {
                created: Vec::new(),
                already_closed: Vec::new(),
                affected: Vec::new(),
            };
            let mut day = from;
            while day <= to {
                let holiday = holidays.iter().find(|(d, _)| *d == day);
                let reason = match holiday {
                    Some((_, Some(name))) => format!("Holiday: {name}"),
                    Some((_, None)) => "Holiday".to_string(),
                    None if weekends && weekend_days.contains(&day.weekday()) => {
                        "Weekend".to_string()
                    }
                    None => {
                        day = day.succ_opt().expect("date in range");
                        continue;
                    }
                };
                let (start, end) = local_day_bounds(tz, day);
                let (start, end) = (start.timestamp_millis(), end.timestamp_millis());
                let covered: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM availability_blocks WHERE clinic_id = ?1
                       AND provider_id IS ?2 AND is_available = 0 AND deleted_at IS NULL
                       AND start_at <= ?3 AND end_at >= ?4)",
                    rusqlite::params![clinic.to_string(), provider_s, start, end],
                    |r| r.get(0),
                )?;
                if covered {
                    out.already_closed.push(day);
                } else {
                    let b = AvailabilityBlock {
                        id: AvailabilityBlockId::new(),
                        clinic_id: clinic,
                        provider_id: provider,
                        start_at: start,
                        end_at: end,
                        is_available: false,
                        block_reason: Some(reason),
                        created_by: Some(s.user_id),
                        created_at: now,
                        updated_at: now,
                        deleted_at: None,
                    };
                    table::insert(tx, &b)?;
                    out.created.push(b);
                }
                out.affected.extend(table::select::<Appointment, _>(
                    tx,
                    &format!("WHERE clinic_id = ?1 AND (?2 IS NULL OR provider_id = ?2) AND deleted_at IS NULL
                       AND status IN {}
                       AND start_at < ?4 AND end_at > ?3 ORDER BY start_at", AppointmentStatus::sql_in(AppointmentStatus::is_upcoming)),
                    rusqlite::params![clinic.to_string(), provider_s, start, end],
                )?);
                day = day.succ_opt().expect("date in range");
            }
            Ok(out)
        })
    }
}
