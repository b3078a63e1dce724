//! The server schema on a real PostgreSQL 15 (a throwaway cluster per test): the migration
//! applies as a non-superuser owner, mirrors every replicated table with RLS forced, devices
//! read only their rows and write nothing, and every CHECK accepts and refuses exactly what
//! SQLite does ("a row the server accepts must apply on every PC").

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{anyhow, Result};
use clinicdesk_pgcluster::postgres::{self, Client, NoTls};
use clinicdesk_pgcluster::PgCluster;
use clinicdesk_server::schema::{self, Mirror, LATER_PROTOCOL_TABLES, PROTOCOL_TABLES};
use rusqlite::types::Value;

const DB: &str = "clinicdesk";
const OWNER: &str = "cd_owner";

/// A cluster with the server schema migrated by a non-superuser owner (as on a hosted
/// PostgreSQL), and a client connected as that owner.
fn server() -> Result<(PgCluster, Client)> {
    let cluster = PgCluster::start()?;
    let mut su = cluster.connect()?;
    su.batch_execute(&format!("CREATE ROLE {OWNER} LOGIN CREATEROLE"))?;
    su.batch_execute(&format!("CREATE DATABASE {DB} OWNER {OWNER}"))?;
    let mut owner = connect_as(&cluster, OWNER)?;
    assert_eq!(
        clinicdesk_server::migrate(&mut owner)?,
        [1, 2, 3, 4, 5, 6, 7, 8]
    );
    assert_eq!(
        clinicdesk_server::migrate(&mut owner)?,
        Vec::<i64>::new(),
        "applied twice"
    );
    Ok((cluster, owner))
}

fn connect_as(cluster: &PgCluster, role: &str) -> Result<Client> {
    Ok(cluster.config(DB).user(role).connect(NoTls)?)
}

#[test]
fn the_migration_mirrors_every_replicated_table_with_rls_forced_everywhere() -> Result<()> {
    let (_cluster, mut owner) = server()?;
    let mirrors = schema::mirrors(None)?;
    for m in &mirrors {
        let rows = owner.query(
            "SELECT column_name::text, data_type::text, is_nullable::text FROM information_schema.columns
              WHERE table_schema = 'cd' AND table_name = $1 AND column_name NOT LIKE '\\_%' ORDER BY ordinal_position",
            &[&m.name],
        )?;
        let got: Vec<(String, String, bool)> = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get::<_, String>(2) == "NO"))
            .collect();
        let want: Vec<(String, String, bool)> = m
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.pg_type.to_string(), c.not_null))
            .collect();
        assert_eq!(got, want, "cd.{}", m.name);
        let hidden: Vec<String> = owner
            .query(
                "SELECT column_name::text FROM information_schema.columns
                  WHERE table_schema = 'cd' AND table_name = $1 AND column_name LIKE '\\_%' ORDER BY ordinal_position",
                &[&m.name],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(
            hidden[..5],
            ["_v0", "_v", "_seq", "_by", "_dev"],
            "cd.{}",
            m.name
        );
        let checks: i64 = owner
            .query_one(
                "SELECT count(*) FROM pg_constraint WHERE conrelid = ('cd.' || $1)::regclass AND conname LIKE 'ck\\_%'",
                &[&m.name],
            )?
            .get(0);
        assert_eq!(checks as usize, m.checks.len(), "cd.{}", m.name);
    }
    let tables = owner.query(
        "SELECT n.nspname::text, c.relname::text, c.relrowsecurity, c.relforcerowsecurity
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname IN ('cd', 'sync') AND c.relkind = 'r' ORDER BY 1, 2",
        &[],
    )?;
    assert_eq!(
        tables.len(),
        mirrors.len()
            + PROTOCOL_TABLES.len()
            + LATER_PROTOCOL_TABLES.len()
            + clinicdesk_server::push_v2::TABLES.len()
    );
    for t in &tables {
        let (schema, name): (String, String) = (t.get(0), t.get(1));
        assert!(t.get::<_, bool>(2), "RLS is not enabled on {schema}.{name}");
        assert!(t.get::<_, bool>(3), "RLS is not forced on {schema}.{name}");
    }
    let clock: i64 = owner.query_one("SELECT seq FROM sync.clock", &[])?.get(0);
    assert_eq!(clock, 0);
    Ok(())
}

