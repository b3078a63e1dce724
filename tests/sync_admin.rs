//! Admin → Sync's commands (issue 13 point 7) against a real PostgreSQL started here, as the
//! desktop runs them (`AppState` functions; only Tauri's IPC is left out): testing the server
//! as its owner (a wrong password is a clear error and changes nothing), enrolling this PC (the
//! device password goes to the keyring — keyring-core's mock store — never to the database),
//! listing the devices, revoking one, and a user who is not an administrator refused.

use std::collections::BTreeMap;

use clinicdesk_api::domain::Role;
use clinicdesk_api::keys::{KeySource, SecretPlace};
use clinicdesk_api::ErrorBody;
use clinicdesk_app_lib::{fields, AppState, DbLocation};
use clinicdesk_pgcluster::PgCluster;

const PW: &str = "correct horse battery";
const OWNER: &str = "cd_owner";
const OWNER_PW: &str = "owner's secret";
const SERVER_DB: &str = "clinicdesk";

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn assert_code<T: std::fmt::Debug>(r: Result<T, ErrorBody>, code: &str) -> ErrorBody {
    let e = r.expect_err("expected an error");
    assert_eq!(e.code, code, "{}", e.message);
    e
}

/// A cluster with SCRAM passwords, the owner role and its database, migrated (as
/// `clinicdesk server init` does); as crates/cli/tests/sync_support.
fn server() -> PgCluster {
    let cluster = PgCluster::start().unwrap();
    let mut su = cluster.connect().unwrap();
    su.batch_execute(&format!(
        "CREATE ROLE {OWNER} LOGIN CREATEROLE PASSWORD '{}'; GRANT pg_signal_backend TO {OWNER};",
        OWNER_PW.replace('\'', "''")
    ))
    .unwrap();
    su.batch_execute(&format!("CREATE DATABASE {SERVER_DB} OWNER {OWNER}"))
        .unwrap();
    std::fs::write(
        cluster.data_dir().join("pg_hba.conf"),
        "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
    )
    .unwrap();
    su.batch_execute("SELECT pg_reload_conf()").unwrap();
    let url = clinicdesk_server::admin::ServerUrl::parse(&format!(
        "postgres://{OWNER}@127.0.0.1:{}/{SERVER_DB}",
        cluster.port()
    ))
    .unwrap();
    clinicdesk_server::migrate(&mut url.connect(None, OWNER_PW).unwrap()).unwrap();
    cluster
}

fn server_devices(cluster: &PgCluster) -> i64 {
    let mut db = cluster
        .config(SERVER_DB)
        .connect(clinicdesk_pgcluster::postgres::NoTls)
        .unwrap();
    db.query_one("SELECT count(*) FROM sync.devices", &[])
        .unwrap()
        .get(0)
}

