//! The FHIR R4 bulk export and patient Bundle on a real encrypted database with the small
//! demo, every resource checked by the official FHIR R4 JSON schema (a real validator from
//! npm), permissions (a user sees only their clinics; a viewer no patient data) and the audit.

mod common;

use std::path::PathBuf;

use clinicdesk_api::{Fields, ListQuery};
use clinicdesk_domain::{AppointmentStatus, CaseStatus, PatientId};
use clinicdesk_interop::fhir::{
    self, appointment_status, episode_status, export_fhir, patient_bundle, ExportOptions,
    RESOURCE_TYPES,
};
use common::*;
use serde_json::Value;

fn options(demo: &Demo) -> ExportOptions {
    let day = demo.shift_day();
    ExportOptions {
        now_ms: NOW_MS,
        as_of: day,
        slots: Some((day, day + chrono::Duration::days(6))),
        slot_minutes: 30,
    }
}

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A second clinic the demo's manager has no role at, with a patient, a room and a staff
/// member; returns their ids.
fn other_clinic(demo: &Demo) -> Vec<String> {
    let b = demo
        .app
        .create_clinic(
            &demo.admin,
            &Fields::new()
                .with("name", "Sydney")
                .with("code", "SYD")
                .with("timezone", "Australia/Sydney"),
        )
        .unwrap();
    let p = demo
        .app
        .create_patient(
            &demo.admin,
            b.id,
            &Fields::new()
                .with("first_name", "Olive")
                .with("last_name", "Otherclinic"),
        )
        .unwrap();
    let r = demo
        .app
        .create_room(&demo.admin, b.id, &Fields::new().with("name", "Far room"))
        .unwrap();
    let st = demo
        .app
        .create_staff(
            &demo.admin,
            b.id,
            &Fields::new()
                .with("first_name", "Sam")
                .with("last_name", "Faraway"),
        )
        .unwrap();
    vec![
        b.id.to_string(),
        p.id.to_string(),
        r.id.to_string(),
        st.id.to_string(),
    ]
}