/// The sync functions and triggers look rows up by `patient_id` (patient visibility, SYNC.md
/// §4.2) once per row they touch: each table they read that way has an index leading with it,
/// or seeding and pushing grow quadratically with the data (V3 added the one that was missing).
#[test]
fn every_patient_id_the_sync_functions_look_up_is_indexed() -> Result<()> {
    let (_cluster, mut owner) = server()?;
    let sources: Vec<String> = owner
        .query(
            "SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = 'sync'",
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let tables: Vec<String> = owner
        .query(
            "SELECT table_name::text FROM information_schema.columns
              WHERE table_schema = 'cd' AND column_name = 'patient_id' ORDER BY 1",
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut looked_up = Vec::new();
    for t in &tables {
        let by_patient = sources.iter().any(|src| {
            src.match_indices(&format!("cd.{t} "))
                .any(|(i, _)| src[i..].lines().take(2).any(|l| l.contains("patient_id =")))
        });
        if !by_patient {
            continue;
        }
        looked_up.push(t.as_str());
        let indexed: bool = owner
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_index i
                   JOIN pg_class c ON c.oid = i.indrelid
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
                  WHERE n.nspname = 'cd' AND c.relname = $1 AND a.attname = 'patient_id')",
                &[t],
            )?
            .get(0);
        assert!(
            indexed,
            "cd.{t} is looked up by patient_id without an index"
        );
    }
    // The check finds what it is about (the lookups in V1's visibility triggers).
    for t in ["appointments", "patient_insurance", "waitlist"] {
        assert!(looked_up.contains(&t), "{t} not found in {looked_up:?}");
    }
    Ok(())
}

const CLINIC_A: &str = "0190a000-0000-7000-8000-00000000000a";
const CLINIC_B: &str = "0190a000-0000-7000-8000-00000000000b";

