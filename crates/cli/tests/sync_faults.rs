//! Sync under faults (SYNC.md §4.1 failure matrix, §8), each injected for real: a loopback
//! TCP proxy that cuts the connection mid-batch or after the server committed but before the
//! acknowledgement arrives, a PostgreSQL crash-restart, `kill -9` (an abort at a failpoint) of
//! a PC mid-push and mid-apply, and PC clocks five minutes fast and slow. After healing: no
//! acknowledged write lost, none applied twice, every replica equal to the server, queues empty.

mod sync_support;

use std::os::unix::process::ExitStatusExt;

use sync_support::*;

/// b's edit of a patient, as a separate process.
fn edit(pc: &Pc, patient: &str, field: &str, value: &str) {
    pc.admin(&[
        "patient",
        "update",
        patient,
        "--set",
        &format!("{field}={value}"),
    ]);
}

fn field(pc: &Pc, patient: &str, field: &str) -> String {
    pc.one(&format!(
        "SELECT {field} FROM patients WHERE id = '{patient}'"
    ))
}

#[test]
fn a_connection_cut_mid_batch_commits_nothing_and_the_retry_applies_it_once() {
    let proxy = Proxy::start();
    let mut s = Scene::new(Some(&proxy));
    let p = s.patient(0);
    edit(&s.b, &p, "phone", "+1 403 555 0111");
    let (clock, acked) = (server_seq(&mut s.su), batches(&mut s.su));
    proxy.arm(Fault::CutMidBatch);
    let o = s.b.cmd(&["sync", "now"], &[]);
    assert!(!o.status.success(), "the cut connection is an error");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot be reached"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(proxy.cuts(), 1, "the fault was injected");
    assert_eq!(server_seq(&mut s.su), clock, "the server committed nothing");
    assert_eq!(batches(&mut s.su), acked);
    assert_eq!(pending(&s.b), 1, "the change waits");
    let st = s.b.ok(&["sync", "status"]);
    assert_eq!(st["last_error"]["code"], "sync_offline", "{st}");
    s.heal_and_check();
    assert_eq!(batches(&mut s.su), acked + 1, "applied once");
    assert_eq!(field(&s.a, &p, "phone"), "+1 403 555 0111");
}

#[test]
fn a_cut_after_the_commit_replays_the_stored_ack_and_applies_nothing_twice() {
    let proxy = Proxy::start();
    let mut s = Scene::new(Some(&proxy));
    let p = s.patient(1);
    edit(&s.b, &p, "phone", "+1 403 555 0122");
    let acked = batches(&mut s.su);
    proxy.arm(Fault::CutBeforeAck);
    let o = s.b.cmd(&["sync", "now"], &[]);
    assert!(!o.status.success());
    assert_eq!(proxy.cuts(), 1, "the fault was injected");
    // The server committed the batch; b never heard of it.
    assert_eq!(batches(&mut s.su), acked + 1);
    assert_eq!(pending(&s.b), 1);
    let clock = server_seq(&mut s.su);
    // The retry gets the stored acknowledgement: the server applies nothing again.
    let r = s.b.sync();
    assert_eq!(r["pushed_changes"], 1, "{r}");
    assert_eq!(server_seq(&mut s.su), clock, "nothing applied twice");
    assert_eq!(batches(&mut s.su), acked + 1);
    s.heal_and_check();
    assert_eq!(field(&s.a, &p, "phone"), "+1 403 555 0122");
}

