#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use chrono::NaiveDate;
use clinicdesk_api::{App, Fields, Session};
use clinicdesk_domain::ClinicId;
use clinicdesk_store::{KeySource, Store};

pub const PW: &str = "demo-password-1";
/// A fixed "now" (2026-03-09T12:00:00Z): tests never read the wall clock.
pub const NOW_MS: i64 = 1_773_057_600_000;

/// A real encrypted database with the small demo in it, signed in as its admin.
pub struct Demo {
    pub dir: tempfile::TempDir,
    pub app: App,
    pub admin: Session,
    pub clinic: ClinicId,
}

pub fn small_demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(
        &dir.path().join("d.db"),
        &KeySource::File(dir.path().join("k")),
    )
    .unwrap();
    clinicdesk_demo::generate_demo(
        &store,
        clinicdesk_demo::DemoSize::Small,
        PW,
        &mut |_, _, _| true,
    )
    .unwrap();
    let app = App::new(Arc::new(store));
    let admin = app.login("admin", PW).unwrap();
    let clinic: String = app
        .store()
        .read(|c| {
            Ok::<_, clinicdesk_store::StoreError>(c.query_row(
                "SELECT id FROM clinics LIMIT 1",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    Demo {
        dir,
        app,
        admin,
        clinic: ClinicId::parse(&clinic).unwrap(),
    }
}

/// An empty encrypted database with one clinic (America/Edmonton) and its admin.
pub fn empty(dir: &Path, name: &str, code: &str, tz: &str) -> (App, Session, ClinicId) {
    let store = Store::create(
        &dir.join(format!("{name}.db")),
        &KeySource::File(dir.join(format!("{name}.key"))),
    )
    .unwrap();
    let app = App::new(Arc::new(store));
    let init = app
        .initialise(
            &Fields::new()
                .with("name", name)
                .with("code", code)
                .with("timezone", tz),
            "root",
            PW,
        )
        .unwrap();
    let s = app.login("root", PW).unwrap();
    (app, s, init.clinic.id)
}

impl Demo {
    pub fn login(&self, user: &str) -> Session {
        self.app.login(user, PW).unwrap()
    }

    /// A date of the demo with shifts still to work (the demo is laid around the day it was
    /// generated, so dates come from its data, not from the clock).
    pub fn shift_day(&self) -> NaiveDate {
        let d: String = self
            .app
            .store()
            .read(|c| {
                Ok::<_, clinicdesk_store::StoreError>(c.query_row(
                    "SELECT MAX(schedule_date) FROM ops_staff_schedules WHERE status = 'scheduled'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        NaiveDate::parse_from_str(&d, "%Y-%m-%d").unwrap() - chrono::Duration::days(7)
    }

    pub fn scalar(&self, sql: &str) -> String {
        self.app
            .store()
            .read(|c| Ok::<_, clinicdesk_store::StoreError>(c.query_row(sql, [], |r| r.get(0))?))
            .unwrap()
    }
}

/// The outcome of the real FHIR R4 validator (`fhir_validate.cjs`: the official R4 JSON
/// schema with ajv, from npm — installed by scripts/setup.sh).
#[derive(Debug, serde::Deserialize)]
pub struct Validated {
    pub checked: u64,
    pub types: std::collections::BTreeMap<String, u64>,
    pub invalid: u64,
    pub errors: Vec<serde_json::Value>,
}

pub fn validate(files: &[PathBuf]) -> Validated {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fhir_validate.cjs");
    let out = Command::new("node")
        .arg(&script)
        .args(files)
        .output()
        .expect("node runs (scripts/setup.sh installs Node.js packages)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.trim().is_empty(),
        "the validator printed nothing (run scripts/setup.sh: npm install): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}