/// Rows of two clinics, written by the owner (hidden columns filled as a push would).
fn seed(owner: &mut Client) -> Result<()> {
    let v = "'0|1|1|dev', 0";
    owner.batch_execute(&format!(
        "BEGIN;
        INSERT INTO cd.clinics (id, name, code, timezone, reminder_offsets_minutes, idle_lock_minutes, created_at, updated_at, _v0, _seq) VALUES
          ('{CLINIC_A}', 'A', 'AAA', 'UTC', '[]', 15, 0, 0, {v}), ('{CLINIC_B}', 'B', 'BBB', 'UTC', '[]', 15, 0, 0, {v});
        INSERT INTO cd.users (id, username, display_name, password_hash, is_active, failed_login_count, created_at, updated_at, _v0, _seq) VALUES
          ('0190a000-0000-7000-8000-000000000001', 'alice', 'Alice', '$argon2id$x', 1, 0, 0, 0, {v});
        INSERT INTO cd.staff_profiles (id, first_name, last_name, employment_type, primary_clinic_id, is_active, is_clinical, created_at, updated_at, _v0, _seq) VALUES
          ('0190a000-0000-7000-8000-000000000002', 'Sam', 'Staff', 'full_time', '{CLINIC_A}', 1, 1, 0, 0, {v});
        INSERT INTO cd.patients (id, clinic_id, mrn, first_name, last_name, sex, preferred_contact_method, consent_sms, consent_email, created_at, updated_at, _v0, _seq) VALUES
          ('0190a000-0000-7000-8000-0000000000a1', '{CLINIC_A}', 'A1', 'Ann', 'A', 'female', 'phone', 0, 0, 0, 0, {v}),
          ('0190a000-0000-7000-8000-0000000000b1', '{CLINIC_B}', 'B1', 'Bob', 'B', 'male', 'phone', 0, 0, 0, 0, {v}),
          ('0190a000-0000-7000-8000-0000000000a2', '{CLINIC_A}', 'A2', 'Xena', 'A', 'female', 'phone', 0, 0, 0, 0, {v});
        INSERT INTO cd.patient_insurance (id, patient_id, payer_id, coverage_priority, policy_number, subscriber_relationship, is_active, created_at, updated_at, _v0, _seq) VALUES
          ('0190a000-0000-7000-8000-0000000000c2', '0190a000-0000-7000-8000-0000000000a2', '0190a000-0000-7000-8000-0000000000f1', 1, 'P-1', 'self', 1, 0, 0, {v});
        INSERT INTO cd.insurance_payers (id, payer_name, payer_type, is_active, created_at, updated_at, _v0, _seq) VALUES
          ('0190a000-0000-7000-8000-0000000000f1', 'Payer', 'commercial', 1, 0, 0, {v});
        INSERT INTO cd.appointment_types (id, clinic_id, name, code, duration_minutes, required_credential_type_ids, is_active, created_at, updated_at, _v0, _seq) VALUES
          ('0190a000-0000-7000-8000-0000000000e0', NULL, 'Everywhere', 'EV', 30, '[]', 1, 0, 0, {v}),
          ('0190a000-0000-7000-8000-0000000000eb', '{CLINIC_B}', 'Only B', 'OB', 30, '[]', 1, 0, 0, {v});
        -- Xena (home A) has an appointment at B: B has a reason to see her.
        INSERT INTO cd.appointments (id, clinic_id, patient_id, provider_id, start_at, end_at, status, source, created_at, updated_at, _v0, _seq) VALUES
          ('0190a000-0000-7000-8000-0000000000d1', '{CLINIC_A}', '0190a000-0000-7000-8000-0000000000a1', '0190a000-0000-7000-8000-000000000002', 0, 1, 'pending', 'phone', 0, 0, {v}),
          ('0190a000-0000-7000-8000-0000000000d2', '{CLINIC_B}', '0190a000-0000-7000-8000-0000000000a2', '0190a000-0000-7000-8000-000000000002', 0, 1, 'pending', 'phone', 0, 0, {v});
        INSERT INTO sync.devices (device_id, role_name, clinics, enrolled_at, revoked_at) VALUES
          ('0190a000-0000-7000-8000-0000000000aa', 'dev_a', ARRAY['{CLINIC_A}']::uuid[], now(), NULL),
          ('0190a000-0000-7000-8000-0000000000bb', 'dev_b', ARRAY['{CLINIC_B}']::uuid[], now(), NULL),
          ('0190a000-0000-7000-8000-0000000000cc', 'dev_r', ARRAY['{CLINIC_A}', '{CLINIC_B}']::uuid[], now(), now());
        COMMIT;"
    ))?;
    Ok(())
}

/// The ids of `table` the client reads, by their last two hex digits.
fn ids(c: &mut Client, table: &str) -> Result<Vec<String>> {
    Ok(
        c.query(&format!("SELECT id::text FROM cd.{table} ORDER BY id"), &[])?
            .iter()
            .map(|r| {
                let id: String = r.get(0);
                id[id.len() - 2..].to_string()
            })
            .collect(),
    )
}

