//! The server schema (SYNC.md §3.2), generated: one mirror table `cd.<table>` per replicated
//! table of the registry ([`clinicdesk_store::registry::TABLES`]) with the same non-local
//! columns in PostgreSQL types, the same NOT NULLs, primary key, foreign keys (deferred), CHECKs
//! ([`sql`] translates them or the generator fails) and UNIQUE indexes, plus the hidden sync
//! columns; the protocol tables of schema `sync`; row-level security enabled and forced on every
//! table; the device group role and its grants.
//!
//! [`generate`] writes `migrations/postgres/V1__server.sql` (refresh with
//! `cargo run -p clinicdesk-server --example gen_server_schema > migrations/postgres/V1__server.sql`);
//! `tests/generated.rs` fails when the checked-in file differs. V1 mirrors the local schema as
//! of [`SQLITE_VERSION`]; a later local migration that changes a replicated table needs a new
//! server migration (the same test says so).

pub mod sql;

use std::fmt::Write as _;

use clinicdesk_store::registry::{self, TableSpec};
use rusqlite::Connection;

pub use sql::Check;

use crate::{Result, ServerError};

/// The local (SQLite) migration whose schema `V1__server.sql` mirrors.
pub const SQLITE_VERSION: i32 = 8;

/// The group role of every device's login role.
pub const DEVICE_ROLE: &str = "clinicdesk_device";

/// Tables a device reads through the patient's visibility (`_vis`, SYNC.md §4.2): the patient
/// and what hangs off the patient without a clinic of its own.
pub const VISIBLE_THROUGH_PATIENT: &[&str] = &["patients", "patient_insurance"];

/// Tables whose rows give a clinic a reason to see a patient (each has `patient_id` and
/// `clinic_id`): an appointment, a case, a series or a waitlist entry at that clinic.
pub const PATIENT_REASONS: &[&str] = &[
    "appointment_series",
    "appointments",
    "ops_cases",
    "waitlist",
];

/// A mirrored column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// `uuid`, `bigint`, `double precision` or `text`.
    pub pg_type: &'static str,
    pub not_null: bool,
}

/// A foreign key (one column, to the id of a mirrored table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub column: String,
    pub table: String,
    pub to: String,
}

/// A UNIQUE index of the local schema, mirrored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unique {
    pub name: String,
    pub columns: Vec<String>,
    /// SQLite's `coalesce(col, '')` (NULL counts as one value) becomes `NULLS NOT DISTINCT`.
    pub nulls_not_distinct: bool,
    /// The partial index's predicate, translated.
    pub predicate: Option<String>,
}

/// Which rows of a table a device reads (SYNC.md §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Rows of the device's clinics; with `org_wide_when_null`, rows without a clinic too.
    Clinic { org_wide_when_null: bool },
    /// Rows whose patient the device's clinics have a reason to see (`_vis`).
    Patient,
    /// Every enrolled device reads every row.
    OrgWide,
}

/// One mirror table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub checks: Vec<Check>,
    pub foreign_keys: Vec<ForeignKey>,
    pub uniques: Vec<Unique>,
    pub scope: Scope,
}

