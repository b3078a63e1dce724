//! The interop commands end to end (`export fhir`, `export patient-bundle`, `export ical`,
//! `availability import-ical`, `import fhir`) on a real encrypted database with the small demo.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const PW: &str = "demo password 1";

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    /// A new database with the small demo.
    fn demo() -> Self {
        let e = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        let o = e.run(&["demo", "--size", "small"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        e
    }
    fn db(&self) -> PathBuf {
        self.dir.path().join("c.db")
    }
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_clinicdesk"))
            .arg("--db")
            .arg(self.db())
            .arg("--key-file")
            .arg(self.dir.path().join("c.key"))
            .args(args)
            .env_remove("CLINICDESK_DB_KEY")
            .env("CLINICDESK_PASSWORD", PW)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
    fn ok(&self, user: &str, args: &[&str]) -> serde_json::Value {
        let mut full = vec!["--user", user, "--json"];
        full.extend_from_slice(args);
        let o = self.run(&full);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null)
    }
    /// Fails with one line on stderr that contains `needle`.
    fn bad(&self, user: &str, args: &[&str], needle: &str) {
        let mut full = vec!["--user", user];
        full.extend_from_slice(args);
        let o = self.run(&full);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    fn scalar(&self, sql: &str) -> String {
        let store = clinicdesk_store::Store::open(
            &self.db(),
            &clinicdesk_store::KeySource::File(self.dir.path().join("c.key")),
        )
        .unwrap();
        store
            .read(|c| Ok::<_, clinicdesk_store::StoreError>(c.query_row(sql, [], |r| r.get(0))?))
            .unwrap()
    }
}

#[test]
fn fhir_export_and_patient_bundle_through_the_cli() {
    let e = Env::demo();
    let out = e.dir.path().join("fhir");
    let day = e.scalar("SELECT MAX(schedule_date) FROM ops_staff_schedules");
    let r = e.ok(
        "admin",
        &[
            "export",
            "fhir",
            "--out",
            out.to_str().unwrap(),
            "--from",
            &day,
            "--to",
            &day,
            "--as-of",
            &day,
        ],
    );
    assert!(r["total"].as_u64().unwrap() > 5000, "{r}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["output"].as_array().unwrap().len(), 9);
    let patients = std::fs::read_to_string(out.join("Patient.ndjson")).unwrap();
    assert_eq!(patients.lines().count(), 500);
    // Owner-only files.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.join("Patient.ndjson"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let patient = e.scalar("SELECT id FROM patients ORDER BY id LIMIT 1");
    let file = e.dir.path().join("p.json");
    e.ok(
        "admin",
        &[
            "export",
            "patient-bundle",
            "--patient",
            &patient,
            "--out",
            file.to_str().unwrap(),
        ],
    );
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["entry"][0]["resource"]["id"], patient.as_str());

    // Bad input: one clear line, nothing written.
    let none = e.dir.path().join("none");
    let none_s = none.to_str().unwrap();
    for (from, to, needle) in [
        (Some("2026-13-01"), None, "--from"),
        (None, Some("2026-01-01"), "--to needs --from"),
        (Some("2026-01-10"), Some("2026-01-01"), "before"),
        (Some("2026-01-01"), Some("2026-12-01"), "92 days"),
    ] {
        let mut args = vec!["export", "fhir", "--out", none_s];
        if let Some(f) = from {
            args.extend(["--from", f]);
        }
        if let Some(t) = to {
            args.extend(["--to", t]);
        }
        e.bad("admin", &args, needle);
    }
    e.bad(
        "admin",
        &["export", "patient-bundle", "--patient", "nope"],
        "--patient",
    );
    e.bad(
        "viewer",
        &["export", "patient-bundle", "--patient", &patient],
        "not allowed",
    );
    assert!(!none.exists());
    // Never onto the database.
    e.bad(
        "admin",
        &[
            "export",
            "patient-bundle",
            "--patient",
            &patient,
            "--out",
            e.db().to_str().unwrap(),
        ],
        "database",
    );
}

#[test]
fn ical_export_and_holiday_import_through_the_cli() {
    let e = Env::demo();
    let provider = e.scalar(
        "SELECT provider_id FROM appointments GROUP BY provider_id ORDER BY COUNT(*) DESC LIMIT 1",
    );
    let day = e.scalar("SELECT MAX(schedule_date) FROM ops_staff_schedules");
    let from = e.scalar(&format!("SELECT date('{day}', '-30 days')"));
    let file = e.dir.path().join("a.ics");
    let args = [
        "export",
        "ical",
        "--provider",
        &provider,
        "--from",
        &from,
        "--to",
        &day,
    ];
    let mut with_out = args.to_vec();
    with_out.extend(["--out", file.to_str().unwrap()]);
    let r = e.ok("admin", &with_out);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.contains("BEGIN:VTIMEZONE"));
    assert_eq!(
        text.matches("BEGIN:VEVENT").count() as u64,
        r["events"].as_u64().unwrap()
    );
    assert!(r["events"].as_u64().unwrap() > 0);
    // Private, to standard output: no patient names.
    let mut private = vec!["--user", "admin"];
    private.extend(args);
    private.push("--private");
    let o = e.run(&private);
    assert!(o.status.success());
    let last_name = e.scalar(&format!(
        "SELECT p.last_name FROM appointments a JOIN patients p ON p.id = a.patient_id WHERE a.provider_id = '{provider}' AND a.start_at > 0 ORDER BY a.start_at DESC LIMIT 1"
    ));
    assert!(!String::from_utf8_lossy(&o.stdout).contains(&last_name));
    let shifts = e.ok(
        "admin",
        &[
            "export",
            "ical",
            "--staff",
            &provider,
            "--from",
            &from,
            "--to",
            &day,
            "--out",
            e.dir.path().join("s.ics").to_str().unwrap(),
        ],
    );
    assert!(shifts["events"].as_u64().unwrap() > 0);
    e.bad(
        "admin",
        &["export", "ical", "--from", &from, "--to", &day],
        "either --provider",
    );
    e.bad(
        "admin",
        &[
            "export",
            "ical",
            "--provider",
            &provider,
            "--from",
            "x",
            "--to",
            &day,
        ],
        "--from",
    );

    // Holidays: closed once; a second import changes nothing; a bad file nothing.
    let clinic = e.scalar("SELECT id FROM clinics LIMIT 1");
    let ics = e.dir.path().join("holidays.ics");
    std::fs::write(
        &ics,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\nUID:1@x\r\nDTSTAMP:20260101T000000Z\r\n\
DTSTART;VALUE=DATE:20271225\r\nSUMMARY:Christmas Day\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    let blocks = || e.scalar("SELECT COUNT(*) || '' FROM availability_blocks");
    let before = blocks();
    let args = [
        "availability",
        "import-ical",
        ics.to_str().unwrap(),
        "--clinic",
        &clinic,
    ];
    for created in [1, 0] {
        let r = e.ok("admin", &args);
        assert_eq!(r["created"].as_array().unwrap().len(), created);
        assert_ne!(before, blocks());
    }
    let after = blocks();
    std::fs::write(&ics, "not a calendar").unwrap();
    e.bad("admin", &args, "not an iCalendar file");
    e.bad("frontdesk", &args, "not allowed");
    assert_eq!(blocks(), after);
}

#[test]
fn fhir_import_through_the_cli_all_or_nothing_and_once() {
    let e = Env::demo();
    let clinic = e.scalar("SELECT id FROM clinics LIMIT 1");
    let file = e.dir.path().join("in.ndjson");
    let patient =
        r#"{"resourceType":"Patient","id":"old-7","name":[{"family":"Imported","given":["Ida"]}]}"#;
    std::fs::write(&file, format!("{patient}\n{{\"resourceType\":\"Patient\",\"id\":\"old-8\",\"birthDate\":\"1990\",\"name\":[{{\"family\":\"B\",\"given\":[\"C\"]}}]}}\n")).unwrap();
    let path = file.to_str().unwrap();
    let args = ["import", "fhir", path, "--clinic", &clinic];
    let count = || e.scalar("SELECT COUNT(*) || '' FROM patients");
    let before = count();
    e.bad("admin", &args, "line 2 Patient.birthDate");
    assert_eq!(count(), before);
    std::fs::write(&file, format!("{patient}\n")).unwrap();
    for imported in [1, 0] {
        let r = e.ok(
            "admin",
            &[
                "import",
                "fhir",
                file.to_str().unwrap(),
                "--clinic",
                &clinic,
            ],
        );
        assert_eq!(r["patients"], imported, "{r}");
    }
    e.bad("frontdesk", &args, "not allowed");
}
