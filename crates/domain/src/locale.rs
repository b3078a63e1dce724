//! How dates and times read on screen and in exports: a display locale and an hour cycle, set
//! for a clinic (its default) and optionally by each user (an override), never taken from the
//! machine. The formats are ClinicDesk's own tables, written once here and mirrored by the UI
//! (`ui/src/lib/format.ts`): `tests/format_samples.rs` writes every locale × cycle over sample
//! instants to `ui/src/lib/format-samples.json`, fails when that file is stale, and the UI's test
//! formats the same instants and must produce the same strings — so the grid, the panels, the
//! day sheet and a CSV export can never disagree.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// A locale ClinicDesk formats dates and times for (a BCP 47 tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
pub enum DisplayLocale {
    #[serde(rename = "en-CA")]
    EnCa,
    #[serde(rename = "en-US")]
    EnUs,
    #[serde(rename = "en-GB")]
    EnGb,
    #[serde(rename = "en-AU")]
    EnAu,
    #[serde(rename = "fr-CA")]
    FrCa,
}

/// Whether times read "2:30 p.m." or "14:30".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
pub enum HourCycle {
    #[serde(rename = "h12")]
    H12,
    #[serde(rename = "h23")]
    H23,
}

impl DisplayLocale {
    pub const ALL: &'static [Self] = &[Self::EnCa, Self::EnUs, Self::EnGb, Self::EnAu, Self::FrCa];

    /// The BCP 47 tag (what the database stores).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EnCa => "en-CA",
            Self::EnUs => "en-US",
            Self::EnGb => "en-GB",
            Self::EnAu => "en-AU",
            Self::FrCa => "fr-CA",
        }
    }

    /// What a settings list shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::EnCa => "English (Canada)",
            Self::EnUs => "English (United States)",
            Self::EnGb => "English (United Kingdom)",
            Self::EnAu => "English (Australia)",
            Self::FrCa => "Français (Canada)",
        }
    }

    /// Parses a tag; letter case, `_` for `-` and surrounding spaces are forgiven.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let wanted = s.trim().replace('_', "-").to_ascii_lowercase();
        Self::ALL
            .iter()
            .copied()
            .find(|l| l.as_str().to_ascii_lowercase() == wanted)
            .ok_or_else(|| {
                DomainError::invalid(
                    "display_locale",
                    format!(
                        "'{}' is not a display locale ClinicDesk formats; expected one of: {}",
                        s.trim(),
                        Self::ALL
                            .iter()
                            .map(|l| l.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    }

    /// The locale a clinic's country implies when the clinic has set none (ISO 3166 alpha-2 or
    /// the country's English name; anything else reads as en-US).
    pub fn for_country(country: Option<&str>) -> Self {
        let c = country.unwrap_or("").trim().to_ascii_uppercase();
        match c.as_str() {
            "CA" | "CAN" | "CANADA" => Self::EnCa,
            "GB" | "UK" | "GBR" | "UNITED KINGDOM" | "IE" | "IRELAND" | "NZ" | "NEW ZEALAND" => {
                Self::EnGb
            }
            "AU" | "AUS" | "AUSTRALIA" => Self::EnAu,
            _ => Self::EnUs,
        }
    }

    /// The hour cycle people of this locale expect when nobody chose one.
    pub fn default_hour_cycle(self) -> HourCycle {
        match self {
            Self::EnCa | Self::EnUs | Self::EnAu => HourCycle::H12,
            Self::EnGb | Self::FrCa => HourCycle::H23,
        }
    }

    fn tables(self) -> &'static Tables {
        match self {
            Self::EnCa => &EN_CA,
            Self::EnUs => &EN_US,
            Self::EnGb => &EN_GB,
            Self::EnAu => &EN_AU,
            Self::FrCa => &FR_CA,
        }
    }
}

impl HourCycle {
    pub const ALL: &'static [Self] = &[Self::H12, Self::H23];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::H12 => "h12",
            Self::H23 => "h23",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "h12" | "12" => Ok(Self::H12),
            "h23" | "h24" | "24" => Ok(Self::H23),
            _ => Err(DomainError::invalid(
                "hour_cycle",
                format!("'{}' is not an hour cycle; expected h12 or h23", s.trim()),
            )),
        }
    }
}

impl std::fmt::Display for DisplayLocale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for HourCycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Order of the numeric date's parts.
#[derive(Clone, Copy)]
enum NumericDate {
    /// 2026-12-07
    Iso,
    /// 12/07/2026
    MonthDayYear,
    /// 07/12/2026
    DayMonthYear,
}

/// Order of the long date's parts.
#[derive(Clone, Copy)]
enum LongDate {
    /// Mon, Dec 7, 2026
    WeekdayMonthDayYear,
    /// Mon 7 Dec 2026
    WeekdayDayMonthYear,
}

