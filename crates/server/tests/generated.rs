//! The checked-in server schema is what the generator writes, and it still mirrors the local
//! schema. Refresh a stale file with
//! `cargo run -p clinicdesk-server --example gen_server_schema > migrations/postgres/V1__server.sql`
//! (only while V1 has not landed; afterwards a change needs a new server migration).

use std::path::Path;

use anyhow::Result;
use clinicdesk_server::evolve::{self, EVOLUTIONS, MIRRORED_VERSION};
use clinicdesk_server::schema::{self, Scope, SQLITE_VERSION};
use clinicdesk_store::registry;

const REFRESH: &str =
    "cargo run -p clinicdesk-server --example gen_server_schema > migrations/postgres/V1__server.sql";

fn v1() -> Result<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/postgres/V1__server.sql");
    Ok(std::fs::read_to_string(path)?)
}

const REFRESH_V2: &str = "cargo run -p clinicdesk-server --example gen_server_schema -- v2 > migrations/postgres/V2__merge_and_push.sql";

/// The merge functions and `sync.push` (V2) are what `push::generate` writes.
#[test]
fn the_checked_in_merge_and_push_migration_is_what_the_generator_writes() -> Result<()> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations/postgres/V2__merge_and_push.sql");
    let generated = clinicdesk_server::push::generate()?;
    assert!(
        std::fs::read_to_string(path)? == generated,
        "migrations/postgres/V2__merge_and_push.sql is stale; regenerate it with `{REFRESH_V2}`"
    );
    Ok(())
}

/// V5 (authors, one sequence value per push, staged large transactions) is what
/// `push_v2::generate` writes.
#[test]
fn the_checked_in_second_push_migration_is_what_the_generator_writes() -> Result<()> {
    use clinicdesk_server::push_v2::{generate, FILE, VERSION};
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations/postgres")
        .join(FILE);
    assert!(
        std::fs::read_to_string(path)? == generate()?,
        "migrations/postgres/{FILE} is stale; regenerate it with \
         `cargo run -p clinicdesk-server --example gen_server_schema -- v{VERSION} > migrations/postgres/{FILE}`"
    );
    Ok(())
}

#[test]
fn the_checked_in_server_schema_is_what_the_generator_writes() -> Result<()> {
    let generated = schema::generate()?;
    assert!(
        v1()? == generated,
        "migrations/postgres/V1__server.sql is stale; regenerate it with `{REFRESH}`"
    );
    Ok(())
}

/// A local migration after MIRRORED_VERSION that changes a replicated table (a column, a
/// CHECK, a UNIQUE index) needs a server migration that does the same to its mirror.
#[test]
fn the_server_schema_mirrors_the_latest_local_schema() -> Result<()> {
    let pinned = schema::mirrors(Some(MIRRORED_VERSION))?;
    let latest = schema::mirrors(None)?;
    assert!(
        pinned == latest,
        "the local schema changed a replicated table after V{MIRRORED_VERSION}: add a server \
         migration to evolve::EVOLUTIONS (generated: `cargo run -p clinicdesk-server --example \
         gen_server_schema -- v<N>`), then raise MIRRORED_VERSION"
    );
    Ok(())
}

/// Each generated evolution (V4 …) is what `evolve::generate` writes.
#[test]
fn the_checked_in_evolutions_are_what_the_generator_writes() -> Result<()> {
    for (version, _, file) in EVOLUTIONS {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../migrations/postgres")
            .join(file);
        let generated = evolve::generate(*version)?;
        assert!(
            std::fs::read_to_string(&path)? == generated,
            "migrations/postgres/{file} is stale; regenerate it with \
             `cargo run -p clinicdesk-server --example gen_server_schema -- v{version} > migrations/postgres/{file}`"
        );
    }
    Ok(())
}

/// V1 and V2 stay as they landed: the mirrors they were generated from (SQLITE_VERSION) are
/// pinned, and the evolutions start from there.
#[test]
fn the_evolutions_start_where_v1_stops_and_go_forward() {
    let mut at = SQLITE_VERSION;
    // V3 is hand-written, V5 the second push (push_v2): evolutions come after both.
    let mut server = 3;
    for (version, local, _) in EVOLUTIONS {
        assert!(*local > at, "V{version} goes back to local V{local}");
        assert!(*version > server, "V{version} is not after V{server}");
        (at, server) = (*local, *version);
    }
    assert_eq!(at, MIRRORED_VERSION);
}

#[test]
fn every_replicated_table_has_its_mirror_without_local_columns() -> Result<()> {
    let mirrors = schema::mirrors(None)?;
    let columns = registry::schema_columns(None)?;
    let names: Vec<&str> = mirrors.iter().map(|m| m.name.as_str()).collect();
    let replicated: Vec<&str> = registry::replicated().map(|t| t.name).collect();
    assert_eq!(names, replicated);
    for m in &mirrors {
        let spec = registry::spec(&m.name).unwrap();
        let want: Vec<&str> = registry::trigger_columns(spec, &columns[&m.name]);
        let got: Vec<&str> = m.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(got, want, "{}", m.name);
        assert_eq!(m.primary_key, ["id"], "{}", m.name);
        assert_eq!(m.column("id").unwrap().pg_type, "uuid", "{}", m.name);
        for fk in &m.foreign_keys {
            assert_eq!(
                m.column(&fk.column).unwrap().pg_type,
                "uuid",
                "{}.{}",
                m.name,
                fk.column
            );
        }
    }
    let appointments = mirrors.iter().find(|m| m.name == "appointments").unwrap();
    assert!(
        appointments.column("patient_name").is_none(),
        "a local column is mirrored"
    );
    let users = mirrors.iter().find(|m| m.name == "users").unwrap();
    assert!(
        users.column("last_login_at").is_none(),
        "a column local since V7 is mirrored"
    );
    assert!(
        users.column("password_hash").is_some(),
        "a redacted column still replicates"
    );
    Ok(())
}

/// Who reads what (SYNC.md §4.2): patients through their visibility, tables with a clinic by
/// clinic, the rest (people, credentials, payers, employers, clinics) organisation-wide.
#[test]
fn each_table_has_the_scope_the_design_gives_it() -> Result<()> {
    let mirrors = schema::mirrors(None)?;
    let scope = |t: &str| mirrors.iter().find(|m| m.name == t).unwrap().scope;
    assert_eq!(scope("patients"), Scope::Patient);
    assert_eq!(scope("patient_insurance"), Scope::Patient);
    assert_eq!(
        scope("appointments"),
        Scope::Clinic {
            org_wide_when_null: false
        }
    );
    assert_eq!(
        scope("appointment_types"),
        Scope::Clinic {
            org_wide_when_null: true
        }
    );
    assert_eq!(
        scope("goal_templates"),
        Scope::Clinic {
            org_wide_when_null: true
        }
    );
    for t in [
        "users",
        "staff_profiles",
        "ops_credentials",
        "ops_credential_types",
        "insurance_payers",
        "employer_accounts",
        "clinics",
    ] {
        assert_eq!(scope(t), Scope::OrgWide, "{t}");
    }
    // No table with patient data is readable organisation-wide.
    for m in &mirrors {
        if m.scope == Scope::OrgWide {
            assert!(m.column("patient_id").is_none(), "{}", m.name);
        }
    }
    Ok(())
}