/// The same cut, and the front desk keeps working before the retry: the retry sends the
/// committed batch exactly as it was (a longer batch with the same first change would be
/// taken for a restored copy, and sync would stop), then the new change in its own batch.
#[test]
fn a_change_made_after_a_lost_ack_waits_for_the_replayed_batch() {
    let proxy = Proxy::start();
    let mut s = Scene::new(Some(&proxy));
    let p = s.patient(3);
    edit(&s.b, &p, "phone", "+1 403 555 0144");
    let acked = batches(&mut s.su);
    proxy.arm(Fault::CutBeforeAck);
    let o = s.b.cmd(&["sync", "now"], &[]);
    assert!(!o.status.success());
    assert_eq!(proxy.cuts(), 1, "the fault was injected");
    edit(&s.b, &p, "email", "after@cut.example");
    assert_eq!(pending(&s.b), 2);
    let r = s.b.sync();
    assert_eq!(
        (r["pushed_batches"].as_i64(), r["pushed_changes"].as_i64()),
        (Some(2), Some(2)),
        "{r}"
    );
    assert_eq!(
        batches(&mut s.su),
        acked + 2,
        "the replayed batch, then the new one"
    );
    s.heal_and_check();
    assert_eq!(field(&s.a, &p, "phone"), "+1 403 555 0144");
    assert_eq!(field(&s.a, &p, "email"), "after@cut.example");
}

#[test]
fn a_server_crash_restart_loses_no_acknowledged_change() {
    let mut s = Scene::new(None);
    let p = s.patient(2);
    edit(&s.a, &p, "phone", "+1 403 555 0133");
    s.a.sync();
    assert_eq!(pending(&s.a), 0, "acknowledged");
    s.cluster.restart_immediate().unwrap();
    s.su = s
        .cluster
        .config(SERVER_DB)
        .connect(clinicdesk_pgcluster::postgres::NoTls)
        .unwrap();
    // b's edit while the server is down would wait; after the restart everything flows.
    edit(&s.b, &p, "email", "after@restart.example");
    s.heal_and_check();
    assert_eq!(field(&s.b, &p, "phone"), "+1 403 555 0133");
    assert_eq!(field(&s.a, &p, "email"), "after@restart.example");
}

#[test]
fn kill_9_mid_push_and_mid_apply_loses_nothing_and_applies_nothing_twice() {
    let mut s = Scene::new(None);
    let p = s.patient(3);
    edit(&s.a, &p, "phone", "+1 403 555 0144");
    let acked = batches(&mut s.su);
    // a dies right after the server committed its batch, before recording the ack.
    let o =
        s.a.cmd(&["sync", "now"], &[("CD_FAILPOINT", "push:after_send")]);
    assert_eq!(o.status.signal(), Some(6), "aborted at the failpoint");
    assert_eq!(batches(&mut s.su), acked + 1);
    assert_eq!(pending(&s.a), 1);
    let clock = server_seq(&mut s.su);
    let r = s.a.sync();
    assert_eq!(r["pushed_changes"], 1, "{r}");
    assert_eq!(
        server_seq(&mut s.su),
        clock,
        "the replayed ack applied nothing"
    );

    // b dies after writing the pulled rows, before its transaction commits: nothing applied.
    let cursor =
        s.b.one("SELECT value FROM local_meta WHERE key = 'sync.pull_cursor'");
    let o =
        s.b.cmd(&["sync", "now"], &[("CD_FAILPOINT", "apply:after_rows")]);
    assert_eq!(o.status.signal(), Some(6));
    assert_ne!(field(&s.b, &p, "phone"), "+1 403 555 0144");
    assert_eq!(
        s.b.one("SELECT value FROM local_meta WHERE key = 'sync.pull_cursor'"),
        cursor
    );
    s.heal_and_check();
    assert_eq!(field(&s.b, &p, "phone"), "+1 403 555 0144");
}

