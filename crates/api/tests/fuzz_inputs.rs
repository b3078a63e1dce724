//! Arbitrary input through the API's boundary parsers: `Fields` and each typed accessor, the
//! time parser (`parse_when`) and the CSV patient import on a real encrypted database. None may
//! panic; every refusal is a clear, field-named error, and a refused import changes nothing.
//! Also the limits: free text is capped and refuses control characters, and the import stops
//! reading at its row and byte caps.
//!
//! Cases: a modest default for `cargo test`, more when `CI=true`, and `FUZZ_CASES=N` to run long
//! (`FUZZ_CASES=100000 cargo test -p clinicdesk-api --test fuzz_inputs`).

mod common;

use std::io::Read;

use clinicdesk_api::fields::{MAX_LINE_CHARS, MAX_TEXT_CHARS};
use clinicdesk_api::{
    parse_when, ApiError, Fields, IMPORT_COLUMNS, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS,
};
use clinicdesk_domain::DomainError;
use common::*;
use proptest::prelude::*;

/// Cases per property: `FUZZ_CASES`, else `ci` under CI (`CI=true`), else `local`.
fn cases(local: u32, ci: u32) -> u32 {
    if let Some(n) = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        ci
    } else {
        local
    }
}

fn config(local: u32, ci: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(local, ci),
        max_shrink_iters: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The error is a refusal of `field` (an `invalid_input` naming it).
fn refuses(e: &DomainError, field: &str) {
    match e {
        DomainError::Invalid { field: f, message } => {
            assert_eq!(*f, field, "{message}");
            assert!(!message.is_empty());
        }
        other => panic!("expected Invalid({field}), got {other:?}"),
    }
}

fn patient(extra: &[(&str, String)]) -> Fields {
    let mut f = Fields::new()
        .with("first_name", "Ann")
        .with("last_name", "Lee");
    for (k, v) in extra {
        f.set(k, v.clone());
    }
    f
}

fn invalid_field(e: &ApiError) -> &'static str {
    match e {
        ApiError::Invalid(DomainError::Invalid { field, .. }) => field,
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[test]
fn ten_megabyte_notes_are_refused_and_change_nothing() {
    let w = world();
    let before = w.fingerprint();
    let e = w
        .app
        .create_patient(
            &w.admin,
            w.clinic_a,
            &patient(&[("notes", "x".repeat(10 * 1024 * 1024))]),
        )
        .unwrap_err();
    assert_eq!(invalid_field(&e), "notes");
    assert!(e.to_string().contains("at most 10000 characters"), "{e}");
    let e = w
        .app
        .create_patient(
            &w.admin,
            w.clinic_a,
            &patient(&[("city", "x".repeat(MAX_LINE_CHARS + 1))]),
        )
        .unwrap_err();
    assert_eq!(invalid_field(&e), "city");
    assert!(e.to_string().contains("at most 1000 characters"), "{e}");
    // Found by the property below: just over 4 × 10,000 bytes (26,668 characters) once
    // passed, its length rounded down to 10,000 by the shortcut that skips counting.
    let e = w
        .app
        .create_patient(
            &w.admin,
            w.clinic_a,
            &patient(&[("notes", "\t\t \u{800}".repeat(6_667))]),
        )
        .unwrap_err();
    assert_eq!(invalid_field(&e), "notes");
    assert_eq!(before, w.fingerprint());
    // At the limits it is fine.
    w.app
        .create_patient(
            &w.admin,
            w.clinic_a,
            &patient(&[
                ("notes", "é".repeat(MAX_TEXT_CHARS)),
                ("city", "x".repeat(MAX_LINE_CHARS)),
            ]),
        )
        .unwrap();
}

#[test]
fn control_characters_are_refused_but_free_text_keeps_its_lines() {
    let w = world();
    let before = w.fingerprint();
    for (k, v) in [
        ("notes", "a\0b"),
        ("notes", "bell\u{7}"),
        ("city", "Cal\ngary"),
        ("city", "Cal\tgary"),
        ("address_line1", "1 Main St\u{1b}[2J"),
        ("date_of_birth", "1990-01-01\0"),
        ("sex", "female\0"),
    ] {
        let e = w
            .app
            .create_patient(&w.admin, w.clinic_a, &patient(&[(k, v.to_string())]))
            .unwrap_err();
        assert_eq!(invalid_field(&e), k, "{v:?}: {e}");
        assert!(e.to_string().contains("control characters"), "{v:?}: {e}");
    }
    assert_eq!(before, w.fingerprint());
    let p = w
        .app
        .create_patient(
            &w.admin,
            w.clinic_a,
            &patient(&[("notes", "line one\r\n\tline two".to_string())]),
        )
        .unwrap();
    assert_eq!(p.notes.as_deref(), Some("line one\r\n\tline two"));
}

/// CSV rows `L-0,A,B` forever; fails the test if more than `limit` bytes are read.
struct EndlessRows {
    row: u64,
    pending: Vec<u8>,
    served: u64,
    limit: u64,
}

impl Read for EndlessRows {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            self.pending = if self.row == 0 {
                b"legacy_id,first_name,last_name\n".to_vec()
            } else {
                format!("L-{},A,B\n", self.row).into_bytes()
            };
            self.row += 1;
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        self.served += n as u64;
        assert!(
            self.served <= self.limit,
            "the import read {} bytes, past row {}",
            self.served,
            self.row
        );
        Ok(n)
    }
}

#[test]
fn the_import_stops_reading_at_the_row_cap() {
    let w = world();
    let before = w.fingerprint();
    // Rows 1..=100,001 are at most 15 bytes each; allow one read buffer beyond.
    let limit = 40 + (MAX_IMPORT_ROWS as u64 + 1) * 15 + 64 * 1024;
    let mut input = EndlessRows {
        row: 0,
        pending: Vec::new(),
        served: 0,
        limit,
    };
    let e = w
        .app
        .import_patients_from(&w.admin, w.clinic_a, &mut input, &mut |_, _, _| true)
        .unwrap_err();
    assert_eq!(invalid_field(&e), "csv");
    assert!(e.to_string().contains("more than 100000 rows"), "{e}");
    assert!(
        input.row <= MAX_IMPORT_ROWS as u64 + 10_000,
        "{}",
        input.row
    );
    assert_eq!(before, w.fingerprint());
}

#[test]
fn the_import_refuses_a_file_over_the_byte_cap() {
    let w = world();
    let before = w.fingerprint();
    // One enormous cell: under the row cap, over the byte cap.
    let mut input = std::io::Cursor::new(b"legacy_id,first_name,last_name\nL-1,A,".to_vec())
        .chain(std::io::repeat(b'x').take(MAX_IMPORT_BYTES + 1));
    let e = w
        .app
        .import_patients_from(&w.admin, w.clinic_a, &mut input, &mut |_, _, _| true)
        .unwrap_err();
    assert_eq!(invalid_field(&e), "csv");
    assert!(e.to_string().contains("larger than 64 MiB"), "{e}");
    // Text over the cap is refused before it is read.
    let text = format!(
        "legacy_id,first_name,last_name\n{}",
        "L,A,B\n".repeat(MAX_IMPORT_BYTES as usize / 6 + 1)
    );
    let e = w
        .app
        .import_patients(&w.admin, w.clinic_a, &text, &mut |_, _, _| {
            panic!("no row may be read")
        })
        .unwrap_err();
    assert!(e.to_string().contains("larger than 64 MiB"), "{e}");
    assert_eq!(before, w.fingerprint());
}

// ------------------------------------------------------------------------------------------
// Properties
// ------------------------------------------------------------------------------------------

/// Any text: control characters, non-ASCII, and now and then very long.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "(?s:.{0,40})",
        2 => "[0-9 :TZ+.-]{0,30}",
        1 => ("(?s:.{1,4})", 0usize..12_000).prop_map(|(s, n)| s.repeat(n)),
    ]
}

