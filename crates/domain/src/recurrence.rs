//! Recurring appointment series ("twice a week for six weeks"), expanded with the `rrule` crate
//! (RFC 5545) in the clinic's wall-clock time so that 09:00 stays 09:00 across daylight-saving
//! changes.
//!
//! How it works: the rule is expanded in *floating* time (the clinic's wall clock, with no zone),
//! and only then is each wall-clock start placed in the clinic's zone. Expanding directly in the
//! zone would let the crate quietly move a start that falls in a gap (02:30 on a spring-forward
//! day) to another time; here such an occurrence is reported with `range: None` so the caller
//! can ask the user what to do.
//!
//! `UNTIL` is read as follows (the crate would read a value without `Z` in the *machine's* zone,
//! which is not acceptable for a pure domain crate, so it is converted here first):
//! - `UNTIL=20270331T235959Z` — an instant in UTC, converted to the clinic's wall clock;
//! - `UNTIL=20270331T180000` — the clinic's wall clock;
//! - `UNTIL=20270331` — through the end of that local day.

use crate::error::DomainError;
use crate::validate::{local_day_bounds, local_to_utc, TimeRange};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use rrule::{Frequency, NWeekday, RRule, Unvalidated};
use serde::Serialize;

/// The most occurrences one series may have.
pub const MAX_OCCURRENCES: u32 = 500;
/// The longest an occurrence may last, in minutes (one day).
pub const MAX_OCCURRENCE_MINUTES: u32 = 24 * 60;
/// The largest `every_n_weeks` accepted by [`weekly_rule`].
pub const MAX_EVERY_N_WEEKS: u32 = 52;

/// The longest rule accepted, in characters (a real one is well under 100).
pub const MAX_RULE_CHARS: usize = 500;

const FIELD: &str = "rule";

/// A validated recurring series: where, from when, how long each occurrence lasts, and the
/// RRULE body that says how it repeats.
///
/// As in the `rrule` crate (and python-dateutil), `first_local_start` anchors the rule but is an
/// occurrence only when it matches the rule: starting on a Monday with `BYDAY=TU,TH` the first
/// occurrence is the Tuesday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesSpec {
    tz: Tz,
    first_local_start: NaiveDateTime,
    duration_minutes: u32,
    rule: String,
}

impl SeriesSpec {
    /// Validates a series. The rule (an RRULE body such as `FREQ=WEEKLY;BYDAY=TU,TH;COUNT=12`,
    /// optionally prefixed with `RRULE:`) must parse, must end (`COUNT` or `UNTIL`, not both) and
    /// must give between 1 and [`MAX_OCCURRENCES`] occurrences. `duration_minutes` is 1 to 1440.
    pub fn parse(
        tz: Tz,
        first_local_start: NaiveDateTime,
        duration_minutes: u32,
        rule: &str,
    ) -> Result<Self, DomainError> {
        if !(1..=MAX_OCCURRENCE_MINUTES).contains(&duration_minutes) {
            return Err(DomainError::invalid(
                "duration_minutes",
                format!("each occurrence must last between 1 and {MAX_OCCURRENCE_MINUTES} minutes"),
            ));
        }
        let rule = normalise(rule)?;
        let spec = Self {
            tz,
            first_local_start,
            duration_minutes,
            rule,
        };
        spec.local_starts()?;
        Ok(spec)
    }

    /// The clinic's zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The wall-clock start the rule is anchored at.
    pub fn first_local_start(&self) -> NaiveDateTime {
        self.first_local_start
    }

    /// Length of each occurrence.
    pub fn duration_minutes(&self) -> u32 {
        self.duration_minutes
    }