#[test]
fn clocks_five_minutes_apart_converge_and_a_fast_clock_wins_by_two_minutes_at_most() {
    let mut s = Scene::new(None);
    let p = s.patient(4);
    let fast = [("CLINICDESK_CLOCK_SKEW_MS", "300000")];
    let slow = [("CLINICDESK_CLOCK_SKEW_MS", "-300000")];
    let run = |pc: &Pc, args: &[&str], env: &[(&str, &str)]| {
        let o = pc.cmd(args, env);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    // a's clock is 5 minutes fast, b's 5 minutes slow; b writes after a (in real time).
    run(
        &s.a,
        &[
            "--user",
            "admin",
            "patient",
            "update",
            &p,
            "--set",
            "notes=from the fast PC",
        ],
        &fast,
    );
    run(&s.a, &["sync", "now"], &fast);
    run(
        &s.b,
        &[
            "--user",
            "admin",
            "patient",
            "update",
            &p,
            "--set",
            "notes=from the slow PC",
        ],
        &slow,
    );
    run(&s.b, &["sync", "now"], &slow);
    run(&s.a, &["sync", "now"], &fast);
    // The fast PC's version is clamped to the server's now + 2 min, its own HLC kept second.
    let v: String =
        s.su.query_one(
            "SELECT coalesce(_v->>'notes', _v0) FROM cd.patients WHERE id = $1::text::uuid",
            &[&p],
        )
        .unwrap()
        .get(0);
    let parts: Vec<&str> = v.split('|').collect();
    assert!(parts[1] < parts[2], "clamped below the original: {v}");
    for pc in [&s.a, &s.b] {
        assert_eq!(field(pc, &p, "notes"), "from the fast PC", "{}", pc.name);
    }
    // b has seen a's version (its HLC observed it): b's next edit wins although b's clock is
    // still slow.
    run(
        &s.b,
        &[
            "--user",
            "admin",
            "patient",
            "update",
            &p,
            "--set",
            "notes=the slow PC again",
        ],
        &slow,
    );
    run(&s.b, &["sync", "now"], &slow);
    run(&s.a, &["sync", "now"], &fast);
    for pc in [&s.a, &s.b] {
        assert_eq!(field(pc, &p, "notes"), "the slow PC again", "{}", pc.name);
    }
    // Each PC measured the skew at its connection (server minus PC: the fast PC's is about
    // -5 min) and an administrator is told, while sync went on; a right clock is not flagged.
    let status = |pc: &Pc, env: &[(&str, &str)]| -> serde_json::Value {
        let o = pc.cmd(&["sync", "status"], env);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).expect("sync status prints JSON")
    };
    for (pc, env, sign, way) in [(&s.a, &fast, -1, "ahead of"), (&s.b, &slow, 1, "behind")] {
        let v = status(pc, env);
        let skew = v["clock_skew_ms"].as_i64().expect("a measured skew");
        assert!(
            (skew - sign * 300_000).abs() < 10_000,
            "{}: {skew} ms",
            pc.name
        );
        let warning = v["clock_warning"].as_str().expect("a warning past 2 min");
        assert!(
            warning.contains(&format!("5 min {way} the server")),
            "{warning}"
        );
        assert!(v["last_error"].is_null(), "sync never stops for skew: {v}");
    }
    run(&s.a, &["sync", "now"], &[]);
    let v = status(&s.a, &[]);
    assert!(
        v["clock_skew_ms"]
            .as_i64()
            .is_some_and(|k| k.abs() < 10_000),
        "{v}"
    );
    assert!(v["clock_warning"].is_null(), "{v}");
    s.heal_and_check();
}

#[test]
fn a_restored_backup_pushes_as_a_new_incarnation_and_loses_nothing() {
    let mut s = Scene::new(None);
    let p = s.patient(6);
    let backup = s.dir.path().join("a-before.cdbk");
    s.a.admin(&["backup", backup.to_str().unwrap()]);
    let incarnation =
        s.a.one("SELECT value FROM local_meta WHERE key = 'sync.incarnation'");
    // After the backup, a change the server acknowledges...
    edit(&s.a, &p, "phone", "+1 403 555 0177");
    s.a.sync();
    // ...then the backup comes back: its change_log is older than what the server holds, and
    // its next changes reuse those sequence numbers.
    s.a.admin(&["restore", backup.to_str().unwrap()]);
    assert_ne!(
        s.a.one("SELECT value FROM local_meta WHERE key = 'sync.incarnation'"),
        incarnation,
        "a restore is a new incarnation"
    );
    edit(&s.a, &p, "email", "restored@example.com");
    let r = s.a.sync();
    assert_eq!(r["pushed_changes"], 1, "{r}");
    s.heal_and_check();
    // The change made between the backup and the restore was not lost: it came back from the
    // server; the change after the restore reached the other PC.
    for pc in [&s.a, &s.b] {
        assert_eq!(field(pc, &p, "phone"), "+1 403 555 0177", "{}", pc.name);
        assert_eq!(
            field(pc, &p, "email"),
            "restored@example.com",
            "{}",
            pc.name
        );
    }
}

