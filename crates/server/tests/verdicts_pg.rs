//! Server verdicts on overlapping bookings (SYNC.md §5 item 1, migration V7) on a real
//! PostgreSQL 15, through `sync.push` as two enrolled devices:
//!
//! - the first active booking to reach the server keeps a provider's, a room's or a patient's
//!   slot; a later overlapping one is merged but cancelled with a rank-1 version, a reason that
//!   names the winner, a system status-history row, its reminders cancelled and one
//!   `cd.sync_conflicts` row — and a replayed push creates nothing twice;
//! - a losing reschedule says the original slot was released; a non-overlapping (adjacent)
//!   booking creates nothing; a device's later write cannot reactivate the loser;
//! - the EXCLUDE backstop refuses the owner's direct insert of an overlapping active row;
//! - a V5 server holding overlapping history upgrades (V6, V7), keeps that history (an edit of
//!   a note does not re-judge it) and judges pushes afterwards.

use anyhow::Result;
use clinicdesk_pgcluster::postgres::{Client, NoTls};
use clinicdesk_pgcluster::PgCluster;
use serde_json::{json, Value};

const DB: &str = "clinicdesk";
const OWNER: &str = "cd_owner";
const CLINIC: &str = "0190a000-0000-7000-8000-00000000000a";
const DEV_A: &str = "0190a000-0000-7000-8000-0000000000aa";
const DEV_B: &str = "0190a000-0000-7000-8000-0000000000bb";
const INC_A: &str = "0190a000-0000-7000-8000-0000000001c1";
const INC_B: &str = "0190a000-0000-7000-8000-0000000001c2";
const P1: &str = "0190a000-0000-7000-8000-00000000a001";
const P2: &str = "0190a000-0000-7000-8000-00000000a002";
const P3: &str = "0190a000-0000-7000-8000-00000000a003";
const S1: &str = "0190a000-0000-7000-8000-00000000b001";
const S2: &str = "0190a000-0000-7000-8000-00000000b002";
const S3: &str = "0190a000-0000-7000-8000-00000000b003";
const ROOM: &str = "0190a000-0000-7000-8000-00000000c001";

fn connect_as(cluster: &PgCluster, role: &str) -> Result<Client> {
    Ok(cluster.config(DB).user(role).connect(NoTls)?)
}

/// A server (migrated up to `target`) with one clinic, three patients, three providers, a
/// room and two devices enrolled for the clinic; connected as the owner, `dev_a` and `dev_b`.
fn server(target: Option<i32>) -> Result<(PgCluster, Client)> {
    let cluster = PgCluster::start()?;
    let mut su = cluster.connect()?;
    su.batch_execute(&format!("CREATE ROLE {OWNER} LOGIN CREATEROLE"))?;
    su.batch_execute(&format!("CREATE DATABASE {DB} OWNER {OWNER}"))?;
    let mut owner = connect_as(&cluster, OWNER)?;
    clinicdesk_server::migrate_to(&mut owner, target)?;
    let mut su = cluster.config(DB).connect(NoTls)?;
    for dev in ["dev_a", "dev_b"] {
        su.batch_execute(&format!(
            "CREATE ROLE {dev} LOGIN IN ROLE clinicdesk_device"
        ))?;
    }
    let v = "'0|1|1|dev', 0";
    let mut people = String::new();
    for p in [P1, P2, P3] {
        people.push_str(&format!(
            "INSERT INTO cd.patients (id, clinic_id, mrn, first_name, last_name, sex, phone, preferred_contact_method, consent_sms, consent_email, created_at, updated_at, _v0, _seq)
             VALUES ('{p}', '{CLINIC}', 'M{}', 'Pat', 'Ient', 'unknown', '555-0100', 'phone', 0, 0, 0, 0, {v});\n",
            &p[32..]
        ));
    }
    for s in [S1, S2, S3] {
        people.push_str(&format!(
            "INSERT INTO cd.staff_profiles (id, first_name, last_name, employment_type, primary_clinic_id, is_active, is_clinical, created_at, updated_at, _v0, _seq)
             VALUES ('{s}', 'Doc', 'Tor', 'full_time', '{CLINIC}', 1, 1, 0, 0, {v});\n"
        ));
    }
    owner.batch_execute(&format!(
        "BEGIN;
        INSERT INTO cd.clinics (id, name, code, timezone, reminder_offsets_minutes, idle_lock_minutes, created_at, updated_at, _v0, _seq)
          VALUES ('{CLINIC}', 'A', 'AAA', 'UTC', '[]', 15, 0, 0, {v});
        {people}
        INSERT INTO cd.ops_treatment_rooms (id, clinic_id, name, capacity, status, is_active, created_at, updated_at, _v0, _seq)
          VALUES ('{ROOM}', '{CLINIC}', 'Room 1', 1, 'available', 1, 0, 0, {v});
        INSERT INTO sync.devices (device_id, role_name, clinics, enrolled_at) VALUES
          ('{DEV_A}', 'dev_a', ARRAY['{CLINIC}']::uuid[], now()),
          ('{DEV_B}', 'dev_b', ARRAY['{CLINIC}']::uuid[], now());
        COMMIT;"
    ))?;
    Ok((cluster, owner))
}