#[test]
fn the_bulk_export_is_valid_fhir_r4_complete_and_audited() {
    let demo = small_demo();
    // A case (the demo has none) with an appointment linked, so EpisodeOfCare is exercised.
    let patient: String = demo.scalar("SELECT patient_id FROM appointments ORDER BY id LIMIT 1");
    let case = demo
        .app
        .create_case(
            &demo.admin,
            demo.clinic,
            &Fields::new()
                .with("patient_id", &patient)
                .with("case_type", "physio"),
        )
        .unwrap();
    let out = demo.dir.path().join("fhir");
    let mut stages = Vec::new();
    let report = export_fhir(
        &demo.app,
        &demo.admin,
        &out,
        &options(&demo),
        &mut |stage, _, _| {
            stages.push(stage.to_string());
            true
        },
    )
    .unwrap();
    assert!(stages.contains(&"writing".to_string()));

    // Every file: one per type, in the manifest with its count.
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&report.manifest).unwrap()).unwrap();
    assert_eq!(manifest["transactionTime"], "2026-03-09T12:00:00Z");
    let listed: Vec<&str> = manifest["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    assert_eq!(listed, RESOURCE_TYPES);
    let files: Vec<PathBuf> = RESOURCE_TYPES
        .iter()
        .map(|t| out.join(format!("{t}.ndjson")))
        .collect();
    for (o, f) in manifest["output"].as_array().unwrap().iter().zip(&files) {
        assert_eq!(o["count"].as_u64().unwrap(), lines(f).len() as u64, "{f:?}");
        assert!(
            o["count"].as_u64().unwrap() > 0,
            "no {} exported",
            o["type"]
        );
    }

    // The real validator: every resource of every type is valid FHIR R4.
    let v = validate(&files);
    assert!(
        v.invalid == 0,
        "{} invalid FHIR resources: {:#?}",
        v.invalid,
        v.errors
    );
    assert_eq!(v.checked, report.total);
    for t in RESOURCE_TYPES {
        assert!(
            v.types.get(t).copied().unwrap_or(0) > 0,
            "{t} not validated: {:?}",
            v.types
        );
    }

    // What is in them: every live patient and appointment, with the declared identifiers.
    assert_eq!(
        lines(&files[4]).len().to_string(),
        demo.scalar("SELECT COUNT(*) || '' FROM patients WHERE deleted_at IS NULL")
    );
    assert_eq!(
        lines(&files[7]).len().to_string(),
        demo.scalar("SELECT COUNT(*) || '' FROM appointments WHERE deleted_at IS NULL")
    );
    let pats = lines(&files[4]);
    let mrn: String = demo.scalar(&format!("SELECT mrn FROM patients WHERE id = '{patient}'"));
    let p = pats.iter().find(|p| p["id"] == patient.as_str()).unwrap();
    assert_eq!(p["identifier"][0]["system"], fhir::SYSTEM_MRN);
    assert_eq!(p["identifier"][0]["value"], mrn.as_str());
    // Statuses through the documented mapping, each appointment's exact status kept.
    for a in lines(&files[7]) {
        let ours =
            AppointmentStatus::parse(a["extension"][0]["valueCode"].as_str().unwrap()).unwrap();
        assert_eq!(a["status"], appointment_status(ours));
    }
    let episodes = lines(&files[8]);
    assert_eq!(episodes.len(), 1);
    assert_eq!(episodes[0]["id"], case.id.to_string().as_str());
    assert_eq!(episodes[0]["status"], episode_status(CaseStatus::New));
    assert_eq!(
        episodes[0]["patient"]["reference"],
        format!("Patient/{patient}").as_str()
    );
    // Slots: the desk's own free-slot search for the same days.
    let (from, to) = options(&demo).slots.unwrap();
    let desk = demo
        .app
        .available_slots(
            &demo.admin,
            demo.clinic,
            None,
            30,
            &from.to_string(),
            &to.to_string(),
        )
        .unwrap();
    assert_eq!(lines(&files[6]).len(), desk.len());
    // Qualifications: only credentials valid on the day (the credential rule): some staff
    // with credentials are exported without one that lapsed.
    let quals: usize = lines(&files[2])
        .iter()
        .map(|p| p["qualification"].as_array().map_or(0, Vec::len))
        .sum();
    let creds: usize = demo
        .scalar("SELECT COUNT(*) || '' FROM ops_credentials WHERE deleted_at IS NULL")
        .parse()
        .unwrap();
    assert!(
        quals > 0 && quals < creds,
        "{quals} qualifications of {creds} credentials"
    );

    // Audited once: who exported what, where, how many and which patients.
    let entry: String = demo.scalar(
        "SELECT new_values FROM audit_log WHERE table_name = 'exports' ORDER BY seq DESC LIMIT 1",
    );
    let entry: Value = serde_json::from_str(&entry).unwrap();
    assert_eq!(entry["export"], "fhir_bulk");
    assert_eq!(entry["rows"].as_u64().unwrap(), report.total);
    assert_eq!(entry["patient_count"].as_u64().unwrap(), pats.len() as u64);
    let who: String = demo.scalar(
        "SELECT user_id FROM audit_log WHERE table_name = 'exports' ORDER BY seq DESC LIMIT 1",
    );
    assert_eq!(who, demo.admin.user_id.to_string());

    // Deterministic: a second export of the same data is byte for byte the same.
    let again = demo.dir.path().join("fhir2");
    export_fhir(
        &demo.app,
        &demo.admin,
        &again,
        &options(&demo),
        &mut |_, _, _| true,
    )
    .unwrap();
    for t in RESOURCE_TYPES {
        let name = format!("{t}.ndjson");
        assert_eq!(
            std::fs::read(out.join(&name)).unwrap(),
            std::fs::read(again.join(&name)).unwrap(),
            "{t}"
        );
    }

    // Cancelled (when the files are complete, before they are named): nothing appears, no
    // temporary file is left, nothing is audited — in a new folder (removed) and in a folder
    // that holds other files (kept as it was).
    let exports =
        || demo.scalar("SELECT COUNT(*) || '' FROM audit_log WHERE table_name = 'exports'");
    let before = exports();
    let fresh = demo.dir.path().join("cancelled");
    let kept = demo.dir.path().join("kept");
    std::fs::create_dir(&kept).unwrap();
    std::fs::write(kept.join("notes.txt"), "mine").unwrap();
    for dir in [&fresh, &kept] {
        let e = export_fhir(
            &demo.app,
            &demo.admin,
            dir,
            &options(&demo),
            &mut |stage, _, _| stage != "writing",
        )
        .unwrap_err();
        assert!(e.to_string().contains("cancelled"), "{e}");
    }
    assert!(!fresh.exists());
    let left: Vec<_> = std::fs::read_dir(&kept)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["notes.txt"]);
    assert_eq!(exports(), before);
}