/// The accessors of `Fields`, each on its own field name.
const KEYS: &[&str] = &[
    "notes",
    "city",
    "holidays",
    "first_name",
    "date_of_birth",
    "consent_sms",
    "age",
    "email",
    "phone",
    "start",
];

proptest! {
    #![proptest_config(config(256, 100_000))]

    #[test]
    fn every_fields_accessor_parses_or_refuses_by_name(
        values in prop::collection::vec(any_text(), KEYS.len()),
        unknown in prop::option::of("(?s:.{0,12})"),
    ) {
        let mut f = Fields::new();
        for (k, v) in KEYS.iter().zip(&values) {
            f.set(k, v.clone());
        }
        if let Some(u) = &unknown {
            f.set(u, "x");
        }
        let tz = chrono_tz::America::Edmonton;
        let check = |k: &str, r: Result<(), DomainError>| {
            if let Err(e) = r {
                refuses(&e, k);
            }
        };
        for k in ["notes", "city", "holidays"] {
            let k: &'static str = KEYS.iter().find(|x| **x == k).unwrap();
            match f.text(k) {
                Ok(Some(Some(t))) => {
                    prop_assert!(t.chars().count() <= MAX_TEXT_CHARS);
                    prop_assert!(!t.contains('\0'));
                    prop_assert_eq!(t.trim(), t.as_str());
                }
                Ok(_) => {}
                Err(e) => refuses(&e, k),
            }
        }
        check("first_name", f.name("first_name").map(drop));
        check("date_of_birth", f.date("date_of_birth").map(drop));
        check("consent_sms", f.bool("consent_sms").map(drop));
        check("age", f.int("age", -5, 150).map(drop));
        check("email", f.email("email").map(drop));
        check("phone", f.phone("phone").map(drop));
        check("start", f.parsed("start", |s| parse_when("start", tz, s)).map(drop));
        // Every known field was read: only the unknown one (when not a known name) is left.
        match f.finish() {
            Ok(()) => prop_assert!(unknown.as_deref().is_none_or(|u| KEYS.contains(&u))),
            Err(e) => refuses(&e, "field"),
        }
    }

    #[test]
    fn any_text_as_a_time_parses_or_is_refused(
        s in any_text(),
        shaped in "[+-]?[0-9]{1,7}-[0-9]{1,2}-[0-9]{1,2}[T ][0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2})?(Z|[+-][0-9]{2}:[0-9]{2})?",
        tz in prop::sample::select(vec![
            chrono_tz::America::Edmonton,
            chrono_tz::Australia::Sydney,
            chrono_tz::Pacific::Kiritimati,
            chrono_tz::UTC,
        ]),
    ) {
        for s in [&s, &shaped] {
            if let Err(e) = parse_when("start", tz, s) {
                // A wall-clock time skipped by a DST change is refused as the same field.
                refuses(&e, "start");
            }
        }
    }
}

