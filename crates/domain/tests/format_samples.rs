//! The UI formats dates and times with its own copy of the display tables
//! (`ui/src/lib/format.ts`); this test writes what the Rust side makes of sample dates and
//! times, every locale × hour cycle, and the resolution rule's cases, to
//! `ui/src/lib/format-samples.json`. It fails when the committed file differs (refresh with
//! `UPDATE_FORMAT_SAMPLES=1 cargo test -p clinicdesk-domain --test format_samples`), and the
//! UI's `format.test.ts` fails when its formatter disagrees with the file: one source of truth
//! for the grid, the panels, the day sheet and the exports.

use std::path::Path;

use chrono::NaiveDateTime;
use clinicdesk_domain::{DisplayFormat, DisplayLocale, HourCycle};
use serde_json::{json, Value};

/// Every weekday and month, midnight, noon, one minute before each, single-digit days and hours.
const WALLS: &[&str] = &[
    "2026-12-07 00:00",
    "2026-12-08 00:59",
    "2026-12-09 09:05",
    "2026-12-10 11:59",
    "2026-12-11 12:00",
    "2026-12-12 14:30",
    "2026-12-13 23:59",
    "2027-01-01 08:00",
    "2027-02-14 10:15",
    "2027-03-08 02:30",
    "2027-04-30 16:45",
    "2027-05-05 05:05",
    "2027-06-21 21:00",
    "2027-07-04 12:01",
    "2027-08-09 07:40",
    "2027-09-30 18:00",
    "2027-10-31 13:13",
    "2027-11-11 11:11",
    "2999-12-31 00:01",
];

fn samples() -> Value {
    let mut formats = Vec::new();
    for &locale in DisplayLocale::ALL {
        for &cycle in HourCycle::ALL {
            let f = DisplayFormat::new(locale, Some(cycle));
            let rows: Vec<Value> = WALLS
                .iter()
                .map(|w| {
                    let dt = NaiveDateTime::parse_from_str(w, "%Y-%m-%d %H:%M").unwrap();
                    json!({
                        "wall": w,
                        "date": f.date(dt.date()),
                        "date_long": f.date_long(dt.date()),
                        "time": f.time(dt.time()),
                        "date_time": f.date_time(dt),
                        "date_time_long": f.date_time_long(dt),
                    })
                })
                .collect();
            formats.push(json!({ "locale": locale, "hour_cycle": cycle, "samples": rows }));
        }
    }
    let mut resolve = Vec::new();
    let locales = [None, Some(DisplayLocale::EnGb), Some(DisplayLocale::FrCa)];
    let cycles = [None, Some(HourCycle::H12), Some(HourCycle::H23)];
    for country in [None, Some("CA"), Some("Australia"), Some("us")] {
        for ul in locales {
            for uc in cycles {
                for cl in [None, Some(DisplayLocale::EnUs)] {
                    for cc in [None, Some(HourCycle::H23)] {
                        let got = DisplayFormat::resolve((ul, uc), (cl, cc), country);
                        resolve.push(json!({
                            "user": { "display_locale": ul, "hour_cycle": uc },
                            "clinic": { "display_locale": cl, "hour_cycle": cc, "country": country },
                            "expect": got,
                        }));
                    }
                }
            }
        }
    }
    json!({
        "generated_by": "crates/domain/tests/format_samples.rs (UPDATE_FORMAT_SAMPLES=1 cargo test -p clinicdesk-domain --test format_samples)",
        "formats": formats,
        "resolve": resolve,
    })
}

#[test]
fn the_ui_samples_are_what_the_rust_formatter_writes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/format-samples.json");
    let want = serde_json::to_string_pretty(&samples()).unwrap() + "\n";
    if std::env::var_os("UPDATE_FORMAT_SAMPLES").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale: refresh it with `UPDATE_FORMAT_SAMPLES=1 cargo test -p clinicdesk-domain --test format_samples`",
        path.display()
    );
}
