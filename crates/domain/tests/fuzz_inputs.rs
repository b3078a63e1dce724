//! Arbitrary text through the domain's parsers of user input: the recurrence rule
//! (`SeriesSpec::parse`, `expand`) and the date and instant parsers. None may panic; every
//! refusal is a `DomainError::Invalid` naming the field.
//!
//! Cases: a modest default for `cargo test`, more when `CI=true`, and `FUZZ_CASES=N` to run long
//! (`FUZZ_CASES=100000 cargo test -p clinicdesk-domain --test fuzz_inputs`).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use clinicdesk_domain::{expand, parse_date, parse_instant, DomainError, SeriesSpec};
use proptest::prelude::*;

const EDMONTON: Tz = chrono_tz::America::Edmonton;

/// Cases per property: `FUZZ_CASES`, else 100,000 under CI (`CI=true`; about 6 s in all on
/// two cores), else 200.
fn cases() -> u32 {
    if let Some(n) = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        100_000
    } else {
        200
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        max_shrink_iters: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn start() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 3)
        .unwrap()
        .and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap())
}

/// The error is a clear refusal of `field`.
fn refuses(e: &DomainError, field: &str) {
    match e {
        DomainError::Invalid { field: f, message } => {
            assert_eq!(*f, field, "{message}");
            assert!(!message.is_empty());
        }
        other => panic!("expected Invalid({field}), got {other:?}"),
    }
}

fn rule(r: &str) -> Result<SeriesSpec, DomainError> {
    SeriesSpec::parse(EDMONTON, start(), 30, r)
}

#[test]
fn non_ascii_rules_are_refused_not_a_panic() {
    for r in [
        "FREQ=WEEKLY;UNTIL=2027é0331",
        // 15 bytes with 'é' across byte 8: the old parser sliced [..8] inside the character.
        "FREQ=WEEKLY;UNTIL=2027033é235959",
        "FREQ=WEEKLY;UNTIL=2027033é1235959",
        "FREQ=WEEKLY;UNTIL=20270331Té35959",
        "FREQ=WEEKLY;UNTIL=20270331T23595é",
        "FREQ=WEEKLY;UNTIL=٢٠٢٧٠٣٣١",
        "FREQ=WEEKLY;UNTIL=20270331T２35959Z",
        "RRULÉ:FREQ=WEEKLY;COUNT=2",
        // The `rrule` crate slices BYDAY values by bytes (found by the property below).
        "FREQ=DAILY;BYDAY=Ა",
        "FREQ=WEEKLY;WKST=é;COUNT=2",
    ] {
        let e = std::panic::catch_unwind(|| rule(r))
            .unwrap_or_else(|_| panic!("{r:?} panicked"))
            .unwrap_err();
        refuses(&e, "rule");
    }
}

/// A piece of a plausible RRULE: real keys and values mixed with junk, so that the fuzzer
/// reaches the `rrule` crate and the UNTIL parser rather than stopping at the first check.
fn rule_part() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("FREQ".to_string()),
        Just("UNTIL".to_string()),
        Just("COUNT".to_string()),
        Just("INTERVAL".to_string()),
        Just("BYDAY".to_string()),
        Just("BYMONTH".to_string()),
        Just("BYMONTHDAY".to_string()),
        Just("BYSETPOS".to_string()),
        Just("BYYEARDAY".to_string()),
        Just("BYWEEKNO".to_string()),
        Just("BYHOUR".to_string()),
        Just("WKST".to_string()),
        "\\PC{0,6}",
    ];
    let value = prop_oneof![
        Just("DAILY".to_string()),
        Just("WEEKLY".to_string()),
        Just("MONTHLY".to_string()),
        Just("YEARLY".to_string()),
        Just("HOURLY".to_string()),
        Just("MO,TU,-1FR,+2SU".to_string()),
        "-?[0-9]{1,12}",
        "[0-9]{8}(T[0-9]{6}Z?)?",
        "[0-9é٢T:Z-]{0,17}",
        "\\PC{0,12}",
        ".{0,12}",
    ];
    (key, value).prop_map(|(k, v)| format!("{k}={v}"))
}

#[test]
fn huge_and_odd_rules_are_refused_cleanly() {
    let long = format!("FREQ=DAILY;COUNT=2;{}", "X".repeat(1_000_000));
    refuses(&rule(&long).unwrap_err(), "rule");
    refuses(&rule("FREQ=DAILY;COUNT=2\0").unwrap_err(), "rule");
    refuses(
        &rule("FREQ=DAILY;COUNT=99999999999999999999").unwrap_err(),
        "rule",
    );
    refuses(
        &rule("FREQ=DAILY;UNTIL=99991231T235959Z").unwrap_err(),
        "rule",
    );
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_as_a_rule_parses_or_is_refused(s in "(?s:.{0,64})") {
        if let Err(e) = rule(&s) {
            refuses(&e, "rule");
        }
    }

    #[test]
    fn any_rule_of_rule_like_parts_expands_or_is_refused(
        parts in prop::collection::vec(rule_part(), 0..6),
        minutes in 0u32..2000,
    ) {
        let r = parts.join(";");
        match SeriesSpec::parse(EDMONTON, start(), minutes, &r) {
            Ok(spec) => {
                let occ = expand(&spec).expect("a parsed series expands");
                prop_assert!(!occ.is_empty() && occ.len() <= 500);
            }
            Err(DomainError::Invalid { field, .. }) => {
                prop_assert!(field == "rule" || field == "duration_minutes", "{field}");
            }
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn any_text_as_a_date_or_instant_parses_or_is_refused(s in "(?s:.{0,40})") {
        if let Err(e) = parse_date("date_of_birth", &s) {
            refuses(&e, "date_of_birth");
        }
        if let Err(e) = parse_instant("start", &s) {
            refuses(&e, "start");
        }
    }

    #[test]
    fn date_and_instant_shaped_text_parses_or_is_refused(
        y in "[+-]?[0-9]{1,7}",
        rest in "-[0-9]{1,2}-[0-9]{1,2}(T[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,12})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?",
    ) {
        let s = format!("{y}{rest}");
        if let Err(e) = parse_date("date_of_birth", &s) {
            refuses(&e, "date_of_birth");
        }
        if let Err(e) = parse_instant("start", &s) {
            refuses(&e, "start");
        }
    }
}