impl Mirror {
    /// The PostgreSQL name of CHECK number `i` (0-based, in the order SQLite has them).
    pub fn check_name(&self, i: usize) -> String {
        format!("ck_{}_{}", self.name, i + 1)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

fn err(msg: String) -> ServerError {
    ServerError::Schema(msg)
}

/// The mirror of every replicated table, read from the local schema after the migrations up
/// to `version` (all when None) and the registry as of that version.
pub fn mirrors(version: Option<i32>) -> Result<Vec<Mirror>> {
    let conn = clinicdesk_store::schema_in_memory(version)?;
    // A table a later local migration creates has no mirror at an earlier version (the
    // evolution that adds it creates it on the server).
    let exists = |t: &str| -> Result<bool> {
        Ok(conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [t],
            |r| r.get::<_, i64>(0),
        )? > 0)
    };
    let mut specs: Vec<TableSpec> = Vec::new();
    for s in registry::replicated() {
        if version.is_some() && !exists(s.name)? {
            continue;
        }
        specs.push(version.map_or(*s, |v| s.as_of(v)));
    }
    let replicated: Vec<&str> = specs.iter().map(|s| s.name).collect();
    let mut out = Vec::new();
    for spec in &specs {
        out.push(mirror(&conn, spec, &replicated)?);
    }
    for reason in PATIENT_REASONS {
        let m = out.iter().find(|m| m.name == *reason);
        let ok = m.is_some_and(|m| {
            ["patient_id", "clinic_id"]
                .iter()
                .all(|c| m.column(c).is_some_and(|c| c.not_null))
        });
        if !ok {
            return Err(err(format!(
                "{reason} is listed as a reason to see a patient but has no NOT NULL patient_id and clinic_id"
            )));
        }
    }
    Ok(out)
}

fn mirror(conn: &Connection, spec: &TableSpec, replicated: &[&str]) -> Result<Mirror> {
    let t = spec.name;
    let create: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [t],
            |r| r.get(0),
        )
        .map_err(|_| {
            err(format!(
                "{t} is in the registry but not in the local schema"
            ))
        })?;
    let mut info: Vec<(String, String, bool, i64)> = conn
        .prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid")?
        .query_map([t], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let all_columns: Vec<String> = info.iter().map(|c| c.0.clone()).collect();
    info.retain(|c| !spec.is_local(&c.0));
    let mut pk: Vec<(i64, String)> = info
        .iter()
        .filter(|c| c.3 > 0)
        .map(|c| (c.3, c.0.clone()))
        .collect();
    pk.sort();
    let primary_key: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();

    let mut foreign_keys = Vec::new();
    let fk_rows: Vec<(i64, String, String, Option<String>)> = conn
        .prepare("SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq")?
        .query_map([t], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, table, from, to) in &fk_rows {
        if fk_rows.iter().filter(|f| f.0 == *id).count() > 1 {
            return Err(err(format!(
                "{t}: multi-column foreign keys are not mirrored"
            )));
        }
        if !replicated.contains(&table.as_str()) {
            return Err(err(format!(
                "{t}.{from} references {table}, which does not replicate"
            )));
        }
        if spec.is_local(from) {
            return Err(err(format!("{t}.{from} is local but a foreign key")));
        }
        foreign_keys.push(ForeignKey {
            column: from.clone(),
            table: table.clone(),
            to: to.clone().unwrap_or_else(|| "id".into()),
        });
    }

    let mut columns = Vec::new();
    for (name, ty, not_null, pk) in &info {
        let is_id = (*pk > 0 && name == "id") || foreign_keys.iter().any(|f| &f.column == name);
        let pg_type = match (ty.as_str(), is_id) {
            ("TEXT", true) => "uuid",
            ("TEXT", false) => "text",
            ("INTEGER", false) => "bigint",
            ("REAL", false) => "double precision",
            (other, _) => {
                return Err(err(format!(
                    "{t}.{name}: the type {other} has no mapping (ids are TEXT)"
                )))
            }
        };
        columns.push(Column {
            name: name.clone(),
            pg_type,
            not_null: *not_null || *pk > 0,
        });
    }
    let mirrored: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();

    let checks = sql::checks(t, &create, &all_columns)?;
    for c in &checks {
        if let Some(local) = c.columns.iter().find(|c| !mirrored.contains(c)) {
            return Err(err(format!(
                "{t}: CHECK ({}) reads the local column {local}",
                c.sqlite
            )));
        }
    }
    let uniques = uniques(conn, t, &columns)?;
    let has = |c: &str| columns.iter().find(|x| x.name == c);
    let scope = if VISIBLE_THROUGH_PATIENT.contains(&t) {
        Scope::Patient
    } else if let Some(clinic) = has("clinic_id") {
        Scope::Clinic {
            org_wide_when_null: !clinic.not_null,
        }
    } else if has("patient_id").is_some() {
        return Err(err(format!(
            "{t} has a patient_id but no clinic_id: list it in VISIBLE_THROUGH_PATIENT (or give it a clinic) so devices do not all read it"
        )));
    } else {
        Scope::OrgWide
    };
    Ok(Mirror {
        name: t.to_string(),
        columns,
        primary_key,
        checks,
        foreign_keys,
        uniques,
        scope,
    })
}

fn uniques(conn: &Connection, t: &str, columns: &[Column]) -> Result<Vec<Unique>> {
    let names: Vec<(String, bool, String)> = conn
        .prepare("SELECT name, \"unique\", origin FROM pragma_index_list(?1) ORDER BY name")?
        .query_map([t], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let col_names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    let mut out = Vec::new();
    for (name, unique, origin) in names {
        if !unique || origin == "pk" {
            continue;
        }
        if origin != "c" {
            return Err(err(format!(
                "{t}: the UNIQUE constraint {name} is not a CREATE UNIQUE INDEX; it is not mirrored"
            )));
        }
        let text: String = conn.query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
            [&name],
            |r| r.get(0),
        )?;
        out.push(unique_index(t, &name, &text, columns, &col_names)?);
    }
    Ok(out)
}

/// `CREATE UNIQUE INDEX name ON t(a, coalesce(b, ''), …) [WHERE …]`, read.
fn unique_index(
    t: &str,
    name: &str,
    text: &str,
    columns: &[Column],
    col_names: &[String],
) -> Result<Unique> {
    use sql::Tok;
    let fail = |why: &str| {
        err(format!(
            "{t}: cannot mirror the index {name} ({why}): {text}"
        ))
    };
    let tokens = sql::tokenize(text)?;
    let open = tokens
        .iter()
        .position(|tk| tk.tok == Tok::Punct("(".into()))
        .ok_or_else(|| fail("no column list"))?;
    let close = sql::closing(&tokens, open)?;
    let mut cols = Vec::new();
    let mut coalesced = false;
    let parts = top_level_split(&tokens[open + 1..close]);
    for part in &parts {
        let toks: Vec<&Tok> = part.iter().map(|tk| &tk.tok).collect();
        match toks.as_slice() {
            [Tok::Ident(c)] if col_names.contains(c) => cols.push(c.clone()),
            [Tok::Ident(f), Tok::Punct(o), Tok::Ident(c), Tok::Punct(_), Tok::Str(e), Tok::Punct(cl)]
                if f.eq_ignore_ascii_case("coalesce")
                    && o == "("
                    && cl == ")"
                    && e.is_empty()
                    && col_names.contains(c) =>
            {
                coalesced = true;
                cols.push(c.clone());
            }
            _ => {
                return Err(fail(
                    "an index expression other than a column or coalesce(column, '')",
                ))
            }
        }
    }
    // NULLS NOT DISTINCT applies to every column: exact only when the others are NOT NULL.
    if coalesced {
        let raw: Vec<&str> = parts
            .iter()
            .filter(|p| p.len() == 1)
            .filter_map(|p| match &p[0].tok {
                Tok::Ident(c) => Some(c.as_str()),
                _ => None,
            })
            .collect();
        if raw
            .iter()
            .any(|c| columns.iter().any(|x| x.name == *c && !x.not_null))
        {
            return Err(fail("coalesce() beside a nullable column"));
        }
    }
    let rest = &tokens[close + 1..];
    let predicate = match rest.split_first() {
        None => None,
        Some((w, expr)) if w.tok.is_where() => {
            Some(sql::translate(expr, col_names).map_err(|e| fail(&e))?.0)
        }
        Some(_) => return Err(fail("something after the column list")),
    };
    Ok(Unique {
        name: name.to_string(),
        columns: cols,
        nulls_not_distinct: coalesced,
        predicate,
    })
}

/// `tokens` split at the commas outside parentheses.
fn top_level_split(tokens: &[sql::Token]) -> Vec<&[sql::Token]> {
    let (mut out, mut depth, mut from) = (Vec::new(), 0usize, 0);
    for (i, t) in tokens.iter().enumerate() {
        match &t.tok {
            sql::Tok::Punct(p) if p == "(" => depth += 1,
            sql::Tok::Punct(p) if p == ")" => depth = depth.saturating_sub(1),
            sql::Tok::Punct(p) if p == "," && depth == 0 => {
                out.push(&tokens[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    out.push(&tokens[from..]);
    out
}

/// The server schema migration, `migrations/postgres/V1__server.sql`.
pub fn generate() -> Result<String> {
    Ok(render(&mirrors(Some(SQLITE_VERSION))?))
}

const HEADER: &str = "\
-- GENERATED by `cargo run -p clinicdesk-server --example gen_server_schema`: the server schema
-- (SYNC.md §3). Do not edit by hand; server migrations are append-only like the local ones
-- (crates/server/src/schema.rs, tests/generated.rs).
--
-- Schema cd: one mirror of every replicated local table (same column names; ids and foreign
-- keys uuid, INTEGER bigint, REAL double precision, TEXT text, JSON stays text so it round-trips
-- byte for byte, instants bigint ms). Text columns are COLLATE \"C\": comparisons in CHECKs,
-- indexes and ORDER BY follow SQLite's BINARY order. Hidden columns:
--   _v0  the version of the insert; _v  merge group -> version, for groups changed since;
--   _seq the sync.clock value of the last change (the pull cursor, from sync.stamp());
--   _by/_dev the user and device of the last winning change;
--   _vis (patient tables) the clinics with a reason to see the patient (SYNC.md §4.2).
-- Versions are text `rank|clamped HLC|original HLC|device` and compare COLLATE \"C\": _v0 is
-- declared so; a version read from _v (`_v->>g`) must be compared `COLLATE \"C\"` by the merge
-- functions (a glibc/ICU collation ignores punctuation and orders them wrongly).
--
-- Schema sync: the protocol tables (owner-only writes) and functions. Devices (members of
-- clinicdesk_device) read cd.* through row-level security, ENABLEd and FORCEd on every table,
-- and write nothing directly: writes go through SECURITY DEFINER functions in schema sync
-- (a later migration), which run as the owner under the owner's policies, scoped by
-- session_user to the calling device's clinics.
";

fn render(mirrors: &[Mirror]) -> String {
    let mut s = String::from(HEADER);
    s.push_str(PRELUDE);
    s.push_str("\n-- Mirror tables ---------------------------------------------------------------------------------\n");
    for m in mirrors {
        table(&mut s, m);
    }
    s.push_str("\n-- Foreign keys (deferred: a push or a pull checkpoint is consistent only as a whole) -------------\n\n");
    for m in mirrors {
        for fk in &m.foreign_keys {
            let _ = writeln!(
                s,
                "ALTER TABLE cd.{t} ADD CONSTRAINT fk_{t}_{c} FOREIGN KEY ({c}) REFERENCES cd.{rt} ({to}) DEFERRABLE INITIALLY DEFERRED;",
                t = m.name,
                c = fk.column,
                rt = fk.table,
                to = fk.to
            );
        }
    }
    s.push_str("\n-- Indexes: the local UNIQUE indexes, the pull cursor, patient visibility ---------------------------\n\n");
    for m in mirrors {
        for u in &m.uniques {
            let _ = write!(
                s,
                "CREATE UNIQUE INDEX {} ON cd.{} ({}){}",
                u.name,
                m.name,
                u.columns.join(", "),
                if u.nulls_not_distinct {
                    " NULLS NOT DISTINCT"
                } else {
                    ""
                }
            );
            if let Some(p) = &u.predicate {
                let _ = write!(s, " WHERE {p}");
            }
            s.push_str(";\n");
        }
        let _ = writeln!(s, "CREATE INDEX ix_{0}_seq ON cd.{0} (_seq);", m.name);
        if m.column("clinic_id").is_some() {
            let _ = writeln!(
                s,
                "CREATE INDEX ix_{0}_clinic_seq ON cd.{0} (clinic_id, _seq);",
                m.name
            );
        }
        if m.scope == Scope::Patient {
            let _ = writeln!(
                s,
                "CREATE INDEX ix_{0}_vis ON cd.{0} USING gin (_vis);",
                m.name
            );
        }
        if PATIENT_REASONS.contains(&m.name.as_str()) {
            let _ = writeln!(
                s,
                "CREATE INDEX ix_{0}_patient ON cd.{0} (patient_id);",
                m.name
            );
        }
    }
    patient_visibility(&mut s, mirrors);
    s.push_str("\n-- Row-level security: ENABLE + FORCE on every table ----------------------------------------------\n");
    s.push_str(
        "-- device_read: what a device reads. owner_scope: the owner's own session sees everything; the\n\
         -- owner inside a device's session (the SECURITY DEFINER sync functions) only that device's rows.\n",
    );
    for m in mirrors {
        let scope = scope_sql(m.scope);
        let _ = write!(
            s,
            "\nALTER TABLE cd.{t} ENABLE ROW LEVEL SECURITY;\nALTER TABLE cd.{t} FORCE ROW LEVEL SECURITY;\n\
             CREATE POLICY device_read ON cd.{t} FOR SELECT TO {DEVICE_ROLE} USING ({scope});\n\
             CREATE POLICY owner_scope ON cd.{t} TO CURRENT_USER\n    USING ((SELECT sync.owner_session()) OR {scope})\n    WITH CHECK ((SELECT sync.owner_session()) OR {scope});\n",
            t = m.name
        );
    }
    for t in PROTOCOL_TABLES {
        let _ = write!(
            s,
            "\nALTER TABLE sync.{t} ENABLE ROW LEVEL SECURITY;\nALTER TABLE sync.{t} FORCE ROW LEVEL SECURITY;\n\
             CREATE POLICY owner_all ON sync.{t} TO CURRENT_USER USING (true) WITH CHECK (true);\n"
        );
    }
    let _ = writeln!(
        s,
        "CREATE POLICY device_read ON sync.clock FOR SELECT TO {DEVICE_ROLE} USING ((SELECT sync.enrolled()));"
    );
    s.push_str(GRANTS);
    s
}

/// Tables of schema sync that later hand-written migrations add (V8: the audit anchors' flags;
/// V8 also replaces V1's `audit_heads`).
pub const LATER_PROTOCOL_TABLES: &[&str] = &["audit_flags"];

/// The protocol tables of schema sync (SYNC.md §3.2), in the order the prelude creates them.
pub const PROTOCOL_TABLES: &[&str] = &[
    "clock",
    "devices",
    "incarnations",
    "batches",
    "case_counters",
    "audit_heads",
];

pub(crate) fn scope_sql(scope: Scope) -> String {
    let mine = "(SELECT sync.my_clinics())::uuid[]";
    match scope {
        Scope::Clinic {
            org_wide_when_null: false,
        } => format!("clinic_id = ANY ({mine})"),
        Scope::Clinic {
            org_wide_when_null: true,
        } => {
            format!("(clinic_id IS NULL AND (SELECT sync.enrolled())) OR clinic_id = ANY ({mine})")
        }
        Scope::Patient => format!("_vis && {mine}"),
        Scope::OrgWide => "(SELECT sync.enrolled())".into(),
    }
}

pub(crate) fn table(s: &mut String, m: &Mirror) {
    let _ = writeln!(s, "\nCREATE TABLE cd.{} (", m.name);
    let mut lines: Vec<String> = m
        .columns
        .iter()
        .map(|c| {
            format!(
                "    {} {}{}{}",
                c.name,
                c.pg_type,
                if c.pg_type == "text" {
                    " COLLATE \"C\""
                } else {
                    ""
                },
                if c.not_null { " NOT NULL" } else { "" }
            )
        })
        .collect();
    lines.push("    _v0 text COLLATE \"C\" NOT NULL".into());
    lines.push("    _v jsonb NOT NULL DEFAULT '{}'".into());
    lines.push("    _seq bigint NOT NULL".into());
    lines.push("    _by uuid".into());
    lines.push("    _dev uuid".into());
    if m.scope == Scope::Patient {
        lines.push("    _vis uuid[] NOT NULL DEFAULT '{}'".into());
    }
    lines.push(format!("    PRIMARY KEY ({})", m.primary_key.join(", ")));
    for (i, c) in m.checks.iter().enumerate() {
        lines.push(format!(
            "    CONSTRAINT {} CHECK ({})",
            m.check_name(i),
            c.pg
        ));
    }
    // SQLite stores a NaN as NULL: the server refuses one, so no row holds what a PC cannot.
    for c in m.columns.iter().filter(|c| c.pg_type == "double precision") {
        lines.push(format!(
            "    CONSTRAINT nan_{}_{} CHECK ({} <> 'NaN')",
            m.name, c.name, c.name
        ));
    }
    s.push_str(&lines.join(",\n"));
    s.push_str("\n);\n");
}

fn patient_visibility(s: &mut String, mirrors: &[Mirror]) {
    let reasons: Vec<String> = PATIENT_REASONS
        .iter()
        .map(|t| format!("SELECT clinic_id FROM cd.{t} WHERE patient_id = NEW.id"))
        .collect();
    let _ = write!(
        s,
        "
-- Patient visibility (SYNC.md §4.2) --------------------------------------------------------------
-- A patient's _vis = the home clinic + every clinic with an appointment, series, case or waitlist
-- entry for them; it only grows (shrinking a device's view needs a re-enrolment). Each change
-- stamps the row with a new _seq so devices of the newly added clinic pull it.

CREATE FUNCTION sync.patient_vis_init() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Rows that give a reason may arrive before the patient (foreign keys are deferred).
    NEW._vis := ARRAY(SELECT DISTINCT c FROM unnest(NEW._vis || NEW.clinic_id || ARRAY(
        {}
    )) AS c ORDER BY c);
    RETURN NEW;
END $$;
CREATE TRIGGER patients_vis BEFORE INSERT OR UPDATE OF clinic_id ON cd.patients
    FOR EACH ROW EXECUTE FUNCTION sync.patient_vis_init();

CREATE FUNCTION sync.patient_reason() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cd.patients
       SET _vis = ARRAY(SELECT DISTINCT c FROM unnest(_vis || NEW.clinic_id) AS c ORDER BY c),
           _seq = sync.stamp()
     WHERE id = NEW.patient_id AND NOT (NEW.clinic_id = ANY (_vis));
    RETURN NULL;
END $$;
",
        reasons.join("\n        UNION ")
    );
    for t in PATIENT_REASONS {
        let _ = writeln!(
            s,
            "CREATE TRIGGER {t}_patient_vis AFTER INSERT OR UPDATE OF patient_id, clinic_id ON cd.{t}\n    FOR EACH ROW EXECUTE FUNCTION sync.patient_reason();"
        );
    }
    for m in mirrors
        .iter()
        .filter(|m| m.scope == Scope::Patient && m.name != "patients")
    {
        let _ = write!(
            s,
            "
CREATE FUNCTION sync.{t}_vis_init() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW._vis := coalesce((SELECT _vis FROM cd.patients WHERE id = NEW.patient_id), '{{}}');
    RETURN NEW;
END $$;
CREATE TRIGGER {t}_vis BEFORE INSERT OR UPDATE OF patient_id ON cd.{t}
    FOR EACH ROW EXECUTE FUNCTION sync.{t}_vis_init();
",
            t = m.name
        );
    }
    let spread: Vec<String> = mirrors
        .iter()
        .filter(|m| m.scope == Scope::Patient && m.name != "patients")
        .map(|m| {
            format!(
                "    UPDATE cd.{} SET _vis = NEW._vis, _seq = sync.stamp()\n     WHERE patient_id = NEW.id AND _vis IS DISTINCT FROM NEW._vis;",
                m.name
            )
        })
        .collect();
    let _ = write!(
        s,
        "
CREATE FUNCTION sync.patient_vis_spread() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{}
    RETURN NULL;
END $$;
CREATE TRIGGER patients_vis_spread AFTER INSERT OR UPDATE OF _vis ON cd.patients
    FOR EACH ROW EXECUTE FUNCTION sync.patient_vis_spread();
",
        spread.join("\n")
    );
}

const PRELUDE: &str = r#"
-- The backstops of the cross-PC rules (SYNC.md §5) are EXCLUDE USING gist constraints over
-- (uuid =, int8range &&): they go into the next migration, next to the sync functions that
-- pre-check them, as `ALTER TABLE cd.appointments ADD CONSTRAINT ex_appt_provider EXCLUDE …`.
CREATE EXTENSION IF NOT EXISTS btree_gist;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'clinicdesk_device') THEN
        CREATE ROLE clinicdesk_device NOLOGIN;
    END IF;
END $$;

CREATE SCHEMA cd;
CREATE SCHEMA sync;
REVOKE ALL ON SCHEMA cd, sync FROM PUBLIC;
-- Functions this owner creates later are not executable by everyone either.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- SQLite's functions, as the translated CHECKs use them -----------------------------------------

-- json_valid(x): x is well-formed JSON. (PostgreSQL 15 has no non-raising test; the block is a
-- subtransaction without an xid, so it does not fill the subxid cache.)
CREATE FUNCTION sync.json_valid(t text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    PERFORM t::json;
    RETURN true;
EXCEPTION WHEN others THEN
    RETURN false;
END $$;

-- json_type(x) with SQLite's names; malformed JSON raises, as in SQLite.
CREATE FUNCTION sync.json_type(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE json_typeof(t::json)
        WHEN 'string' THEN 'text'
        WHEN 'boolean' THEN btrim(t, E' \t\n\r')
        WHEN 'number' THEN CASE WHEN t ~ '[.eE]' THEN 'real' ELSE 'integer' END
        ELSE json_typeof(t::json)
    END
$$;

-- date(x) = x: x is a calendar date written YYYY-MM-DD (proleptic Gregorian, years 0000-9999).
CREATE FUNCTION sync.is_date(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN t !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN false ELSE (
        SELECT m BETWEEN 1 AND 12 AND d >= 1 AND d <= CASE
            WHEN m = 2 THEN CASE WHEN (y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0 THEN 29 ELSE 28 END
            WHEN m IN (4, 6, 9, 11) THEN 30
            ELSE 31 END
        FROM (SELECT substr(t, 1, 4)::int AS y, substr(t, 6, 2)::int AS m, substr(t, 9, 2)::int AS d) AS p
    ) END
$$;

-- Protocol tables (SYNC.md §3.2) -------------------------------------------------------------------

-- The server's sequence: every change stamps its row with the next value (sync.stamp()) under
-- this row's lock, so commit order is sequence order and a puller's cursor has no gaps.
CREATE TABLE sync.clock (
    id        int PRIMARY KEY CHECK (id = 1),
    seq       bigint NOT NULL,
    server_id uuid NOT NULL
);
INSERT INTO sync.clock (id, seq, server_id) VALUES (1, 0, gen_random_uuid());

CREATE TABLE sync.devices (
    device_id    uuid PRIMARY KEY,
    role_name    name UNIQUE NOT NULL,
    clinics      uuid[] NOT NULL,
    enrolled_at  timestamptz NOT NULL,
    revoked_at   timestamptz,
    last_seen_at timestamptz,
    skew_ms      int
);

CREATE TABLE sync.incarnations (
    device_id   uuid NOT NULL REFERENCES sync.devices,
    incarnation uuid NOT NULL,
    last_seq    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, incarnation)
);

CREATE TABLE sync.batches (
    device_id   uuid NOT NULL,
    incarnation uuid NOT NULL,
    first_seq   bigint NOT NULL,
    last_seq    bigint NOT NULL,
    digest      bytea NOT NULL,
    ack         jsonb NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, incarnation, first_seq),
    FOREIGN KEY (device_id, incarnation) REFERENCES sync.incarnations
);

CREATE TABLE sync.case_counters (
    clinic_id   uuid NOT NULL,
    year        int NOT NULL,
    last_number bigint NOT NULL,
    PRIMARY KEY (clinic_id, year)
);

CREATE TABLE sync.audit_heads (
    device_id   uuid NOT NULL,
    incarnation uuid NOT NULL,
    audit_seq   bigint NOT NULL,
    hash        text NOT NULL,
    reported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, incarnation, audit_seq),
    FOREIGN KEY (device_id, incarnation) REFERENCES sync.incarnations
);

-- Identity is session_user, never a setting a device could change (SYNC.md §3.1) -----------------

-- The clinics of the calling device; empty for a revoked or unknown one.
CREATE FUNCTION sync.my_clinics() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(
        (SELECT clinics FROM sync.devices WHERE role_name = session_user AND revoked_at IS NULL),
        '{}'::uuid[])
$$;

-- Whether the calling device is enrolled and not revoked (it reads the org-wide rows).
CREATE FUNCTION sync.enrolled() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM sync.devices WHERE role_name = session_user AND revoked_at IS NULL)
$$;

-- Whether the session is the owner's own (an admin command), not a device's: a role that was
-- ever enrolled or is a member of clinicdesk_device is a device.
CREATE FUNCTION sync.owner_session() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT NOT EXISTS (SELECT 1 FROM sync.devices WHERE role_name = session_user)
       AND NOT EXISTS (
           SELECT 1 FROM pg_auth_members m
             JOIN pg_roles g ON g.oid = m.roleid
             JOIN pg_roles u ON u.oid = m.member
            WHERE g.rolname = 'clinicdesk_device' AND u.rolname = session_user)
$$;

-- The next value of the server's sequence, for a row's _seq (locks the clock row until commit).
CREATE FUNCTION sync.stamp() RETURNS bigint
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    UPDATE sync.clock SET seq = seq + 1 WHERE id = 1 RETURNING seq
$$;
"#;

const GRANTS: &str = r#"
-- Grants: devices read the mirror tables (filtered by the policies above) and the clock, and
-- call the two functions the policies use. Nothing else: no INSERT, UPDATE, DELETE or TRUNCATE.
GRANT USAGE ON SCHEMA cd, sync TO clinicdesk_device;
GRANT SELECT ON ALL TABLES IN SCHEMA cd TO clinicdesk_device;
GRANT SELECT ON sync.clock TO clinicdesk_device;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA sync FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sync.my_clinics(), sync.enrolled() TO clinicdesk_device;
"#;
