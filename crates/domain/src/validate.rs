//! Validated values: types that cannot hold invalid data, date/time parsing and time-zone helpers.
//!
//! Every constructor returns a [`DomainError::Invalid`] with a message a front-desk user can act on.
//! Deserialisation goes through the same checks.

use crate::error::DomainError;
use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Common impls for a validated string newtype `struct X(String)`. `$check` turns a `&str` into
/// `Result<X, DomainError>` and is used by `TryFrom<String>` (and therefore by serde).
macro_rules! validated_string {
    ($name:ident, $check:expr) => {
        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Consumes the value, returning the text.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                let check: fn(&str) -> Result<$name, DomainError> = $check;
                check(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

// ---------------------------------------------------------------------------------------------
// Name
// ---------------------------------------------------------------------------------------------

/// A person's or thing's name: trimmed, not empty, at most 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    /// Maximum length in characters.
    pub const MAX_CHARS: usize = 200;

    /// Validates `s` as the value of input `field` (e.g. "first_name").
    pub fn parse(field: &'static str, s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(DomainError::invalid(field, "must not be empty"));
        }
        if t.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                field,
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if has_control(t) {
            return Err(DomainError::invalid(
                field,
                "must not contain tabs, line breaks or other control characters",
            ));
        }
        Ok(Self(t.to_owned()))
    }
}
validated_string!(Name, |s| Name::parse("name", s));

// ---------------------------------------------------------------------------------------------
// ClinicCode
// ---------------------------------------------------------------------------------------------

/// A clinic's short code (e.g. CGY): 2–6 upper-case letters or digits, starting with a letter.
/// Input is upper-cased first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClinicCode(String);

impl ClinicCode {
    /// Validates and upper-cases a clinic code.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const FIELD: &str = "code";
        let t = s.trim().to_ascii_uppercase();
        let n = t.chars().count();
        if !(2..=6).contains(&n) {
            return Err(DomainError::invalid(
                FIELD,
                format!(
                    "'{}' must be 2 to 6 letters or digits (for example CGY)",
                    s.trim()
                ),
            ));
        }
        if !t
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(DomainError::invalid(
                FIELD,
                format!("'{}' may contain only letters A-Z and digits", s.trim()),
            ));
        }
        if !t.starts_with(|c: char| c.is_ascii_uppercase()) {
            return Err(DomainError::invalid(
                FIELD,
                format!("'{}' must start with a letter", s.trim()),
            ));
        }
        Ok(Self(t))
    }
}
validated_string!(ClinicCode, ClinicCode::parse);

// ---------------------------------------------------------------------------------------------
// TimeZoneName
// ---------------------------------------------------------------------------------------------

/// A valid IANA time zone name (e.g. America/Edmonton).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(Tz);

impl TimeZoneName {
    /// Validates an IANA time zone name.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        t.parse::<Tz>().map(Self).map_err(|_| {
            DomainError::invalid(
                "timezone",
                format!("'{t}' is not an IANA time zone (for example America/Edmonton)"),
            )
        })
    }

    /// The zone, for conversions.
    pub fn tz(&self) -> Tz {
        self.0
    }

    /// The canonical IANA name.
    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }
}

impl From<Tz> for TimeZoneName {
    fn from(tz: Tz) -> Self {
        Self(tz)
    }
}

impl std::fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TimeZoneName> for String {
    fn from(v: TimeZoneName) -> String {
        v.as_str().to_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// Email, Phone, Username, Password, Mrn
// ---------------------------------------------------------------------------------------------

/// An e-mail address, checked loosely; the domain part is lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Validates an e-mail address.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const FIELD: &str = "email";
        let t = s.trim();
        let bad = || {
            DomainError::invalid(
                FIELD,
                format!("'{t}' is not a valid email address (for example name@example.com)"),
            )
        };
        if t.is_empty() {
            return Err(DomainError::invalid(FIELD, "must not be empty"));
        }
        if t.chars().count() > 254 {
            return Err(DomainError::invalid(
                FIELD,
                "must be at most 254 characters",
            ));
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(DomainError::invalid(
                FIELD,
                format!("'{t}' must not contain spaces"),
            ));
        }
        let mut parts = t.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        if local.is_empty()
            || domain.is_empty()
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }
}
validated_string!(Email, Email::parse);

