//! FHIR R4 import: the demo exported, imported into an empty database and exported again is
//! the same (modulo the declared exceptions below); a re-import changes nothing; every kind of
//! bad input is a clear error with its line and path, and nothing is imported.

mod common;

use clinicdesk_api::{App, Fields, Session};
use clinicdesk_domain::ClinicId;
use clinicdesk_interop::fhir::{export_fhir, import_fhir, ExportOptions, FhirImport};
use common::*;
use serde_json::Value;

fn read(dir: &std::path::Path, t: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{t}.ndjson"))).unwrap()
}

fn import(app: &App, s: &Session, clinic: ClinicId, files: &[(&str, String)]) -> FhirImport {
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .collect();
    import_fhir(app, s, clinic, &sources, &mut |_, _, _| true).unwrap()
}

/// Rows of the tables an import writes, and its audit events.
fn counts(app: &App) -> Vec<i64> {
    app.store()
        .read(|c| {
            let mut out = Vec::new();
            for sql in [
                "SELECT COUNT(*) FROM patients",
                "SELECT COUNT(*) FROM staff_profiles",
                "SELECT COUNT(*) FROM appointments",
                "SELECT COUNT(*) FROM ops_treatment_rooms",
                "SELECT COUNT(*) FROM appointment_status_history",
                "SELECT COUNT(*) FROM audit_log WHERE table_name = 'imports'",
            ] {
                out.push(c.query_row(sql, [], |r| r.get(0))?);
            }
            Ok::<_, clinicdesk_store::StoreError>(out)
        })
        .unwrap()
}

/// The declared exceptions of the round trip, applied to both sides:
/// - every resource's `managingOrganization` / `organization`, and a room's `partOf`: the
///   target's clinic is another clinic (its own id);
/// - Practitioner `qualification`: credentials are not imported (they need credential types);
/// - Appointment `appointmentType`: types are matched by code and the empty target has none;
/// - Location: only rooms are compared (the clinic's own Location is the target's clinic).
fn normalise(line: &str) -> Value {
    let mut v: Value = serde_json::from_str(line).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("managingOrganization");
    o.remove("qualification");
    o.remove("appointmentType");
    o.remove("partOf");
    v
}