    /// The RRULE body, trimmed and without an `RRULE:` prefix.
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// Wall-clock starts of every occurrence, in order.
    fn local_starts(&self) -> Result<Vec<NaiveDateTime>, DomainError> {
        let mut until_local = None;
        let mut rest = Vec::new();
        for part in self.rule.split(';') {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            if key.trim().eq_ignore_ascii_case("UNTIL") {
                if until_local.is_some() {
                    return Err(DomainError::invalid(FIELD, "UNTIL may appear only once"));
                }
                until_local = Some(parse_until(self.tz, value.trim())?);
            } else {
                rest.push(part);
            }
        }
        let rule: RRule<Unvalidated> = rest.join(";").parse().map_err(|e| {
            DomainError::invalid(
                FIELD,
                format!("'{}' is not a valid repeat rule: {e}", self.rule),
            )
        })?;
        let rule = match (rule.get_count(), until_local) {
            (None, None) => {
                return Err(DomainError::invalid(
                    FIELD,
                    format!(
                        "'{}' never ends: add COUNT (how many times) or UNTIL (until when)",
                        self.rule
                    ),
                ))
            }
            (Some(_), Some(_)) => {
                return Err(DomainError::invalid(
                    FIELD,
                    "use COUNT (how many times) or UNTIL (until when), not both",
                ))
            }
            (Some(n), None) if n > MAX_OCCURRENCES => {
                return Err(DomainError::invalid(
                    FIELD,
                    format!("COUNT={n} is too many: a series may have at most {MAX_OCCURRENCES} occurrences"),
                ))
            }
            (_, Some(until)) => rule.until(floating(until)),
            (Some(_), None) => rule,
        };
        let set = rule.build(floating(self.first_local_start)).map_err(|e| {
            DomainError::invalid(
                FIELD,
                format!("'{}' is not a valid repeat rule: {e}", self.rule),
            )
        })?;
        let limit = u16::try_from(MAX_OCCURRENCES + 1).expect("small limit");
        let result = set.all(limit);
        if result.dates.len() > MAX_OCCURRENCES as usize {
            return Err(DomainError::invalid(
                FIELD,
                format!(
                    "'{}' gives more than {MAX_OCCURRENCES} occurrences; end it sooner",
                    self.rule
                ),
            ));
        }
        if result.limited {
            return Err(DomainError::invalid(
                FIELD,
                format!(
                    "'{}' matches too rarely to be expanded; check the days and months it names",
                    self.rule
                ),
            ));
        }
        if result.dates.is_empty() {
            return Err(DomainError::invalid(
                FIELD,
                format!(
                    "'{}' gives no occurrences starting from {}",
                    self.rule,
                    self.first_local_start.format("%Y-%m-%d %H:%M")
                ),
            ));
        }
        Ok(result.dates.into_iter().map(|d| d.naive_utc()).collect())
    }
}

/// One occurrence of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Occurrence {
    /// Position in the series, from 0.
    pub index: u32,
    /// Wall-clock start in the clinic's zone (the same time of day across DST changes).
    pub local_start: NaiveDateTime,
    /// The instants it covers, or `None` when `local_start` does not exist because clocks jump
    /// forward over it. When it happens twice (clocks fall back) the earlier instant is used.
    /// The length is the series' duration in real minutes.
    pub range: Option<TimeRange>,
}

/// Every occurrence of the series, in order, with at most [`MAX_OCCURRENCES`] of them.
pub fn expand(spec: &SeriesSpec) -> Result<Vec<Occurrence>, DomainError> {
    let duration = Duration::minutes(i64::from(spec.duration_minutes));
    spec.local_starts()?
        .into_iter()
        .enumerate()
        .map(|(i, local_start)| {
            let index = u32::try_from(i).expect("at most MAX_OCCURRENCES");
            let range = match local_to_utc(spec.tz, local_start) {
                Ok(start) => Some(TimeRange::new(start, start + duration)?),
                Err(_) => None,
            };
            Ok(Occurrence {
                index,
                local_start,
                range,
            })
        })
        .collect()
}