#[test]
fn admin_sync_tests_the_server_enrols_lists_and_revokes_devices() {
    keyring_core::set_default_store(keyring_core::mock::Store::new().unwrap());
    let cluster = server();
    let url = format!(
        "postgres://{OWNER}@127.0.0.1:{}/{SERVER_DB}",
        cluster.port()
    );
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::new(DbLocation {
        path: dir.path().join("clinicdesk.db"),
        keys: KeySource::Keyring,
    });
    let st = state
        .first_run_setup(
            &fields(map(&[
                ("name", "Calgary"),
                ("code", "CGY"),
                ("timezone", "America/Edmonton"),
            ])),
            "admin",
            PW,
        )
        .unwrap();
    let clinic = st.user.unwrap().roles[0].clinic_id;

    // Connection test: the server's identity and clock; a wrong password is named as such.
    let info = state.sync_test_connection(&url, OWNER_PW).unwrap();
    assert_eq!(info.devices, 0);
    assert!(info.schema_version >= 1, "{info:?}");
    assert!(!info.server_id.is_empty());
    assert!(info.clock_skew_ms.abs() < 60_000, "{info:?}");
    assert!(info.clock_warning.is_none());
    let e = assert_code(
        state.sync_test_connection(&url, "not the password"),
        "sync_owner_password",
    );
    assert!(e.message.contains("password"), "{}", e.message);
    assert!(!e.message.contains("not the password"), "{}", e.message);
    assert_code(
        state.sync_enrol(&url, "not the password", true),
        "sync_owner_password",
    );
    assert_eq!(server_devices(&cluster), 0);
    assert!(!state.sync_status_view().unwrap().enrolled);
    let app = state.app().unwrap();
    let place = SecretPlace::sync(&KeySource::Keyring, &app.store().db_id().unwrap(), None);
    assert_eq!(place.get().unwrap(), None, "no device password kept");
    // Unreachable (nothing listens there) and a bad address.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!(
        "postgres://{OWNER}@127.0.0.1:{}/{SERVER_DB}",
        closed.local_addr().unwrap().port()
    );
    drop(closed);
    assert_code(state.sync_test_connection(&dead, OWNER_PW), "sync_offline");
    // TLS asked of a server that has none: said so, with what to do.
    let e = assert_code(
        state.sync_test_connection(&format!("{url}?sslmode=verify-full"), OWNER_PW),
        "sync_offline",
    );
    assert!(e.message.contains("TLS"), "{}", e.message);
    let e = assert_code(
        state.sync_test_connection("https://example.org", OWNER_PW),
        "sync_bad_url",
    );
    assert!(e.message.contains("postgres://"), "{}", e.message);

    // Enrol (seeding the empty server): the status says so; the password is in the keyring.
    let done = state.sync_enrol(&url, OWNER_PW, true).unwrap();
    assert_eq!(done.clinics, vec![clinic.to_string()]);
    assert!(done.seeded_rows.unwrap() > 0);
    assert!(
        done.password_place.contains("keyring"),
        "{}",
        done.password_place
    );
    assert!(!done.server.contains(OWNER), "{}", done.server);
    let status = state.sync_status_view().unwrap();
    assert!(status.enrolled);
    assert_eq!(status.server.as_deref(), Some(done.server.as_str()));
    assert!(place.describe().contains("keyring"));
    let kept = place
        .get()
        .unwrap()
        .expect("the device password is in the keyring");
    assert_eq!(kept.len(), 64);
    let in_db: i64 = app
        .store()
        .read(|c| -> clinicdesk_store::Result<i64> {
            Ok(c.query_row(
                "SELECT count(*) FROM local_meta WHERE value LIKE '%' || ?1 || '%'",
                [&kept],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(in_db, 0, "the device password is not in the database");
    // Enrolled once only.
    assert_code(state.sync_enrol(&url, OWNER_PW, false), "conflict");

    // A round now works as the device.
    let round = state.sync_now().unwrap();
    assert!(round.server_seq > 0, "{round:?}");

    // Devices: this PC, then revoked.
    let devices = state.sync_devices(&url, OWNER_PW).unwrap();
    assert_eq!(devices.len(), 1);
    let me = &devices[0];
    assert_eq!(me.device_id, done.device_id);
    assert!(me.this_pc && me.revoked_at.is_none());
    assert_eq!(me.clinics, vec![clinic.to_string()]);
    assert!(me.enrolled_at > 0);
    assert_code(
        state.sync_devices(&url, "not the password"),
        "sync_owner_password",
    );
    assert_code(
        state.sync_revoke_device(&url, OWNER_PW, "not-a-device"),
        "invalid",
    );
    let r = state
        .sync_revoke_device(&url, OWNER_PW, &done.device_id)
        .unwrap();
    assert_eq!(r.device_id, done.device_id);
    let devices = state.sync_devices(&url, OWNER_PW).unwrap();
    assert!(devices[0].revoked_at.is_some(), "{devices:?}");
    assert_code(state.sync_now(), "sync_revoked");

    // Not an administrator: refused before anything reaches the server.
    state
        .call(|app, s| {
            let u = app.create_user(s, &fields(map(&[("username", "desk")])), PW)?;
            app.grant_role(s, u.id, clinic, Role::Manager)
        })
        .unwrap();
    state.login("desk", PW).unwrap();
    for e in [
        state.sync_test_connection(&url, OWNER_PW).map(|_| ()),
        state.sync_enrol(&url, OWNER_PW, false).map(|_| ()),
        state.sync_devices(&url, OWNER_PW).map(|_| ()),
        state
            .sync_revoke_device(&url, OWNER_PW, &done.device_id)
            .map(|_| ()),
    ] {
        assert_code(e, "permission_denied");
    }
}