struct Tables {
    numeric: NumericDate,
    long: LongDate,
    weekdays: [&'static str; 7],
    months: [&'static str; 12],
    am: &'static str,
    pm: &'static str,
    /// Between hours and minutes ("9:05", "9 h 05").
    time_sep: &'static str,
    /// Whether a 24-hour time pads the hour ("09:05").
    pad_h23: bool,
}

const EN_WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const EN_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

const EN_CA: Tables = Tables {
    numeric: NumericDate::Iso,
    long: LongDate::WeekdayMonthDayYear,
    weekdays: EN_WEEKDAYS,
    months: EN_MONTHS,
    am: "a.m.",
    pm: "p.m.",
    time_sep: ":",
    pad_h23: true,
};
const EN_US: Tables = Tables {
    numeric: NumericDate::MonthDayYear,
    long: LongDate::WeekdayMonthDayYear,
    weekdays: EN_WEEKDAYS,
    months: EN_MONTHS,
    am: "AM",
    pm: "PM",
    time_sep: ":",
    pad_h23: true,
};
const EN_GB: Tables = Tables {
    numeric: NumericDate::DayMonthYear,
    long: LongDate::WeekdayDayMonthYear,
    weekdays: EN_WEEKDAYS,
    months: EN_MONTHS,
    am: "am",
    pm: "pm",
    time_sep: ":",
    pad_h23: true,
};
const EN_AU: Tables = Tables {
    numeric: NumericDate::DayMonthYear,
    long: LongDate::WeekdayDayMonthYear,
    weekdays: EN_WEEKDAYS,
    months: EN_MONTHS,
    am: "am",
    pm: "pm",
    time_sep: ":",
    pad_h23: true,
};
const FR_CA: Tables = Tables {
    numeric: NumericDate::Iso,
    long: LongDate::WeekdayDayMonthYear,
    weekdays: ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
    months: [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc.",
    ],
    am: "a.m.",
    pm: "p.m.",
    time_sep: " h ",
    pad_h23: true,
};

/// The format dates and times are shown in, resolved for one user at one clinic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct DisplayFormat {
    pub locale: DisplayLocale,
    pub hour_cycle: HourCycle,
}

impl Default for DisplayFormat {
    fn default() -> Self {
        Self::new(DisplayLocale::EnUs, None)
    }
}

impl DisplayFormat {
    /// A locale with its own hour cycle unless one is given.
    pub fn new(locale: DisplayLocale, hour_cycle: Option<HourCycle>) -> Self {
        Self {
            locale,
            hour_cycle: hour_cycle.unwrap_or_else(|| locale.default_hour_cycle()),
        }
    }

    /// The rule: the user's override, else the clinic's setting, else what the clinic's
    /// country implies; the hour cycle likewise, else the resolved locale's own. Each part is
    /// resolved on its own (a user may keep the clinic's locale and want a 24-hour clock).
    pub fn resolve(
        user: (Option<DisplayLocale>, Option<HourCycle>),
        clinic: (Option<DisplayLocale>, Option<HourCycle>),
        clinic_country: Option<&str>,
    ) -> Self {
        let locale = user
            .0
            .or(clinic.0)
            .unwrap_or_else(|| DisplayLocale::for_country(clinic_country));
        Self::new(locale, user.1.or(clinic.1))
    }

    /// The numeric date: "2026-12-07" (en-CA, fr-CA), "12/07/2026" (en-US), "07/12/2026"
    /// (en-GB, en-AU).
    pub fn date(&self, d: NaiveDate) -> String {
        let (y, m, day) = (d.year(), d.month(), d.day());
        match self.locale.tables().numeric {
            NumericDate::Iso => format!("{y:04}-{m:02}-{day:02}"),
            NumericDate::MonthDayYear => format!("{m:02}/{day:02}/{y:04}"),
            NumericDate::DayMonthYear => format!("{day:02}/{m:02}/{y:04}"),
        }
    }

    /// The date with its weekday: "Mon, Dec 7, 2026" or "Mon 7 Dec 2026" ("lun. 7 déc. 2026").
    pub fn date_long(&self, d: NaiveDate) -> String {
        let t = self.locale.tables();
        let wd = t.weekdays[d.weekday().num_days_from_monday() as usize];
        let mon = t.months[d.month0() as usize];
        match t.long {
            LongDate::WeekdayMonthDayYear => format!("{wd}, {mon} {}, {}", d.day(), d.year()),
            LongDate::WeekdayDayMonthYear => format!("{wd} {} {mon} {}", d.day(), d.year()),
        }
    }

