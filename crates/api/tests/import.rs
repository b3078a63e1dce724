//! Patient import from CSV on a real encrypted database: a good import, an idempotent
//! re-import, bad rows (nothing imported, every line reported), MRN and legacy_id clashes,
//! unreadable files, permissions, and cancellation (nothing kept).

mod common;

use clinicdesk_api::{ApiResult, App, PatientImport, Session, MAX_IMPORT_ERRORS};
use clinicdesk_domain::{ClinicId, Role};
use common::*;

const HEADER: &str = "legacy_id,mrn,first_name,last_name,date_of_birth,sex,phone,email";

fn import(app: &App, s: &Session, clinic: ClinicId, csv: &str) -> ApiResult<PatientImport> {
    app.import_patients(s, clinic, csv, &mut |_, _, _| true)
}

fn patients(w: &World) -> i64 {
    w.app
        .store()
        .read(|c| -> clinicdesk_store::Result<i64> {
            Ok(c.query_row("SELECT count(*) FROM patients", [], |r| r.get(0))?)
        })
        .unwrap()
}

#[test]
fn a_good_import_writes_every_row_and_a_re_import_skips_them() {
    let w = world();
    let csv = format!(
        "{HEADER},consent_sms,preferred_contact_method,city\n\
         OLD-1,CGY-9001,Ann,Lee,1980-02-03,female,403 555 0101,ann@example.com,yes,sms,Calgary\n\
         OLD-2,,\"O'Brien, Jr\",Ray,,male,,,,,\n\
         \u{20}OLD-3 , CGY-9003 , Kim , Wu ,1975-12-31,,,,no,,\n"
    );
    let mut seen = Vec::new();
    let r = w
        .app
        .import_patients(&w.admin, w.clinic_a, &csv, &mut |stage, done, total| {
            seen.push((stage.to_string(), done, total));
            true
        })
        .unwrap();
    assert_eq!(
        (r.rows, r.imported, r.skipped, r.invalid),
        (3, 3, 0, 0),
        "{r:?}"
    );
    assert!(r.errors.is_empty());
    assert_eq!(seen.last(), Some(&("importing".to_string(), 3, 3)));
    assert!(seen.iter().any(|(s, ..)| s == "validating"));

    let ann = &w.app.search_patients(&w.admin, "Lee", 10).unwrap()[0];
    assert_eq!(ann.mrn, "CGY-9001");
    assert_eq!(ann.legacy_id.as_deref(), Some("OLD-1"));
    assert_eq!(ann.clinic_id, w.clinic_a);
    assert_eq!(ann.date_of_birth.unwrap().to_string(), "1980-02-03");
    assert_eq!(ann.sex.as_str(), "female");
    assert!(ann.consent_sms);
    assert_eq!(ann.preferred_contact_method.as_str(), "sms");
    assert_eq!(ann.city.as_deref(), Some("Calgary"));
    // Quoted commas survive; a missing MRN is made from the clinic's code, as by hand.
    let ray = &w.app.search_patients(&w.admin, "Ray", 10).unwrap()[0];
    assert_eq!(ray.first_name, "O'Brien, Jr");
    assert!(ray.mrn.starts_with("CGY-"), "{}", ray.mrn);
    // Cells are trimmed.
    let kim = &w.app.search_patients(&w.admin, "Wu", 10).unwrap()[0];
    assert_eq!(
        (
            kim.legacy_id.as_deref(),
            kim.mrn.as_str(),
            kim.first_name.as_str()
        ),
        (Some("OLD-3"), "CGY-9003", "Kim")
    );
    // Every patient is audited like one created by hand, plus one event for the import.
    let actions = w.audit_actions();
    assert!(actions.iter().filter(|a| *a == "insert").count() >= 3);
    assert_eq!(actions.last().map(String::as_str), Some("event"));

    // The same file again, plus one new row: only the new row is written.
    let again = format!("{csv}OLD-4,,Sam,Hill,,,,,,,\n");
    let r = import(&w.app, &w.admin, w.clinic_a, &again).unwrap();
    assert_eq!((r.rows, r.imported, r.skipped, r.invalid), (4, 1, 3, 0));
    assert_eq!(patients(&w), 4);
    let r = import(&w.app, &w.admin, w.clinic_a, &again).unwrap();
    assert_eq!((r.imported, r.skipped), (0, 4));
}

#[test]
fn one_bad_row_imports_nothing_and_every_bad_line_is_reported() {
    let w = world();
    let before = w.fingerprint();
    let csv = format!(
        "{HEADER}\n\
         A-1,,Ann,Lee,1980-02-03,,,\n\
         A-2,,Bob,Bell,1980-02-30,,,\n\
         A-3,,Cy,Cole,,,,not-an-email\n\
         A-4,,Dee,,,,,\n\
         A-5,,Eve,Ek\n\
         ,,Fay,Fox,,,,\n\
         A-7,,Gus,Gray,,robot,,\n\
         A-1,,Hal,Hart,,,,\n"
    );
    let r = import(&w.app, &w.admin, w.clinic_a, &csv).unwrap();
    assert_eq!((r.rows, r.imported, r.skipped, r.invalid), (8, 0, 0, 7));
    let lines: Vec<u64> = r.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7, 8, 9]);
    let says = |line: u64, what: &str| {
        let e = r.errors.iter().find(|e| e.line == line).unwrap();
        assert!(e.message.contains(what), "line {line}: {}", e.message);
    };
    says(3, "date_of_birth");
    says(4, "email");
    says(5, "last_name: is required");
    says(6, "has 4 fields, the header has 8");
    says(7, "legacy_id: is required");
    says(8, "sex");
    says(9, "legacy_id A-1 is also on line 2");
    assert_eq!(patients(&w), 0);
    assert_eq!(before, w.fingerprint());

    // Errors are capped; the count of bad rows is not.
    let mut many = String::from("legacy_id,first_name,last_name\n");
    for i in 0..150 {
        many.push_str(&format!("B-{i},Ann,\n"));
    }
    let r = import(&w.app, &w.admin, w.clinic_a, &many).unwrap();
    assert_eq!((r.invalid, r.errors.len()), (150, MAX_IMPORT_ERRORS));
    assert_eq!(r.errors[0].line, 2);
    assert_eq!(before, w.fingerprint());
}

