//! Dates and times follow a setting, not the machine: a clinic's default (its admin sets it),
//! a user's own override, each part falling back on its own (`DisplayFormat::resolve`).

mod common;

use clinicdesk_api::domain::{DisplayFormat, DisplayLocale, HourCycle, Role};
use clinicdesk_api::Fields;
use common::world;

#[test]
fn a_clinic_default_and_a_user_override_resolve_per_user() {
    let w = world();
    let (app, c) = (&w.app, w.clinic_a);
    let desk = w.user_with("desk", Role::FrontDesk, c);
    // Nothing set and no country: en-US with its 12-hour clock.
    assert_eq!(
        app.display_format(&desk, c).unwrap(),
        DisplayFormat::new(DisplayLocale::EnUs, Some(HourCycle::H12))
    );
    // The clinic's country implies its locale …
    app.update_clinic(&w.admin, c, &Fields::new().with("country", "CA"))
        .unwrap();
    assert_eq!(
        app.display_format(&desk, c).unwrap(),
        DisplayFormat::new(DisplayLocale::EnCa, Some(HourCycle::H12))
    );
    // … the clinic's setting overrides it (only an admin of the clinic may change it) …
    let refused = app
        .update_clinic(&desk, c, &Fields::new().with("hour_cycle", "h23"))
        .unwrap_err();
    assert_eq!(refused.code(), "permission_denied");
    let k = app
        .update_clinic(&w.admin, c, &Fields::new().with("hour_cycle", "h23"))
        .unwrap();
    assert_eq!(k.hour_cycle, Some(HourCycle::H23));
    assert_eq!(
        app.display_format(&desk, c).unwrap(),
        DisplayFormat::new(DisplayLocale::EnCa, Some(HourCycle::H23))
    );
    // … and a user's own choice overrides the clinic's, part by part, for that user only.
    let p = app
        .set_display_preferences(&desk, &Fields::new().with("display_locale", "en-GB"))
        .unwrap();
    assert_eq!(p.display_locale, Some(DisplayLocale::EnGb));
    assert_eq!(p.hour_cycle, None);
    assert_eq!(app.display_preferences(&desk).unwrap(), p);
    assert_eq!(
        app.display_format(&desk, c).unwrap(),
        DisplayFormat::new(DisplayLocale::EnGb, Some(HourCycle::H23))
    );
    assert_eq!(
        app.display_format(&w.admin, c).unwrap().locale,
        DisplayLocale::EnCa
    );
    // An empty value clears the override: the clinic's applies again.
    app.set_display_preferences(&desk, &Fields::new().with("display_locale", ""))
        .unwrap();
    assert_eq!(
        app.display_format(&desk, c).unwrap().locale,
        DisplayLocale::EnCa
    );
    // The change is audited as an update of the user's own row.
    assert_eq!(w.audit_actions().last().map(String::as_str), Some("update"));
}

#[test]
fn a_display_setting_outside_the_list_is_refused_and_changes_nothing() {
    let w = world();
    let (app, c) = (&w.app, w.clinic_a);
    let desk = w.user_with("desk", Role::FrontDesk, c);
    let before = w.fingerprint();
    for (field, value, says) in [
        ("display_locale", "de-DE", "not a display locale"),
        ("display_locale", "english", "not a display locale"),
        ("hour_cycle", "h11", "not an hour cycle"),
        ("hour_cycle", "noon", "not an hour cycle"),
        ("timezone_please", "x", "timezone_please"),
    ] {
        let e = app
            .set_display_preferences(&desk, &Fields::new().with(field, value))
            .unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{field}={value}: {e}");
        assert!(e.to_string().contains(says), "{field}={value}: {e}");
        let e = app
            .update_clinic(&w.admin, c, &Fields::new().with(field, value))
            .unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{field}={value}: {e}");
    }
    assert_eq!(
        w.fingerprint(),
        before,
        "a refused setting changed something"
    );
}