/// A phone number, checked loosely: digits, spaces and `+ - ( ) .`, with 7 to 15 digits.
/// Kept as typed (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Validates a phone number.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const FIELD: &str = "phone";
        let t = s.trim();
        if t.is_empty() {
            return Err(DomainError::invalid(FIELD, "must not be empty"));
        }
        if let Some(c) = t
            .chars()
            .find(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.')))
        {
            return Err(DomainError::invalid(
                FIELD,
                format!("'{t}' contains '{c}'; use only digits, spaces and + - ( ) ."),
            ));
        }
        let n = t.chars().filter(char::is_ascii_digit).count();
        if !(7..=15).contains(&n) {
            return Err(DomainError::invalid(
                FIELD,
                format!("'{t}' must have between 7 and 15 digits (it has {n})"),
            ));
        }
        Ok(Self(t.to_owned()))
    }

    /// Only the digits, e.g. "4035550123".
    pub fn digits(&self) -> String {
        self.0.chars().filter(char::is_ascii_digit).collect()
    }
}
validated_string!(Phone, Phone::parse);

/// A login name: trimmed, lower-cased, 3–64 characters of a-z, 0-9, '.', '_' and '-', starting
/// with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// Validates and lower-cases a username.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const FIELD: &str = "username";
        let t = s.trim().to_lowercase();
        let n = t.chars().count();
        if !(3..=64).contains(&n) {
            return Err(DomainError::invalid(
                FIELD,
                "must be between 3 and 64 characters",
            ));
        }
        if !t
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(DomainError::invalid(
                FIELD,
                "may contain only letters, digits, '.', '_' and '-'",
            ));
        }
        if !t.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) {
            return Err(DomainError::invalid(
                FIELD,
                "must start with a letter or digit",
            ));
        }
        Ok(Self(t))
    }
}
validated_string!(Username, Username::parse);

/// Minimum password length in characters.
pub const PASSWORD_MIN_CHARS: usize = 10;
/// Maximum password length in characters.
pub const PASSWORD_MAX_CHARS: usize = 1024;

