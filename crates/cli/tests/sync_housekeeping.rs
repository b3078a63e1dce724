//! Housekeeping on several PCs (SYNC.md §5 items 2 and 7; issue 13 point 4): every PC runs
//! the periodic job — credential expiries, alerts, coverage needs for shifts in a lapse, the
//! hourly capacity snapshot — and two PCs that run it offline over the same data derive the
//! same rows (ids named by their natural keys), so after sync there is one alert per
//! credential, threshold and expiry and one open coverage need per assignment and reason, on
//! both PCs and the server. Immutable rows (capacity snapshots, KPI events) cannot merge: both
//! PCs' are kept, and the snapshot list shows one per clinic and hour. Separate `clinicdesk`
//! processes, a real PostgreSQL.

mod sync_support;

use sync_support::*;

/// Both PCs run housekeeping 14 days ahead (the demo's credentials then cross alert
/// thresholds, some expire, and shifts fall into lapses).
const AHEAD_MS: &str = "1209600000";

fn housekeeping(pc: &Pc) -> serde_json::Value {
    let o = pc.cmd(
        &["--user", "admin", "housekeeping"],
        &[("CLINICDESK_CLOCK_SKEW_MS", AHEAD_MS)],
    );
    assert!(
        o.status.success(),
        "{}: {}",
        pc.name,
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Rows sharing a natural key that must be unique (0 when the PCs converged).
fn duplicates(pc: &Pc) -> Vec<(String, i64)> {
    let c = pc.raw();
    [
        (
            "alerts",
            "SELECT count(*) FROM (SELECT 1 FROM ops_credential_alerts WHERE deleted_at IS NULL
               GROUP BY credential_id, threshold_days, expiry_date HAVING count(*) > 1)",
        ),
        (
            "open coverage needs",
            "SELECT count(*) FROM (SELECT 1 FROM ops_shift_coverage_needs
               WHERE status = 'open' AND schedule_id IS NOT NULL AND deleted_at IS NULL
               GROUP BY schedule_id, reason HAVING count(*) > 1)",
        ),
    ]
    .into_iter()
    .map(|(what, sql)| {
        (
            what.to_string(),
            c.query_row(sql, [], |r| r.get(0)).unwrap(),
        )
    })
    .collect()
}

fn count(pc: &Pc, sql: &str) -> i64 {
    pc.raw().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn housekeeping_on_two_offline_pcs_converges_to_one_row_per_key() {
    let mut s = Scene::new(None);
    s.heal_and_check();
    let alerts = "SELECT count(*) FROM ops_credential_alerts";
    let before = count(&s.a, alerts);
    // Offline, each PC runs the job over the same data.
    let ra = housekeeping(&s.a);
    let rb = housekeeping(&s.b);
    for (pc, r) in [("a", &ra), ("b", &rb)] {
        let c = &r["credentials"];
        assert!(
            c["alerts_raised"].as_u64().unwrap() > 0
                && c["kpi_events"].as_u64().unwrap() > 0
                && c["coverage_needs_raised"].as_u64().unwrap() > 0
                && r["capacity_snapshots"].as_u64().unwrap() > 0,
            "{pc}: the job must derive rows for the test to mean anything: {r}"
        );
    }
    // Each PC derived the same rows: the same ids.
    let ids = |pc: &Pc| -> Vec<String> {
        let c = pc.raw();
        let mut st = c
            .prepare("SELECT id FROM ops_credential_alerts ORDER BY id")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(ids(&s.a), ids(&s.b));
    let raised = count(&s.a, alerts) - before;
    assert_eq!(raised, ra["credentials"]["alerts_raised"].as_i64().unwrap());

    // Sync: every queue drains, every replica equals the server, and nothing is doubled.
    s.heal_and_check();
    for pc in [&s.a, &s.b] {
        for (what, n) in duplicates(pc) {
            assert_eq!(n, 0, "{}: {what} doubled", pc.name);
        }
        assert_eq!(count(pc, alerts), before + raised, "{}", pc.name);
    }
    // Both PCs' snapshots of the hour are kept (immutable rows); the list shows one.
    let clinic = s.a.one("SELECT id FROM clinics ORDER BY id LIMIT 1");
    for pc in [&s.a, &s.b] {
        assert!(
            count(
                pc,
                "SELECT count(*) FROM ops_capacity_snapshots WHERE captured_by IS NULL"
            ) >= 2,
            "{}: both PCs' snapshots arrived",
            pc.name
        );
        let listed = pc.admin(&["capacity", "list", "--clinic", &clinic, "--limit", "1000"]);
        let mut hours: Vec<(String, i64)> = listed
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["captured_by"].is_null())
            .map(|r| {
                (
                    r["snapshot_date"].as_str().unwrap().to_string(),
                    r["snapshot_hour"].as_i64().unwrap(),
                )
            })
            .collect();
        let n = hours.len();
        hours.sort();
        hours.dedup();
        assert_eq!(
            hours.len(),
            n,
            "{}: one housekeeping snapshot per hour",
            pc.name
        );
    }
    let server_alerts: i64 =
        s.su.query_one("SELECT count(*) FROM cd.ops_credential_alerts", &[])
            .unwrap()
            .get(0);
    assert_eq!(server_alerts, before + raised);

    // Again on both: nothing new anywhere.
    for pc in [&s.a, &s.b] {
        let r = housekeeping(pc);
        assert_eq!(r["credentials"]["alerts_raised"], 0, "{}: {r}", pc.name);
        assert_eq!(
            r["credentials"]["coverage_needs_raised"], 0,
            "{}: {r}",
            pc.name
        );
    }
    s.heal_and_check();
}
