//! Pure scheduling math: interval sets, shifts in a clinic's time zone, free slots and day views.
//!
//! Every span is a half-open [`TimeRange`] `[start, end)` in UTC. Wall-clock notions ("09:00",
//! "a day", "the quarter-hour grid") are read in the clinic's IANA zone, so 23- and 25-hour days
//! and zones with :30 or :45 offsets come out right.
//!
//! Nothing here performs IO: callers load shifts, availability blocks and appointments, turn them
//! into [`TimeRange`]s and ask.

use crate::error::DomainError;
use crate::validate::{local_day_bounds, DateRange, TimeRange};
use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

// ---------------------------------------------------------------------------------------------
// Interval sets
// ---------------------------------------------------------------------------------------------

/// Sorts `ranges` and coalesces those that overlap or touch (`[9,10)` and `[10,11)` become
/// `[9,11)`). The result is sorted by start, pairwise disjoint and never touching.
pub fn merge(mut ranges: Vec<TimeRange>) -> Vec<TimeRange> {
    ranges.sort_unstable();
    let mut out: Vec<TimeRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start() <= last.end() => {
                if r.end() > last.end() {
                    *last = span(last.start(), r.end());
                }
            }
            _ => out.push(r),
        }
    }
    out
}

/// The instants in `base` that are not in `remove`, as a merged set (see [`merge`]).
pub fn subtract(base: &[TimeRange], remove: &[TimeRange]) -> Vec<TimeRange> {
    let base = merge(base.to_vec());
    let remove = merge(remove.to_vec());
    let mut out = Vec::with_capacity(base.len());
    let mut j = 0;
    for b in base {
        let mut cursor = b.start();
        // `remove` is sorted and disjoint; skip the parts that end before this piece of `base`.
        while j < remove.len() && remove[j].end() <= cursor {
            j += 1;
        }
        let mut k = j;
        while k < remove.len() && remove[k].start() < b.end() {
            let r = remove[k];
            if r.start() > cursor {
                out.push(span(cursor, r.start()));
            }
            cursor = cursor.max(r.end());
            if cursor >= b.end() {
                break;
            }
            k += 1;
        }
        if cursor < b.end() {
            out.push(span(cursor, b.end()));
        }
    }
    out
}

/// The instants that are in both `a` and `b`, as a merged set (see [`merge`]).
pub fn intersect(a: &[TimeRange], b: &[TimeRange]) -> Vec<TimeRange> {
    let a = merge(a.to_vec());
    let b = merge(b.to_vec());
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let start = a[i].start().max(b[j].start());
        let end = a[i].end().min(b[j].end());
        if start < end {
            out.push(span(start, end));
        }
        if a[i].end() <= b[j].end() {
            i += 1;
        } else {
            j += 1;
        }
    }
    // Pieces of disjoint, non-touching inputs can still touch each other only if an input touched
    // itself, which merged inputs do not; merge anyway to keep the contract obvious.
    merge(out)
}

/// `[start, end)` for callers that already know `start < end`.
fn span(start: DateTime<Utc>, end: DateTime<Utc>) -> TimeRange {
    TimeRange::new(start, end).expect("interval arithmetic keeps start < end")
}

// ---------------------------------------------------------------------------------------------
// Shifts
// ---------------------------------------------------------------------------------------------

/// A shift as written on a roster: a local date and wall-clock start and end times in the
/// clinic's zone. When `end <= start` the shift crosses midnight and ends on `date + 1`
/// (so `start == end` is a 24-hour shift).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocalShift {
    /// The local date the shift starts on.
    pub date: NaiveDate,
    /// Wall-clock start time.
    pub start: NaiveTime,
    /// Wall-clock end time; on the next day when not after `start`.
    pub end: NaiveTime,
}