#[test]
fn devices_read_their_clinics_rows_only_and_write_nothing_directly() -> Result<()> {
    let (cluster, mut owner) = server()?;
    let mut su = cluster.config(DB).connect(NoTls)?;
    for dev in ["dev_a", "dev_b", "dev_r"] {
        su.batch_execute(&format!(
            "CREATE ROLE {dev} LOGIN IN ROLE clinicdesk_device"
        ))?;
    }
    seed(&mut owner)?;
    // The owner's own session sees everything.
    assert_eq!(ids(&mut owner, "patients")?, ["a1", "a2", "b1"]);
    let (mut a, mut b, mut r) = (
        connect_as(&cluster, "dev_a")?,
        connect_as(&cluster, "dev_b")?,
        connect_as(&cluster, "dev_r")?,
    );
    assert_eq!(ids(&mut a, "patients")?, ["a1", "a2"]);
    assert_eq!(
        ids(&mut b, "patients")?,
        ["a2", "b1"],
        "B sees Xena through her appointment"
    );
    assert_eq!(ids(&mut a, "patient_insurance")?, ["c2"]);
    assert_eq!(
        ids(&mut b, "patient_insurance")?,
        ["c2"],
        "insurance follows its patient"
    );
    assert_eq!(ids(&mut a, "appointments")?, ["d1"]);
    assert_eq!(ids(&mut b, "appointments")?, ["d2"]);
    assert_eq!(ids(&mut a, "appointment_types")?, ["e0"]);
    assert_eq!(ids(&mut b, "appointment_types")?, ["e0", "eb"]);
    for c in [&mut a, &mut b] {
        assert_eq!(ids(c, "clinics")?, ["0a", "0b"]);
        assert_eq!(ids(c, "users")?, ["01"]);
        assert_eq!(ids(c, "insurance_payers")?, ["f1"]);
    }
    // The visibility change was stamped: devices of B pull Xena after their cursor.
    let xena: i64 = owner
        .query_one("SELECT _seq FROM cd.patients WHERE mrn = 'A2'", &[])?
        .get(0);
    let clock: i64 = owner.query_one("SELECT seq FROM sync.clock", &[])?.get(0);
    assert!(
        xena >= 1 && xena <= clock,
        "Xena's new visibility got no new _seq"
    );
    // A revoked device reads nothing, org-wide rows included.
    for m in schema::mirrors(None)? {
        assert_eq!(
            ids(&mut r, &m.name)?,
            Vec::<String>::new(),
            "revoked device reads {}",
            m.name
        );
    }
    assert_eq!(r.query("SELECT * FROM sync.clock", &[])?.len(), 0);
    assert_eq!(a.query("SELECT seq FROM sync.clock", &[])?.len(), 1);

    // No direct write by a device on any table: permission denied, nothing changed.
    let denied = |c: &mut Client, sql: &str| {
        let e = c.batch_execute(sql).expect_err(sql);
        assert_eq!(
            e.code(),
            Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{sql}: {e}"
        );
    };
    for m in schema::mirrors(None)? {
        let t = format!("cd.{}", m.name);
        denied(
            &mut a,
            &format!("INSERT INTO {t} (id) VALUES (gen_random_uuid())"),
        );
        denied(&mut a, &format!("UPDATE {t} SET _seq = _seq + 1"));
        denied(&mut a, &format!("DELETE FROM {t}"));
        denied(&mut a, &format!("TRUNCATE {t}"));
    }
    for t in PROTOCOL_TABLES.iter().chain(LATER_PROTOCOL_TABLES) {
        denied(&mut a, &format!("DELETE FROM sync.{t}"));
        if *t != "clock" {
            denied(&mut a, &format!("SELECT * FROM sync.{t}"));
        }
    }
    denied(&mut a, "UPDATE sync.clock SET seq = 0");
    denied(&mut a, "SELECT sync.stamp()");
    denied(
        &mut a,
        &format!("UPDATE sync.devices SET clinics = ARRAY['{CLINIC_B}']::uuid[]"),
    );
    // A device cannot change who it is with a setting.
    a.batch_execute("SET app.clinic = 'x'; SET ROLE NONE")?;
    assert_eq!(ids(&mut a, "patients")?, ["a1", "a2"]);
    assert_eq!(ids(&mut owner, "patients")?, ["a1", "a2", "b1"]);

    // Bob moves to clinic A, written as a merge writes (every column): A now sees him and his
    // insurance (V5: the spread follows a changed _vis, not a SET list naming it).
    owner.batch_execute(
        "INSERT INTO cd.patient_insurance (id, patient_id, payer_id, coverage_priority, policy_number, subscriber_relationship, is_active, created_at, updated_at, _v0, _seq) VALUES
           ('0190a000-0000-7000-8000-0000000000c1', '0190a000-0000-7000-8000-0000000000b1', '0190a000-0000-7000-8000-0000000000f1', 1, 'P-2', 'self', 1, 0, 0, '0|1|1|dev', 0)",
    )?;
    assert_eq!(ids(&mut a, "patient_insurance")?, ["c2"]);
    let before: i64 = owner.query_one("SELECT seq FROM sync.clock", &[])?.get(0);
    owner.batch_execute(&format!(
        "UPDATE cd.patients SET clinic_id = '{CLINIC_A}', first_name = first_name, last_name = last_name WHERE mrn = 'B1'"
    ))?;
    assert_eq!(ids(&mut a, "patients")?, ["a1", "a2", "b1"]);
    assert_eq!(ids(&mut a, "patient_insurance")?, ["c1", "c2"]);
    let stamped: i64 = owner
        .query_one(
            "SELECT _seq FROM cd.patient_insurance WHERE policy_number = 'P-2'",
            &[],
        )?
        .get(0);
    assert!(
        stamped > before,
        "the spread is stamped for A's devices to pull"
    );
    Ok(())
}