#[test]
fn a_user_gets_only_the_clinics_they_may_read_and_a_viewer_no_patient_data() {
    let demo = small_demo();
    let foreign = other_clinic(&demo);
    // The admin (who made clinic B) gets B's rows: they exist and are exported.
    let all = demo.dir.path().join("admin");
    export_fhir(
        &demo.app,
        &demo.admin,
        &all,
        &options(&demo),
        &mut |_, _, _| true,
    )
    .unwrap();
    let text_of = |dir: &std::path::Path| -> String {
        RESOURCE_TYPES
            .iter()
            .map(|t| std::fs::read_to_string(dir.join(format!("{t}.ndjson"))).unwrap())
            .collect()
    };
    let admin_text = text_of(&all);
    for id in &foreign {
        assert!(
            admin_text.contains(id.as_str()),
            "the admin's export lacks {id}"
        );
    }
    // The manager holds a role at the demo clinic only: none of clinic B's rows.
    let manager = demo.login("manager");
    let mine = demo.dir.path().join("manager");
    export_fhir(
        &demo.app,
        &manager,
        &mine,
        &options(&demo),
        &mut |_, _, _| true,
    )
    .unwrap();
    let manager_text = text_of(&mine);
    for id in &foreign {
        assert!(
            !manager_text.contains(id.as_str()),
            "the manager's export holds {id} of another clinic"
        );
    }
    assert!(manager_text.contains(&demo.clinic.to_string()));
    // A viewer: the clinic's resources, no patient data at all.
    let viewer = demo.login("viewer");
    let theirs = demo.dir.path().join("viewer");
    let r = export_fhir(
        &demo.app,
        &viewer,
        &theirs,
        &options(&demo),
        &mut |_, _, _| true,
    )
    .unwrap();
    let count = |t: &str| r.files.iter().find(|(n, _, _)| n == t).unwrap().2;
    assert_eq!(
        (
            count("Patient"),
            count("Appointment"),
            count("EpisodeOfCare")
        ),
        (0, 0, 0)
    );
    assert!(count("Organization") == 1 && count("Practitioner") > 0);
    // A user with no role anywhere exports nothing, and no file is written.
    let nobody = demo
        .app
        .create_user(&demo.admin, &Fields::new().with("username", "nobody"), PW)
        .unwrap();
    let nobody = demo.app.login(&nobody.username, PW).unwrap();
    let none = demo.dir.path().join("nobody");
    assert!(export_fhir(
        &demo.app,
        &nobody,
        &none,
        &options(&demo),
        &mut |_, _, _| true
    )
    .is_err());
    assert!(!none.exists());
}

#[test]
fn a_patient_bundle_is_a_valid_collection_of_the_patient_their_appointments_and_cases() {
    let demo = small_demo();
    let patient: String = demo.scalar(
        "SELECT patient_id FROM appointments GROUP BY patient_id ORDER BY COUNT(*) DESC LIMIT 1",
    );
    demo.app
        .create_case(
            &demo.admin,
            demo.clinic,
            &Fields::new()
                .with("patient_id", &patient)
                .with("case_type", "physio"),
        )
        .unwrap();
    let id = PatientId::parse(&patient).unwrap();
    let bundle = patient_bundle(&demo.app, &demo.admin, id, NOW_MS, "test").unwrap();
    let path = demo.dir.path().join("bundle.json");
    std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let v = validate(std::slice::from_ref(&path));
    assert!(
        v.invalid == 0,
        "{} invalid FHIR resources: {:#?}",
        v.invalid,
        v.errors
    );
    assert_eq!(bundle["type"], "collection");
    let entries = bundle["entry"].as_array().unwrap();
    let count = |t: &str| {
        entries
            .iter()
            .filter(|e| e["resource"]["resourceType"] == t)
            .count()
    };
    let appointments: usize = demo
        .scalar(&format!("SELECT COUNT(*) || '' FROM appointments WHERE patient_id = '{patient}' AND deleted_at IS NULL"))
        .parse()
        .unwrap();
    assert_eq!(
        (
            count("Patient"),
            count("Organization"),
            count("EpisodeOfCare")
        ),
        (1, 1, 1)
    );
    assert_eq!(count("Appointment"), appointments);
    // Audited as an export naming the patient.
    let entry: Value = serde_json::from_str(&demo.scalar(
        "SELECT new_values FROM audit_log WHERE table_name = 'exports' ORDER BY seq DESC LIMIT 1",
    ))
    .unwrap();
    assert_eq!(entry["export"], "fhir_patient_bundle");
    assert_eq!(entry["patients"][0], patient.as_str());
    // A viewer may not export a patient.
    let viewer = demo.login("viewer");
    assert!(patient_bundle(&demo.app, &viewer, id, NOW_MS, "test").is_err());
    let _ = demo
        .app
        .list_clinics(&demo.admin, &ListQuery::default())
        .unwrap();
}