fn hlc(ms: i64) -> String {
    format!("{:015}-00000000", 1_767_225_600_000 + ms)
}

/// An appointment insert (a booking) as a change.
#[allow(clippy::too_many_arguments)]
fn book(
    seq: i64,
    id: &str,
    patient: &str,
    provider: &str,
    room: Option<&str>,
    (start, end): (i64, i64),
    from: Option<&str>,
    at: i64,
) -> Value {
    json!({"seq": seq, "table": "appointments", "row_id": id, "op": "insert", "hlc": hlc(at),
           "columns": {"id": id, "clinic_id": CLINIC, "patient_id": patient, "provider_id": provider,
             "room_id": room, "appointment_type_id": null, "start_at": start, "end_at": end,
             "status": "confirmed", "case_id": null, "reason": null, "notes": null, "source": "front_desk",
             "rescheduled_from_id": from, "series_id": null, "cancel_reason": null, "override_reason": null,
             "checked_in_at": null, "started_at": null, "completed_at": null, "checked_out_at": null,
             "cancelled_at": null, "legacy_id": null, "created_at": at, "updated_at": at, "deleted_at": null}})
}

fn reminder(seq: i64, id: &str, appointment: &str, at: i64) -> Value {
    json!({"seq": seq, "table": "appointment_reminders", "row_id": id, "op": "insert", "hlc": hlc(at),
           "columns": {"id": id, "clinic_id": CLINIC, "appointment_id": appointment, "channel": "sms",
             "due_at": 50, "status": "pending", "sent_at": null, "failure_reason": null, "attempts": 0,
             "created_at": at, "updated_at": at, "deleted_at": null}})
}

fn status(seq: i64, id: &str, to: &str, at: i64) -> Value {
    json!({"seq": seq, "table": "appointments", "row_id": id, "op": "update", "hlc": hlc(at),
           "columns": {"status": to, "cancel_reason": null, "cancelled_at": null, "checked_in_at": null,
             "started_at": null, "completed_at": null, "checked_out_at": null, "updated_at": at}})
}

fn id(n: u32) -> String {
    format!("0190a000-0000-7000-8000-0000000{n:05x}")
}

fn push(c: &mut Client, inc: &str, first: i64, last: i64, changes: &Value) -> Result<Value> {
    let digest = vec![first as u8; 32];
    let text: String = c
        .query_one(
            "SELECT sync.push($1::text::uuid, $2, $3, $4, $5::text::jsonb)::text",
            &[&inc, &first, &last, &digest, &changes.to_string()],
        )?
        .get(0);
    Ok(serde_json::from_str(&text)?)
}

fn one(owner: &mut Client, sql: &str) -> Result<Value> {
    let text: Option<String> = owner
        .query_one(&format!("SELECT ({sql})::text"), &[])?
        .get(0);
    Ok(text.map_or(Value::Null, |t| {
        serde_json::from_str(&t).unwrap_or(Value::String(t))
    }))
}

fn appointment(owner: &mut Client, a: &str) -> Result<Value> {
    one(
        owner,
        &format!("SELECT to_jsonb(t) FROM cd.appointments t WHERE id = '{a}'"),
    )
}

fn conflicts(owner: &mut Client) -> Result<Vec<Value>> {
    let v = one(
        owner,
        "SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY created_at, id), '[]') FROM cd.sync_conflicts c",
    )?;
    Ok(v.as_array().cloned().unwrap_or_default())
}