/// Builds a weekly RRULE body from simple inputs, e.g. Tuesdays and Thursdays for 12
/// occurrences gives `FREQ=WEEKLY;COUNT=12;BYDAY=TU,TH`, and every other Tuesday until
/// 2027-03-31 (a local date in `tz`, included) gives
/// `FREQ=WEEKLY;UNTIL=20270401T055959Z;INTERVAL=2;BYDAY=TU` in America/Edmonton.
///
/// Exactly one of `count` (1 to [`MAX_OCCURRENCES`]) and `until` must be given;
/// `every_n_weeks` is 1 to [`MAX_EVERY_N_WEEKS`].
pub fn weekly_rule(
    weekdays: &[Weekday],
    every_n_weeks: u32,
    count: Option<u32>,
    until: Option<NaiveDate>,
    tz: Tz,
) -> Result<String, DomainError> {
    if weekdays.is_empty() {
        return Err(DomainError::invalid(
            "weekdays",
            "choose at least one day of the week",
        ));
    }
    if !(1..=MAX_EVERY_N_WEEKS).contains(&every_n_weeks) {
        return Err(DomainError::invalid(
            "every_n_weeks",
            format!("must be between 1 and {MAX_EVERY_N_WEEKS} weeks"),
        ));
    }
    let mut days: Vec<Weekday> = weekdays.to_vec();
    days.sort_by_key(|d| d.num_days_from_monday());
    days.dedup();
    let interval = u16::try_from(every_n_weeks).expect("at most 52");
    let rule = RRule::new(Frequency::Weekly)
        .interval(interval)
        .by_weekday(days.into_iter().map(NWeekday::Every).collect());
    let rule = match (count, until) {
        (None, None) => {
            return Err(DomainError::invalid(
                "count",
                "give a number of occurrences or an end date",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(DomainError::invalid(
                "until",
                "give a number of occurrences or an end date, not both",
            ))
        }
        (Some(n), None) => {
            if !(1..=MAX_OCCURRENCES).contains(&n) {
                return Err(DomainError::invalid(
                    "count",
                    format!("must be between 1 and {MAX_OCCURRENCES}"),
                ));
            }
            rule.count(n)
        }
        (None, Some(date)) => {
            // The last second of the local day, as RFC 5545 wants UNTIL in UTC when the start
            // has a zone.
            let last = local_day_bounds(tz, date).1 - Duration::seconds(1);
            rule.until(rrule::Tz::UTC.from_utc_datetime(&last.naive_utc()))
        }
    };
    Ok(rule.to_string())
}

/// Trims the rule and removes an `RRULE:` prefix; refuses empty and multi-line input.
fn normalise(rule: &str) -> Result<String, DomainError> {
    let t = rule.trim();
    let t = match t.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("RRULE:") => t.get(6..).unwrap_or_default(),
        _ => t,
    };
    if t.is_empty() {
        return Err(DomainError::invalid(
            FIELD,
            "must not be empty (for example FREQ=WEEKLY;BYDAY=TU,TH;COUNT=12)",
        ));
    }
    if t.chars().count() > MAX_RULE_CHARS {
        return Err(DomainError::invalid(
            FIELD,
            format!("must be at most {MAX_RULE_CHARS} characters"),
        ));
    }
    // An RRULE is ASCII; the `rrule` crate slices bytes of some values (BYDAY) and would panic
    // on other text.
    if !t.is_ascii() {
        return Err(DomainError::invalid(
            FIELD,
            "may only contain ASCII letters, digits and = ; , + - (for example FREQ=WEEKLY;COUNT=12)",
        ));
    }
    if t.chars().any(|c| c.is_control() || c == ':') {
        return Err(DomainError::invalid(
            FIELD,
            "must be a single RRULE line (DTSTART, EXDATE and the like are not accepted)",
        ));
    }
    Ok(t.to_owned())
}

/// An UNTIL value as a wall-clock time in `tz` (see the module documentation).
fn parse_until(tz: Tz, v: &str) -> Result<NaiveDateTime, DomainError> {
    let bad = || {
        DomainError::invalid(
            FIELD,
            format!(
                "UNTIL={v} is not a valid end (use a date like 20270331 or a UTC time like \
                 20270331T235959Z)"
            ),
        )
    };
    // Every valid form is ASCII, so from here on a byte index is a character boundary; `get`
    // keeps a wrong guess an error rather than a panic.
    if !v.is_ascii() {
        return Err(bad());
    }
    let digits = |s: Option<&str>| s.is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()));
    match v.len() {
        8 if digits(Some(v)) => {
            let date = NaiveDate::parse_from_str(v, "%Y%m%d").map_err(|_| bad())?;
            Ok(date.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("valid time")))
        }
        15 | 16 => {
            let (body, zulu) = match v.strip_suffix(['Z', 'z']) {
                Some(b) => (b, true),
                None => (v, false),
            };
            if body.len() != 15 || !digits(body.get(..8)) || !digits(body.get(9..)) {
                return Err(bad());
            }
            let n = NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S").map_err(|_| bad())?;
            Ok(if zulu {
                Utc.from_utc_datetime(&n).with_timezone(&tz).naive_local()
            } else {
                n
            })
        }
        _ => Err(bad()),
    }
}

