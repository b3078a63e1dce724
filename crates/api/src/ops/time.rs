//! Time and zone helpers shared by every area: stored instants (ms) to and from chrono, a
//! clinic's IANA zone, wall-clock text in that zone, and the one parser of "start"/"end"
//! input (RFC 3339 or the clinic's wall clock). A leaf: it uses nothing else in `ops`.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use clinicdesk_domain::{local_to_utc, parse_instant, ClinicId, DomainError, TimeRange};
use clinicdesk_store::table;
use clinicdesk_store::tables::clinics::Clinic;
use rusqlite::Connection;

use crate::error::ApiResult;

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn instant(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(v).unwrap_or_default()
}

pub(crate) fn clinic_tz(conn: &Connection, clinic: ClinicId) -> ApiResult<(Clinic, Tz)> {
    let c = table::get_live::<Clinic>(conn, &clinic)?;
    let tz: Tz = c.timezone.parse().map_err(|_| {
        DomainError::invalid(
            "timezone",
            format!("'{}' is not an IANA time zone", c.timezone),
        )
    })?;
    Ok((c, tz))
}

pub(crate) fn local_hm(tz: Tz, v: i64) -> String {
    instant(v).with_timezone(&tz).format("%H:%M").to_string()
}

pub(crate) fn local_day(tz: Tz, v: i64) -> String {
    instant(v)
        .with_timezone(&tz)
        .format("%a %Y-%m-%d")
        .to_string()
}

/// A start/end given as an RFC 3339 instant, or as the clinic's wall-clock time
/// ("2026-03-09 09:00" / "2026-03-09T09:00"); a wall-clock time that does not exist (DST gap)
/// is refused.
pub fn parse_when(field: &'static str, tz: Tz, s: &str) -> Result<DateTime<Utc>, DomainError> {
    let t = s.trim();
    for fmt in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(t, fmt) {
            return local_to_utc(tz, local).map_err(|e| match e {
                DomainError::Invalid { message, .. } => DomainError::Invalid { field, message },
                other => other,
            });
        }
    }
    parse_instant(field, t)
}

/// The time range of stored start/end instants (ms).
pub(crate) fn range_ms(start: i64, end: i64) -> ApiResult<TimeRange> {
    Ok(TimeRange::new(instant(start), instant(end))?)
}