/// Checks a new password's length (10 to 1024 characters). The password is never echoed.
pub fn validate_password(p: &str) -> Result<(), DomainError> {
    let n = p.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(DomainError::invalid(
            "password",
            format!("must be at least {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    if n > PASSWORD_MAX_CHARS {
        return Err(DomainError::invalid(
            "password",
            format!("must be at most {PASSWORD_MAX_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A medical record number: 1–32 characters of letters, digits and '-'.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Mrn(String);

impl Mrn {
    /// Validates an MRN (surrounding spaces are ignored).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const FIELD: &str = "mrn";
        let t = s.trim();
        if t.is_empty() {
            return Err(DomainError::invalid(FIELD, "must not be empty"));
        }
        if t.chars().count() > 32 {
            return Err(DomainError::invalid(FIELD, "must be at most 32 characters"));
        }
        if !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(DomainError::invalid(
                FIELD,
                format!("'{t}' may contain only letters, digits and '-'"),
            ));
        }
        Ok(Self(t.to_owned()))
    }
}
validated_string!(Mrn, Mrn::parse);

// ---------------------------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------------------------

/// A half-open span of time `[start, end)` with `end > start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "RawTimeRange")]
pub struct TimeRange {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Deserialize)]
struct RawTimeRange {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl TryFrom<RawTimeRange> for TimeRange {
    type Error = DomainError;
    fn try_from(r: RawTimeRange) -> Result<Self, Self::Error> {
        TimeRange::new(r.start, r.end)
    }
}

impl TimeRange {
    /// Refuses `end <= start` ("the end must be after the start").
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, DomainError> {
        if end <= start {
            return Err(DomainError::invalid(
                "end",
                "the end must be after the start",
            ));
        }
        Ok(Self { start, end })
    }

    /// First instant inside the range.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// First instant after the range.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// Whether the two ranges share any instant (touching ends do not overlap).
    pub fn overlaps(&self, other: &TimeRange) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether `instant` is inside `[start, end)`.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant < self.end
    }

    /// Whether `other` lies entirely inside this range.
    pub fn contains_range(&self, other: &TimeRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// Length of the range (always positive).
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }
}

/// An inclusive span of calendar dates `[from, to]` with `to >= from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "RawDateRange")]
pub struct DateRange {
    from: NaiveDate,
    to: NaiveDate,
}

#[derive(Deserialize)]
struct RawDateRange {
    from: NaiveDate,
    to: NaiveDate,
}

impl TryFrom<RawDateRange> for DateRange {
    type Error = DomainError;
    fn try_from(r: RawDateRange) -> Result<Self, Self::Error> {
        DateRange::new(r.from, r.to)
    }
}

impl DateRange {
    /// Refuses `to < from`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, DomainError> {
        if to < from {
            return Err(DomainError::invalid(
                "to",
                "the end date must not be before the start date",
            ));
        }
        Ok(Self { from, to })
    }

    /// First day (inclusive).
    pub fn from(&self) -> NaiveDate {
        self.from
    }

    /// Last day (inclusive).
    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// Whether `date` is within the range.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }

    /// Number of days, counting both ends (at least 1).
    pub fn num_days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// Every date in the range, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        let to = self.to;
        self.from.iter_days().take_while(move |d| *d <= to)
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing dates and instants
// ---------------------------------------------------------------------------------------------

/// Parses a comma-separated list of weekdays ("mon,wed" or "Monday, Wednesday"); empty items
/// are ignored, so "" is an empty list.
pub fn parse_weekdays(field: &'static str, s: &str) -> Result<Vec<chrono::Weekday>, DomainError> {
    s.split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse::<chrono::Weekday>().map_err(|_| {
                DomainError::invalid(field, format!("'{d}' is not a weekday (mon, tue, …)"))
            })
        })
        .collect()
}

/// Parses a calendar date written YYYY-MM-DD.
pub fn parse_date(field: &'static str, s: &str) -> Result<NaiveDate, DomainError> {
    let t = s.trim();
    let ok_shape = t.len() == 10
        && t.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if ok_shape {
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return Ok(d);
        }
    }
    Err(DomainError::invalid(
        field,
        format!("'{t}' is not a valid date (use YYYY-MM-DD, for example 2026-03-08)"),
    ))
}

/// Parses an instant written in RFC 3339 (e.g. 2026-03-08T09:00:00-07:00) and returns it in UTC.
pub fn parse_instant(field: &'static str, s: &str) -> Result<DateTime<Utc>, DomainError> {
    let t = s.trim();
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            DomainError::invalid(
                field,
                format!(
                    "'{t}' is not a valid date and time (use a form like 2027-03-01 09:00, the clinic's time, or 2027-03-01T09:00:00-07:00)"
                ),
            )
        })
}

// ---------------------------------------------------------------------------------------------
// Time-zone helpers
// ---------------------------------------------------------------------------------------------

/// Converts a wall-clock time in `tz` to an instant. Times skipped when clocks jump forward are
/// refused; times that happen twice when clocks fall back resolve to the earlier instant.
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, DomainError> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(d) => Ok(d.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Ok(a.with_timezone(&Utc).min(b.with_timezone(&Utc))),
        LocalResult::None => Err(DomainError::invalid(
            "time",
            format!(
                "{} on {} does not exist in {} (clocks jump forward)",
                local.format("%H:%M"),
                local.format("%Y-%m-%d"),
                tz.name()
            ),
        )),
    }
}

