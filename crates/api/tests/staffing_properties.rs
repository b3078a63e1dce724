//! Property: no sequence of assign / bulk assign / swap / time off / approve / fill / cancel
//! leaves a staff member on two overlapping shifts, or on a shift they are not credentialed for
//! without an override that the audit log records.

mod common;

use clinicdesk_api::{Fields, Session};
use clinicdesk_domain::{Role, ShiftId, StaffId};
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Assign {
        staff: usize,
        shift: usize,
        day: usize,
        over: bool,
    },
    Bulk {
        staff: usize,
        shift: usize,
        skip: bool,
        over: bool,
    },
    Swap {
        sched: usize,
        target: usize,
        back: Option<usize>,
        over: bool,
        approve: bool,
    },
    TimeOff {
        staff: usize,
        day: usize,
        len: usize,
        approve: bool,
    },
    Fill {
        need: usize,
        staff: usize,
        over: bool,
    },
    Cancel {
        sched: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 0..3usize, 0..DAYS.len(), any::<bool>()).prop_map(|(staff, shift, day, over)| Op::Assign { staff, shift, day, over }),
        1 => (0..3usize, 0..3usize, any::<bool>(), any::<bool>()).prop_map(|(staff, shift, skip, over)| Op::Bulk { staff, shift, skip, over }),
        2 => (0..12usize, 0..3usize, proptest::option::of(0..12usize), any::<bool>(), any::<bool>())
            .prop_map(|(sched, target, back, over, approve)| Op::Swap { sched, target, back, over, approve }),
        2 => (0..3usize, 0..DAYS.len(), 1..3usize, any::<bool>()).prop_map(|(staff, day, len, approve)| Op::TimeOff { staff, day, len, approve }),
        2 => (0..6usize, 0..3usize, any::<bool>()).prop_map(|(need, staff, over)| Op::Fill { need, staff, over }),
        1 => (0..12usize).prop_map(|sched| Op::Cancel { sched }),
    ]
}

/// 2028-01-04 and -05 fall after Ana's and Ben's licences expire (2027-12-31); Cal has none.
const DAYS: [&str; 5] = [
    "2027-03-01",
    "2027-03-02",
    "2027-03-03",
    "2028-01-04",
    "2028-01-05",
];

struct Fixture {
    w: World,
    boss: Session,
    staff: Vec<StaffId>,
    shifts: Vec<ShiftId>,
}

fn fixture() -> Fixture {
    let w = world();
    let (app, a, c) = (&w.app, &w.admin, w.clinic_a);
    let boss = w.user_with("boss", Role::Manager, c);
    let pt = app
        .create_credential_type(
            a,
            &Fields::new()
                .with("name", "PT licence")
                .with("code", "PT")
                .with("required_for_disciplines", "physiotherapy"),
        )
        .unwrap();
    let staff: Vec<StaffId> = ["Ana", "Ben", "Cal"]
        .iter()
        .map(|n| {
            let s = app
                .create_staff(
                    a,
                    c,
                    &Fields::new()
                        .with("first_name", *n)
                        .with("last_name", "Physio")
                        .with("discipline", "physiotherapy"),
                )
                .unwrap();
            if *n != "Cal" {
                app.create_credential(
                    a,
                    s.id,
                    &Fields::new()
                        .with("credential_type_id", pt.id.to_string())
                        .with("expiry_date", "2027-12-31"),
                )
                .unwrap();
            }
            s.id
        })
        .collect();
    let shifts = [
        ("Day", "08:00", "16:00"),
        ("Evening", "14:00", "22:00"),
        ("Night", "22:00", "06:00"),
    ]
    .iter()
    .map(|(n, s, e)| {
        app.create_shift_template(
            a,
            c,
            &Fields::new()
                .with("name", *n)
                .with("start_time", *s)
                .with("end_time", *e),
        )
        .unwrap()
        .id
    })
    .collect();
    Fixture {
        w,
        boss,
        staff,
        shifts,
    }
}

fn ids(f: &Fixture, sql: &str) -> Vec<String> {
    f.w.app
        .store()
        .read(|c| -> clinicdesk_store::Result<Vec<String>> {
            Ok(c.prepare(sql)?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?)
        })
        .unwrap()
}

fn count(f: &Fixture, sql: &str) -> i64 {
    f.w.app
        .store()
        .read(|c| -> clinicdesk_store::Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) })
        .unwrap()
}