#[test]
fn mrn_and_legacy_id_clashes_are_errors() {
    let w = world();
    let (app, a) = (&w.app, &w.admin);
    app.create_patient(
        a,
        w.clinic_a,
        &clinicdesk_api::Fields::new()
            .with("first_name", "Old")
            .with("last_name", "Timer")
            .with("mrn", "CGY-1"),
    )
    .unwrap();
    // A patient of clinic B imported under its legacy id.
    import(
        app,
        a,
        w.clinic_b,
        "legacy_id,first_name,last_name\nSYD-7,Sue,Park\n",
    )
    .unwrap();
    let before = w.fingerprint();
    let csv = "legacy_id,mrn,first_name,last_name\n\
               N-1,CGY-1,New,Person\n\
               N-2,CGY-2,Two,Same\n\
               N-3,CGY-2,Three,Same\n\
               SYD-7,,Sue,Park\n\
               N-5,,Fine,Row\n";
    let r = import(app, a, w.clinic_a, csv).unwrap();
    assert_eq!((r.imported, r.invalid), (0, 3), "{r:?}");
    let messages: Vec<(u64, &str)> = r
        .errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        vec![
            (2, "another patient already has MRN CGY-1"),
            (4, "MRN CGY-2 is also on line 3"),
            (5, "legacy_id SYD-7 belongs to a patient of another clinic"),
        ]
    );
    assert_eq!(before, w.fingerprint());
}

#[test]
fn an_unreadable_file_is_refused_with_a_clear_error() {
    let w = world();
    let before = w.fingerprint();
    for (csv, want) in [
        ("", "the file is empty"),
        ("first_name,last_name\nAnn,Lee\n", "missing: legacy_id"),
        (
            "legacy_id,first_name,last_name,shoe_size\nL-1,Ann,Lee,9\n",
            "unknown column 'shoe_size'",
        ),
        (
            "legacy_id,first_name,last_name,First_Name\nL-1,Ann,Lee,Al\n",
            "the column first_name appears twice",
        ),
    ] {
        let e = import(&w.app, &w.admin, w.clinic_a, csv).unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{csv:?}");
        assert!(e.to_string().contains(want), "{csv:?}: {e}");
    }
    // A header alone imports nothing and is fine; a UTF-8 BOM and upper-case names are read.
    let r = import(
        &w.app,
        &w.admin,
        w.clinic_a,
        "legacy_id,first_name,last_name\n",
    )
    .unwrap();
    assert_eq!((r.rows, r.imported), (0, 0));
    assert_eq!(before, w.fingerprint());
    let r = import(
        &w.app,
        &w.admin,
        w.clinic_a,
        "\u{feff}Legacy_ID,First_Name,Last_Name\r\nL-1,Ann,Lee\r\n",
    )
    .unwrap();
    assert_eq!(r.imported, 1, "{r:?}");
}

#[test]
fn only_admins_and_managers_of_the_clinic_may_import() {
    let w = world();
    let csv = "legacy_id,first_name,last_name\nL-1,Ann,Lee\n";
    let others = [
        w.user_with("desk", Role::FrontDesk, w.clinic_a),
        w.user_with("clin", Role::Clinician, w.clinic_a),
        w.user_with("view", Role::Viewer, w.clinic_a),
        w.user_with("bossb", Role::Manager, w.clinic_b),
    ];
    let manager = w.user_with("boss", Role::Manager, w.clinic_a);
    let before = w.fingerprint();
    for s in &others {
        let e = import(&w.app, s, w.clinic_a, csv).unwrap_err();
        assert_eq!(e.code(), "permission_denied", "{}", s.username);
    }
    assert_eq!(before, w.fingerprint());
    assert_eq!(
        import(&w.app, &manager, w.clinic_a, csv).unwrap().imported,
        1
    );
}

#[test]
fn a_cancelled_import_keeps_nothing() {
    let w = world();
    let mut csv = String::from("legacy_id,first_name,last_name\n");
    for i in 0..600 {
        csv.push_str(&format!("C-{i},Ann,Lee{i}\n"));
    }
    let before = w.fingerprint();
    // Cancelled while writing, after 250 rows went in: all of them roll back.
    for stop_at in ["validating", "importing"] {
        let e = w
            .app
            .import_patients(&w.admin, w.clinic_a, &csv, &mut |stage, done, _| {
                !(stage == stop_at && done >= 250)
            })
            .unwrap_err();
        assert!(e.to_string().contains("cancelled"), "{e}");
        assert_eq!(patients(&w), 0);
        assert_eq!(before, w.fingerprint());
    }
    // Not cancelled: all 600.
    assert_eq!(
        import(&w.app, &w.admin, w.clinic_a, &csv).unwrap().imported,
        600
    );
}