// CHECK parity ----------------------------------------------------------------------------------

/// Values a column is tried with: the literals of the table's CHECKs, values around every
/// bound they use, and the row's own values.
fn pool(m: &Mirror, column: &str, row: &BTreeMap<String, Value>) -> Vec<Value> {
    let ty = m.column(column).unwrap().pg_type;
    let mut out: Vec<Value> = Vec::new();
    match ty {
        "text" => {
            let mut lits = Vec::new();
            for c in &m.checks {
                let mut rest = c.sqlite.as_str();
                while let Some(at) = rest.find('\'') {
                    let end = rest[at + 1..].find('\'').map_or(rest.len(), |e| at + 1 + e);
                    lits.push(rest[at + 1..end].to_string());
                    rest = &rest[(end + 1).min(rest.len())..];
                }
            }
            let fixed = [
                "x",
                "",
                " ",
                "\t",
                "  x  ",
                "é",
                "Ab",
                "ABC",
                "ABCDEFG",
                "aBC",
                "A",
                "ÄBC",
                "A1",
                "2024-01-15",
                "2024-02-29",
                "2023-02-29",
                "2000-02-29",
                "1900-02-29",
                "2024-04-31",
                "2024-12-31",
                "2024-13-01",
                "2024-00-10",
                "2024-01-00",
                "2024-1-05",
                " 2024-01-15",
                "2024-01-15 ",
                "2024-01-15T00:00",
                "0000-01-01",
                "9999-12-31",
                "1999-12-31",
                "20240115",
                "08:00",
                "17:30",
                "23:59",
                "24:00",
                "29:59",
                "8:00",
                "08:60",
                "0800",
                "[]",
                "[1,2]",
                "{}",
                "{\"a\":1}",
                " [ ] ",
                "[",
                "[1,]",
                "null",
                "1",
                "1.5",
                "\"s\"",
                "true",
                "NaN",
                "{\"a\":1,\"a\":2}",
                "[\"\\u0041\"]",
                "'[]'",
                "#a0B1c2",
                "#a0B1cZ",
                "#abc",
                "#A0B1C2F",
                "$argon2id$v=19$x",
                "$ARGON2ID$x",
                "$argon2i$x",
                "x$argon2id$",
                "$argon2id",
                "abc",
                "ab",
                "pending",
                "Pending",
                "pending ",
            ];
            lits.extend(fixed.iter().map(|s| s.to_string()));
            lits.push("y".repeat(32));
            lits.push("y".repeat(33));
            lits.push("y".repeat(64));
            lits.push("y".repeat(65));
            out.extend(lits.into_iter().map(Value::Text));
        }
        "bigint" => out.extend(
            [
                1,
                0,
                -1,
                2,
                3,
                4,
                5,
                6,
                23,
                24,
                480,
                481,
                720,
                721,
                1999,
                2000,
                2999,
                3000,
                1_700_000_000_000,
                i64::MAX,
                i64::MIN,
            ]
            .into_iter()
            .map(Value::Integer),
        ),
        "double precision" => out.extend(
            [0.5, 0.0, -0.5, 1.0, 1.5, -1e300, 1e300]
                .into_iter()
                .map(Value::Real),
        ),
        _ => out.push(Value::Text("0190b000-0000-7000-8000-000000000fff".into())),
    }
    for (c, v) in row {
        let same_type = m.column(c).is_some_and(|x| x.pg_type == ty);
        if same_type && c != column && *v != Value::Null && !out.contains(v) {
            out.push(v.clone());
        }
    }
    out.push(Value::Null);
    out
}