fn apply(f: &Fixture, op: &Op) {
    let (app, s, c) = (&f.w.app, &f.boss, f.w.clinic_a);
    let over = |o: bool, fl: Fields| {
        if o {
            fl.with("override_reason", "prop override")
        } else {
            fl
        }
    };
    let scheds = ids(
        f,
        "SELECT id FROM ops_staff_schedules WHERE status = 'scheduled' ORDER BY created_at",
    );
    let pick = |v: &Vec<String>, i: usize| v.get(i % v.len().max(1)).cloned();
    // Any operation may be refused; only the invariants matter.
    match op {
        Op::Assign {
            staff,
            shift,
            day,
            over: o,
        } => {
            let fl = Fields::new()
                .with("staff_id", f.staff[*staff].to_string())
                .with("shift_id", f.shifts[*shift].to_string())
                .with("date", DAYS[*day]);
            let _ = app.assign_shift(s, c, &over(*o, fl));
        }
        Op::Bulk {
            staff,
            shift,
            skip,
            over: o,
        } => {
            let fl = Fields::new()
                .with("staff_id", f.staff[*staff].to_string())
                .with("shift_id", f.shifts[*shift].to_string())
                .with("from", "2027-03-01")
                .with("to", "2027-03-03")
                .with("skip_conflicts", if *skip { "yes" } else { "no" });
            let _ = app.assign_shifts_bulk(s, c, &over(*o, fl));
        }
        Op::Swap {
            sched,
            target,
            back,
            over: o,
            approve,
        } => {
            if let Some(mine) = pick(&scheds, *sched) {
                let mut fl = Fields::new()
                    .with("requester_schedule_id", mine)
                    .with("target_staff_id", f.staff[*target].to_string());
                if let Some(b) = back.and_then(|b| pick(&scheds, b)) {
                    fl.set("target_schedule_id", b);
                }
                if let Ok(swap) = app.request_swap(s, &fl) {
                    let _ =
                        app.decide_swap(s, swap.id, *approve, None, o.then_some("prop override"));
                }
            }
        }
        Op::TimeOff {
            staff,
            day,
            len,
            approve,
        } => {
            let end = DAYS[(*day + len - 1).min(DAYS.len() - 1)];
            let fl = Fields::new()
                .with("staff_id", f.staff[*staff].to_string())
                .with("start_date", DAYS[*day])
                .with("end_date", end);
            if let Ok(r) = app.request_time_off(s, c, &fl) {
                let _ = app.decide_time_off(s, r.id, *approve, None);
            }
        }
        Op::Fill {
            need,
            staff,
            over: o,
        } => {
            let needs = ids(
                f,
                "SELECT id FROM ops_shift_coverage_needs WHERE status = 'open' ORDER BY created_at",
            );
            if let Some(n) = pick(&needs, *need) {
                let _ = app.fill_coverage_need(
                    s,
                    n.parse().unwrap(),
                    f.staff[*staff],
                    o.then_some("prop override"),
                );
            }
        }
        Op::Cancel { sched } => {
            if let Some(id) = pick(&scheds, *sched) {
                let _ = app.set_shift_status(s, id.parse().unwrap(), "cancel");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_overlapping_or_uncredentialed_shifts_without_an_audited_override(ops in proptest::collection::vec(op(), 1..30)) {
        let f = fixture();
        for op in &ops {
            apply(&f, op);
            let overlaps = count(&f,
                "SELECT count(*) FROM ops_staff_schedules a JOIN ops_staff_schedules b ON a.id < b.id AND a.staff_id = b.staff_id
                   AND a.start_at < b.end_at AND b.start_at < a.end_at
                 WHERE a.status IN ('scheduled','on_duty') AND b.status IN ('scheduled','on_duty')");
            prop_assert_eq!(overlaps, 0, "overlap after {:?}", op);
            // Credentialed = a PT licence not expired on the shift's date.
            let uncredentialed = count(&f,
                "SELECT count(*) FROM ops_staff_schedules s WHERE s.status IN ('scheduled','on_duty') AND s.override_reason IS NULL
                   AND NOT EXISTS (SELECT 1 FROM ops_credentials c WHERE c.staff_id = s.staff_id AND c.status = 'active'
                                   AND c.expiry_date >= s.schedule_date AND c.deleted_at IS NULL)");
            prop_assert_eq!(uncredentialed, 0, "uncredentialed shift without override after {:?}", op);
            // Every override on an active assignment is in the audit log with the assignment.
            let unaudited = count(&f,
                "SELECT count(*) FROM ops_staff_schedules s WHERE s.status IN ('scheduled','on_duty') AND s.override_reason IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.table_name = 'ops_staff_schedules' AND l.row_id = s.id
                                   AND l.new_values LIKE '%prop override%')");
            prop_assert_eq!(unaudited, 0, "override not audited after {:?}", op);
        }
        prop_assert!(f.w.app.store().verify_audit().unwrap().ok);
    }
}
