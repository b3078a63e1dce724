//! Bad input is refused with a clear, field-named message and changes nothing.

mod common;

use clinicdesk_api::{ApiError, Fields};
use common::*;

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let w = world();
    let (app, a, c) = (&w.app, &w.admin, w.clinic_a);
    let before = w.fingerprint();
    let cases: Vec<(&str, Result<(), ApiError>)> = vec![
        (
            "first_name",
            app.create_patient(
                a,
                c,
                &Fields::new().with("first_name", " ").with("last_name", "X"),
            )
            .map(drop),
        ),
        (
            "date_of_birth",
            app.create_patient(
                a,
                c,
                &Fields::new()
                    .with("first_name", "A")
                    .with("last_name", "B")
                    .with("date_of_birth", "1990-02-30"),
            )
            .map(drop),
        ),
        (
            "date_of_birth",
            app.create_patient(
                a,
                c,
                &Fields::new()
                    .with("first_name", "A")
                    .with("last_name", "B")
                    .with("date_of_birth", "2999-01-01"),
            )
            .map(drop),
        ),
        (
            "email",
            app.create_patient(
                a,
                c,
                &Fields::new()
                    .with("first_name", "A")
                    .with("last_name", "B")
                    .with("email", "not-an-email"),
            )
            .map(drop),
        ),
        (
            "phone",
            app.create_patient(
                a,
                c,
                &Fields::new()
                    .with("first_name", "A")
                    .with("last_name", "B")
                    .with("phone", "12"),
            )
            .map(drop),
        ),
        (
            "preferred_contact_method",
            app.create_patient(
                a,
                c,
                &Fields::new()
                    .with("first_name", "A")
                    .with("last_name", "B")
                    .with("preferred_contact_method", "sms"),
            )
            .map(drop),
        ),
        (
            "unknown field",
            app.create_patient(
                a,
                c,
                &Fields::new()
                    .with("first_name", "A")
                    .with("last_name", "B")
                    .with("fav_color", "red"),
            )
            .map(drop),
        ),
        (
            "code",
            app.create_clinic(
                a,
                &Fields::new()
                    .with("name", "X")
                    .with("code", "1!")
                    .with("timezone", "UTC"),
            )
            .map(drop),
        ),
        (
            "timezone",
            app.create_clinic(
                a,
                &Fields::new()
                    .with("name", "X")
                    .with("code", "XX")
                    .with("timezone", "Mars/Olympus"),
            )
            .map(drop),
        ),
        (
            "end_time",
            app.create_shift_template(
                a,
                c,
                &Fields::new()
                    .with("name", "S")
                    .with("start_time", "08:00")
                    .with("end_time", "08:00"),
            )
            .map(drop),
        ),
        (
            "start_time",
            app.create_shift_template(
                a,
                c,
                &Fields::new()
                    .with("name", "S")
                    .with("start_time", "25:00")
                    .with("end_time", "08:00"),
            )
            .map(drop),
        ),
        (
            "employment_type",
            app.create_staff(
                a,
                c,
                &Fields::new()
                    .with("first_name", "A")
                    .with("last_name", "B")
                    .with("employment_type", "slave"),
            )
            .map(drop),
        ),
        (
            "alert_thresholds_days",
            app.create_credential_type(
                a,
                &Fields::new()
                    .with("name", "X")
                    .with("code", "X")
                    .with("alert_thresholds_days", "90,abc"),
            )
            .map(drop),
        ),
        (
            "payer_type",
            app.create_payer(
                a,
                &Fields::new()
                    .with("payer_name", "P")
                    .with("payer_type", "magic"),
            )
            .map(drop),
        ),
    ];
    for (field, r) in cases {
        let e = r.expect_err(field);
        assert_eq!(e.code(), "invalid_input", "{field}: {e}");
        assert!(
            e.to_string().contains(field),
            "message should name {field}: {e}"
        );
    }
    // Duplicates and illegal transitions.
    assert!(matches!(
        app.create_clinic(
            a,
            &Fields::new()
                .with("name", "Again")
                .with("code", "CGY")
                .with("timezone", "UTC")
        ),
        Err(ApiError::Conflict(_))
    ));
    assert_eq!(before, w.fingerprint(), "refused input changed data");

    let staff = app
        .create_staff(
            a,
            c,
            &Fields::new().with("first_name", "A").with("last_name", "B"),
        )
        .unwrap();
    let t = app
        .create_credential_type(
            a,
            &Fields::new().with("name", "PT licence").with("code", "PT"),
        )
        .unwrap();
    let cr = app
        .create_credential(
            a,
            staff.id,
            &Fields::new().with("credential_type_id", t.id.to_string()),
        )
        .unwrap();
    app.update_credential(a, cr.id, &Fields::new().with("status", "revoked"))
        .unwrap();
    let before = w.fingerprint();
    let e = app
        .update_credential(
            a,
            cr.id,
            &Fields::new().with("status", "active").with("notes", "x"),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot change credential from revoked to active"),
        "{e}"
    );
    assert_eq!(before, w.fingerprint());
}
