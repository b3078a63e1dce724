//! Property test: random sequences of book / move / cancel / recurring series / waitlist
//! operations never leave two overlapping active appointments for one provider, room or
//! patient, and never lose a waitlist entry.

mod common;

use clinicdesk_api::{App, Fields, Session};
use clinicdesk_domain::{ClinicId, Role};
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Book {
        patient: usize,
        provider: usize,
        room: bool,
        day: u8,
        slot: u8,
        quarters: u8,
    },
    Move {
        appt: usize,
        day: u8,
        slot: u8,
    },
    Cancel {
        appt: usize,
    },
    Series {
        patient: usize,
        provider: usize,
        slot: u8,
        count: u8,
    },
    Wait {
        patient: usize,
        provider: Option<usize>,
    },
    Accept {
        offer: usize,
    },
    Decline {
        offer: usize,
    },
    EditSeries {
        appt: usize,
        scope: u8,
        slot: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..4usize, 0..2usize, any::<bool>(), 0..3u8, 0..16u8, 1..5u8)
            .prop_map(|(patient, provider, room, day, slot, quarters)| Op::Book { patient, provider, room, day, slot, quarters }),
        2 => (0..8usize, 0..3u8, 0..16u8).prop_map(|(appt, day, slot)| Op::Move { appt, day, slot }),
        2 => (0..8usize).prop_map(|appt| Op::Cancel { appt }),
        1 => (0..4usize, 0..2usize, 0..16u8, 2..4u8).prop_map(|(patient, provider, slot, count)| Op::Series { patient, provider, slot, count }),
        2 => (0..4usize, proptest::option::of(0..2usize)).prop_map(|(patient, provider)| Op::Wait { patient, provider }),
        1 => (0..4usize).prop_map(|offer| Op::Accept { offer }),
        1 => (0..4usize).prop_map(|offer| Op::Decline { offer }),
        1 => (0..8usize, 0..3u8, 0..16u8).prop_map(|(appt, scope, slot)| Op::EditSeries { appt, scope, slot }),
    ]
}

struct Fixture {
    w: World,
    desk: Session,
    providers: Vec<String>,
    patients: Vec<String>,
    room: String,
}

const DAYS: [&str; 3] = ["2027-03-01", "2027-03-02", "2027-03-03"];

fn fixture() -> Fixture {
    let w = world();
    let (app, a, c) = (&w.app, &w.admin, w.clinic_a);
    let desk = w.user_with("desk", Role::FrontDesk, c);
    let mut providers = Vec::new();
    for name in ["Ada", "Ben"] {
        let s = app
            .create_staff(
                a,
                c,
                &Fields::new()
                    .with("first_name", name)
                    .with("last_name", "Pro")
                    .with("is_clinical", "no"),
            )
            .unwrap();
        for day in DAYS {
            app.create_availability_block(
                a,
                c,
                &Fields::new()
                    .with("provider_id", s.id.to_string())
                    .with("start", format!("{day} 08:00"))
                    .with("end", format!("{day} 17:00"))
                    .with("is_available", "yes"),
            )
            .unwrap();
        }
        providers.push(s.id.to_string());
    }
    let patients = (0..4)
        .map(|i| {
            app.create_patient(
                a,
                c,
                &Fields::new()
                    .with("first_name", format!("P{i}"))
                    .with("last_name", "Test"),
            )
            .unwrap()
            .id
            .to_string()
        })
        .collect();
    let room = app
        .create_room(a, c, &Fields::new().with("name", "R1"))
        .unwrap()
        .id
        .to_string();
    Fixture {
        w,
        desk,
        providers,
        patients,
        room,
    }
}

fn time(day: u8, slot: u8) -> String {
    format!(
        "{} {:02}:{:02}",
        DAYS[day as usize % 3],
        8 + slot / 2,
        if slot.is_multiple_of(2) { 0 } else { 30 }
    )
}

fn query_ids(app: &App, sql: &str) -> Vec<String> {
    app.store()
        .read(|c| -> clinicdesk_store::Result<Vec<String>> {
            Ok(c.prepare(sql)?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?)
        })
        .unwrap()
}

fn count(app: &App, sql: &str) -> i64 {
    app.store()
        .read(|c| -> clinicdesk_store::Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) })
        .unwrap()
}