    /// The time of day: "9:05 a.m.", "9:05 AM", "09:05", "09 h 05".
    pub fn time(&self, t: NaiveTime) -> String {
        let tb = self.locale.tables();
        let (h, m) = (t.hour(), t.minute());
        match self.hour_cycle {
            HourCycle::H23 if tb.pad_h23 => format!("{h:02}{}{m:02}", tb.time_sep),
            HourCycle::H23 => format!("{h}{}{m:02}", tb.time_sep),
            HourCycle::H12 => {
                let h12 = match h % 12 {
                    0 => 12,
                    x => x,
                };
                let suffix = if h < 12 { tb.am } else { tb.pm };
                format!("{h12}{}{m:02} {suffix}", tb.time_sep)
            }
        }
    }

    /// A time range on one day: "9:00 – 9:30 a.m." is not attempted; both ends are written in
    /// full ("9:00 a.m. – 9:30 a.m.") so a range reads the same in every list.
    pub fn time_range(&self, from: NaiveTime, to: NaiveTime) -> String {
        format!("{} – {}", self.time(from), self.time(to))
    }

    /// The numeric date and the time: "2026-12-07 9:05 a.m.".
    pub fn date_time(&self, dt: NaiveDateTime) -> String {
        format!("{} {}", self.date(dt.date()), self.time(dt.time()))
    }

    /// The long date and the time: "Mon, Dec 7, 2026, 9:05 a.m." / "lun. 7 déc. 2026, 09 h 05".
    pub fn date_time_long(&self, dt: NaiveDateTime) -> String {
        format!("{}, {}", self.date_long(dt.date()), self.time(dt.time()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn each_locale_writes_its_own_date_and_time() {
        let at = dt("2026-12-07 14:05");
        let f = |l, c| DisplayFormat::new(l, c);
        assert_eq!(
            f(DisplayLocale::EnCa, None).date_time(at),
            "2026-12-07 2:05 p.m."
        );
        assert_eq!(
            f(DisplayLocale::EnUs, None).date_time(at),
            "12/07/2026 2:05 PM"
        );
        assert_eq!(
            f(DisplayLocale::EnGb, None).date_time(at),
            "07/12/2026 14:05"
        );
        assert_eq!(
            f(DisplayLocale::EnAu, None).date_time(at),
            "07/12/2026 2:05 pm"
        );
        assert_eq!(
            f(DisplayLocale::FrCa, None).date_time(at),
            "2026-12-07 14 h 05"
        );
        assert_eq!(
            f(DisplayLocale::EnCa, Some(HourCycle::H23)).date_time_long(at),
            "Mon, Dec 7, 2026, 14:05"
        );
        assert_eq!(
            f(DisplayLocale::FrCa, None).date_time_long(at),
            "lun. 7 déc. 2026, 14 h 05"
        );
        assert_eq!(
            f(DisplayLocale::EnGb, Some(HourCycle::H12)).date_long(at.date()),
            "Mon 7 Dec 2026"
        );
    }

    #[test]
    fn midnight_and_noon_in_twelve_hours() {
        let f = DisplayFormat::new(DisplayLocale::EnUs, None);
        assert_eq!(
            f.time(NaiveTime::from_hms_opt(0, 0, 0).unwrap()),
            "12:00 AM"
        );
        assert_eq!(
            f.time(NaiveTime::from_hms_opt(12, 0, 0).unwrap()),
            "12:00 PM"
        );
        assert_eq!(
            f.time(NaiveTime::from_hms_opt(23, 59, 0).unwrap()),
            "11:59 PM"
        );
    }

    #[test]
    fn the_user_overrides_the_clinic_which_overrides_its_country() {
        use DisplayLocale::*;
        use HourCycle::*;
        let r = DisplayFormat::resolve;
        assert_eq!(
            r((None, None), (None, None), Some("CA")),
            DisplayFormat::new(EnCa, Some(H12))
        );
        assert_eq!(
            r((None, None), (None, None), None),
            DisplayFormat::new(EnUs, Some(H12))
        );
        assert_eq!(
            r((None, None), (Some(EnGb), None), Some("CA")),
            DisplayFormat::new(EnGb, Some(H23))
        );
        assert_eq!(
            r((None, Some(H23)), (Some(EnCa), Some(H12)), Some("CA")),
            DisplayFormat::new(EnCa, Some(H23))
        );
        assert_eq!(
            r((Some(FrCa), None), (Some(EnCa), Some(H12)), Some("CA")),
            DisplayFormat::new(FrCa, Some(H12)),
            "the clinic's chosen cycle stays when the user only changes the locale"
        );
    }

    #[test]
    fn parse_forgives_case_and_underscores_and_names_the_choices() {
        assert_eq!(
            DisplayLocale::parse(" en_ca ").unwrap(),
            DisplayLocale::EnCa
        );
        assert_eq!(HourCycle::parse("24").unwrap(), HourCycle::H23);
        let e = DisplayLocale::parse("de-DE").unwrap_err().to_string();
        assert!(e.contains("de-DE") && e.contains("en-CA, en-US"), "{e}");
        assert!(HourCycle::parse("h11").is_err());
    }
}
