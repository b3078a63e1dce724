#!/usr/bin/env python3
"""Generate the audit + change-capture triggers for every replicated table.

Usage: python3 tools/gen_triggers.py > migrations/sqlite/V2__audit_and_change_capture.sql

Reads the columns of each table by applying the V1 schema to an in-memory SQLite database.
Migrations are append-only: when a later migration adds columns to a table, regenerate the
triggers of that table into a NEW migration (`--tables t1,t2 --drop`), never edit V2.

The triggers call functions that the store registers on every connection (crates/store/src/db.rs):
cd_now_ms() (the transaction's timestamp), cd_user(), cd_device(), cd_hlc(), cd_capture(), cd_audit(),
cd_diff(old_json, new_json, part) and cd_audit_hash(...), cd_fingerprint(text).
"""
import argparse
import pathlib
import sqlite3
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOT_REPLICATED = {"local_meta", "audit_log", "change_log"}
# Columns whose value must not appear in the audit log; a fingerprint is logged instead so a
# change is still visible. (They still replicate through change_log.)
REDACTED = {("users", "password_hash")}
IMMUTABLE = {"ops_kpi_events", "ops_capacity_snapshots", "appointment_status_history"}


def tables_and_columns(schema_files):
    db = sqlite3.connect(":memory:")
    for f in schema_files:
        db.executescript(f.read_text())
    names = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE '%_fts%' ORDER BY name")]
    return {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in names if t not in NOT_REPLICATED}


def row_json(table, cols, ref, audit):
    parts = []
    for c in cols:
        v = f"{ref}.{c}"
        if audit and (table, c) in REDACTED:
            v = f"cd_fingerprint({v})"
        parts.append(f"'{c}', {v}")
    return "json_object(" + ", ".join(parts) + ")"


AUDIT_INSERT = """    INSERT INTO audit_log (seq, at, table_name, row_id, action, old_values, new_values, changed_fields, user_id, device_id, prev_hash, hash)
    SELECT s, t, '{table}', NEW.id, {action}, o, n, c, u, d, p, cd_audit_hash(s, p, t, '{table}', NEW.id, {action}, o, n, c, u, d)
    FROM (SELECT coalesce((SELECT max(seq) FROM audit_log), 0) + 1 AS s,
                 (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS p,
                 cd_now_ms() AS t, cd_user() AS u, cd_device() AS d,
                 {old} AS o, {new} AS n, {changed} AS c)
    WHERE cd_audit();"""


def triggers(table, cols, drop):
    out = []
    if drop:
        for suffix in ("ai", "au", "bd"):
            out.append(f"DROP TRIGGER IF EXISTS {table}_{suffix};")
    new_a = row_json(table, cols, "NEW", True)
    old_a = row_json(table, cols, "OLD", True)
    new_c = row_json(table, cols, "NEW", False)
    old_c = row_json(table, cols, "OLD", False)
    out.append(f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN")
    out.append(AUDIT_INSERT.format(table=table, action="'insert'", old="NULL", new=new_a, changed="NULL"))
    out.append(f"    INSERT INTO change_log (table_name, row_id, op, columns, hlc, device_id, at)\n"
               f"    SELECT '{table}', NEW.id, 'insert', {new_c}, cd_hlc(), cd_device(), cd_now_ms() WHERE cd_capture();")
    out.append("END;")
    if table not in IMMUTABLE:
        when = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in cols if c != "updated_at")
        if "deleted_at" in cols:
            action = ("CASE WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN 'soft_delete' "
                      "WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN 'restore' ELSE 'update' END")
        else:
            action = "'update'"
        out.append(f"CREATE TRIGGER {table}_au AFTER UPDATE ON {table} WHEN {when} BEGIN")
        out.append(AUDIT_INSERT.format(table=table, action=action,
                                       old=f"cd_diff({old_a}, {new_a}, 0)",
                                       new=f"cd_diff({old_a}, {new_a}, 1)",
                                       changed=f"cd_diff({old_a}, {new_a}, 2)"))
        out.append(f"    INSERT INTO change_log (table_name, row_id, op, columns, hlc, device_id, at)\n"
                   f"    SELECT '{table}', NEW.id, 'update', cd_diff({old_c}, {new_c}, 1), cd_hlc(), cd_device(), cd_now_ms() WHERE cd_capture();")
        out.append("END;")
        out.append(f"CREATE TRIGGER {table}_bd BEFORE DELETE ON {table} BEGIN\n"
                   f"    SELECT RAISE(ABORT, '{table}: rows are never deleted, only soft-deleted (deleted_at)');\nEND;")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", action="append", default=None,
                    help="schema migration files to apply (default: V1)")
    ap.add_argument("--tables", default=None, help="comma-separated subset")
    ap.add_argument("--drop", action="store_true", help="drop existing triggers first")
    a = ap.parse_args()
    files = [pathlib.Path(p) for p in (a.schema or [ROOT / "migrations/sqlite/V1__schema.sql"])]
    tc = tables_and_columns(files)
    only = set(a.tables.split(",")) if a.tables else None
    print("-- GENERATED by tools/gen_triggers.py: audit + change capture for every replicated table.")
    print("-- Do not edit by hand; migrations are append-only (see the script's docstring).\n")
    for t, cols in tc.items():
        if only and t not in only:
            continue
        print(triggers(t, cols, a.drop))
        print()


if __name__ == "__main__":
    sys.exit(main())
