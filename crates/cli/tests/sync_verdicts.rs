//! Server verdicts seen from the PCs (SYNC.md §5 item 1, §8): two enrolled PCs, each its own
//! encrypted database driven by separate `clinicdesk` processes, book the same slot while
//! offline; the first push to reach the server keeps it, the second PC's booking ends cancelled
//! with the reason on BOTH PCs with one conflict row each — also when the losing push's
//! acknowledgement was cut after the server committed and the push is replayed. The front desk
//! lists the conflict and resolves it (`sync conflicts`, `sync resolve`), and the resolution
//! replicates; bad input and a user without the right are refused with nothing changed.

mod sync_support;

use sync_support::*;

const SLOT: &str = "2031-03-04 10:00";
const SLOT_LATER: &str = "2031-03-04 10:15";

fn book(pc: &Pc, clinic: &str, patient: &str, provider: &str, start: &str) -> String {
    let a = pc.admin(&[
        "appointment",
        "book",
        "--clinic",
        clinic,
        "--set",
        &format!("patient_id={patient}"),
        "--set",
        &format!("provider_id={provider}"),
        "--set",
        &format!("start={start}"),
        "--set",
        "duration_minutes=30",
        "--set",
        "override_reason=verdict test",
    ]);
    a["id"].as_str().unwrap().to_string()
}

fn conflict_rows(pc: &Pc) -> String {
    pc.one("SELECT count(*) || '' FROM sync_conflicts")
}