/// The rooms among a Location file's lines.
fn rooms(text: &str) -> String {
    text.lines()
        .filter(|l| l.contains(r#""code":"ro""#))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The small demo exported (FHIR) into `first`, and an empty database with one clinic in the
/// demo's time zone.
fn exported_demo_and_empty_target() -> (
    Demo,
    ExportOptions,
    std::path::PathBuf,
    (App, Session, ClinicId),
) {
    let demo = small_demo();
    let opts = ExportOptions {
        now_ms: NOW_MS,
        as_of: demo.shift_day(),
        slots: None,
        slot_minutes: 30,
    };
    let first = demo.dir.path().join("first");
    export_fhir(&demo.app, &demo.admin, &first, &opts, &mut |_, _, _| true).unwrap();
    let tz = demo.scalar("SELECT timezone FROM clinics LIMIT 1");
    let target = empty(demo.dir.path(), "Target", "TGT", &tz);
    (demo, opts, first, target)
}

/// The exported patients, practitioners, locations (the clinic and its rooms) and
/// appointments.
fn demo_files(first: &std::path::Path) -> [(&'static str, String); 4] {
    [
        ("Patient.ndjson", read(first, "Patient")),
        ("Practitioner.ndjson", read(first, "Practitioner")),
        ("Location.ndjson", read(first, "Location")),
        ("Appointment.ndjson", read(first, "Appointment")),
    ]
}

#[test]
fn the_demo_round_trips_through_fhir_and_a_reimport_changes_nothing() {
    let (demo, opts, first, (app, root, clinic)) = exported_demo_and_empty_target();
    let files = demo_files(&first);
    let r = import(&app, &root, clinic, &files);
    assert_eq!(r.result.invalid, 0, "{:#?}", r.result.errors);
    let room_count = rooms(&read(&first, "Location")).lines().count() as u64;
    assert!(room_count > 0);
    assert_eq!(
        (
            r.result.patients,
            r.result.staff,
            r.result.rooms,
            r.result.appointments
        ),
        (500, 12, room_count, 5000)
    );
    // The clinic's own Location is context.
    assert_eq!(r.ignored, 1);
    let second = demo.dir.path().join("second");
    export_fhir(&app, &root, &second, &opts, &mut |_, _, _| true).unwrap();
    for t in ["Patient", "Practitioner", "Location", "Appointment"] {
        let text = |dir| match t {
            "Location" => rooms(&read(dir, t)),
            _ => read(dir, t),
        };
        let a: Vec<Value> = text(&first).lines().map(normalise).collect();
        let b: Vec<Value> = text(&second).lines().map(normalise).collect();
        assert_eq!(a.len(), b.len(), "{t}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "{t}");
        }
    }
    // Validated again: the re-export is valid FHIR R4 too.
    let v = validate(&[
        second.join("Appointment.ndjson"),
        second.join("Patient.ndjson"),
    ]);
    assert_eq!(v.invalid, 0, "{:#?}", v.errors);
    // Idempotent: again, nothing new (not even an audit event's worth of rows).
    let before = counts(&app);
    let again = import(&app, &root, clinic, &files);
    assert_eq!(
        (
            again.result.invalid,
            again.result.patients,
            again.result.appointments
        ),
        (0, 0, 0)
    );
    assert_eq!(again.result.skipped, 5512 + room_count);
    let after = counts(&app);
    assert_eq!(before[..5], after[..5]);
    // The import is audited (one event each run).
    assert_eq!(after[5], before[5] + 1);
}

/// A clinic that already holds the patients and practitioners under other ids (another
/// system's numbering: found again by MRN and employee id): the file's appointments refer to
/// them by the file's ids, and those references mean the records already here.
#[test]
fn records_already_here_under_other_ids_take_the_files_references() {
    let (_demo, _, first, (app, root, clinic)) = exported_demo_and_empty_target();
    let renumbered = |text: &str| -> String {
        text.lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                let id = v["id"].as_str().unwrap().to_string();
                v["id"] = Value::String(format!("other-{id}"));
                serde_json::to_string(&v).unwrap() + "\n"
            })
            .collect()
    };
    let r = import(
        &app,
        &root,
        clinic,
        &[
            ("Patient.ndjson", renumbered(&read(&first, "Patient"))),
            (
                "Practitioner.ndjson",
                renumbered(&read(&first, "Practitioner")),
            ),
            (
                "Location.ndjson",
                renumbered(&rooms(&read(&first, "Location"))),
            ),
        ],
    );
    assert_eq!(r.result.invalid, 0, "{:#?}", r.result.errors);
    let room_count = rooms(&read(&first, "Location")).lines().count();
    assert_eq!(
        (r.result.patients, r.result.staff, r.result.rooms),
        (500, 12, room_count as u64)
    );
    let files = demo_files(&first);
    let r = import(&app, &root, clinic, &files);
    assert_eq!(r.result.invalid, 0, "{:#?}", r.result.errors);
    assert_eq!(
        (
            r.result.patients,
            r.result.staff,
            r.result.appointments,
            r.result.skipped
        ),
        (0, 0, 5000, 512 + room_count as u64)
    );
    assert_eq!(r.result.rooms, 0);
    let c = counts(&app);
    assert_eq!(
        c[..4],
        [500, 12, 5000, room_count as i64],
        "no second copy of anyone or of any room"
    );
    // The appointments are in the rooms found by name.
    let unplaced: i64 = app
        .store()
        .read(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM appointments a WHERE a.room_id IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM ops_treatment_rooms r WHERE r.id = a.room_id AND r.clinic_id = a.clinic_id)",
                [],
                |r| r.get(0),
            )
            .map_err(clinicdesk_store::StoreError::from)
        })
        .unwrap();
    assert_eq!(unplaced, 0);
}