impl LocalShift {
    /// The instants the shift covers in `tz`.
    ///
    /// Unlike [`crate::local_to_utc`], which refuses a booking at a time that does not exist,
    /// a shift is a standing arrangement and must still resolve on daylight-saving days:
    /// - a start or end that falls in a gap (clocks jump forward) moves to the first instant
    ///   after the gap, i.e. the moment of the jump (a shift written 02:30–10:00 on Edmonton's
    ///   spring-forward day runs 03:00–10:00 MDT);
    /// - a start or end that happens twice (clocks fall back) resolves to the earlier instant,
    ///   as `local_to_utc` does.
    ///
    /// Refused only when the whole shift falls inside a gap and so covers no time at all.
    pub fn to_utc(&self, tz: Tz) -> Result<TimeRange, DomainError> {
        let end_date = if self.end <= self.start {
            self.date.succ_opt().ok_or_else(|| {
                DomainError::invalid("date", "the shift ends after the last supported date")
            })?
        } else {
            self.date
        };
        let start = local_to_utc_lenient(tz, self.date.and_time(self.start));
        let end = local_to_utc_lenient(tz, end_date.and_time(self.end));
        match (start, end) {
            (Some(s), Some(e)) if s < e => Ok(span(s, e)),
            _ => Err(DomainError::invalid(
                "time",
                format!(
                    "the shift from {} to {} on {} falls entirely in time skipped when clocks \
                     jump forward in {}",
                    self.start.format("%H:%M"),
                    self.end.format("%H:%M"),
                    self.date.format("%Y-%m-%d"),
                    tz.name()
                ),
            )),
        }
    }
}

/// Converts a wall-clock time to an instant, never refusing a gap: a time skipped when clocks
/// jump forward resolves to the first instant after the gap; a repeated time to the earlier
/// instant. `None` only at the edges of chrono's range.
fn local_to_utc_lenient(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let resolve = |t: NaiveDateTime| match tz.from_local_datetime(&t) {
        LocalResult::Single(d) => Some(d.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.with_timezone(&Utc).min(b.with_timezone(&Utc))),
        LocalResult::None => None,
    };
    if let Some(d) = resolve(local) {
        return Some(d);
    }
    // In a gap. Transitions happen on whole minutes (as `local_day_bounds` also assumes), so the
    // first whole minute that exists is the wall-clock reading at the jump. Gaps last at most a
    // day (Pacific/Apia 2011), hence the bound.
    let minute = local.with_second(0)?.with_nanosecond(0)?;
    (1..=(26 * 60)).find_map(|k| resolve(minute + Duration::minutes(k)))
}

// ---------------------------------------------------------------------------------------------
// Free slots
// ---------------------------------------------------------------------------------------------

/// The most days one [`SlotQuery`] may span.
pub const MAX_SLOT_QUERY_DAYS: i64 = 366;

/// What to look for: slots of `duration` on a `step` grid over local days `from..=to` in `tz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotQuery {
    tz: Tz,
    from: NaiveDate,
    to: NaiveDate,
    duration: Duration,
    step: Duration,
}

impl SlotQuery {
    /// Validates a query: `to` not before `from` and at most [`MAX_SLOT_QUERY_DAYS`] days in
    /// all; `duration` and `step` whole minutes between 1 minute and 24 hours.
    pub fn new(
        tz: Tz,
        from: NaiveDate,
        to: NaiveDate,
        duration: Duration,
        step: Duration,
    ) -> Result<Self, DomainError> {
        let days = DateRange::new(from, to)?.num_days();
        if days > MAX_SLOT_QUERY_DAYS {
            return Err(DomainError::invalid(
                "to",
                format!("a search may cover at most {MAX_SLOT_QUERY_DAYS} days (this one covers {days})"),
            ));
        }
        let check = |field: &'static str, what: &str, d: Duration| {
            let whole_minutes = d.num_seconds() % 60 == 0 && d.subsec_nanos() == 0;
            if d < Duration::minutes(1) || d > Duration::hours(24) || !whole_minutes {
                return Err(DomainError::invalid(
                    field,
                    format!("the {what} must be a whole number of minutes between 1 minute and 24 hours"),
                ));
            }
            Ok(())
        };
        check("duration", "slot length", duration)?;
        check("step", "grid step", step)?;
        Ok(Self {
            tz,
            from,
            to,
            duration,
            step,
        })
    }

    /// The clinic's zone, in which days and the grid are read.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// First local day searched.
    pub fn from(&self) -> NaiveDate {
        self.from
    }

    /// Last local day searched (inclusive).
    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// Length of every slot.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Grid step: slots start at local wall-clock times that are a multiple of it after local
    /// midnight (:00, :15, :30, :45 for 15 minutes).
    pub fn step(&self) -> Duration {
        self.step
    }

    /// The instants searched: from the start of `from` to the start of the day after `to`, read
    /// in the clinic's zone.
    pub fn window(&self) -> Option<TimeRange> {
        let start = local_day_bounds(self.tz, self.from).0;
        let end = local_day_bounds(self.tz, self.to).1;
        TimeRange::new(start, end).ok()
    }
}

