//! The desktop's background sync loop (`clinicdesk_sync::Runner`, what `src-tauri/sync.rs`
//! starts for an enrolled database) on two PCs' databases against a real PostgreSQL: a local
//! commit on one reaches the other without anyone asking (push after the commit, NOTIFY, pull),
//! the receiving side is told which tables changed, and the loop rides out a server crash.

mod sync_support;

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clinicdesk_api::keys::{KeySource, SecretPlace};
use clinicdesk_api::Store;
use clinicdesk_sync::{Runner, Settings};
use sync_support::*;

fn open(pc: &Pc) -> Arc<Store> {
    Arc::new(Store::open(&pc.db(), &KeySource::File(pc.key())).unwrap())
}

fn runner(store: &Arc<Store>, pc: &Pc) -> (Runner, mpsc::Receiver<Vec<String>>) {
    let place = SecretPlace::sync(&KeySource::File(pc.key()), &store.db_id().unwrap(), None);
    let settings = Settings::of(store, &place).unwrap();
    let (tx, rx) = mpsc::channel();
    let r = Runner::start(store.clone(), settings, move |tables| {
        let _ = tx.send(tables.to_vec());
    });
    (r, rx)
}

/// A local write as the app makes one (captured, in its own transaction).
fn set_phone(store: &Store, patient: &str, phone: &str) {
    store
        .write(None, |tx| {
            tx.execute(
                "UPDATE patients SET phone = ?1, updated_at = updated_at + 1 WHERE id = ?2",
                [phone, patient],
            )
            .map_err(clinicdesk_api::StoreError::from)
        })
        .unwrap();
}

fn phone(store: &Store, patient: &str) -> Option<String> {
    store
        .read(|c| {
            c.query_row("SELECT phone FROM patients WHERE id = ?1", [patient], |r| {
                r.get(0)
            })
            .map_err(clinicdesk_api::StoreError::from)
        })
        .unwrap()
}

/// Wait (bounded) until `b` shows `value`, draining change events; the tables they named.
fn await_phone(
    b: &Store,
    rx: &mpsc::Receiver<Vec<String>>,
    patient: &str,
    value: &str,
) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut tables = Vec::new();
    while phone(b, patient).as_deref() != Some(value) {
        assert!(Instant::now() < deadline, "{value} never reached b");
        if let Ok(t) = rx.recv_timeout(Duration::from_millis(50)) {
            tables.extend(t);
        }
    }
    while let Ok(t) = rx.try_recv() {
        tables.extend(t);
    }
    tables
}

#[test]
fn a_commit_on_one_pc_reaches_the_other_by_itself_and_survives_a_server_crash() {
    let mut s = Scene::new(None);
    let p = s.patient(5);
    let (a, b) = (open(&s.a), open(&s.b));
    let (ra, _rxa) = runner(&a, &s.a);
    let (rb, rxb) = runner(&b, &s.b);

    set_phone(&a, &p, "+1 403 555 0155");
    let tables = await_phone(&b, &rxb, &p, "+1 403 555 0155");
    assert!(tables.iter().any(|t| t == "patients"), "{tables:?}");
    let st = ra.status().unwrap();
    assert!(st.enrolled);

    // The server crashes and comes back: both loops reconnect on their own.
    s.cluster.restart_immediate().unwrap();
    s.su = s
        .cluster
        .config(SERVER_DB)
        .connect(clinicdesk_pgcluster::postgres::NoTls)
        .unwrap();
    set_phone(&b, &p, "+1 403 555 0166");
    let deadline = Instant::now() + Duration::from_secs(90);
    while phone(&a, &p).as_deref() != Some("+1 403 555 0166") {
        assert!(
            Instant::now() < deadline,
            "the change never came back after the crash"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (sa, sb) = (ra.status().unwrap(), rb.status().unwrap());
        if sa.pending_changes == 0 && sb.pending_changes == 0 && sa.online && sb.online {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "queues never emptied: {sa:?} {sb:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    ra.stop();
    rb.stop();
    drop((a, b));
    s.heal_and_check();
}