#[test]
fn the_first_booking_to_reach_the_server_keeps_the_slot_and_the_later_one_is_cancelled(
) -> Result<()> {
    let (cluster, mut owner) = server(None)?;
    let mut a = connect_as(&cluster, "dev_a")?;
    let mut b = connect_as(&cluster, "dev_b")?;

    // Both PCs booked S1 at overlapping times while offline; A reaches the server first.
    let (x, y, ry) = (id(1), id(2), id(3));
    push(
        &mut a,
        INC_A,
        1,
        1,
        &json!([book(1, &x, P1, S1, None, (1000, 2000), None, 10)]),
    )?;
    let batch_b = json!([
        book(1, &y, P2, S1, None, (1500, 2500), None, 5),
        reminder(2, &ry, &y, 5)
    ]);
    let ack = push(&mut b, INC_B, 1, 2, &batch_b)?;
    assert_eq!(ack["applied"], 2);

    assert_eq!(appointment(&mut owner, &x)?["status"], "confirmed");
    let loser = appointment(&mut owner, &y)?;
    assert_eq!(loser["status"], "cancelled");
    assert_eq!(
        loser["cancel_reason"],
        format!("sync conflict: slot taken by {x}")
    );
    let verdict = loser["_v"]["status"].as_str().unwrap().to_string();
    assert!(verdict.starts_with("1|"), "{verdict}");
    assert!(loser["cancelled_at"].is_number());
    assert_eq!(
        one(
            &mut owner,
            &format!("SELECT status FROM cd.appointment_reminders WHERE id = '{ry}'")
        )?,
        "cancelled"
    );
    let history = one(
        &mut owner,
        &format!("SELECT jsonb_agg(to_jsonb(h)) FROM cd.appointment_status_history h WHERE appointment_id = '{y}'"),
    )?;
    assert_eq!(history[0]["from_status"], "confirmed");
    assert_eq!(history[0]["to_status"], "cancelled");
    assert_eq!(history[0]["changed_by"], Value::Null);
    let c = conflicts(&mut owner)?;
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0]["kind"], "appointment_overlap");
    assert_eq!(c[0]["appointment_id"], y);
    assert_eq!(c[0]["winner_id"], x);
    assert_eq!(c[0]["resource"], "provider");
    assert_eq!(c[0]["device_id"], DEV_B);
    assert_eq!(c[0]["resolved_at"], Value::Null);
    // The verdict's rows share the push's sequence value: one checkpoint brings them all.
    let seq = loser["_seq"].clone();
    assert_eq!(c[0]["_seq"], seq);
    assert_eq!(history[0]["_seq"], seq);

    // The push is replayed (the ack was lost): the stored ack, no second conflict row.
    assert_eq!(push(&mut b, INC_B, 1, 2, &batch_b)?, ack);
    assert_eq!(conflicts(&mut owner)?.len(), 1);

    // B, not having pulled yet, confirms its booking again: the verdict's version wins.
    push(&mut b, INC_B, 3, 3, &json!([status(3, &y, "reminded", 20)]))?;
    assert_eq!(appointment(&mut owner, &y)?["status"], "cancelled");
    assert_eq!(conflicts(&mut owner)?.len(), 1);

    // The front desk resolves it on a PC: a device write of the resolution group wins (the
    // conflict row is versioned at rank 0, unlike the loser's status group).
    let cid = c[0]["id"].as_str().unwrap().to_string();
    push(
        &mut b,
        INC_B,
        4,
        4,
        &json!([{"seq": 4, "table": "sync_conflicts", "row_id": cid, "op": "update", "hlc": hlc(25),
                 "columns": {"resolved_at": 25, "resolved_by": null, "resolution": "dismissed",
                   "rebooked_id": null, "note": "called", "updated_at": 25}}]),
    )?;
    assert_eq!(
        one(
            &mut owner,
            &format!("SELECT resolution FROM cd.sync_conflicts WHERE id = '{cid}'")
        )?,
        "dismissed"
    );

    // The same room with another provider and patient: the room collided.
    let (r1, r2) = (id(4), id(5));
    push(
        &mut a,
        INC_A,
        2,
        2,
        &json!([book(2, &r1, P1, S2, Some(ROOM), (5000, 6000), None, 30)]),
    )?;
    push(
        &mut b,
        INC_B,
        5,
        5,
        &json!([book(5, &r2, P3, S3, Some(ROOM), (5500, 6500), None, 31)]),
    )?;
    assert_eq!(appointment(&mut owner, &r1)?["status"], "confirmed");
    assert_eq!(appointment(&mut owner, &r2)?["status"], "cancelled");
    let c = conflicts(&mut owner)?;
    assert_eq!(c.len(), 2);
    assert_eq!(c[1]["resource"], "room");
    assert_eq!(c[1]["winner_id"], r1);

    // The same patient with two providers: the patient collided.
    let (p1, p2) = (id(6), id(7));
    push(
        &mut a,
        INC_A,
        3,
        3,
        &json!([book(3, &p1, P2, S2, None, (9000, 9500), None, 40)]),
    )?;
    push(
        &mut b,
        INC_B,
        6,
        6,
        &json!([book(6, &p2, P2, S3, None, (9400, 9800), None, 41)]),
    )?;
    assert_eq!(appointment(&mut owner, &p2)?["status"], "cancelled");
    let c = conflicts(&mut owner)?;
    assert_eq!(c.len(), 3);
    assert_eq!(c[2]["resource"], "patient");

    // Adjacent slots ([start, end) is half-open) do not overlap: nothing is decided.
    let (n1, n2) = (id(8), id(9));
    push(
        &mut a,
        INC_A,
        4,
        4,
        &json!([book(4, &n1, P1, S1, Some(ROOM), (20000, 21000), None, 50)]),
    )?;
    push(
        &mut b,
        INC_B,
        7,
        7,
        &json!([book(7, &n2, P1, S1, Some(ROOM), (21000, 22000), None, 51)]),
    )?;
    assert_eq!(appointment(&mut owner, &n2)?["status"], "confirmed");
    assert_eq!(conflicts(&mut owner)?.len(), 3);

    // A losing reschedule: B moves its booking onto a slot A took meanwhile. The old
    // appointment leaves the schedule (rescheduled); the new one loses and says so.
    let (old, w, moved) = (id(10), id(11), id(12));
    push(
        &mut b,
        INC_B,
        8,
        8,
        &json!([book(8, &old, P3, S2, None, (30000, 31000), None, 60)]),
    )?;
    push(
        &mut a,
        INC_A,
        5,
        5,
        &json!([book(5, &w, P1, S2, None, (40000, 41000), None, 61)]),
    )?;
    push(
        &mut b,
        INC_B,
        9,
        10,
        &json!([
            status(9, &old, "rescheduled", 62),
            book(10, &moved, P3, S2, None, (40500, 41500), Some(&old), 62)
        ]),
    )?;
    assert_eq!(appointment(&mut owner, &old)?["status"], "rescheduled");
    let m = appointment(&mut owner, &moved)?;
    assert_eq!(m["status"], "cancelled");
    assert_eq!(
        m["cancel_reason"],
        format!("sync conflict: slot taken by {w}; this was a reschedule of {old}, whose original slot was released")
    );
    assert_eq!(conflicts(&mut owner)?.len(), 4);

    // Devices read the conflict rows of their clinic.
    let seen: i64 = b
        .query_one("SELECT count(*) FROM cd.sync_conflicts", &[])?
        .get(0);
    assert_eq!(seen, 4);

    // The backstop: the owner's direct insert of an overlapping active row is refused.
    let e = owner
        .batch_execute(&format!(
            "INSERT INTO cd.appointments (id, clinic_id, patient_id, provider_id, start_at, end_at, status, source, created_at, updated_at, _v0, _seq)
             VALUES ('{}', '{CLINIC}', '{P3}', '{S1}', 1200, 1300, 'confirmed', 'front_desk', 0, 0, '0|1|1|dev', 0)",
            id(13)
        ))
        .unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("23P01"), "{e}");
    Ok(())
}