/// The calendar date of `instant` as read in `tz`.
pub fn local_date(tz: Tz, instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// The first instant whose local date in `tz` is `date`, or `None` if the whole day was skipped.
fn start_of_local_day(tz: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    // Midnight usually exists; where it falls in a gap, the day starts at the first wall-clock
    // minute that exists (transitions happen on whole minutes).
    for minute in 0..(24 * 60) {
        let t = NaiveTime::from_num_seconds_from_midnight_opt(minute * 60, 0)?;
        match tz.from_local_datetime(&date.and_time(t)) {
            LocalResult::Single(d) => return Some(d.with_timezone(&Utc)),
            LocalResult::Ambiguous(a, b) => {
                return Some(a.with_timezone(&Utc).min(b.with_timezone(&Utc)))
            }
            LocalResult::None => continue,
        }
    }
    None
}

/// The instants bounding the local day `date` in `tz`: from its start up to (excluding) the start
/// of the next day. Handles 23- and 25-hour days and zones where midnight does not exist.
pub fn local_day_bounds(tz: Tz, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let next_start = |mut d: NaiveDate| loop {
        d = d.succ_opt().expect("date within chrono's range");
        if let Some(s) = start_of_local_day(tz, d) {
            return s;
        }
    };
    let end = next_start(date);
    // A day skipped entirely (e.g. Pacific/Apia 2011-12-30) is an empty span at the next start.
    let start = start_of_local_day(tz, date).unwrap_or(end);
    (start, end)
}

#[cfg(test)]
mod weekday_tests {
    use super::*;

    #[test]
    fn weekday_lists() {
        use chrono::Weekday::*;
        assert_eq!(
            parse_weekdays("d", "mon, Wednesday,,fri").unwrap(),
            vec![Mon, Wed, Fri]
        );
        assert!(parse_weekdays("d", "").unwrap().is_empty());
        let e = parse_weekdays("days", "mon,funday")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("days") && e.contains("'funday' is not a weekday"),
            "{e}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn msg(e: DomainError) -> String {
        e.to_string()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn dt(date: &str, h: u32, m: u32) -> NaiveDateTime {
        d(date).and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap())
    }

    const EDMONTON: Tz = chrono_tz::America::Edmonton;

    #[test]
    fn name_trims_and_refuses_empty() {
        assert_eq!(
            Name::parse("first_name", "  Ana  ").unwrap().as_str(),
            "Ana"
        );
        assert_eq!(
            msg(Name::parse("name", "").unwrap_err()),
            "name: must not be empty"
        );
        assert_eq!(
            Name::parse("last_name", " \t \n ").unwrap_err(),
            DomainError::invalid("last_name", "must not be empty")
        );
        assert!(Name::parse("name", "Ana\nBell").is_err());
        assert!(Name::parse("name", "Ana\tBell").is_err());
        assert!(Name::parse("name", &"é".repeat(200)).is_ok());
        assert_eq!(
            msg(Name::parse("name", &"x".repeat(201)).unwrap_err()),
            "name: must be at most 200 characters"
        );
        assert_eq!(
            Name::parse("name", "Zoë O'Brien-Núñez")
                .unwrap()
                .to_string(),
            "Zoë O'Brien-Núñez"
        );
    }

    #[test]
    fn name_serde_validates() {
        let n: Name = serde_json::from_str("\" Ana \"").unwrap();
        assert_eq!(n.as_str(), "Ana");
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"Ana\"");
        assert!(serde_json::from_str::<Name>("\"   \"").is_err());
    }

    #[test]
    fn clinic_code() {
        assert_eq!(ClinicCode::parse("cgy").unwrap().as_str(), "CGY");
        assert_eq!(ClinicCode::parse(" yyc2 ").unwrap().as_str(), "YYC2");
        assert_eq!(ClinicCode::parse("AB").unwrap().as_str(), "AB");
        assert_eq!(ClinicCode::parse("ABCDEF").unwrap().as_str(), "ABCDEF");
        for bad in ["", "A", "ABCDEFG", "2AB", "C-G", "CG Y", "ÇGY", "C_Y"] {
            let e = ClinicCode::parse(bad).unwrap_err();
            assert!(
                matches!(e, DomainError::Invalid { field: "code", .. }),
                "{bad}"
            );
        }
        assert_eq!(
            msg(ClinicCode::parse("2AB").unwrap_err()),
            "code: '2AB' must start with a letter"
        );
        assert!(serde_json::from_str::<ClinicCode>("\"x\"").is_err());
        assert_eq!(
            serde_json::from_str::<ClinicCode>("\"edm\"")
                .unwrap()
                .as_str(),
            "EDM"
        );
    }

    #[test]
    fn time_zone_name() {
        let tz = TimeZoneName::parse("America/Edmonton").unwrap();
        assert_eq!(tz.tz(), EDMONTON);
        assert_eq!(tz.as_str(), "America/Edmonton");
        assert_eq!(tz.to_string(), "America/Edmonton");
        assert_eq!(
            msg(TimeZoneName::parse("UTC+5").unwrap_err()),
            "timezone: 'UTC+5' is not an IANA time zone (for example America/Edmonton)"
        );
        for bad in ["", "Mountain", "America/Calgary2", "GMT+25"] {
            assert!(TimeZoneName::parse(bad).is_err(), "{bad}");
        }
        let json = serde_json::to_string(&tz).unwrap();
        assert_eq!(json, "\"America/Edmonton\"");
        assert_eq!(serde_json::from_str::<TimeZoneName>(&json).unwrap(), tz);
        assert!(serde_json::from_str::<TimeZoneName>("\"Nowhere/City\"").is_err());
    }

    #[test]
    fn email() {
        assert_eq!(
            Email::parse(" Ana.Bell@Example.COM ").unwrap().as_str(),
            "Ana.Bell@example.com"
        );
        assert!(Email::parse("a@b.co").is_ok());
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "ana@@example.com",
            "a@b@example.com",
            "ana bell@example.com",
            "ana@.com",
            "ana@example.",
            "ana@example..com",
        ] {
            let e = Email::parse(bad).unwrap_err();
            assert!(
                matches!(e, DomainError::Invalid { field: "email", .. }),
                "{bad}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
        assert_eq!(
            msg(Email::parse("ana").unwrap_err()),
            "email: 'ana' is not a valid email address (for example name@example.com)"
        );
    }

    #[test]
    fn phone() {
        let p = Phone::parse(" +1 (403) 555-0123 ").unwrap();
        assert_eq!(p.as_str(), "+1 (403) 555-0123");
        assert_eq!(p.digits(), "14035550123");
        assert_eq!(Phone::parse("555.0123").unwrap().digits(), "5550123");
        assert!(Phone::parse("123456789012345").is_ok());
        for bad in [
            "",
            "555-012",
            "1234567890123456",
            "403-555-CALL",
            "ext 12345678",
            "+",
        ] {
            let e = Phone::parse(bad).unwrap_err();
            assert!(
                matches!(e, DomainError::Invalid { field: "phone", .. }),
                "{bad}"
            );
        }
        assert_eq!(
            msg(Phone::parse("555-012").unwrap_err()),
            "phone: '555-012' must have between 7 and 15 digits (it has 6)"
        );
    }

    #[test]
    fn username() {
        assert_eq!(Username::parse("  Ana.Bell ").unwrap().as_str(), "ana.bell");
        assert_eq!(Username::parse("abc").unwrap().as_str(), "abc");
        assert_eq!(
            Username::parse("9_front-desk").unwrap().as_str(),
            "9_front-desk"
        );
        assert!(Username::parse(&"a".repeat(64)).is_ok());
        for bad in [
            "",
            "ab",
            &"a".repeat(65),
            ".ana",
            "_ana",
            "-ana",
            "ana bell",
            "ana@x",
            "anaé",
        ] {
            let e = Username::parse(bad).unwrap_err();
            assert!(
                matches!(
                    e,
                    DomainError::Invalid {
                        field: "username",
                        ..
                    }
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn password() {
        assert!(validate_password("correct horse").is_ok());
        assert!(validate_password("0123456789").is_ok());
        assert_eq!(
            msg(validate_password("short").unwrap_err()),
            "password: must be at least 10 characters"
        );
        assert!(validate_password("123456789").is_err());
        assert!(validate_password(&"x".repeat(1024)).is_ok());
        assert!(validate_password(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn mrn() {
        assert_eq!(Mrn::parse(" MRN-00042 ").unwrap().as_str(), "MRN-00042");
        assert!(Mrn::parse("a").is_ok());
        assert!(Mrn::parse(&"9".repeat(32)).is_ok());
        for bad in ["", " ", &"9".repeat(33), "MRN 42", "MRN_42", "#42"] {
            assert!(Mrn::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_range() {
        let a = TimeRange::new(utc("2026-03-09T16:00:00Z"), utc("2026-03-09T17:00:00Z")).unwrap();
        assert_eq!(a.duration(), Duration::hours(1));
        assert_eq!(
            msg(TimeRange::new(a.end(), a.start()).unwrap_err()),
            "end: the end must be after the start"
        );
        assert!(TimeRange::new(a.start(), a.start()).is_err());
        let touching =
            TimeRange::new(utc("2026-03-09T17:00:00Z"), utc("2026-03-09T17:30:00Z")).unwrap();
        assert!(!a.overlaps(&touching) && !touching.overlaps(&a));
        let inside =
            TimeRange::new(utc("2026-03-09T16:15:00Z"), utc("2026-03-09T16:30:00Z")).unwrap();
        assert!(a.overlaps(&inside) && inside.overlaps(&a));
        assert!(a.contains_range(&inside) && !inside.contains_range(&a));
        let straddle =
            TimeRange::new(utc("2026-03-09T16:59:00Z"), utc("2026-03-09T18:00:00Z")).unwrap();
        assert!(a.overlaps(&straddle));
        assert!(a.overlaps(&a));
        assert!(a.contains(a.start()) && !a.contains(a.end()));

        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<TimeRange>(&json).unwrap(), a);
        let backwards = r#"{"start":"2026-03-09T17:00:00Z","end":"2026-03-09T16:00:00Z"}"#;
        assert!(serde_json::from_str::<TimeRange>(backwards).is_err());
    }

    #[test]
    fn date_range() {
        let r = DateRange::new(d("2026-02-27"), d("2026-03-02")).unwrap();
        assert_eq!(r.num_days(), 4);
        assert_eq!(r.days().count(), 4);
        assert!(r.contains(d("2026-02-28")) && r.contains(d("2026-03-02")));
        assert!(!r.contains(d("2026-03-03")));
        assert_eq!(
            DateRange::new(d("2026-03-02"), d("2026-03-02"))
                .unwrap()
                .num_days(),
            1
        );
        assert_eq!(
            msg(DateRange::new(d("2026-03-02"), d("2026-03-01")).unwrap_err()),
            "to: the end date must not be before the start date"
        );
        assert!(
            serde_json::from_str::<DateRange>(r#"{"from":"2026-03-02","to":"2026-03-01"}"#)
                .is_err()
        );
    }

    #[test]
    fn parse_dates_and_instants() {
        assert_eq!(parse_date("dob", "1980-02-29").unwrap(), d("1980-02-29"));
        assert_eq!(parse_date("dob", " 2026-03-08 ").unwrap(), d("2026-03-08"));
        for bad in [
            "",
            "2026-02-30",
            "2026-3-8",
            "08/03/2026",
            "2026-03-08T00:00",
            "+2026-03-08",
        ] {
            assert!(parse_date("dob", bad).is_err(), "{bad}");
        }
        assert_eq!(
            msg(parse_date("dob", "2026-02-30").unwrap_err()),
            "dob: '2026-02-30' is not a valid date (use YYYY-MM-DD, for example 2026-03-08)"
        );
        assert_eq!(
            parse_instant("start", "2026-03-08T09:00:00-06:00").unwrap(),
            utc("2026-03-08T15:00:00Z")
        );
        assert!(parse_instant("start", "2026-03-08 09:00").is_err());
        assert!(parse_instant("start", "2026-03-08T09:00:00").is_err());
    }

    #[test]
    fn local_to_utc_normal_gap_and_overlap() {
        // Ordinary winter time: MST = UTC-7.
        assert_eq!(
            local_to_utc(EDMONTON, dt("2026-01-15", 9, 0)).unwrap(),
            utc("2026-01-15T16:00:00Z")
        );
        // Spring forward: 02:00 -> 03:00 on 2026-03-08.
        let e = local_to_utc(EDMONTON, dt("2026-03-08", 2, 30)).unwrap_err();
        assert_eq!(
            e,
            DomainError::invalid(
                "time",
                "02:30 on 2026-03-08 does not exist in America/Edmonton (clocks jump forward)"
            )
        );
        assert_eq!(
            local_to_utc(EDMONTON, dt("2026-03-08", 3, 0)).unwrap(),
            utc("2026-03-08T09:00:00Z")
        );
        // Fall back: 01:30 happens twice on 2026-11-01; the earlier (MDT, UTC-6) wins.
        assert_eq!(
            local_to_utc(EDMONTON, dt("2026-11-01", 1, 30)).unwrap(),
            utc("2026-11-01T07:30:00Z")
        );
    }

    #[test]
    fn local_date_reads_in_zone() {
        assert_eq!(
            local_date(EDMONTON, utc("2026-03-09T05:00:00Z")),
            d("2026-03-08")
        );
        assert_eq!(
            local_date(EDMONTON, utc("2026-03-09T07:00:00Z")),
            d("2026-03-09")
        );
    }

    #[test]
    fn day_bounds_normal_23_and_25_hours() {
        let (s, e) = local_day_bounds(EDMONTON, d("2026-01-15"));
        assert_eq!(s, utc("2026-01-15T07:00:00Z"));
        assert_eq!(e - s, Duration::hours(24));

        let (s, e) = local_day_bounds(EDMONTON, d("2026-03-08"));
        assert_eq!(s, utc("2026-03-08T07:00:00Z"));
        assert_eq!(e, utc("2026-03-09T06:00:00Z"));
        assert_eq!(e - s, Duration::hours(23));

        let (s, e) = local_day_bounds(EDMONTON, d("2026-11-01"));
        assert_eq!(s, utc("2026-11-01T06:00:00Z"));
        assert_eq!(e, utc("2026-11-02T07:00:00Z"));
        assert_eq!(e - s, Duration::hours(25));
    }

    #[test]
    fn day_bounds_when_midnight_does_not_exist() {
        // Brazil began DST at 00:00 on 2018-11-04: the day starts at 01:00 local (-02:00).
        let sp = chrono_tz::America::Sao_Paulo;
        assert!(local_to_utc(sp, dt("2018-11-04", 0, 0)).is_err());
        let (s, e) = local_day_bounds(sp, d("2018-11-04"));
        assert_eq!(s, utc("2018-11-04T03:00:00Z"));
        assert_eq!(e, utc("2018-11-05T02:00:00Z"));
        assert_eq!(e - s, Duration::hours(23));
        // The previous day ends where this one starts.
        assert_eq!(local_day_bounds(sp, d("2018-11-03")).1, s);
    }

    #[test]
    fn day_bounds_when_whole_day_is_skipped() {
        // Samoa skipped 2011-12-30 entirely.
        let apia = chrono_tz::Pacific::Apia;
        let (s, e) = local_day_bounds(apia, d("2011-12-30"));
        assert_eq!(s, e);
        let (s29, e29) = local_day_bounds(apia, d("2011-12-29"));
        assert_eq!(e29, s);
        assert!(e29 > s29);
    }
}
