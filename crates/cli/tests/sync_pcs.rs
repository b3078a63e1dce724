//! Several PCs syncing through one real PostgreSQL (SYNC.md §8), each its own encrypted
//! database driven by separate `clinicdesk` processes. Replicas are compared by canonical
//! dumps of every replicated table (PC files and server).

mod sync_support;

use clinicdesk_pgcluster::postgres::NoTls;
use sync_support::*;

/// The first PC seeds the server, a second joins empty (initial sync), edits on both while
/// "offline" (no sync between them) merge per column on both, a delete and an edit of the
/// same patient both survive, and in the end both replicas equal the server's and their
/// queues are empty.
#[test]
fn two_pcs_seed_join_edit_offline_and_converge() {
    let cluster = server();
    let mut su = cluster.config(SERVER_DB).connect(NoTls).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = Pc::new(dir.path(), "a", &cluster);
    let b = Pc::new(dir.path(), "b", &cluster);

    a.ok(&["demo", "--size", "small"]);
    a.ok(&["server", "init", "--url", &a.url]);
    let seeded = a.admin(&["sync", "enrol", "--url", &a.url, "--seed"]);
    assert!(seeded["seeded_rows"].as_u64().unwrap() > 5000, "{seeded}");
    // Not enrolled: a clear error, no database created.
    let o = b.cmd(&["sync", "now"], &[]);
    assert!(!o.status.success());
    assert!(!b.db().exists());

    let joined = b.ok(&["sync", "enrol", "--url", &b.url, "--join"]);
    assert_eq!(joined["rows"], seeded["seeded_rows"], "{joined}");
    assert!(b.db().exists() && !dir.path().join("b.db.joining").exists());
    assert_same("after the join, b vs a", &dump_pc(&b), &dump_pc(&a));
    // The join's fast load (triggers and indexes suspended, rebuilt) left the schema whole,
    // and the search index finds every patient.
    let schema = |pc: &Pc| {
        pc.one(
            "SELECT group_concat(type || ' ' || name || ': ' || coalesce(sql, ''), char(10))
               FROM (SELECT * FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name)",
        )
    };
    assert_eq!(schema(&b), schema(&a), "the joined PC's schema");
    let searchable = "SELECT count(*) || '/' || (SELECT count(*) FROM patients) FROM patients_fts";
    assert_eq!(b.one(searchable), a.one(searchable));
    assert_same(
        "after the join, server vs a",
        &dump_server(&mut su),
        &dump_pc(&a),
    );
    // Joining again over an existing database is refused and changes nothing.
    let before = dump_pc(&b);
    let o = b.cmd(&["sync", "enrol", "--url", &b.url, "--join"], &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
    assert_same("a refused second join", &dump_pc(&b), &before);
    // Nothing to do on either PC: the seed's own rows are not downloaded again.
    let r = a.sync();
    assert_eq!(
        (r["pushed_changes"].as_i64(), r["pulled_rows"].as_i64()),
        (Some(0), Some(0)),
        "{r}"
    );
    let r = b.sync();
    assert_eq!(
        (r["pushed_changes"].as_i64(), r["pulled_rows"].as_i64()),
        (Some(0), Some(0)),
        "{r}"
    );

    // Offline edits of one patient on both PCs: a's phone, b's email and b's later first name
    // over a's; a deletes another patient that b edits.
    let p = a.one("SELECT id FROM patients WHERE deleted_at IS NULL ORDER BY id LIMIT 1");
    let q = a.one("SELECT id FROM patients WHERE deleted_at IS NULL ORDER BY id LIMIT 1 OFFSET 1");
    a.admin(&[
        "patient",
        "update",
        &p,
        "--set",
        "phone=+1 403 555 0101",
        "--set",
        "first_name=Ada",
    ]);
    b.admin(&[
        "patient",
        "update",
        &p,
        "--set",
        "email=ada@example.com",
        "--set",
        "first_name=Adele",
    ]);
    a.admin(&["patient", "delete", &q]);
    b.admin(&["patient", "update", &q, "--set", "notes=called back"]);
    // The clinic's date format (columns added by local V11 and server V4): a's locale and b's
    // clock are separate merge groups, so both stand.
    let clinic = a.one("SELECT id FROM clinics ORDER BY id LIMIT 1");
    a.admin(&["clinic", "update", &clinic, "--set", "display_locale=fr-CA"]);
    b.admin(&["clinic", "update", &clinic, "--set", "hour_cycle=h12"]);
    let created = b.admin(&[
        "patient",
        "create",
        "--set",
        "first_name=Nora",
        "--set",
        "last_name=New",
        "--clinic",
        &a.one("SELECT clinic_id FROM patients ORDER BY id LIMIT 1"),
    ]);
    let nora = created["id"].as_str().unwrap().to_string();
    assert!(pending(&a) > 0 && pending(&b) > 0);

    for pc in [&a, &b, &a] {
        pc.sync();
    }
    for pc in [&a, &b] {
        let c = pc.raw();
        let (phone, email, first): (String, String, String) = c
            .query_row(
                "SELECT phone, email, first_name FROM patients WHERE id = ?1",
                [&p],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            (phone.as_str(), email.as_str(), first.as_str()),
            ("+1 403 555 0101", "ada@example.com", "Adele"),
            "{}: per-column merge, the later first name wins",
            pc.name
        );
        let (deleted, notes): (Option<i64>, Option<String>) = c
            .query_row(
                "SELECT deleted_at, notes FROM patients WHERE id = ?1",
                [&q],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert!(deleted.is_some(), "{}: the delete stands", pc.name);
        assert_eq!(
            notes.as_deref(),
            Some("called back"),
            "{}: the edit too",
            pc.name
        );
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM patients WHERE id = ?1",
                [&nora],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{}: the new patient", pc.name);
        let format: (String, String) = c
            .query_row(
                "SELECT display_locale, hour_cycle FROM clinics WHERE id = ?1",
                [&clinic],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            (format.0.as_str(), format.1.as_str()),
            ("fr-CA", "h12"),
            "{}: both format settings",
            pc.name
        );
        assert_eq!(pending(pc), 0, "{}: queue empty", pc.name);
    }
    // b applied a's rows audited under Remote, not captured again: nothing to push back.
    let r = b.sync();
    assert_eq!(r["pushed_changes"].as_i64(), Some(0), "{r}");
    let (da, db) = (dump_pc(&a), dump_pc(&b));
    assert_same("converged, b vs a", &db, &da);
    assert_same("converged, server vs a", &dump_server(&mut su), &da);
}

/// A join that cannot finish leaves nothing behind: no database file, no kept password, no
/// device on the server. Bad input (a wrong owner password, an empty server, a database that
/// exists) is a clear error.
#[test]
fn a_failed_join_leaves_nothing_behind() {
    let cluster = server();
    let mut su = cluster.config(SERVER_DB).connect(NoTls).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let b = Pc::new(dir.path(), "b", &cluster);
    let devices = |su: &mut clinicdesk_pgcluster::postgres::Client| -> i64 {
        su.query_one("SELECT count(*) FROM sync.devices", &[])
            .unwrap()
            .get(0)
    };
    b.ok(&["server", "init", "--url", &b.url]);
    let nothing_left = |what: &str, o: std::process::Output, needle: &str| {
        assert!(!o.status.success(), "{what} should fail");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{what}: {err}");
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("b.db"))
            .collect();
        assert!(left.is_empty(), "{what} left {left:?}");
        assert!(
            !b.key().with_extension("key.sync").exists(),
            "{what}: a kept password"
        );
        assert!(!b.key().exists(), "{what}: a new key file");
    };
    // An empty server: nothing to join.
    nothing_left(
        "joining an empty server",
        b.cmd(&["sync", "enrol", "--url", &b.url, "--join"], &[]),
        "no clinic",
    );
    // The wrong owner password.
    nothing_left(
        "a wrong owner password",
        b.cmd(
            &["sync", "enrol", "--url", &b.url, "--join"],
            &[("CLINICDESK_SERVER_PASSWORD", "wrong")],
        ),
        "password authentication failed",
    );
    // A clinic id that is not a clinic of the server: refused by the server, nothing kept.
    nothing_left(
        "an unknown clinic",
        b.cmd(
            &[
                "sync",
                "enrol",
                "--url",
                &b.url,
                "--join",
                "--clinic",
                "not-an-id",
            ],
            &[],
        ),
        "not a clinic of this server",
    );
    assert_eq!(devices(&mut su), 0);
}

/// A PC that was away while the other worked for days catches up in one pull: a large import
/// (one local transaction of 1,500 new patients, pushed in batches of at most 1,000) and a
/// day's edits, then the away PC syncs once and equals the server.
#[test]
fn a_pc_away_for_a_week_catches_up_in_one_round() {
    let mut s = Scene::new(None);
    let clinic =
        s.a.one("SELECT clinic_id FROM patients ORDER BY id LIMIT 1");
    let csv = s.dir.path().join("import.csv");
    let mut text = String::from("legacy_id,first_name,last_name\n");
    for i in 0..1500 {
        text.push_str(&format!("W{i},Week{i},Away\n"));
    }
    std::fs::write(&csv, text).unwrap();
    s.a.admin(&[
        "patient",
        "import",
        "--clinic",
        &clinic,
        csv.to_str().unwrap(),
    ]);
    for n in 0..5 {
        let p = s.patient(10 + n);
        s.a.admin(&["patient", "update", &p, "--set", &format!("notes=day {n}")]);
    }
    let r = s.a.sync();
    assert!(r["pushed_batches"].as_i64().unwrap() >= 2, "{r}");
    let r = s.b.sync();
    assert!(r["pulled_rows"].as_i64().unwrap() >= 1505, "{r}");
    let n: String =
        s.b.one("SELECT count(*) || '' FROM patients WHERE last_name = 'Away'");
    assert_eq!(n, "1500");
    s.heal_and_check();
}
