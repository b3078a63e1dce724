//! Server migrations that follow a later local migration (SYNC.md §3.2): V1 and V2 mirror the
//! local schema as of [`SQLITE_VERSION`]; each entry of [`EVOLUTIONS`] is a generated server
//! migration that brings the mirrors from the previous local version to a later one, and
//! [`MIRRORED_VERSION`] is where the server's mirrors stand after all of them (what the seed,
//! the join and the pull read and write).
//!
//! What a generated evolution can do is what the local migrations do to replicated tables
//! without rebuilding them: add nullable columns with their CHECKs (and foreign keys), and
//! replace the merge function of each table it changed (the function lists the columns); and
//! create a new table read by clinic or organisation-wide (its mirror, policies, grant and
//! merge function, and a `sync.accept` that knows it). Any other difference (a dropped table, a dropped, retyped or NOT NULL column, a changed
//! CHECK, key or UNIQUE index) is refused with the table and what differs: it needs a
//! hand-written server migration. Refresh a file with
//! `cargo run -p clinicdesk-server --example gen_server_schema -- v<N> > migrations/postgres/V<N>__….sql`;
//! `tests/generated.rs` fails while a checked-in one differs.

use std::fmt::Write as _;

use crate::push;
use crate::schema::{self, Mirror, SQLITE_VERSION};
use crate::{Result, ServerError};

/// (server migration version, the local version it brings the mirrors to), in order.
pub const EVOLUTIONS: &[(i32, i32, &str)] = &[
    (4, 11, "V4__display_locale.sql"),
    (6, 13, "V6__sync_conflicts.sql"),
];

/// The local schema version the server's mirrors follow once every server migration ran.
pub const MIRRORED_VERSION: i32 = 13;

const _: () = assert!(MIRRORED_VERSION == EVOLUTIONS[EVOLUTIONS.len() - 1].1);

fn unsupported(table: &str, what: String) -> ServerError {
    ServerError::Schema(format!(
        "{table}: {what}; a generated server migration only adds nullable columns (write this one by hand)"
    ))
}

/// The SQL that changes `from`'s mirror into `to`'s; None when they are the same.
fn table_change(from: &Mirror, to: &Mirror, form: push::Protocol) -> Result<Option<String>> {
    if from == to {
        return Ok(None);
    }
    let t = &to.name;
    if to.columns.len() < from.columns.len() || to.columns[..from.columns.len()] != from.columns[..]
    {
        return Err(unsupported(
            t,
            "a mirrored column was dropped, renamed or retyped".into(),
        ));
    }
    if to.checks.len() < from.checks.len() || to.checks[..from.checks.len()] != from.checks[..] {
        return Err(unsupported(t, "a CHECK changed".into()));
    }
    if to.primary_key != from.primary_key {
        return Err(unsupported(t, "the primary key changed".into()));
    }
    if to.uniques != from.uniques {
        return Err(unsupported(t, "a UNIQUE index changed".into()));
    }
    if to.scope != from.scope {
        return Err(unsupported(t, "who reads the rows (scope) changed".into()));
    }
    if from
        .foreign_keys
        .iter()
        .any(|fk| !to.foreign_keys.contains(fk))
    {
        return Err(unsupported(
            t,
            "a foreign key was dropped or changed".into(),
        ));
    }
    let added = &to.columns[from.columns.len()..];
    let mut s = String::new();
    for c in added {
        if c.not_null {
            return Err(unsupported(
                t,
                format!(
                    "the new column {} is NOT NULL (existing rows have none)",
                    c.name
                ),
            ));
        }
        let _ = writeln!(
            s,
            "ALTER TABLE cd.{t} ADD COLUMN {} {}{};",
            c.name,
            c.pg_type,
            if c.pg_type == "text" {
                " COLLATE \"C\""
            } else {
                ""
            }
        );
    }
    for (i, c) in to.checks.iter().enumerate().skip(from.checks.len()) {
        if c.columns
            .iter()
            .any(|col| !added.iter().any(|a| &a.name == col))
        {
            return Err(unsupported(
                t,
                format!(
                    "the new CHECK ({}) reads a column that was there before",
                    c.sqlite
                ),
            ));
        }
        let _ = writeln!(
            s,
            "ALTER TABLE cd.{t} ADD CONSTRAINT {} CHECK ({});",
            to.check_name(i),
            c.pg
        );
    }
    for c in added.iter().filter(|c| c.pg_type == "double precision") {
        let _ = writeln!(
            s,
            "ALTER TABLE cd.{t} ADD CONSTRAINT nan_{t}_{0} CHECK ({0} <> 'NaN');",
            c.name
        );
    }
    for fk in to
        .foreign_keys
        .iter()
        .filter(|fk| !from.foreign_keys.contains(fk))
    {
        let _ = writeln!(
            s,
            "ALTER TABLE cd.{t} ADD CONSTRAINT fk_{t}_{c} FOREIGN KEY ({c}) REFERENCES cd.{rt} ({to}) DEFERRABLE INITIALLY DEFERRED;",
            c = fk.column,
            rt = fk.table,
            to = fk.to
        );
    }
    // The merge function names every column: replaced (its grants stay).
    let mut f = String::new();
    push::merge_function_sql(&mut f, to, form)?;
    s.push_str(&f.replace("CREATE FUNCTION ", "CREATE OR REPLACE FUNCTION "));
    Ok(Some(s))
}