/// Free slots for one provider (or room): every `[s, s + duration)` such that `s` is on the
/// query's local wall-clock grid, the slot lies inside the query's window, inside `working`, and
/// overlaps nothing in `blocked` or `busy`. Sorted by start; slots may overlap each other when
/// `step < duration`.
///
/// - `working`: shifts (see [`LocalShift::to_utc`]) and "available" availability blocks.
/// - `blocked`: blocking availability blocks, clinic-wide or the provider's.
/// - `busy`: active appointments and slots held by open waitlist offers.
///
/// The grid is local: in Asia/Kolkata (UTC+05:30) a 15-minute grid gives 09:00, 09:15 local,
/// not :00 and :15 UTC. On a day when clocks fall back the repeated hour is offered twice
/// (they are different instants); on a day when they jump forward the skipped hour is absent.
pub fn free_slots(
    q: &SlotQuery,
    working: &[TimeRange],
    blocked: &[TimeRange],
    busy: &[TimeRange],
) -> Vec<TimeRange> {
    let Some(window) = q.window() else {
        return Vec::new();
    };
    let taken: Vec<TimeRange> = blocked.iter().chain(busy).copied().collect();
    let open = intersect(&subtract(working, &taken), &[window]);

    let step_ns = q.step.num_nanoseconds().expect("step is at most a day");
    let mut slots = Vec::new();
    for piece in open {
        let mut s = piece.start();
        while s + q.duration <= piece.end() {
            let local = s.with_timezone(&q.tz).time();
            let since_midnight = i64::from(local.num_seconds_from_midnight()) * 1_000_000_000
                + i64::from(local.nanosecond());
            let off_grid = since_midnight.rem_euclid(step_ns);
            if off_grid != 0 {
                // Move forward to the next grid line; re-checked because a DST jump in between
                // can shift the wall clock by an amount that is not a multiple of the step.
                s += Duration::nanoseconds(step_ns - off_grid);
                continue;
            }
            slots.push(span(s, s + q.duration));
            s += q.step;
        }
    }
    slots
}

/// Why a proposed slot cannot be booked. Indexes point into the slices given to
/// [`is_slot_available`] so the caller can name the block or appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum SlotConflict {
    /// Some part of the slot is outside every working interval.
    #[error("the time is outside working hours")]
    OutsideWorkingHours,
    /// The slot overlaps `blocked[i]`.
    #[error("the time falls in a blocked period")]
    Blocked(usize),
    /// The slot overlaps `busy[i]`.
    #[error("the time overlaps another appointment")]
    Busy(usize),
}