/// A local transaction larger than a batch (a CSV import of 2,500 patients) reaches the
/// server whole or not at all: killed after staging its first part, the server shows none of
/// it; the next sync applies all of it in one server transaction. Every PC's audit names the
/// user who imported, not nobody (the server's `_by`).
#[test]
fn a_transaction_larger_than_a_batch_arrives_whole_and_names_its_author() {
    let mut s = Scene::new(None);
    let n = 2_500;
    let clinic = s.a.one("SELECT id FROM clinics ORDER BY code LIMIT 1");
    let csv = s.dir.path().join("patients.csv");
    let mut text = String::from("legacy_id,first_name,last_name,phone\n");
    for i in 0..n {
        text.push_str(&format!(
            "BULK-{i:05},Bulk{i},Import,+1 403 555 {:04}\n",
            i % 10_000
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let r = s.a.admin(&[
        "patient",
        "import",
        csv.to_str().unwrap(),
        "--clinic",
        &clinic,
    ]);
    assert_eq!(r["imported"], n, "{r}");
    let count = |su: &mut clinicdesk_pgcluster::postgres::Client, sql: &str| -> i64 {
        su.query_one(sql, &[]).unwrap().get(0)
    };
    let imported = "SELECT count(*) FROM cd.patients WHERE legacy_id LIKE 'BULK-%'";
    let (clock, acked) = (server_seq(&mut s.su), batches(&mut s.su));

    // a dies after staging the first of its parts: nothing is applied, the part waits.
    let o =
        s.a.cmd(&["sync", "now"], &[("CD_FAILPOINT", "push:after_chunk")]);
    assert_eq!(o.status.signal(), Some(6), "aborted at the failpoint");
    assert_eq!(
        count(&mut s.su, imported),
        0,
        "no part of the import is visible"
    );
    assert_eq!(count(&mut s.su, "SELECT count(*) FROM sync.push_chunks"), 1);
    assert_eq!((server_seq(&mut s.su), batches(&mut s.su)), (clock, acked));
    assert_eq!(pending(&s.a), n as i64);

    // The next sync stages every part again and applies them in one server transaction.
    let r = s.a.sync();
    assert_eq!(r["pushed_changes"], n, "{r}");
    assert_eq!(count(&mut s.su, imported), n as i64);
    assert_eq!(count(&mut s.su, "SELECT count(*) FROM sync.push_chunks"), 0);
    assert_eq!(batches(&mut s.su), acked + 1, "one batch");
    assert_eq!(
        count(
            &mut s.su,
            "SELECT count(DISTINCT _seq) FROM cd.patients WHERE legacy_id LIKE 'BULK-%'"
        ),
        1,
        "one server transaction stamps one sequence value"
    );
    s.heal_and_check();

    // The author: the server's _by, and b's audit of the pulled rows, name a's admin.
    let admin = s.a.one("SELECT id FROM users WHERE username = 'admin'");
    assert_eq!(
        count(
            &mut s.su,
            &format!(
                "SELECT count(*) FROM cd.patients WHERE legacy_id LIKE 'BULK-%' AND _by = '{admin}'"
            )
        ),
        n as i64
    );
    let one =
        s.b.one("SELECT id FROM patients WHERE legacy_id = 'BULK-00042'");
    assert_eq!(
        s.b.one(&format!(
            "SELECT group_concat(coalesce(user_id, '-')) FROM audit_log
              WHERE table_name = 'patients' AND row_id = '{one}'"
        )),
        admin,
        "b's audit names who made the change on a"
    );
}