/// A table a local migration added: its mirror as V1 creates one (columns, CHECKs, foreign
/// keys, the pull's indexes, row-level security by its scope, the devices' read grant) and
/// its merge function.
fn new_table(m: &Mirror, form: push::Protocol) -> Result<String> {
    if m.scope == schema::Scope::Patient {
        return Err(unsupported(
            &m.name,
            "a new table read through patient visibility".into(),
        ));
    }
    let t = &m.name;
    let mut s = String::new();
    schema::table(&mut s, m);
    for fk in &m.foreign_keys {
        let _ = writeln!(
            s,
            "ALTER TABLE cd.{t} ADD CONSTRAINT fk_{t}_{c} FOREIGN KEY ({c}) REFERENCES cd.{rt} ({to}) DEFERRABLE INITIALLY DEFERRED;",
            c = fk.column,
            rt = fk.table,
            to = fk.to
        );
    }
    if !m.uniques.is_empty() {
        return Err(unsupported(t, "a new table with a UNIQUE index".into()));
    }
    let _ = writeln!(s, "CREATE INDEX ix_{t}_seq ON cd.{t} (_seq);");
    if m.column("clinic_id").is_some() {
        let _ = writeln!(
            s,
            "CREATE INDEX ix_{t}_clinic_seq ON cd.{t} (clinic_id, _seq);"
        );
    }
    let scope = schema::scope_sql(m.scope);
    let _ = write!(
        s,
        "ALTER TABLE cd.{t} ENABLE ROW LEVEL SECURITY;\nALTER TABLE cd.{t} FORCE ROW LEVEL SECURITY;\n\
         CREATE POLICY device_read ON cd.{t} FOR SELECT TO {role} USING ({scope});\n\
         CREATE POLICY owner_scope ON cd.{t} TO CURRENT_USER\n    USING ((SELECT sync.owner_session()) OR {scope})\n    WITH CHECK ((SELECT sync.owner_session()) OR {scope});\n\
         GRANT SELECT ON cd.{t} TO {role};\n",
        role = schema::DEVICE_ROLE
    );
    push::merge_function_sql(&mut s, m, form)?;
    Ok(s)
}

/// The server migration `version` of [`EVOLUTIONS`].
pub fn generate(version: i32) -> Result<String> {
    let at = EVOLUTIONS
        .iter()
        .position(|(v, _, _)| *v == version)
        .ok_or_else(|| ServerError::Schema(format!("V{version} is not a generated evolution")))?;
    let from_local = if at == 0 {
        SQLITE_VERSION
    } else {
        EVOLUTIONS[at - 1].1
    };
    let (_, to_local, file) = EVOLUTIONS[at];
    let from = schema::mirrors(Some(from_local))?;
    let to = schema::mirrors(Some(to_local))?;
    let mut s = format!(
        "-- GENERATED by `cargo run -p clinicdesk-server --example gen_server_schema -- v{version} > migrations/postgres/{file}`:\n\
         -- the mirrors follow the local migrations {}..={to_local} (crates/server/src/evolve.rs). Do not edit by\n\
         -- hand; migrations are append-only.\n",
        from_local + 1
    );
    let mut changed = 0;
    let mut added_table = false;
    for m in &to {
        let Some(old) = from.iter().find(|o| o.name == m.name) else {
            let _ = write!(
                s,
                "\n-- {} (new) {}\n",
                m.name,
                "-".repeat(89 - m.name.len().min(84))
            );
            s.push_str(&new_table(m, push::Protocol::of_migration(version))?);
            changed += 1;
            added_table = true;
            continue;
        };
        if let Some(sql) = table_change(old, m, push::Protocol::of_migration(version))? {
            let _ = write!(
                s,
                "\n-- {} {}\n",
                m.name,
                "-".repeat(95 - m.name.len().min(90))
            );
            s.push_str(&sql);
            changed += 1;
        }
    }
    if let Some(gone) = from.iter().find(|o| !to.iter().any(|m| m.name == o.name)) {
        return Err(unsupported(
            &gone.name,
            "a replicated table was dropped".into(),
        ));
    }
    if added_table {
        // The push dispatches each change by its table: the new list of tables.
        s.push_str(
            "\n-- The push knows the new tables -------------------------------------------------------------\n",
        );
        s.push_str(
            &crate::push_v2::accept_sql(&to)
                .replace("CREATE FUNCTION ", "CREATE OR REPLACE FUNCTION "),
        );
        s.push_str("REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA sync FROM PUBLIC;\n");
    }
    if changed == 0 {
        return Err(ServerError::Schema(format!(
            "V{version}: the local migrations {}..={to_local} change no replicated table",
            from_local + 1
        )));
    }
    Ok(s)
}