/// Whether `slot` can be booked against the same inputs as [`free_slots`] (the grid is not
/// checked: a booking may start at any minute).
///
/// When several things are wrong, the most specific is reported: a blocking availability block
/// first (it carries a reason such as "Holiday"), then a busy interval, then working hours.
/// Among several overlapping blocks or busy intervals the lowest index is reported.
pub fn is_slot_available(
    slot: &TimeRange,
    working: &[TimeRange],
    blocked: &[TimeRange],
    busy: &[TimeRange],
) -> Result<(), SlotConflict> {
    if let Some(i) = blocked.iter().position(|b| b.overlaps(slot)) {
        return Err(SlotConflict::Blocked(i));
    }
    if let Some(i) = busy.iter().position(|b| b.overlaps(slot)) {
        return Err(SlotConflict::Busy(i));
    }
    if !merge(working.to_vec())
        .iter()
        .any(|w| w.contains_range(slot))
    {
        return Err(SlotConflict::OutsideWorkingHours);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Day view
// ---------------------------------------------------------------------------------------------

/// The span a calendar shows for local day `date` in `tz`: its first instant, the first instant
/// of the next day, and its length in hours (23, 24 or 25 around daylight-saving changes;
/// rounded up for zones with half-hour shifts such as Australia/Lord_Howe; 0 for a day the zone
/// skipped entirely).
pub fn day_view_hours(tz: Tz, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>, i64) {
    let (start, end) = local_day_bounds(tz, date);
    let secs = (end - start).num_seconds();
    (start, end, (secs + 3599).div_euclid(3600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::local_to_utc;
    use proptest::prelude::*;

    const EDMONTON: Tz = chrono_tz::America::Edmonton;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn r(a: &str, b: &str) -> TimeRange {
        TimeRange::new(utc(a), utc(b)).unwrap()
    }

    /// A range between two local wall-clock times on `date` in `tz` (both must exist).
    fn local_range(tz: Tz, date: &str, from: (u32, u32), to: (u32, u32)) -> TimeRange {
        let s = local_to_utc(tz, d(date).and_time(t(from.0, from.1))).unwrap();
        let e = local_to_utc(tz, d(date).and_time(t(to.0, to.1))).unwrap();
        TimeRange::new(s, e).unwrap()
    }

    fn query(tz: Tz, from: &str, to: &str, dur_min: i64, step_min: i64) -> SlotQuery {
        SlotQuery::new(
            tz,
            d(from),
            d(to),
            Duration::minutes(dur_min),
            Duration::minutes(step_min),
        )
        .unwrap()
    }

    fn local_hm(tz: Tz, i: DateTime<Utc>) -> String {
        i.with_timezone(&tz).format("%H:%M").to_string()
    }

    // ----- interval sets ---------------------------------------------------------------------

    #[test]
    fn merge_sorts_and_coalesces_touching_and_overlapping() {
        let a = r("2026-03-09T09:00:00Z", "2026-03-09T10:00:00Z");
        let b = r("2026-03-09T10:00:00Z", "2026-03-09T11:00:00Z");
        let c = r("2026-03-09T10:30:00Z", "2026-03-09T10:45:00Z");
        let e = r("2026-03-09T12:00:00Z", "2026-03-09T13:00:00Z");
        assert_eq!(
            merge(vec![e, c, b, a]),
            vec![r("2026-03-09T09:00:00Z", "2026-03-09T11:00:00Z"), e]
        );
        assert!(merge(vec![]).is_empty());
    }

    #[test]
    fn subtract_and_intersect_basics() {
        let day = r("2026-03-09T09:00:00Z", "2026-03-09T17:00:00Z");
        let lunch = r("2026-03-09T12:00:00Z", "2026-03-09T13:00:00Z");
        let late = r("2026-03-09T16:30:00Z", "2026-03-09T18:00:00Z");
        assert_eq!(
            subtract(&[day], &[late, lunch]),
            vec![
                r("2026-03-09T09:00:00Z", "2026-03-09T12:00:00Z"),
                r("2026-03-09T13:00:00Z", "2026-03-09T16:30:00Z"),
            ]
        );
        assert!(subtract(&[lunch], &[day]).is_empty());
        assert_eq!(subtract(&[day], &[]), vec![day]);
        assert_eq!(
            intersect(&[day], &[late, lunch]),
            vec![lunch, r("2026-03-09T16:30:00Z", "2026-03-09T17:00:00Z"),]
        );
        assert!(intersect(&[lunch], &[late]).is_empty());
    }

    // ----- shifts ----------------------------------------------------------------------------

    #[test]
    fn shift_ordinary_and_overnight() {
        let day = LocalShift {
            date: d("2026-01-15"),
            start: t(9, 0),
            end: t(17, 0),
        };
        assert_eq!(
            day.to_utc(EDMONTON).unwrap(),
            r("2026-01-15T16:00:00Z", "2026-01-16T00:00:00Z")
        );
        let night = LocalShift {
            date: d("2026-01-15"),
            start: t(22, 0),
            end: t(6, 0),
        };
        assert_eq!(
            night.to_utc(EDMONTON).unwrap(),
            r("2026-01-16T05:00:00Z", "2026-01-16T13:00:00Z")
        );
        let full = LocalShift {
            date: d("2026-01-15"),
            start: t(8, 0),
            end: t(8, 0),
        };
        assert_eq!(
            full.to_utc(EDMONTON).unwrap().duration(),
            Duration::hours(24)
        );
    }

    #[test]
    fn shift_across_dst_changes() {
        // Overnight into spring forward: 22:00 MST to 06:00 MDT is 7 hours.
        let spring = LocalShift {
            date: d("2026-03-07"),
            start: t(22, 0),
            end: t(6, 0),
        };
        let r1 = spring.to_utc(EDMONTON).unwrap();
        assert_eq!(r1, r("2026-03-08T05:00:00Z", "2026-03-08T12:00:00Z"));
        assert_eq!(r1.duration(), Duration::hours(7));
        // Overnight into fall back: 22:00 MDT to 06:00 MST is 9 hours.
        let fall = LocalShift {
            date: d("2026-10-31"),
            start: t(22, 0),
            end: t(6, 0),
        };
        assert_eq!(
            fall.to_utc(EDMONTON).unwrap().duration(),
            Duration::hours(9)
        );
        // Start in the gap moves to the jump (03:00 MDT = 09:00Z), unlike local_to_utc.
        let gap = LocalShift {
            date: d("2026-03-08"),
            start: t(2, 30),
            end: t(10, 0),
        };
        assert!(local_to_utc(EDMONTON, d("2026-03-08").and_time(t(2, 30))).is_err());
        assert_eq!(
            gap.to_utc(EDMONTON).unwrap(),
            r("2026-03-08T09:00:00Z", "2026-03-08T16:00:00Z")
        );
        // End in the gap also moves to the jump.
        let ends_in_gap = LocalShift {
            date: d("2026-03-07"),
            start: t(20, 0),
            end: t(2, 30),
        };
        assert_eq!(
            ends_in_gap.to_utc(EDMONTON).unwrap(),
            r("2026-03-08T03:00:00Z", "2026-03-08T09:00:00Z")
        );
        // Ambiguous start: the earlier 01:30 (MDT).
        let amb = LocalShift {
            date: d("2026-11-01"),
            start: t(1, 30),
            end: t(9, 0),
        };
        assert_eq!(
            amb.to_utc(EDMONTON).unwrap(),
            r("2026-11-01T07:30:00Z", "2026-11-01T16:00:00Z")
        );
        // Entirely inside the gap: nothing to work.
        let none = LocalShift {
            date: d("2026-03-08"),
            start: t(2, 0),
            end: t(2, 45),
        };
        let e = none.to_utc(EDMONTON).unwrap_err();
        assert!(matches!(e, DomainError::Invalid { field: "time", .. }));
        assert!(
            e.to_string().contains("02:00 to 02:45 on 2026-03-08"),
            "{e}"
        );
    }

    // ----- free slots ------------------------------------------------------------------------

    #[test]
    fn slot_query_validation() {
        let m = Duration::minutes;
        assert!(SlotQuery::new(EDMONTON, d("2026-03-02"), d("2026-03-01"), m(30), m(15)).is_err());
        assert!(SlotQuery::new(EDMONTON, d("2026-01-01"), d("2027-01-02"), m(30), m(15)).is_err());
        assert!(SlotQuery::new(EDMONTON, d("2026-01-01"), d("2027-01-01"), m(30), m(15)).is_ok());
        for (dur, step) in [
            (m(0), m(15)),
            (m(30), m(0)),
            (m(-30), m(15)),
            (Duration::seconds(90), m(15)),
            (m(30), Duration::hours(25)),
        ] {
            assert!(
                SlotQuery::new(EDMONTON, d("2026-03-02"), d("2026-03-02"), dur, step).is_err(),
                "{dur} {step}"
            );
        }
        let e =
            SlotQuery::new(EDMONTON, d("2026-03-02"), d("2026-03-02"), m(0), m(15)).unwrap_err();
        assert!(matches!(
            e,
            DomainError::Invalid {
                field: "duration",
                ..
            }
        ));
    }

    #[test]
    fn free_slots_simple_day() {
        let q = query(EDMONTON, "2026-01-15", "2026-01-15", 30, 15);
        let work = [local_range(EDMONTON, "2026-01-15", (9, 0), (11, 0))];
        let slots = free_slots(&q, &work, &[], &[]);
        let starts: Vec<_> = slots
            .iter()
            .map(|s| local_hm(EDMONTON, s.start()))
            .collect();
        assert_eq!(
            starts,
            ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30"]
        );
        assert!(slots.iter().all(|s| s.duration() == Duration::minutes(30)));
        // Working time off the grid: first slot at the next grid line.
        let work = [local_range(EDMONTON, "2026-01-15", (9, 7), (10, 0))];
        let slots = free_slots(&q, &work, &[], &[]);
        let starts: Vec<_> = slots
            .iter()
            .map(|s| local_hm(EDMONTON, s.start()))
            .collect();
        assert_eq!(starts, ["09:15", "09:30"]);
        // Working time outside the requested days gives nothing.
        let q2 = query(EDMONTON, "2026-01-16", "2026-01-16", 30, 15);
        let work = [local_range(EDMONTON, "2026-01-15", (9, 0), (11, 0))];
        assert!(free_slots(&q2, &work, &[], &[]).is_empty());
    }

    #[test]
    fn free_slots_shift_crossing_midnight_is_clipped_to_the_days_asked() {
        let shift = LocalShift {
            date: d("2026-01-15"),
            start: t(23, 0),
            end: t(1, 0),
        }
        .to_utc(EDMONTON)
        .unwrap();
        let one_day = free_slots(
            &query(EDMONTON, "2026-01-15", "2026-01-15", 30, 30),
            &[shift],
            &[],
            &[],
        );
        let starts: Vec<_> = one_day
            .iter()
            .map(|s| local_hm(EDMONTON, s.start()))
            .collect();
        assert_eq!(starts, ["23:00", "23:30"]);
        let two_days = free_slots(
            &query(EDMONTON, "2026-01-15", "2026-01-16", 30, 30),
            &[shift],
            &[],
            &[],
        );
        let starts: Vec<_> = two_days
            .iter()
            .map(|s| local_hm(EDMONTON, s.start()))
            .collect();
        assert_eq!(starts, ["23:00", "23:30", "00:00", "00:30"]);
        // A 60-minute slot may straddle midnight when both days are asked.
        let long = free_slots(
            &query(EDMONTON, "2026-01-15", "2026-01-16", 60, 30),
            &[shift],
            &[],
            &[],
        );
        let starts: Vec<_> = long.iter().map(|s| local_hm(EDMONTON, s.start())).collect();
        assert_eq!(starts, ["23:00", "23:30", "00:00"]);
    }

    #[test]
    fn free_slots_minus_blocked_and_busy() {
        let q = query(EDMONTON, "2026-01-15", "2026-01-15", 30, 30);
        let work = [local_range(EDMONTON, "2026-01-15", (9, 0), (13, 0))];
        let lunch = local_range(EDMONTON, "2026-01-15", (11, 0), (12, 0));
        let slots = free_slots(&q, &work, &[lunch], &[]);
        let starts: Vec<_> = slots
            .iter()
            .map(|s| local_hm(EDMONTON, s.start()))
            .collect();
        assert_eq!(
            starts,
            ["09:00", "09:30", "10:00", "10:30", "12:00", "12:30"]
        );
        // An appointment 09:40-10:10 takes out the 09:30 and 10:00 slots.
        let appt = local_range(EDMONTON, "2026-01-15", (9, 40), (10, 10));
        let slots = free_slots(&q, &work, &[lunch], &[appt]);
        let starts: Vec<_> = slots
            .iter()
            .map(|s| local_hm(EDMONTON, s.start()))
            .collect();
        assert_eq!(starts, ["09:00", "10:30", "12:00", "12:30"]);
        // With a 15-minute grid, 10:15 becomes free again once the appointment ends at 10:10.
        let q15 = query(EDMONTON, "2026-01-15", "2026-01-15", 30, 15);
        let slots = free_slots(&q15, &work, &[lunch], &[appt]);
        let starts: Vec<_> = slots
            .iter()
            .map(|s| local_hm(EDMONTON, s.start()))
            .collect();
        assert_eq!(
            starts,
            ["09:00", "10:15", "10:30", "12:00", "12:15", "12:30"]
        );
    }

    #[test]
    fn free_slots_align_to_local_grid_in_half_hour_zones() {
        for tz in [chrono_tz::Asia::Kolkata, chrono_tz::Australia::Adelaide] {
            let q = query(tz, "2026-06-10", "2026-06-10", 60, 60);
            let work = [local_range(tz, "2026-06-10", (9, 0), (12, 0))];
            let slots = free_slots(&q, &work, &[], &[]);
            let starts: Vec<_> = slots.iter().map(|s| local_hm(tz, s.start())).collect();
            assert_eq!(starts, ["09:00", "10:00", "11:00"], "{tz}");
            // ... which are on the half hour in UTC.
            assert!(slots.iter().all(|s| s.start().minute() == 30), "{tz}");
        }
        // Kolkata 09:00 = 03:30Z.
        let tz = chrono_tz::Asia::Kolkata;
        let q = query(tz, "2026-06-10", "2026-06-10", 15, 15);
        let work = [r("2026-06-10T03:20:00Z", "2026-06-10T04:00:00Z")];
        let slots = free_slots(&q, &work, &[], &[]);
        assert_eq!(slots[0].start(), utc("2026-06-10T03:30:00Z"));
        assert_eq!(slots.len(), 2);
    }

    #[test]
    fn free_slots_on_23_and_25_hour_days() {
        for (date, hours) in [("2026-03-08", 23), ("2026-11-01", 25), ("2026-01-15", 24)] {
            let (s, e) = local_day_bounds(EDMONTON, d(date));
            let whole_day = TimeRange::new(s, e).unwrap();
            let q = query(EDMONTON, date, date, 15, 15);
            let slots = free_slots(&q, &[whole_day], &[], &[]);
            assert_eq!(slots.len(), hours * 4, "{date}");
            assert!(
                slots.windows(2).all(|w| w[0].end() == w[1].start()),
                "{date}"
            );
            assert_eq!(slots[0].start(), s);
            assert_eq!(slots.last().unwrap().end(), e);
            assert_eq!(day_view_hours(EDMONTON, d(date)), (s, e, hours as i64));
        }
        // Spring forward: 01:45 MST is followed by 03:00 MDT.
        let q = query(EDMONTON, "2026-03-08", "2026-03-08", 15, 15);
        let (s, e) = local_day_bounds(EDMONTON, d("2026-03-08"));
        let slots = free_slots(&q, &[TimeRange::new(s, e).unwrap()], &[], &[]);
        assert_eq!(local_hm(EDMONTON, slots[7].start()), "01:45");
        assert_eq!(local_hm(EDMONTON, slots[8].start()), "03:00");
        // Fall back: 01:00-01:45 appear twice, as different instants.
        let q = query(EDMONTON, "2026-11-01", "2026-11-01", 15, 15);
        let (s, e) = local_day_bounds(EDMONTON, d("2026-11-01"));
        let slots = free_slots(&q, &[TimeRange::new(s, e).unwrap()], &[], &[]);
        let ones = slots
            .iter()
            .filter(|x| local_hm(EDMONTON, x.start()) == "01:00")
            .count();
        assert_eq!(ones, 2);
    }

    #[test]
    fn day_view_hours_half_hour_dst_rounds_up() {
        // Lord Howe Island moves its clocks by 30 minutes.
        let lh = chrono_tz::Australia::Lord_Howe;
        let (s, e, h) = day_view_hours(lh, d("2026-04-05"));
        assert_eq!(e - s, Duration::minutes(24 * 60 + 30));
        assert_eq!(h, 25);
        let (s, e, h) = day_view_hours(lh, d("2026-10-04"));
        assert_eq!(e - s, Duration::minutes(23 * 60 + 30));
        assert_eq!(h, 24);
        assert_eq!(
            day_view_hours(chrono_tz::Pacific::Apia, d("2011-12-30")).2,
            0
        );
    }

    #[test]
    fn is_slot_available_names_the_conflict() {
        let work = [
            local_range(EDMONTON, "2026-01-15", (9, 0), (12, 0)),
            local_range(EDMONTON, "2026-01-15", (12, 0), (17, 0)),
        ];
        let blocked = [
            local_range(EDMONTON, "2026-01-15", (7, 0), (8, 0)),
            local_range(EDMONTON, "2026-01-15", (12, 0), (13, 0)),
        ];
        let busy = [
            local_range(EDMONTON, "2026-01-15", (9, 0), (9, 30)),
            local_range(EDMONTON, "2026-01-15", (10, 0), (10, 30)),
            local_range(EDMONTON, "2026-01-15", (10, 15), (10, 45)),
        ];
        let at = |a, b| local_range(EDMONTON, "2026-01-15", a, b);
        let check = |slot| is_slot_available(&slot, &work, &blocked, &busy);
        assert_eq!(check(at((9, 30), (10, 0))), Ok(()));
        // Spans the two adjacent working intervals.
        assert_eq!(check(at((11, 30), (12, 0))), Ok(()));
        assert_eq!(check(at((13, 0), (14, 0))), Ok(()));
        assert_eq!(check(at((10, 20), (10, 40))), Err(SlotConflict::Busy(1)));
        assert_eq!(check(at((10, 30), (11, 0))), Err(SlotConflict::Busy(2)));
        assert_eq!(check(at((12, 30), (13, 30))), Err(SlotConflict::Blocked(1)));
        assert_eq!(
            check(at((16, 30), (17, 30))),
            Err(SlotConflict::OutsideWorkingHours)
        );
        assert_eq!(
            check(at((8, 30), (9, 0))),
            Err(SlotConflict::OutsideWorkingHours)
        );
        // A block wins over an appointment, which wins over working hours.
        assert_eq!(check(at((7, 30), (9, 15))), Err(SlotConflict::Blocked(0)));
        assert_eq!(check(at((8, 45), (9, 15))), Err(SlotConflict::Busy(0)));
        // Touching is not overlapping.
        assert_eq!(check(at((10, 45), (11, 0))), Ok(()));
    }

    // ----- properties ------------------------------------------------------------------------

    /// Base for generated ranges: local midnight starting Edmonton's 23-hour day, minus two
    /// hours, so generated sets straddle the day edges and the DST jump.
    fn base() -> DateTime<Utc> {
        utc("2026-03-08T05:00:00Z")
    }

    fn ranges(max: usize) -> impl Strategy<Value = Vec<TimeRange>> {
        prop::collection::vec((0i64..(30 * 60), 1i64..(8 * 60)), 0..max).prop_map(|v| {
            v.into_iter()
                .map(|(start, len)| {
                    let s = base() + Duration::minutes(start);
                    TimeRange::new(s, s + Duration::minutes(len)).unwrap()
                })
                .collect()
        })
    }

    fn in_any(set: &[TimeRange], i: DateTime<Utc>) -> bool {
        set.iter().any(|r| r.contains(i))
    }

    fn is_canonical(set: &[TimeRange]) -> bool {
        set.windows(2).all(|w| w[0].end() < w[1].start())
    }

    proptest! {
        #[test]
        fn prop_set_operations_agree_with_pointwise_membership(a in ranges(8), b in ranges(8)) {
            let m = merge(a.clone());
            let s = subtract(&a, &b);
            let x = intersect(&a, &b);
            prop_assert!(is_canonical(&m));
            prop_assert!(is_canonical(&s));
            prop_assert!(is_canonical(&x));
            // Generated ends are whole minutes, so checking every minute (and just before it)
            // visits every piece and every edge.
            for k in 0..(40 * 60) {
                for i in [base() + Duration::minutes(k), base() + Duration::minutes(k) - Duration::seconds(1)] {
                    let (ia, ib) = (in_any(&a, i), in_any(&b, i));
                    prop_assert_eq!(in_any(&m, i), ia);
                    prop_assert_eq!(in_any(&s, i), ia && !ib, "{}", i);
                    prop_assert_eq!(in_any(&x, i), ia && ib, "{}", i);
                }
            }
        }

        #[test]
        fn prop_free_slots_are_free_and_complete(
            working in ranges(6),
            blocked in ranges(4),
            busy in ranges(6),
            dur in prop::sample::select(vec![15i64, 20, 30, 45, 60]),
            step in prop::sample::select(vec![5i64, 15, 30]),
        ) {
            let q = query(EDMONTON, "2026-03-08", "2026-03-08", dur, step);
            let window = q.window().unwrap();
            let slots = free_slots(&q, &working, &blocked, &busy);
            let duration = Duration::minutes(dur);
            for s in &slots {
                prop_assert_eq!(s.duration(), duration);
                prop_assert!(window.contains_range(s));
                prop_assert!(working.iter().any(|w| w.overlaps(s)));
                prop_assert!(merge(working.clone()).iter().any(|w| w.contains_range(s)));
                prop_assert!(blocked.iter().all(|b| !b.overlaps(s)));
                prop_assert!(busy.iter().all(|b| !b.overlaps(s)));
                prop_assert_eq!(is_slot_available(s, &working, &blocked, &busy), Ok(()));
                let local = s.start().with_timezone(&EDMONTON).time();
                prop_assert_eq!(i64::from(local.num_seconds_from_midnight()) % (step * 60), 0);
            }
            prop_assert!(slots.windows(2).all(|w| w[0].start() < w[1].start()));
            // Complete: every free grid start in the window is returned.
            let mut expected = Vec::new();
            let mut i = window.start();
            while i + duration <= window.end() {
                let local = i.with_timezone(&EDMONTON).time();
                let on_grid = i64::from(local.num_seconds_from_midnight()) % (step * 60) == 0;
                let cand = TimeRange::new(i, i + duration).unwrap();
                if on_grid && is_slot_available(&cand, &working, &blocked, &busy).is_ok() {
                    expected.push(cand);
                }
                i += Duration::minutes(1);
            }
            prop_assert_eq!(slots, expected);
        }
    }
}