fn apply(f: &Fixture, c: ClinicId, op: &Op, waits: &mut i64) {
    let app = &f.w.app;
    let appts = query_ids(
        app,
        "SELECT id FROM appointments WHERE status IN ('pending','confirmed') ORDER BY created_at",
    );
    let offers = query_ids(
        app,
        "SELECT id FROM waitlist_offers WHERE outcome = 'pending' ORDER BY created_at",
    );
    // Every operation may be refused (conflicts are expected); only the invariants matter.
    match op {
        Op::Book {
            patient,
            provider,
            room,
            day,
            slot,
            quarters,
        } => {
            let mut fl = Fields::new()
                .with("patient_id", &f.patients[*patient])
                .with("provider_id", &f.providers[*provider])
                .with("start", time(*day, *slot))
                .with("duration_minutes", (*quarters as u32 * 15).to_string());
            if *room {
                fl.set("room_id", &f.room);
            }
            let _ = app.book_appointment(&f.desk, c, &fl);
        }
        Op::Move { appt, day, slot } => {
            if let Some(id) = appts.get(*appt % appts.len().max(1)) {
                let _ = app.reschedule_appointment(
                    &f.desk,
                    id.parse().unwrap(),
                    &Fields::new().with("start", time(*day, *slot)),
                );
            }
        }
        Op::Cancel { appt } => {
            if let Some(id) = appts.get(*appt % appts.len().max(1)) {
                let _ = app.set_appointment_status(
                    &f.desk,
                    id.parse().unwrap(),
                    "cancel",
                    Some("prop"),
                );
            }
        }
        Op::Series {
            patient,
            provider,
            slot,
            count,
        } => {
            let _ = app.book_series(
                &f.desk,
                c,
                &Fields::new()
                    .with("patient_id", &f.patients[*patient])
                    .with("provider_id", &f.providers[*provider])
                    .with("start", time(0, *slot))
                    .with("duration_minutes", "30")
                    .with("rule", format!("FREQ=DAILY;COUNT={count}"))
                    .with("skip_conflicts", "yes"),
            );
        }
        Op::Wait { patient, provider } => {
            let mut fl = Fields::new()
                .with("patient_id", &f.patients[*patient])
                .with("earliest_date", DAYS[0])
                .with("latest_date", DAYS[2])
                .with("duration_minutes", "30");
            if let Some(p) = provider {
                fl.set("provider_ids", &f.providers[*p]);
            }
            if app.add_to_waitlist(&f.desk, c, &fl).is_ok() {
                *waits += 1;
            }
        }
        Op::Accept { offer } => {
            if let Some(id) = offers.get(*offer % offers.len().max(1)) {
                let _ = app.accept_offer(&f.desk, id);
            }
        }
        Op::Decline { offer } => {
            if let Some(id) = offers.get(*offer % offers.len().max(1)) {
                let _ = app.decline_offer(&f.desk, id);
            }
        }
        Op::EditSeries { appt, scope, slot } => {
            let in_series = query_ids(
                app,
                "SELECT id FROM appointments WHERE status IN ('pending','confirmed') AND series_id IS NOT NULL ORDER BY created_at",
            );
            if let Some(id) = in_series.get(*appt % in_series.len().max(1)) {
                let hm = time(0, *slot);
                let _ = app.edit_series(
                    &f.desk,
                    id.parse().unwrap(),
                    ["one", "following", "all"][*scope as usize % 3],
                    &Fields::new().with("time", &hm[hm.len() - 5..]),
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_overlaps_and_no_lost_waitlist_entries(ops in proptest::collection::vec(op(), 1..40)) {
        let f = fixture();
        let c = f.w.clinic_a;
        let mut waits = 0i64;
        for op in &ops {
            apply(&f, c, op, &mut waits);
            let overlaps = count(
                &f.w.app,
                "SELECT count(*) FROM appointments a JOIN appointments b ON a.id < b.id
                 AND a.start_at < b.end_at AND b.start_at < a.end_at
                 WHERE a.status IN ('pending','confirmed','reminded','checked_in','in_progress','completed')
                   AND b.status IN ('pending','confirmed','reminded','checked_in','in_progress','completed')
                   AND (a.provider_id = b.provider_id OR a.patient_id = b.patient_id OR (a.room_id IS NOT NULL AND a.room_id = b.room_id))",
            );
            prop_assert_eq!(overlaps, 0, "overlap after {:?}", op);
            prop_assert_eq!(count(&f.w.app, "SELECT count(*) FROM waitlist"), waits, "waitlist entry lost after {:?}", op);
            // A booked entry points at its appointment; an offered entry has exactly one live offer.
            prop_assert_eq!(count(&f.w.app, "SELECT count(*) FROM waitlist WHERE status = 'booked' AND booked_appointment_id IS NULL"), 0);
            prop_assert_eq!(
                count(&f.w.app, "SELECT count(*) FROM waitlist w WHERE status = 'offered' AND (SELECT count(*) FROM waitlist_offers o WHERE o.waitlist_id = w.id AND o.outcome = 'pending') <> 1"),
                0
            );
        }
        prop_assert!(f.w.app.store().verify_audit().unwrap().ok);
    }
}