/// The local table alone (no triggers, no foreign keys): exactly its columns and CHECKs.
fn sqlite_tables() -> Result<rusqlite::Connection> {
    let schema = clinicdesk_store::schema_in_memory(None)?;
    let conn = rusqlite::Connection::open_in_memory()?;
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    for m in schema::mirrors(None)? {
        let sql: String = schema.query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [&m.name],
            |r| r.get(0),
        )?;
        conn.execute_batch(&sql)?;
    }
    Ok(conn)
}

fn sqlite_accepts(
    conn: &rusqlite::Connection,
    m: &Mirror,
    row: &BTreeMap<String, Value>,
) -> Result<bool> {
    let all: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info(?1)")?
        .query_map([&m.name], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let cols: Vec<&String> = all.iter().filter(|c| row.contains_key(*c)).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        m.name,
        cols.iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        (1..=cols.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    conn.execute_batch("SAVEPOINT t")?;
    let r = conn.execute(
        &sql,
        rusqlite::params_from_iter(cols.iter().map(|c| &row[*c])),
    );
    conn.execute_batch("ROLLBACK TO t; RELEASE t")?;
    match r {
        Ok(_) => Ok(true),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Ok(false)
        }
        // json_type() of malformed JSON raises: SQLite refuses the row.
        Err(rusqlite::Error::SqliteFailure(_, Some(msg))) if msg.contains("malformed JSON") => {
            Ok(false)
        }
        Err(e) => Err(anyhow!("{}: {e}", m.name)),
    }
}

fn pg_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(f) => Some(format!("{f:?}")),
        Value::Text(s) => Some(s.clone()),
        Value::Blob(_) => unreachable!(),
    }
}

/// Whether PostgreSQL accepts the row; when it refuses, the constraint that did (if one).
fn pg_accepts(
    tx: &mut postgres::Transaction<'_>,
    insert: &postgres::Statement,
    m: &Mirror,
    row: &BTreeMap<String, Value>,
) -> Result<Result<(), Option<String>>> {
    let values: Vec<Option<String>> = m.columns.iter().map(|c| pg_text(&row[&c.name])).collect();
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = values
        .iter()
        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
        .collect();
    tx.batch_execute("SAVEPOINT t")?;
    let r = tx.execute(insert, &params);
    tx.batch_execute("ROLLBACK TO SAVEPOINT t")?;
    match r {
        Ok(_) => Ok(Ok(())),
        Err(e) => {
            let Some(db) = e.as_db_error() else {
                return Err(e.into());
            };
            let code = db.code().code();
            // 23xxx: integrity (CHECK, NOT NULL); 22P02: json_type() of malformed JSON.
            if code.starts_with("23") || code == "22P02" {
                Ok(Err(db.constraint().map(str::to_string)))
            } else {
                Err(anyhow!("{}: {db}", m.name))
            }
        }
    }
}

