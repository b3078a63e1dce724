//! The audit chain anchored off the PC (issue 13 point 5; SYNC.md §5 item 5): after each sync
//! round a PC reports its chain's head; the server keeps the heads append-only and flags a PC
//! whose history no longer leads to the head it reported — history rewritten and re-hashed by
//! someone holding the database key (which the PC's own chain check cannot see), or the tail
//! truncated. `clinicdesk audit verify` shows the anchored head and fails on a flag. Separate
//! `clinicdesk` processes, a real PostgreSQL.

mod sync_support;

use clinicdesk_store::audit::{entry_hash, HashInput};
use rusqlite::Connection;
use sync_support::*;

/// Run `f` with `trigger` dropped, then put it back as it was (as a careful intruder would).
fn quietly(raw: &Connection, trigger: &str, f: impl FnOnce(&Connection)) {
    let sql: String = raw
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = ?1",
            [trigger],
            |r| r.get(0),
        )
        .unwrap();
    raw.execute_batch(&format!("DROP TRIGGER {trigger};"))
        .unwrap();
    f(raw);
    raw.execute_batch(&sql).unwrap();
}

type Entry = (
    i64,
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Forge entry `seq`'s new values and re-hash the chain from there: a consistent chain that
/// no longer is the one reported.
fn rewrite_history(raw: &Connection, seq: i64) {
    quietly(raw, "audit_log_no_update", |raw| {
        raw.execute(
            "UPDATE audit_log SET new_values = '{\"forged\":true}' WHERE seq = ?1",
            [seq],
        )
        .unwrap();
        let rows: Vec<Entry> = raw
            .prepare(
                "SELECT seq, at, table_name, row_id, action, old_values, new_values, changed_fields,
                        user_id, device_id FROM audit_log WHERE seq >= ?1 ORDER BY seq",
            )
            .unwrap()
            .query_map([seq], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut prev: Option<String> = raw
            .query_row(
                "SELECT hash FROM audit_log WHERE seq = ?1 - 1",
                [seq],
                |r| r.get(0),
            )
            .ok();
        for (s, at, table, row, action, old, new, changed, user, device) in rows {
            let hash = entry_hash(&HashInput {
                seq: s,
                prev_hash: prev.as_deref(),
                at,
                table_name: &table,
                row_id: row.as_deref(),
                action: &action,
                old_values: old.as_deref(),
                new_values: new.as_deref(),
                changed_fields: changed.as_deref(),
                user_id: user.as_deref(),
                device_id: device.as_deref(),
            });
            raw.execute(
                "UPDATE audit_log SET prev_hash = ?2, hash = ?3 WHERE seq = ?1",
                rusqlite::params![s, prev, hash],
            )
            .unwrap();
            prev = Some(hash);
        }
    });
}

fn verify(pc: &Pc) -> (bool, serde_json::Value, String) {
    let o = pc.cmd(&["--user", "admin", "audit", "verify"], &[]);
    let json = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (
        o.status.success(),
        json,
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn flags(s: &mut Scene, kind: &str) -> i64 {
    s.su.query_one(
        "SELECT count(*) FROM sync.audit_flags WHERE kind = $1",
        &[&kind],
    )
    .unwrap()
    .get(0)
}

#[test]
fn a_pc_whose_audit_history_no_longer_leads_to_its_anchored_head_is_flagged() {
    let mut s = Scene::new(None);
    s.heal_and_check();
    // Both PCs anchored their heads; verify shows it and passes.
    for pc in [&s.a, &s.b] {
        let head: i64 = pc
            .raw()
            .query_row("SELECT max(seq) FROM audit_log", [], |r| r.get(0))
            .unwrap();
        let (ok, json, err) = verify(pc);
        assert!(ok, "{}: {err}", pc.name);
        assert_eq!(json["anchor"]["last"]["verdict"], "anchored", "{json}");
        // Verifying reads and audits nothing before the anchor: the head is the last entry
        // or a later one (a verify is not audited, sync rounds may add pulled entries).
        assert!(json["anchor"]["last"]["seq"].as_i64().unwrap() <= head);
        assert!(json["anchor"]["flag"].is_null());
    }
    let heads: i64 =
        s.su.query_one(
            "SELECT count(DISTINCT device_id) FROM sync.audit_heads",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(heads, 2);
    // A change and another round: the new head is anchored against the previous one.
    s.a.admin(&[
        "patient",
        "update",
        &s.patient(0),
        "--set",
        "notes=anchored",
    ]);
    s.heal_and_check();
    assert_eq!(
        flags(&mut s, "tamper_suspected") + flags(&mut s, "truncated"),
        0
    );

    // A: someone with the key rewrites an old entry and re-hashes the chain. Its own chain
    // check passes (without the verification key), but the anchored entry changed.
    let anchored: i64 = verify(&s.a).1["anchor"]["last"]["seq"].as_i64().unwrap();
    rewrite_history(&s.a.raw(), anchored - 5);
    let (ok, json, err) = verify(&s.a);
    assert!(!ok, "a rewritten history must fail verify: {json}");
    assert_eq!(json["anchored_entry_changed"], true, "{json}");
    assert!(err.contains("anchored on the sync server"), "{err}");
    // The next round tells the server, which flags A (and keeps syncing it).
    s.a.sync();
    assert_eq!(flags(&mut s, "tamper_suspected"), 1);
    let (ok, json, err) = verify(&s.a);
    assert!(!ok);
    assert_eq!(
        json["anchor"]["flag"]["verdict"], "tamper_suspected",
        "{json}"
    );
    assert!(err.contains("flagged this PC's audit history"), "{err}");

    // B: the tail is truncated (the entries after some point deleted).
    let head: i64 =
        s.b.raw()
            .query_row("SELECT max(seq) FROM audit_log", [], |r| r.get(0))
            .unwrap();
    quietly(&s.b.raw(), "audit_log_no_delete", |raw| {
        raw.execute("DELETE FROM audit_log WHERE seq > ?1", [head - 3])
            .unwrap();
    });
    s.b.sync();
    assert_eq!(flags(&mut s, "truncated"), 1);
    let (ok, json, _) = verify(&s.b);
    assert!(!ok);
    assert_eq!(json["anchor"]["flag"]["verdict"], "truncated", "{json}");

    // The server's record is append-only, for its owner too.
    for sql in [
        "DELETE FROM sync.audit_heads",
        "UPDATE sync.audit_flags SET kind = 'restored_from_backup'",
        "TRUNCATE sync.audit_flags",
    ] {
        let e = s.su.batch_execute(sql).unwrap_err();
        let message = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_default();
        assert!(message.contains("append-only"), "{sql}: {e:?}");
    }
    assert_eq!(flags(&mut s, "tamper_suspected"), 1);
}