#[test]
fn the_first_booking_to_reach_the_server_wins_on_both_pcs_and_the_front_desk_resolves_it() {
    let proxy = Proxy::start();
    let mut s = Scene::new(Some(&proxy));
    let clinic =
        s.a.one("SELECT clinic_id FROM patients ORDER BY id LIMIT 1");
    let provider = s.a.one(&format!(
        "SELECT id FROM staff_profiles WHERE is_clinical = 1 AND is_active = 1 AND deleted_at IS NULL
            AND primary_clinic_id = '{clinic}' ORDER BY id LIMIT 1"
    ));
    let patient = |n: usize| {
        s.a.one(&format!(
            "SELECT id FROM patients WHERE clinic_id = '{clinic}' AND deleted_at IS NULL ORDER BY id LIMIT 1 OFFSET {n}"
        ))
    };
    let (p1, p2) = (patient(0), patient(1));
    // The seed's appointments are history, outside the overlap backstop.
    let seeded: (i64, i64) = {
        let r =
            s.su.query_one(
                "SELECT count(*), count(*) FILTER (WHERE _judged) FROM cd.appointments",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert!(seeded.0 > 0 && seeded.1 == 0, "{seeded:?}");

    // Offline, both PCs book the provider at overlapping times.
    let x = book(&s.a, &clinic, &p1, &provider, SLOT);
    let y = book(&s.b, &clinic, &p2, &provider, SLOT_LATER);
    // A reaches the server first; B's push commits but its acknowledgement is cut.
    s.a.sync();
    proxy.arm(Fault::CutBeforeAck);
    let o = s.b.cmd(&["sync", "now"], &[]);
    assert!(!o.status.success(), "the cut push should fail on b");
    assert_eq!(proxy.cuts(), 1);
    // Before it hears of the verdict, B's front desk sends the reminder (a local change of
    // the status group, not yet pushed). B retries: the stored ack is replayed, the reminder
    // loses to the verdict's rank-1 version, and the verdict arrives by pull — the local
    // value is not kept.
    s.b.admin(&["appointment", "status", &y, "remind"]);
    s.b.sync();
    s.a.sync();
    let reason = format!("sync conflict: slot taken by {x}");
    for pc in [&s.a, &s.b] {
        let st = pc.one(&format!(
            "SELECT status || '|' || cancel_reason FROM appointments WHERE id = '{y}'"
        ));
        assert_eq!(st, format!("cancelled|{reason}"), "{}: the loser", pc.name);
        assert!(
            ["pending", "confirmed"].contains(
                &pc.one(&format!("SELECT status FROM appointments WHERE id = '{x}'"))
                    .as_str()
            ),
            "{}: the winner stays booked",
            pc.name
        );
        assert_eq!(conflict_rows(pc), "1", "{}: one conflict row", pc.name);
        assert_eq!(
            pc.one(&format!(
                "SELECT count(*) || '' FROM appointment_reminders WHERE appointment_id = '{y}' AND status = 'pending'"
            )),
            "0",
            "{}: no pending reminder of the loser",
            pc.name
        );
        assert_eq!(
            pc.one(&format!(
                "SELECT count(*) || '' FROM appointment_status_history WHERE appointment_id = '{y}' AND to_status = 'cancelled' AND reason = '{reason}'"
            )),
            "1",
            "{}: the system's status change",
            pc.name
        );
    }
    let on_server: i64 =
        s.su.query_one("SELECT count(*) FROM cd.sync_conflicts", &[])
            .unwrap()
            .get(0);
    assert_eq!(on_server, 1, "the replayed push created no second conflict");
    s.heal_and_check();

    // The front desk's list, in its words (and JSON).
    let list = s.b.admin(&["sync", "conflicts"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let c = &list[0];
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(c["appointment_id"], y.as_str());
    assert_eq!(c["winner_id"], x.as_str());
    assert_eq!(c["resource"], "provider");
    assert!(c["patient"].is_string() && c["slot"].as_str().unwrap().contains("2031-03-04"));
    let phone = s.a.one(&format!(
        "SELECT coalesce(phone, '') FROM patients WHERE id = '{p2}'"
    ));
    assert_eq!(c["patient_phone"].as_str().unwrap_or(""), phone);
    assert!(c["message"].as_str().unwrap().contains("Call"), "{c}");
    let text = s.b.cmd(&["--user", "admin", "sync", "conflicts"], &[]);
    assert!(text.status.success());

    // Bad input: an unknown id, an id that is not one, a rebooking that is not the patient's.
    let before = dump_pc(&s.b);
    for (args, needle) in [
        (
            vec![
                "sync",
                "resolve",
                "0190a000-0000-7000-8000-000000000999",
                "--dismiss",
            ],
            "no sync conflict",
        ),
        (
            vec!["sync", "resolve", "nope", "--dismiss"],
            "not a valid id",
        ),
        (
            vec!["sync", "resolve", id.as_str(), "--rebooked", x.as_str()],
            "same patient",
        ),
    ] {
        let mut full = vec!["--user", "admin"];
        full.extend_from_slice(&args);
        let o = s.b.cmd(&full, &[]);
        assert!(!o.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert_same(
        "refused resolutions change nothing",
        &dump_pc(&s.b),
        &before,
    );

    // A viewer may not see or resolve conflicts (refused, audited).
    let u = s.b.cmd(
        &[
            "--user",
            "admin",
            "user",
            "create",
            "--set",
            "username=vera",
        ],
        &[("CLINICDESK_NEW_PASSWORD", "viewer's own password")],
    );
    assert!(u.status.success(), "{}", String::from_utf8_lossy(&u.stderr));
    let uid = serde_json::from_slice::<serde_json::Value>(&u.stdout).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.b.admin(&[
        "role",
        "grant",
        "--user-id",
        &uid,
        "--clinic",
        &clinic,
        "--role",
        "viewer",
    ]);
    for args in [
        vec!["--user", "vera", "sync", "conflicts"],
        vec![
            "--user",
            "vera",
            "sync",
            "resolve",
            id.as_str(),
            "--dismiss",
        ],
    ] {
        let o =
            s.b.cmd(&args, &[("CLINICDESK_PASSWORD", "viewer's own password")]);
        assert!(!o.status.success(), "{args:?} should be refused");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("not allowed"), "{args:?}: {err}");
    }
    assert_eq!(
        s.b.one(&format!(
            "SELECT coalesce(resolution, 'open') FROM sync_conflicts WHERE id = '{id}'"
        )),
        "open"
    );

    // Resolved on B; the resolution reaches A and the server.
    let r = s.b.admin(&[
        "sync",
        "resolve",
        &id,
        "--dismiss",
        "--note",
        "patient called, will phone back",
    ]);
    assert_eq!(r["resolution"], "dismissed");
    assert_eq!(
        s.b.admin(&["sync", "conflicts"]).as_array().unwrap().len(),
        0
    );
    assert_eq!(
        s.b.admin(&["sync", "conflicts", "--all"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Twice: already resolved.
    let o = s.b.cmd(
        &["--user", "admin", "sync", "resolve", &id, "--dismiss"],
        &[],
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("already resolved"));
    s.heal_and_check();
    assert_eq!(
        s.a.one(&format!(
            "SELECT resolution || '|' || note FROM sync_conflicts WHERE id = '{id}'"
        )),
        "dismissed|patient called, will phone back"
    );
}

/// The same room (two providers), and the same patient with two providers: the later push
/// loses on both PCs; a non-overlapping pair decides nothing; a losing reschedule says the
/// original slot was released.
#[test]
fn rooms_patients_and_reschedules_collide_too_and_adjacent_slots_do_not() {
    let mut s = Scene::new(None);
    let clinic =
        s.a.one("SELECT clinic_id FROM patients ORDER BY id LIMIT 1");
    let providers: Vec<String> = {
        let c = s.a.raw();
        let mut st = c
            .prepare(&format!(
                "SELECT id FROM staff_profiles WHERE is_clinical = 1 AND is_active = 1 AND deleted_at IS NULL
                    AND primary_clinic_id = '{clinic}' ORDER BY id LIMIT 4"
            ))
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert!(providers.len() >= 4, "{providers:?}");
    let patient = |n: usize| {
        s.a.one(&format!(
            "SELECT id FROM patients WHERE clinic_id = '{clinic}' AND deleted_at IS NULL ORDER BY id LIMIT 1 OFFSET {n}"
        ))
    };
    let room = s.a.one(&format!(
        "SELECT id FROM ops_treatment_rooms WHERE clinic_id = '{clinic}' AND deleted_at IS NULL ORDER BY id LIMIT 1"
    ));
    let book_in = |pc: &Pc, patient: &str, provider: &str, room: Option<&str>, start: &str| {
        let mut args = vec![
            "appointment".to_string(),
            "book".into(),
            "--clinic".into(),
            clinic.clone(),
            "--set".into(),
            format!("patient_id={patient}"),
            "--set".into(),
            format!("provider_id={provider}"),
            "--set".into(),
            format!("start={start}"),
            "--set".into(),
            "duration_minutes=30".into(),
            "--set".into(),
            "override_reason=verdict test".into(),
        ];
        if let Some(r) = room {
            args.extend(["--set".into(), format!("room_id={r}")]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        pc.admin(&args)["id"].as_str().unwrap().to_string()
    };
    // The room: two providers, two patients.
    let r1 = book_in(
        &s.a,
        &patient(2),
        &providers[0],
        Some(&room),
        "2031-05-06 09:00",
    );
    let r2 = book_in(
        &s.b,
        &patient(3),
        &providers[1],
        Some(&room),
        "2031-05-06 09:10",
    );
    // The patient: two providers.
    let q1 = book_in(&s.a, &patient(4), &providers[2], None, "2031-05-07 09:00");
    let q2 = book_in(&s.b, &patient(4), &providers[3], None, "2031-05-07 09:20");
    // Adjacent slots of one provider: no overlap.
    let n1 = book_in(&s.a, &patient(5), &providers[0], None, "2031-05-08 09:00");
    let n2 = book_in(&s.b, &patient(6), &providers[0], None, "2031-05-08 09:30");
    s.a.sync();
    s.b.sync();
    // A reschedule that loses: b's booking, known to both PCs, is moved by b onto a slot a
    // takes meanwhile.
    let m0 = book_in(&s.b, &patient(7), &providers[1], None, "2031-05-09 09:00");
    s.b.sync();
    s.a.sync();
    let w = book_in(&s.a, &patient(8), &providers[1], None, "2031-05-09 11:00");
    let moved = s.b.admin(&[
        "appointment",
        "move",
        &m0,
        "--set",
        "start=2031-05-09 11:15",
        "--set",
        "override_reason=verdict test",
    ]);
    let m1 = moved["id"].as_str().unwrap().to_string();
    assert_ne!(m1, m0);
    s.a.sync();
    s.b.sync();
    s.heal_and_check();
    for pc in [&s.a, &s.b] {
        assert_eq!(
            pc.one(&format!("SELECT status || '|' || cancel_reason FROM appointments WHERE id = '{m1}'")),
            format!("cancelled|sync conflict: slot taken by {w}; this was a reschedule of {m0}, whose original slot was released"),
            "{}: the lost reschedule",
            pc.name
        );
        assert_eq!(
            pc.one(&format!(
                "SELECT status FROM appointments WHERE id = '{m0}'"
            )),
            "rescheduled",
            "{}: the original slot stays released",
            pc.name
        );
    }
    for pc in [&s.a, &s.b] {
        let status = |id: &str| {
            pc.one(&format!(
                "SELECT status FROM appointments WHERE id = '{id}'"
            ))
        };
        for kept in [&r1, &q1, &n1, &n2] {
            assert_ne!(
                status(kept),
                "cancelled",
                "{}: {kept} keeps its slot",
                pc.name
            );
        }
        for (lost, winner, what) in [(&r2, &r1, "room"), (&q2, &q1, "patient")] {
            assert_eq!(status(lost), "cancelled", "{}: {what}", pc.name);
            assert_eq!(
                pc.one(&format!(
                    "SELECT resource || '|' || winner_id FROM sync_conflicts WHERE appointment_id = '{lost}'"
                )),
                format!("{what}|{winner}"),
                "{}",
                pc.name
            );
        }
        assert_eq!(conflict_rows(pc), "3", "{}", pc.name);
    }
}
