#![allow(dead_code)]

use std::sync::Arc;

use clinicdesk_api::{App, Fields, Session};
use clinicdesk_domain::{ClinicId, Role, UserId};
use clinicdesk_store::{KeySource, Store};

pub const PW: &str = "correct horse battery";

pub struct World {
    pub dir: tempfile::TempDir,
    pub app: App,
    pub admin: Session,
    pub clinic_a: ClinicId,
    pub clinic_b: ClinicId,
}

/// A real encrypted database with clinic A (set up by `init`) and clinic B.
pub fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(
        &dir.path().join("t.db"),
        &KeySource::File(dir.path().join("t.key")),
    )
    .unwrap();
    let app = App::new(Arc::new(store));
    let init = app
        .initialise(
            &Fields::new()
                .with("name", "Calgary")
                .with("code", "CGY")
                .with("timezone", "America/Edmonton"),
            "root",
            PW,
        )
        .unwrap();
    let admin = app.login("root", PW).unwrap();
    let b = app
        .create_clinic(
            &admin,
            &Fields::new()
                .with("name", "Sydney")
                .with("code", "SYD")
                .with("timezone", "Australia/Sydney"),
        )
        .unwrap();
    World {
        dir,
        app,
        admin,
        clinic_a: init.clinic.id,
        clinic_b: b.id,
    }
}

impl World {
    /// A user holding `role` at `clinic`, signed in.
    pub fn user_with(&self, name: &str, role: Role, clinic: ClinicId) -> Session {
        let u = self
            .app
            .create_user(&self.admin, &Fields::new().with("username", name), PW)
            .unwrap();
        self.app
            .grant_role(&self.admin, u.id, clinic, role)
            .unwrap();
        self.app.login(name, PW).unwrap()
    }

    pub fn user_id(&self, name: &str) -> UserId {
        self.app.login(name, PW).unwrap().user_id
    }

    /// Row counts of every table, the audit log aside: a refused or invalid operation must leave
    /// this unchanged.
    pub fn fingerprint(&self) -> Vec<(String, i64)> {
        self.app
            .store()
            .read(|c| -> clinicdesk_store::Result<Vec<(String, i64)>> {
                let names: Vec<String> = c
                    .prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT IN ('audit_log') AND name NOT LIKE '%fts%' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'refinery%' ORDER BY name")?
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                let mut out = Vec::new();
                for n in names {
                    use std::hash::{Hash, Hasher};
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    let mut stmt = c.prepare(&format!("SELECT * FROM {n} ORDER BY rowid"))?;
                    let cols = stmt.column_count();
                    let mut rows = stmt.query([])?;
                    while let Some(r) = rows.next()? {
                        for i in 0..cols {
                            format!("{:?}", r.get_ref(i)?).hash(&mut h);
                        }
                    }
                    out.push((n, h.finish() as i64));
                }
                Ok(out)
            })
            .unwrap()
    }

    pub fn audit_actions(&self) -> Vec<String> {
        self.app
            .store()
            .read(|c| -> clinicdesk_store::Result<Vec<String>> {
                Ok(c.prepare("SELECT action FROM audit_log ORDER BY seq")?
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?)
            })
            .unwrap()
    }
}