/// A row of `m` for which every CHECK is true (not merely not false: SQLite lets NULL pass),
/// found greedily from the value pools.
fn valid_row(conn: &rusqlite::Connection, m: &Mirror) -> Result<BTreeMap<String, Value>> {
    let mut row: BTreeMap<String, Value> = BTreeMap::new();
    let checked: BTreeSet<&String> = m.checks.iter().flat_map(|c| &c.columns).collect();
    for (i, c) in m.columns.iter().enumerate() {
        let v = match c.pg_type {
            "uuid" => Value::Text(format!("0190b000-0000-7000-8000-{:012x}", i + 1)),
            // Columns no CHECK reads stay NULL where they may; the others start with a value,
            // so a CHECK across several columns can be violated through one of them.
            _ if !c.not_null && !checked.contains(&c.name) => Value::Null,
            _ => pool(m, &c.name, &BTreeMap::new())[0].clone(),
        };
        row.insert(c.name.clone(), v);
    }
    let passes = |row: &BTreeMap<String, Value>, upto: usize| -> Result<bool> {
        for check in &m.checks[..=upto] {
            let sql = format!(
                "SELECT coalesce(({}), 0) FROM (SELECT {})",
                check.sqlite,
                row.keys()
                    .enumerate()
                    .map(|(i, c)| format!("?{} AS {c}", i + 1))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let ok: rusqlite::Result<bool> =
                conn.query_row(&sql, rusqlite::params_from_iter(row.values()), |r| r.get(0));
            if !ok.unwrap_or(false) {
                return Ok(false);
            }
        }
        Ok(true)
    };
    for (k, check) in m.checks.iter().enumerate() {
        if passes(&row, k)? {
            continue;
        }
        let mut fixed = false;
        'cols: for c in check.columns.iter().rev() {
            let nullable = !m.column(c).unwrap().not_null;
            for v in pool(m, c, &row) {
                if v == Value::Null && !nullable {
                    continue;
                }
                let before = row.insert(c.clone(), v).unwrap();
                if passes(&row, k)? {
                    fixed = true;
                    break 'cols;
                }
                row.insert(c.clone(), before);
            }
        }
        assert!(
            fixed,
            "no valid value found for CHECK ({}) of {}",
            check.sqlite, m.name
        );
    }
    Ok(row)
}