#[test]
fn a_v5_server_with_overlapping_history_upgrades_and_judges_pushes_afterwards() -> Result<()> {
    let (cluster, mut owner) = server(Some(5))?;
    // History from before the upgrade: two overlapping active bookings (an import).
    for (n, p) in [(1, P1), (2, P2)] {
        owner.batch_execute(&format!(
            "INSERT INTO cd.appointments (id, clinic_id, patient_id, provider_id, start_at, end_at, status, source, created_at, updated_at, _v0, _seq)
             VALUES ('{}', '{CLINIC}', '{p}', '{S1}', 1000, 2000, 'confirmed', 'front_desk', 0, 0, '0|000000000000001-00000000|000000000000001-00000000|dev', 0)",
            id(n)
        ))?;
    }
    assert_eq!(
        clinicdesk_server::migrate(&mut owner)?,
        [6, 7, 8],
        "V6, V7 (and V8) apply"
    );
    // Upgraded: the history is kept as it was, and a new overlapping push loses.
    assert_eq!(appointment(&mut owner, &id(2))?["status"], "confirmed");
    let mut b = connect_as(&cluster, "dev_b")?;
    push(
        &mut b,
        INC_B,
        1,
        1,
        &json!([book(1, &id(3), P3, S1, None, (1500, 1600), None, 5)]),
    )?;
    assert_eq!(appointment(&mut owner, &id(3))?["status"], "cancelled");
    let c = conflicts(&mut owner)?;
    assert_eq!(c.len(), 1);
    assert_eq!(c[0]["winner_id"], id(1));
    // A device's edit of an old overlapping booking (a note) does not re-judge history.
    push(
        &mut b,
        INC_B,
        2,
        2,
        &json!([{"seq": 2, "table": "appointments", "row_id": id(2), "op": "update",
                 "hlc": hlc(6), "columns": {"notes": "bring the referral"}}]),
    )?;
    let old = appointment(&mut owner, &id(2))?;
    assert_eq!(
        (old["status"].as_str(), old["notes"].as_str()),
        (Some("confirmed"), Some("bring the referral"))
    );
    assert_eq!(conflicts(&mut owner)?.len(), 1);
    Ok(())
}