const PATIENT: &str = r#"{"resourceType":"Patient","id":"p-1","name":[{"family":"Good","given":["Gail"]}],"birthDate":"1980-02-03"}"#;

#[test]
fn bad_input_is_a_clear_error_with_line_and_path_and_nothing_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let (app, root, clinic) = empty(dir.path(), "Calgary", "CGY", "America/Edmonton");
    let staff = app
        .create_staff(
            &root,
            clinic,
            &Fields::new()
                .with("first_name", "Pat")
                .with("last_name", "Provider"),
        )
        .unwrap()
        .id;
    let appt = |id: &str, start: &str, extra: &str| {
        format!(
            r#"{{"resourceType":"Appointment","id":"{id}","status":"booked","start":"{start}","end":"2026-03-10T10:00:00-06:00","participant":[{{"actor":{{"reference":"Patient/p-1"}},"status":"accepted"}},{{"actor":{{"reference":"Practitioner/{staff}"}},"status":"accepted"}}]{extra}}}"#
        )
    };
    let huge = format!(
        r#"{{"resourceType":"Patient","id":"big","name":[{{"family":"{}","given":["B"]}}]}}"#,
        "x".repeat(50 * 1024 * 1024)
    );
    let cases: Vec<(String, u64, &str, &str)> = vec![
        (
            format!("{PATIENT}\n{{\"resourceType\":\"Patient\","),
            2,
            "",
            "not valid JSON",
        ),
        (
            format!("{PATIENT}\n{{\"resourceType\":\"Observation\"}}"),
            2,
            "resourceType",
            "'Observation' is not imported",
        ),
        (
            format!("{PATIENT}\n{{\"id\":\"x\"}}"),
            2,
            "resourceType",
            "is required",
        ),
        (
            format!("{PATIENT}\n{{\"resourceType\":\"Patient\",\"id\":\"p-2\"}}"),
            2,
            "Patient.name",
            "family name is required",
        ),
        (
            PATIENT.replace("1980-02-03", "1980"),
            1,
            "Patient.birthDate",
            "full date",
        ),
        (
            PATIENT.replace("1980-02-03", "1980-02-31"),
            1,
            "Patient.birthDate",
            "date",
        ),
        (
            format!(
                "{PATIENT}\n{}",
                appt("a-1", "2026-03-10T09:00:00-06:00", "").replace("\"status\":\"booked\",", "")
            ),
            2,
            "Appointment.status",
            "is required",
        ),
        (
            format!(
                "{PATIENT}\n{}",
                appt("a-1", "2026-03-10T09:00:00-06:00", "").replace(
                    "Patient/p-1",
                    "Patient/0190c5a2-0000-7000-8000-000000000000"
                )
            ),
            2,
            "Appointment.participant.actor",
            "unknown reference Patient/",
        ),
        (
            format!(
                "{PATIENT}\n{}",
                appt("a-1", "2026-03-10T09:00:00-06:00", "")
                    .replace(&format!("Practitioner/{staff}"), "Practitioner/nobody")
            ),
            2,
            "Appointment.participant.actor",
            "unknown reference Practitioner/nobody",
        ),
        (format!("{PATIENT}\n{huge}"), 2, "", "at most 1 MiB"),
        (
            format!(
                "{PATIENT}\n{}",
                appt(
                    "a-1",
                    "2026-03-10T09:00:00-06:00",
                    ""
                )
                .replace(
                    "]}",
                    r#",{"actor":{"reference":"Location/room-9"},"status":"accepted"}]}"#
                )
            ),
            2,
            "Appointment.participant.actor",
            "unknown reference Location/room-9",
        ),
        (
            r#"{"resourceType":"Location","id":"r-1","physicalType":{"coding":[{"code":"ro"}]}}"#
                .to_string(),
            1,
            "Location.name",
            "is required for a room",
        ),
        (
            r#"{"resourceType":"Location","id":"r-1","name":"Room 1","status":"gone","physicalType":{"coding":[{"code":"ro"}]}}"#
                .to_string(),
            1,
            "Location.status",
            "not a Location status",
        ),
        (
            format!(
                "{PATIENT}\n{}",
                appt("a-1", "2026-03-10T09:00:00-06:00", "").replace("\"id\":\"a-1\",", "")
            ),
            2,
            "Appointment.id",
            "identifier is required",
        ),
        (
            format!("{PATIENT}\n{}", appt("a-1", "2026-03-08T02:30:00", "")),
            2,
            "Appointment.start",
            "does not exist in America/Edmonton",
        ),
        // The booking rules: the second appointment overlaps the first (conflict, not dropped).
        (
            format!(
                "{PATIENT}\n{}\n{}",
                appt("a-1", "2026-03-10T09:00:00-06:00", ""),
                appt("a-2", "2026-03-10T09:30:00-06:00", "")
            ),
            3,
            "Appointment.start",
            "conflict",
        ),
    ];
    let before = counts(&app);
    for (text, line, path, needle) in cases {
        let r = import(&app, &root, clinic, &[("in.ndjson", text)]);
        assert!(r.result.invalid >= 1, "{needle}: {r:?}");
        let e = r
            .result
            .errors
            .iter()
            .find(|e| e.line == line)
            .unwrap_or_else(|| panic!("{needle}: {:?}", r.result.errors));
        assert_eq!(e.path, path, "{needle}: {e:?}");
        assert!(e.message.contains(needle), "{needle}: {e:?}");
        assert_eq!(counts(&app), before, "{needle}: something was imported");
    }
    // A Bundle: the entry's number and a path inside it.
    let bundle = format!(
        r#"{{"resourceType":"Bundle","type":"collection","entry":[{{"resource":{PATIENT}}},{{"resource":{}}}]}}"#,
        PATIENT.replace("1980-02-03", "1980")
    );
    let r = import(&app, &root, clinic, &[("b.json", bundle)]);
    assert_eq!(r.result.errors[0].line, 2);
    assert_eq!(
        r.result.errors[0].path,
        "Bundle.entry[1].resource.Patient.birthDate"
    );
    assert_eq!(counts(&app), before);
    // The good file imports (a foreign id becomes the legacy id), the appointment through
    // the booking rules with the working-time problem overridden for an admin.
    let good = format!(
        "{PATIENT}\n{}",
        appt("a-1", "2026-03-10T09:00:00-06:00", "")
    );
    let outcome = |r: FhirImport| {
        let m = r.result;
        assert_eq!(m.invalid, 0, "{:?}", m.errors);
        (m.skipped, m.patients, m.appointments)
    };
    assert_eq!(
        outcome(import(&app, &root, clinic, &[("in.ndjson", good.clone())])),
        (0, 1, 1)
    );
    let legacy = app
        .store()
        .read(|c| {
            Ok::<_, clinicdesk_store::StoreError>(c.query_row(
                "SELECT legacy_id FROM patients",
                [],
                |r| r.get::<_, String>(0),
            )?)
        })
        .unwrap();
    assert_eq!(legacy, "p-1");
    // … and once only.
    assert_eq!(
        outcome(import(&app, &root, clinic, &[("in.ndjson", good)])),
        (2, 0, 0)
    );
    // A front desk user may not import.
    let u = app
        .create_user(&root, &Fields::new().with("username", "desk1"), PW)
        .unwrap();
    app.grant_role(&root, u.id, clinic, clinicdesk_domain::Role::FrontDesk)
        .unwrap();
    let desk = app.login("desk1", PW).unwrap();
    assert!(import_fhir(
        &app,
        &desk,
        clinic,
        &[("x".into(), PATIENT.into())],
        &mut |_, _, _| true
    )
    .is_err());
}