/// A wall-clock time as a zone-less ("floating") instant for the `rrule` crate.
fn floating(n: NaiveDateTime) -> chrono::DateTime<rrule::Tz> {
    rrule::Tz::UTC.from_utc_datetime(&n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Datelike, FixedOffset};

    const EDMONTON: Tz = chrono_tz::America::Edmonton;
    const SYDNEY: Tz = chrono_tz::Australia::Sydney;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn dt(date: &str, h: u32, m: u32) -> NaiveDateTime {
        d(date).and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap())
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn series(tz: Tz, start: NaiveDateTime, rule: &str) -> Vec<Occurrence> {
        expand(&SeriesSpec::parse(tz, start, 60, rule).unwrap()).unwrap()
    }

    /// (local date, local HH:MM, UTC offset in hours) of an occurrence that exists.
    fn local(tz: Tz, o: &Occurrence) -> (NaiveDate, String, i32) {
        let r = o.range.expect("occurrence exists");
        let at = r.start().with_timezone(&tz);
        let off: FixedOffset = chrono::Offset::fix(at.offset());
        assert_eq!(at.naive_local(), o.local_start);
        assert_eq!(r.duration(), Duration::minutes(60));
        (
            at.date_naive(),
            at.format("%H:%M").to_string(),
            off.local_minus_utc() / 3600,
        )
    }

    fn err_field(e: &DomainError) -> &'static str {
        match e {
            DomainError::Invalid { field, .. } => field,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn edmonton_weekly_keeps_nine_across_spring_forward_and_fall_back() {
        let occ = series(EDMONTON, dt("2026-03-01", 9, 0), "FREQ=WEEKLY;COUNT=3");
        let got: Vec<_> = occ.iter().map(|o| local(EDMONTON, o)).collect();
        assert_eq!(
            got,
            [
                (d("2026-03-01"), "09:00".into(), -7),
                (d("2026-03-08"), "09:00".into(), -6),
                (d("2026-03-15"), "09:00".into(), -6),
            ]
        );
        assert_eq!(occ[0].range.unwrap().start(), utc("2026-03-01T16:00:00Z"));
        assert_eq!(occ[1].range.unwrap().start(), utc("2026-03-08T15:00:00Z"));
        assert_eq!(occ.iter().map(|o| o.index).collect::<Vec<_>>(), [0, 1, 2]);

        let occ = series(EDMONTON, dt("2026-10-25", 9, 0), "FREQ=WEEKLY;COUNT=2");
        let got: Vec<_> = occ.iter().map(|o| local(EDMONTON, o)).collect();
        assert_eq!(
            got,
            [
                (d("2026-10-25"), "09:00".into(), -6),
                (d("2026-11-01"), "09:00".into(), -7),
            ]
        );
        assert_eq!(occ[1].range.unwrap().start(), utc("2026-11-01T16:00:00Z"));
    }

    #[test]
    fn sydney_weekly_keeps_nine_across_fall_back_and_spring_forward() {
        // Southern hemisphere: clocks go back on 2026-04-05 and forward on 2026-10-04.
        let occ = series(SYDNEY, dt("2026-03-29", 9, 0), "FREQ=WEEKLY;COUNT=2");
        let got: Vec<_> = occ.iter().map(|o| local(SYDNEY, o)).collect();
        assert_eq!(
            got,
            [
                (d("2026-03-29"), "09:00".into(), 11),
                (d("2026-04-05"), "09:00".into(), 10),
            ]
        );
        assert_eq!(occ[0].range.unwrap().start(), utc("2026-03-28T22:00:00Z"));
        assert_eq!(occ[1].range.unwrap().start(), utc("2026-04-04T23:00:00Z"));

        let occ = series(SYDNEY, dt("2026-09-27", 9, 0), "FREQ=WEEKLY;COUNT=2");
        let got: Vec<_> = occ.iter().map(|o| local(SYDNEY, o)).collect();
        assert_eq!(
            got,
            [
                (d("2026-09-27"), "09:00".into(), 10),
                (d("2026-10-04"), "09:00".into(), 11),
            ]
        );
        assert_eq!(occ[1].range.unwrap().start(), utc("2026-10-03T22:00:00Z"));
    }

    #[test]
    fn start_in_gap_has_no_range_and_repeated_time_takes_the_earlier() {
        let occ = series(EDMONTON, dt("2026-03-01", 2, 30), "FREQ=WEEKLY;COUNT=3");
        assert_eq!(occ.len(), 3);
        assert_eq!(occ[0].range.unwrap().start(), utc("2026-03-01T09:30:00Z"));
        assert_eq!(occ[1].local_start, dt("2026-03-08", 2, 30));
        assert_eq!(occ[1].range, None);
        assert_eq!(occ[1].index, 1);
        assert_eq!(occ[2].range.unwrap().start(), utc("2026-03-15T08:30:00Z"));

        let occ = series(EDMONTON, dt("2026-10-25", 1, 30), "FREQ=WEEKLY;COUNT=2");
        // 01:30 happens twice on 2026-11-01: MDT (07:30Z) is chosen over MST (08:30Z).
        assert_eq!(occ[1].range.unwrap().start(), utc("2026-11-01T07:30:00Z"));
    }

    #[test]
    fn twice_a_week_for_six_weeks() {
        let rule = weekly_rule(&[Weekday::Thu, Weekday::Tue], 1, Some(12), None, EDMONTON).unwrap();
        assert_eq!(rule, "FREQ=WEEKLY;COUNT=12;BYDAY=TU,TH");
        // Tuesday 2026-03-03, across the change on 2026-03-08.
        let occ = series(EDMONTON, dt("2026-03-03", 9, 0), &rule);
        assert_eq!(occ.len(), 12);
        let dates: Vec<_> = occ.iter().map(|o| o.local_start.date()).collect();
        assert_eq!(dates[0], d("2026-03-03"));
        assert_eq!(dates[1], d("2026-03-05"));
        assert_eq!(dates[11], d("2026-04-09"));
        assert!(dates
            .iter()
            .all(|x| matches!(x.weekday(), Weekday::Tue | Weekday::Thu)));
        let got: Vec<_> = occ.iter().map(|o| local(EDMONTON, o)).collect();
        assert!(got.iter().all(|(_, hm, _)| hm == "09:00"));
        assert_eq!(got[1].2, -7);
        assert_eq!(got[2].2, -6);
    }

    #[test]
    fn every_other_tuesday_until_a_date() {
        let rule = weekly_rule(&[Weekday::Tue], 2, None, Some(d("2026-04-28")), EDMONTON).unwrap();
        assert_eq!(
            rule,
            "FREQ=WEEKLY;UNTIL=20260429T055959Z;INTERVAL=2;BYDAY=TU"
        );
        let occ = series(EDMONTON, dt("2026-03-03", 9, 0), &rule);
        let dates: Vec<_> = occ.iter().map(|o| o.local_start.date()).collect();
        assert_eq!(
            dates,
            [
                d("2026-03-03"),
                d("2026-03-17"),
                d("2026-03-31"),
                d("2026-04-14"),
                d("2026-04-28"),
            ]
        );
        // The until date is included even for an evening occurrence.
        let occ = series(EDMONTON, dt("2026-03-03", 21, 0), &rule);
        assert_eq!(occ.last().unwrap().local_start, dt("2026-04-28", 21, 0));

        // The literal form, with UNTIL in UTC.
        let occ = series(
            EDMONTON,
            dt("2026-03-03", 9, 0),
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20270331T235959Z",
        );
        assert_eq!(occ.len(), 29);
        assert_eq!(occ.last().unwrap().local_start, dt("2027-03-30", 9, 0));
        assert!(occ
            .windows(2)
            .all(|w| w[1].local_start - w[0].local_start == Duration::weeks(2)));
    }

    #[test]
    fn until_forms_are_read_in_the_clinic_zone() {
        let start = dt("2026-03-02", 18, 0);
        // 2026-03-05T00:30Z is 2026-03-04 17:30 in Edmonton: the 18:00 of the 4th is excluded.
        let occ = series(EDMONTON, start, "FREQ=DAILY;UNTIL=20260305T003000Z");
        assert_eq!(occ.last().unwrap().local_start, dt("2026-03-03", 18, 0));
        // Floating: clinic wall clock.
        let occ = series(EDMONTON, start, "FREQ=DAILY;UNTIL=20260304T180000");
        assert_eq!(occ.last().unwrap().local_start, dt("2026-03-04", 18, 0));
        // Date only: the whole local day.
        let occ = series(EDMONTON, start, "RRULE:FREQ=DAILY;UNTIL=20260304");
        assert_eq!(occ.last().unwrap().local_start, dt("2026-03-04", 18, 0));
        assert_eq!(occ.len(), 3);
    }

    #[test]
    fn refusals_are_clear() {
        let start = dt("2026-03-03", 9, 0);
        let parse = |rule: &str| SeriesSpec::parse(EDMONTON, start, 30, rule);

        let e = parse("FREQ=WEEKLY;BYDAY=TU").unwrap_err();
        assert_eq!(err_field(&e), "rule");
        assert!(e.to_string().contains("never ends"), "{e}");

        let e = parse("FREQ=DAILY;COUNT=501").unwrap_err();
        assert!(e.to_string().contains("at most 500"), "{e}");
        assert!(parse("FREQ=DAILY;COUNT=500").is_ok());

        let e = parse("FREQ=DAILY;UNTIL=20300101T000000Z").unwrap_err();
        assert!(e.to_string().contains("more than 500"), "{e}");

        let e = parse("FREQ=DAILY;COUNT=3;UNTIL=20300101").unwrap_err();
        assert!(e.to_string().contains("not both"), "{e}");

        let e = parse("FREQ=DAILY;UNTIL=20260101").unwrap_err();
        assert_eq!(err_field(&e), "rule");

        for bad in [
            "",
            "   ",
            "FREQ=SOMETIMES;COUNT=2",
            "FREQ=WEEKLY;BYDAY=XX;COUNT=2",
            "FREQ=WEEKLY;COUNT=2;UNTIL=2030",
            "FREQ=WEEKLY;UNTIL=20300101;UNTIL=20300102",
            "FREQ=WEEKLY;UNTIL=20301301",
            "FREQ=WEEKLY;COUNT=2\nEXDATE:20260310T090000Z",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=2",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(err_field(&e), "rule", "{bad}: {e}");
        }

        let e = SeriesSpec::parse(EDMONTON, start, 0, "FREQ=DAILY;COUNT=2").unwrap_err();
        assert_eq!(err_field(&e), "duration_minutes");
        assert!(SeriesSpec::parse(EDMONTON, start, 1441, "FREQ=DAILY;COUNT=2").is_err());
    }

    #[test]
    fn weekly_rule_refusals() {
        let e = weekly_rule(&[], 1, Some(3), None, EDMONTON).unwrap_err();
        assert_eq!(err_field(&e), "weekdays");
        let e = weekly_rule(&[Weekday::Mon], 0, Some(3), None, EDMONTON).unwrap_err();
        assert_eq!(err_field(&e), "every_n_weeks");
        assert!(weekly_rule(&[Weekday::Mon], 53, Some(3), None, EDMONTON).is_err());
        let e = weekly_rule(&[Weekday::Mon], 1, None, None, EDMONTON).unwrap_err();
        assert_eq!(err_field(&e), "count");
        let e =
            weekly_rule(&[Weekday::Mon], 1, Some(2), Some(d("2026-05-01")), EDMONTON).unwrap_err();
        assert_eq!(err_field(&e), "until");
        assert!(weekly_rule(&[Weekday::Mon], 1, Some(0), None, EDMONTON).is_err());
        assert!(weekly_rule(&[Weekday::Mon], 1, Some(501), None, EDMONTON).is_err());
        // Duplicates collapse; order is Monday first.
        assert_eq!(
            weekly_rule(
                &[Weekday::Sun, Weekday::Mon, Weekday::Sun],
                1,
                Some(4),
                None,
                SYDNEY
            )
            .unwrap(),
            "FREQ=WEEKLY;COUNT=4;BYDAY=MO,SU"
        );
    }

    #[test]
    fn first_start_not_matching_the_rule_is_not_an_occurrence() {
        // Monday start, Tuesday/Thursday rule.
        let occ = series(
            EDMONTON,
            dt("2026-03-02", 9, 0),
            "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=2",
        );
        assert_eq!(occ[0].local_start, dt("2026-03-03", 9, 0));
        assert_eq!(occ[1].local_start, dt("2026-03-05", 9, 0));
    }

    #[test]
    fn spec_accessors() {
        let s = SeriesSpec::parse(
            EDMONTON,
            dt("2026-03-03", 9, 0),
            45,
            " rrule:FREQ=DAILY;COUNT=2 ",
        )
        .unwrap();
        assert_eq!(s.tz(), EDMONTON);
        assert_eq!(s.first_local_start(), dt("2026-03-03", 9, 0));
        assert_eq!(s.duration_minutes(), 45);
        assert_eq!(s.rule(), "FREQ=DAILY;COUNT=2");
        let occ = expand(&s).unwrap();
        assert_eq!(occ[0].range.unwrap().duration(), Duration::minutes(45));
    }
}