#[test]
fn every_check_accepts_and_refuses_exactly_what_sqlite_does() -> Result<()> {
    let (_cluster, mut owner) = server()?;
    let sqlite = sqlite_tables()?;
    let mut tried = 0;
    let mut stricter = BTreeSet::new();
    for m in schema::mirrors(None)?
        .iter()
        .filter(|m| !m.checks.is_empty())
    {
        let row = valid_row(&sqlite, m)?;
        let cols: Vec<String> = m.columns.iter().map(|c| c.name.clone()).collect();
        let insert_sql = format!(
            "INSERT INTO cd.{} ({}, _v0, _seq) VALUES ({}, '0|1|1|dev', 1)",
            m.name,
            cols.join(", "),
            m.columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("${}::text::{}", i + 1, c.pg_type))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut tx = owner.transaction()?;
        let insert = tx.prepare(&insert_sql)?;
        assert!(
            sqlite_accepts(&sqlite, m, &row)?,
            "{}: SQLite refuses {row:?}",
            m.name
        );
        assert_eq!(
            pg_accepts(&mut tx, &insert, m, &row)?,
            Ok(()),
            "{}: PostgreSQL refuses {row:?}",
            m.name
        );
        let mut refused_by: BTreeSet<String> = BTreeSet::new();
        // (column to vary, the row to vary it in): the valid row, and for a CHECK over several
        // columns also the valid row with the check's other nullable columns NULL (so that
        // `status <> 'cancelled' OR cancel_reason IS NOT NULL` can fail through `status`).
        let mut cases: Vec<(String, BTreeMap<String, Value>)> = Vec::new();
        let columns: BTreeSet<&String> = m.checks.iter().flat_map(|c| &c.columns).collect();
        cases.extend(columns.into_iter().map(|c| (c.clone(), row.clone())));
        for check in m.checks.iter().filter(|c| c.columns.len() > 1) {
            for c in &check.columns {
                let mut base = row.clone();
                for other in check.columns.iter().filter(|o| *o != c) {
                    if !m.column(other).unwrap().not_null {
                        base.insert(other.clone(), Value::Null);
                    }
                }
                if base != row && sqlite_accepts(&sqlite, m, &base)? {
                    cases.push((c.clone(), base));
                }
            }
        }
        for (c, base) in &cases {
            for v in pool(m, c, base) {
                let mut bad = base.clone();
                bad.insert(c.clone(), v.clone());
                let local = sqlite_accepts(&sqlite, m, &bad)?;
                let server = pg_accepts(&mut tx, &insert, m, &bad)?;
                tried += 1;
                // The invariant: a row the server accepts applies on every PC.
                assert!(
                    local || server.is_err(),
                    "{}.{c} = {v:?}: PostgreSQL accepts a row SQLite refuses",
                    m.name
                );
                // The one place the server is stricter: SQLite's `date(x) = x` is NULL (so the
                // CHECK passes) for text date() cannot read at all; the server refuses it.
                if local && server.is_err() {
                    let unreadable: bool =
                        sqlite.query_row("SELECT date(?1) IS NULL", [&v], |r| r.get(0))?;
                    let date_check = |name: &Option<String>| {
                        (0..m.checks.len()).any(|i| {
                            name.as_deref() == Some(m.check_name(i).as_str())
                                && m.checks[i].sqlite.contains(&format!("date({c}) = {c}"))
                        })
                    };
                    assert!(
                        unreadable && server.as_ref().err().is_some_and(date_check),
                        "{}.{c} = {v:?}: SQLite accepts it, PostgreSQL refuses it ({server:?})",
                        m.name
                    );
                    stricter.insert(format!("{}.{c}", m.name));
                }
                if let Err(Some(name)) = server {
                    refused_by.insert(name);
                }
            }
        }
        for i in 0..m.checks.len() {
            assert!(
                refused_by.contains(&m.check_name(i)),
                "no value was refused by CHECK ({}) of {}",
                m.checks[i].sqlite,
                m.name
            );
        }
        tx.rollback()?;
    }
    assert!(tried > 1000, "only {tried} rows tried");
    // Every date column is in that class (and only those).
    assert!(
        stricter.contains("employer_accounts.contract_end_date"),
        "{stricter:?}"
    );
    Ok(())
}

/// `sync.stamp()` (V5): one value per transaction — the next at the first call, the same
/// after it — so stamping many rows in one transaction writes the clock row once.
#[test]
fn a_transaction_stamps_with_one_value() -> Result<()> {
    let (_cluster, mut owner) = server()?;
    let clock = |o: &mut Client| -> Result<i64> {
        Ok(o.query_one("SELECT seq FROM sync.clock", &[])?.get(0))
    };
    let before = clock(&mut owner)?;
    let mut tx = owner.transaction()?;
    let stamps: Vec<i64> = (0..3)
        .map(|_| tx.query_one("SELECT sync.stamp()", &[]).map(|r| r.get(0)))
        .collect::<Result<_, _>>()?;
    assert_eq!(stamps, [before + 1; 3]);
    tx.commit()?;
    assert_eq!(clock(&mut owner)?, before + 1);
    let next: i64 = owner.query_one("SELECT sync.stamp()", &[])?.get(0);
    assert_eq!(next, before + 2, "the next transaction, the next value");
    assert_eq!(clock(&mut owner)?, before + 2);
    Ok(())
}