/// A CSV cell: plain, quoted (with commas, quotes and line breaks), or anything.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9 -]{0,10}",
        1 => "(?s:.{0,12})".prop_map(|s| format!("\"{}\"", s.replace('"', "\"\""))),
        1 => "(?s:.{0,12})",
        1 => Just("1990-02-30".to_string()),
        1 => Just("CGY-1".to_string()),
    ]
}

/// A header of import columns (sometimes with junk), then rows of cells, ragged at times.
fn csv_text() -> impl Strategy<Value = String> {
    let header = prop::collection::vec(
        prop_oneof![
            8 => prop::sample::select(IMPORT_COLUMNS.to_vec()).prop_map(str::to_string),
            1 => "(?s:.{0,8})",
        ],
        0..8,
    );
    let rows = prop::collection::vec(prop::collection::vec(cell(), 0..9), 0..12);
    (header, rows, any::<bool>()).prop_map(|(mut h, rows, required)| {
        if required {
            for c in ["legacy_id", "first_name", "last_name"] {
                if !h.iter().any(|x| x == c) {
                    h.push(c.to_string());
                }
            }
        }
        let mut out = h.join(",");
        for r in rows {
            out.push('\n');
            out.push_str(&r.join(","));
        }
        out
    })
}

proptest! {
    #![proptest_config(config(48, 22_000))]

    #[test]
    fn any_csv_imports_or_is_refused_and_a_refusal_changes_nothing(csv in csv_text()) {
        thread_local! {
            static WORLD: World = world();
        }
        WORLD.with(|w| {
            let before = w.fingerprint();
            match w.app.import_patients(&w.admin, w.clinic_a, &csv, &mut |_, _, _| true) {
                Ok(r) => {
                    if r.invalid > 0 {
                        assert_eq!(r.imported, 0);
                        assert!(!r.errors.is_empty());
                        assert!(r.errors.iter().all(|e| !e.message.is_empty()));
                        assert_eq!(before, w.fingerprint(), "{csv:?}");
                    } else {
                        assert_eq!(r.imported + r.skipped, r.rows, "{r:?}");
                    }
                }
                Err(e) => {
                    assert_eq!(invalid_field(&e), "csv", "{csv:?}: {e}");
                    assert_eq!(before, w.fingerprint(), "{csv:?}");
                }
            }
        });
    }
}
