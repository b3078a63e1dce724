//! The merge and the push on a real PostgreSQL 15 (SYNC.md §3.2, §4.1, §6):
//!
//! - the generated `sync.merge_<table>` functions agree with the Rust merge model
//!   (`clinicdesk_wire::apply`) on random change sequences — values, `_v0`, the sparse `_v`,
//!   whether the row changed, and no rewrite (`_seq`) when it did not;
//! - `sync.push` applies a batch once: a replay returns the stored ack and changes nothing,
//!   another digest for the same sequence numbers is `clone_or_restore_detected`, a gap is
//!   `sequence_gap`, a revoked device gets 28000, malformed input is refused with nothing
//!   changed, a far-future version is clamped, and a device cannot write another clinic's rows.

use std::cell::RefCell;

use anyhow::{anyhow, Result};
use clinicdesk_pgcluster::postgres::{Client, Error as PgError, GenericClient, NoTls};
use clinicdesk_pgcluster::PgCluster;
use clinicdesk_server::push::{CLONE_OR_RESTORE, MALFORMED, SEQUENCE_GAP};
use clinicdesk_server::schema;
use clinicdesk_store::registry;
use clinicdesk_wire::merge::{Lattice, WAITLIST_OFFER_OUTCOME};
use clinicdesk_wire::{
    apply, Change, ChangeOp, DeviceId, Hlc, MergeSchema, Rank, RowState, Version,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};
use uuid::Uuid;

const DB: &str = "clinicdesk";
const OWNER: &str = "cd_owner";
const CLINIC_A: &str = "0190a000-0000-7000-8000-00000000000a";
const CLINIC_B: &str = "0190a000-0000-7000-8000-00000000000b";

/// A cluster with the server migrations applied by a non-superuser owner.
fn server() -> Result<(PgCluster, Client)> {
    let cluster = PgCluster::start()?;
    let mut su = cluster.connect()?;
    su.batch_execute(&format!("CREATE ROLE {OWNER} LOGIN CREATEROLE"))?;
    su.batch_execute(&format!("CREATE DATABASE {DB} OWNER {OWNER}"))?;
    let mut owner = connect_as(&cluster, OWNER)?;
    assert_eq!(
        clinicdesk_server::migrate(&mut owner)?,
        [1, 2, 3, 4, 5, 6, 7, 8]
    );
    Ok((cluster, owner))
}

fn connect_as(cluster: &PgCluster, role: &str) -> Result<Client> {
    Ok(cluster.config(DB).user(role).connect(NoTls)?)
}

/// Cases per property: more under CI (`CI=true`), as `crates/api/tests/fuzz_inputs.rs` does.
fn cases(local: u32, ci: u32) -> u32 {
    if let Some(n) = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        ci
    } else {
        local
    }
}

// The SQL merge agrees with the model ------------------------------------------------------------

/// A table the property runs on: its mirror columns, the groups an update may carry and how
/// to draw a value for each (values that satisfy the table's CHECKs).
struct Table {
    name: &'static str,
    lattice: Option<Lattice>,
    /// An insert's columns besides `id`, given the drawn numbers.
    insert: fn(&[i64; 4]) -> Value,
    /// The groups an update may carry, as column → value given the drawn numbers.
    updates: &'static [fn(&[i64; 4]) -> Value],
}

fn text(prefix: &str, n: i64) -> Value {
    json!(format!("{prefix}{n}"))
}

fn clinic(n: i64) -> Value {
    json!(if n % 2 == 0 { CLINIC_A } else { CLINIC_B })
}

const BLOCKS: Table = Table {
    name: "availability_blocks",
    lattice: None,
    insert: |n| {
        json!({"clinic_id": clinic(n[0]), "provider_id": null, "start_at": n[1], "end_at": n[1] + 1 + n[2],
               "is_available": 1, "block_reason": null, "created_by": null, "created_at": n[3],
               "updated_at": n[3], "deleted_at": null})
    },
    updates: &[
        |n| json!({"start_at": n[0], "end_at": n[0] + 1 + n[1]}),
        |n| {
            if n[0] % 2 == 0 {
                json!({"is_available": 1, "block_reason": if n[1] % 2 == 0 { Value::Null } else { text("r", n[2]) }})
            } else {
                json!({"is_available": 0, "block_reason": text("r", n[2])})
            }
        },
        |n| json!({"updated_at": n[0]}),
        |n| json!({"deleted_at": if n[0] % 2 == 0 { Value::Null } else { json!(n[1]) }}),
        |n| json!({"clinic_id": clinic(n[0])}),
    ],
};

const OUTCOMES: &[&str] = &["pending", "accepted", "declined", "expired", "withdrawn"];

const OFFERS: Table = Table {
    name: "waitlist_offers",
    lattice: Some(WAITLIST_OFFER_OUTCOME),
    insert: |n| {
        json!({"clinic_id": clinic(n[0]), "waitlist_id": Uuid::from_u128(77).to_string(),
               "provider_id": Uuid::from_u128(78).to_string(), "room_id": null,
               "start_at": n[1], "end_at": n[1] + 1 + n[2], "expires_at": n[3],
               "outcome": OUTCOMES[(n[2] % 5) as usize], "decided_at": null, "appointment_id": null,
               "created_at": n[3], "updated_at": n[3], "deleted_at": null})
    },
    updates: &[
        |n| json!({"start_at": n[0], "end_at": n[0] + 1 + n[1]}),
        |n| {
            json!({"outcome": OUTCOMES[(n[0] % 5) as usize], "decided_at": n[1],
                   "appointment_id": if n[2] % 2 == 0 { Value::Null } else { json!(Uuid::from_u128(n[2] as u128).to_string()) }})
        },
        |n| json!({"updated_at": n[0]}),
        |n| json!({"deleted_at": if n[0] % 2 == 0 { Value::Null } else { json!(n[1]) }}),
    ],
};

impl Table {
    fn schema(&self) -> Result<MergeSchema> {
        let mirror = schema::mirrors(None)?
            .into_iter()
            .find(|m| m.name == self.name)
            .ok_or_else(|| anyhow!("no mirror {}", self.name))?;
        let columns: Vec<&str> = mirror.columns.iter().map(|c| c.name.as_str()).collect();
        let spec = registry::spec(self.name).ok_or_else(|| anyhow!("no spec {}", self.name))?;
        let s = MergeSchema::new(self.name, &columns, spec.merge_groups, spec.immutable)?;
        Ok(match self.lattice {
            Some(l) => s.with_lattice(l)?,
            None => s,
        })
    }
}

/// One drawn step: a new change, or a replay of an earlier one.
#[derive(Debug, Clone)]
enum Step {
    Change {
        row: u8,
        /// None: an insert; Some(i): an update of group set `i`.
        update: Option<usize>,
        n: [i64; 4],
        rank: bool,
        millis: i64,
        clamp: i64,
        counter: u32,
        device: u8,
    },
    Replay(usize),
}

fn steps(groups: usize) -> impl Strategy<Value = Vec<Step>> {
    let change = (
        0u8..2,
        prop::option::weighted(0.7, 0..groups),
        [0i64..4, 0i64..3, 0i64..4, 0i64..5],
        prop::bool::weighted(0.1),
        0i64..6,
        prop_oneof![4 => Just(0i64), 1 => 1i64..3],
        0u32..2,
        1u8..4,
    )
        .prop_map(
            |(row, update, n, rank, millis, clamp, counter, device)| Step::Change {
                row,
                update,
                n,
                rank,
                millis,
                clamp,
                counter,
                device,
            },
        );
    prop::collection::vec(
        prop_oneof![5 => change, 1 => (0usize..16).prop_map(Step::Replay)],
        1..14,
    )
}

fn device(n: u8) -> DeviceId {
    DeviceId::parse(&Uuid::from_u128(0xde00 + u128::from(n)).to_string()).unwrap()
}

/// The changes the steps draw: a row's first change is its insert (the server never receives
/// an update before the insert: a device only edits rows it has), a replay repeats an earlier
/// change exactly.
fn changes(table: &Table, steps: &[Step]) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    let mut inserted = [false; 2];
    for s in steps {
        match s {
            Step::Replay(i) => {
                if let Some(c) = out.get(*i).cloned() {
                    out.push(c);
                }
            }
            Step::Change {
                row,
                update,
                n,
                rank,
                millis,
                clamp,
                counter,
                device: d,
            } => {
                let row_id =
                    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(*row));
                let (op, columns) = match update {
                    Some(g) if inserted[*row as usize] => {
                        (ChangeOp::Update, (table.updates[*g])(n))
                    }
                    _ => {
                        let mut cols = (table.insert)(n);
                        cols["id"] = json!(row_id.to_string());
                        if cols.get("waitlist_id").is_some() {
                            // ux_waitlist_offers_slot: the two rows are offers of two entries.
                            cols["waitlist_id"] =
                                json!(Uuid::from_u128(0x77 + u128::from(*row)).to_string());
                        }
                        (ChangeOp::Insert, cols)
                    }
                };
                inserted[*row as usize] = true;
                let original = Hlc {
                    millis: 1_767_225_600_000 + millis,
                    counter: *counter,
                };
                let clamped = Hlc {
                    millis: original.millis - clamp,
                    counter: if *clamp > 0 { 0 } else { *counter },
                };
                let rank = if *rank { Rank::Verdict } else { Rank::Device };
                let version = Version::new(rank, clamped, original, device(*d)).unwrap();
                out.push(Change {
                    table: table.name.into(),
                    row_id,
                    op,
                    columns: columns.as_object().unwrap().clone(),
                    version,
                    device: device(*d),
                    seq: out.len() as i64 + 1,
                });
            }
        }
    }
    out
}

/// The row as the server holds it: (values, _v0, _v, _seq), or None.
type PgRow = (Map<String, Value>, String, Value, i64);

fn pg_row(c: &mut impl GenericClient, table: &str, id: Uuid) -> Result<Option<PgRow>> {
    let rows = c.query(
        &format!("SELECT to_jsonb(t)::text FROM cd.{table} t WHERE id = $1::text::uuid"),
        &[&id.to_string()],
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let Value::Object(mut m) = json_of(r.get(0)) else {
        return Err(anyhow!("not an object"));
    };
    let v0 = m
        .remove("_v0")
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let v = m.remove("_v").unwrap_or(Value::Null);
    let seq = m.remove("_seq").and_then(|v| v.as_i64()).unwrap_or(-1);
    m.retain(|k, _| !k.starts_with('_'));
    Ok(Some((m, v0, v, seq)))
}

fn model_versions(s: &RowState) -> Value {
    Value::Object(
        s.versions()
            .iter()
            .map(|(g, v)| (g.clone(), json!(v.encode())))
            .collect(),
    )
}

fn merge_agrees(
    client: &RefCell<Client>,
    table: &Table,
    schema: &MergeSchema,
    steps: &[Step],
) -> Result<(), TestCaseError> {
    let fail = |e: anyhow::Error| TestCaseError::fail(format!("{e:#}"));
    let changes = changes(table, steps);
    let mut c = client.borrow_mut();
    let mut tx = c.transaction().map_err(|e| fail(e.into()))?;
    let mut model = [RowState::default(), RowState::default()];
    for (i, ch) in changes.iter().enumerate() {
        let k = (ch.row_id.as_u128() & 1) as usize;
        let want = apply(&mut model[k], ch, schema).map_err(|e| fail(e.into()))?;
        let before = pg_row(&mut tx, table.name, ch.row_id).map_err(fail)?;
        // Each change its own author and push sequence value.
        let by = Uuid::from_u128(0xb0_0000 + i as u128).to_string();
        let stamp = 1000 + i as i64;
        let got: bool = tx
            .query_one(
                &format!(
                    "SELECT sync.merge_{}($1::text::uuid, $2, $3::text::jsonb, $4, $5::text::uuid, $6::text::uuid, $7)",
                    table.name
                ),
                &[
                    &ch.row_id.to_string(),
                    &ch.op.as_str(),
                    &Value::Object(ch.columns.clone()).to_string(),
                    &ch.version.encode(),
                    &ch.device.to_string(),
                    &by,
                    &stamp,
                ],
            )
            .map_err(|e| fail(e.into()))?
            .get(0);
        prop_assert_eq!(got, want, "changed? {:?}", ch);
        let after = pg_row(&mut tx, table.name, ch.row_id).map_err(fail)?;
        let (values, v0, v, seq) = after.ok_or_else(|| TestCaseError::fail("row missing"))?;
        let author: Option<String> = tx
            .query_one(
                &format!(
                    "SELECT _by::text FROM cd.{} WHERE id = $1::text::uuid",
                    table.name
                ),
                &[&ch.row_id.to_string()],
            )
            .map_err(|e| fail(e.into()))?
            .get(0);
        if got {
            prop_assert_eq!(seq, stamp, "a changed row takes the push's value: {:?}", ch);
        } else {
            prop_assert_eq!(
                Some(seq),
                before.as_ref().map(|b| b.3),
                "rewritten without a change: {:?}",
                ch
            );
        }
        // The author is the last change whose values were taken (an insert's, or a group's win).
        if before.as_ref().map(|b| &b.0) != Some(&values) {
            prop_assert_eq!(author.as_deref(), Some(by.as_str()), "_by after {:?}", ch);
        }
        let m = &model[k];
        prop_assert_eq!(&values, m.values(), "values after {:?}", ch);
        prop_assert_eq!(Some(v0), m.v0().map(|v| v.encode()), "_v0 after {:?}", ch);
        prop_assert_eq!(v, model_versions(m), "_v after {:?}", ch);
    }
    tx.rollback().map_err(|e| fail(e.into()))?;
    Ok(())
}

#[test]
fn the_sql_merge_agrees_with_the_model_on_random_inputs() -> Result<()> {
    let (_cluster, owner) = server()?;
    let client = RefCell::new(owner);
    for table in [&BLOCKS, &OFFERS] {
        let schema = table.schema()?;
        let mut runner = TestRunner::new(Config {
            cases: cases(32, 256),
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&steps(table.updates.len()), |s| {
                merge_agrees(&client, table, &schema, &s)
            })
            .map_err(|e| anyhow!("{}: {e}", table.name))?;
    }
    let mut owner = client.into_inner();
    immutable_tables_agree(&mut owner)
}

/// Immutable tables (appointment_status_history): an insert, the same insert again (a no-op,
/// or a greater `_v0`), and refusals of an update or another value — as the model does.
fn immutable_tables_agree(c: &mut Client) -> Result<()> {
    let t = "appointment_status_history";
    let mirror = schema::mirrors(None)?
        .into_iter()
        .find(|m| m.name == t)
        .ok_or_else(|| anyhow!("no mirror {t}"))?;
    let columns: Vec<&str> = mirror.columns.iter().map(|c| c.name.as_str()).collect();
    let schema = MergeSchema::new(t, &columns, &[], true)?;
    let id = Uuid::from_u128(0x5151);
    let cols = json!({"id": id.to_string(), "clinic_id": CLINIC_A, "appointment_id": CLINIC_B,
        "from_status": null, "to_status": "pending", "changed_at": 5, "changed_by": null,
        "reason": null, "is_correction": 0, "created_at": 5, "updated_at": 5, "deleted_at": null});
    let change = |op: ChangeOp, cols: &Value, millis: i64| {
        let h = Hlc { millis, counter: 0 };
        Change {
            table: t.into(),
            row_id: id,
            op,
            columns: cols.as_object().unwrap().clone(),
            version: Version::new(Rank::Device, h, h, device(1)).unwrap(),
            device: device(1),
            seq: 1,
        }
    };
    let mut other = cols.clone();
    other["reason"] = json!("edited");
    let mut tx = c.transaction()?;
    let mut model = RowState::default();
    for (ch, ok) in [
        (change(ChangeOp::Insert, &cols, 10), true),
        (change(ChangeOp::Insert, &cols, 10), true),
        (change(ChangeOp::Insert, &cols, 5), true),
        (change(ChangeOp::Insert, &cols, 20), true),
        (change(ChangeOp::Update, &json!({"reason": "x"}), 30), false),
        (change(ChangeOp::Insert, &other, 40), false),
    ] {
        let want = apply(&mut model, &ch, &schema);
        assert_eq!(want.is_ok(), ok, "{ch:?}");
        tx.batch_execute("SAVEPOINT s")?;
        let got = tx.query_one(
            "SELECT sync.merge_appointment_status_history($1::text::uuid, $2, $3::text::jsonb, $4, $5::text::uuid, NULL, 1)",
            &[
                &id.to_string(),
                &ch.op.as_str(),
                &Value::Object(ch.columns.clone()).to_string(),
                &ch.version.encode(),
                &ch.device.to_string(),
            ],
        );
        match (want, got) {
            (Ok(w), Ok(g)) => assert_eq!(g.get::<_, bool>(0), w, "{ch:?}"),
            (Err(_), Err(e)) => {
                assert_eq!(code(&e), MALFORMED, "{e}");
                tx.batch_execute("ROLLBACK TO SAVEPOINT s")?;
            }
            (w, g) => panic!("model {w:?}, server {g:?}"),
        }
        let (values, v0, v, _) = pg_row(&mut tx, t, id)?.ok_or_else(|| anyhow!("no row"))?;
        assert_eq!(&values, model.values());
        assert_eq!(Some(v0), model.v0().map(|v| v.encode()));
        assert_eq!(v, json!({}));
    }
    tx.rollback()?;
    Ok(())
}

// The push -------------------------------------------------------------------------------------

const DEV_A: &str = "0190a000-0000-7000-8000-0000000000aa";
const INC: &str = "0190a000-0000-7000-8000-0000000001c1";

fn seed(owner: &mut Client) -> Result<()> {
    let v = "'0|1|1|dev', 0";
    owner.batch_execute(&format!(
        "BEGIN;
        INSERT INTO cd.clinics (id, name, code, timezone, reminder_offsets_minutes, idle_lock_minutes, created_at, updated_at, _v0, _seq) VALUES
          ('{CLINIC_A}', 'A', 'AAA', 'UTC', '[]', 15, 0, 0, {v}), ('{CLINIC_B}', 'B', 'BBB', 'UTC', '[]', 15, 0, 0, {v});
        INSERT INTO cd.availability_blocks (id, clinic_id, start_at, end_at, is_available, created_at, updated_at, _v0, _seq) VALUES
          ('0190a000-0000-7000-8000-0000000000b0', '{CLINIC_B}', 0, 10, 1, 0, 0, {v});
        INSERT INTO sync.devices (device_id, role_name, clinics, enrolled_at, revoked_at) VALUES
          ('{DEV_A}', 'dev_a', ARRAY['{CLINIC_A}']::uuid[], now(), NULL),
          ('0190a000-0000-7000-8000-0000000000cc', 'dev_r', ARRAY['{CLINIC_A}']::uuid[], now(), now());
        COMMIT;"
    ))?;
    Ok(())
}

/// A server with the seed rows and the device roles `dev_a` (enrolled for clinic A),
/// `dev_r` (revoked) and `stranger` (no device); connected as the owner and as `dev_a`.
fn push_server() -> Result<(PgCluster, Client, Client)> {
    let (cluster, mut owner) = server()?;
    let mut su = cluster.config(DB).connect(NoTls)?;
    for dev in ["dev_a", "dev_r", "stranger"] {
        let group = if dev == "stranger" {
            ""
        } else {
            " IN ROLE clinicdesk_device"
        };
        su.batch_execute(&format!("CREATE ROLE {dev} LOGIN{group}"))?;
    }
    su.batch_execute("GRANT USAGE ON SCHEMA sync TO stranger")?;
    seed(&mut owner)?;
    let a = connect_as(&cluster, "dev_a")?;
    Ok((cluster, owner, a))
}

fn block(seq: i64, row: u128, op: &str, columns: Value, hlc: &str) -> Value {
    json!({"seq": seq, "table": "availability_blocks", "row_id": Uuid::from_u128(row).to_string(),
           "op": op, "columns": columns, "hlc": hlc, "device": DEV_A, "at_ms": 0})
}

const ROW1: u128 = 0x0190a000_0000_7000_8000_000000000a01;

fn insert_block(seq: i64, row: u128, clinic: &str, hlc: &str) -> Value {
    block(
        seq,
        row,
        "insert",
        json!({"id": Uuid::from_u128(row).to_string(), "clinic_id": clinic, "provider_id": null,
               "start_at": 100, "end_at": 200, "is_available": 1, "block_reason": null,
               "created_by": null, "created_at": 1, "updated_at": 1, "deleted_at": null}),
        hlc,
    )
}

fn digest(n: u8) -> Vec<u8> {
    vec![n; 32]
}

fn push(
    c: &mut Client,
    first: i64,
    last: i64,
    digest: &[u8],
    changes: &Value,
) -> Result<Value, PgError> {
    c.query_one(
        "SELECT sync.push($1::text::uuid, $2, $3, $4, $5::text::jsonb)::text",
        &[&INC, &first, &last, &digest, &changes.to_string()],
    )
    .map(|r| json_of(r.get(0)))
}

fn json_of(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn code(e: &PgError) -> String {
    e.code().map(|c| c.code().to_string()).unwrap_or_default()
}

/// Everything a push can change, to show that a refused one changed nothing.
fn snapshot(owner: &mut Client) -> Result<Value> {
    let text: String = owner
        .query_one(
            "SELECT jsonb_build_array(
                (SELECT seq FROM sync.clock),
                (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY id), '[]') FROM cd.availability_blocks t),
                (SELECT coalesce(jsonb_agg(to_jsonb(i) ORDER BY incarnation), '[]') FROM sync.incarnations i),
                (SELECT count(*) FROM sync.batches))::text",
            &[],
        )?
        .get(0);
    Ok(json_of(text))
}

#[test]
fn push_applies_a_batch_once_and_refuses_what_it_must_with_nothing_changed() -> Result<()> {
    let (cluster, mut owner, mut a) = push_server()?;

    // A batch applies: an insert and an update of one whole group.
    let batch = json!([
        insert_block(1, ROW1, CLINIC_A, "001767225600000-00000000"),
        block(
            2,
            ROW1,
            "update",
            json!({"is_available": 0, "block_reason": "lunch"}),
            "001767225600001-00000000"
        ),
    ]);
    let ack = push(&mut a, 1, 2, &digest(1), &batch)?;
    assert_eq!(ack["applied"], 2);
    assert_eq!(ack["last_seq"], 2);
    let row = |o: &mut Client| -> Result<Value> {
        let text: String = o
            .query_one(
                "SELECT to_jsonb(t)::text FROM cd.availability_blocks t WHERE id = $1::text::uuid",
                &[&Uuid::from_u128(ROW1).to_string()],
            )?
            .get(0);
        Ok(json_of(text))
    };
    let r = row(&mut owner)?;
    assert_eq!(r["block_reason"], "lunch");
    assert_eq!(r["_dev"], DEV_A);
    assert_eq!(
        r["_v0"],
        format!("0|001767225600000-00000000|001767225600000-00000000|{DEV_A}")
    );
    assert_eq!(
        r["_v"],
        json!({"is_available": format!("0|001767225600001-00000000|001767225600001-00000000|{DEV_A}")})
    );
    let before = snapshot(&mut owner)?;

    // The same batch again (the ack was lost): the same ack, nothing applied twice.
    assert_eq!(push(&mut a, 1, 2, &digest(1), &batch)?, ack);
    assert_eq!(snapshot(&mut owner)?, before);

    // The same sequence numbers with other contents: a restored backup or a cloned disk.
    let e = push(&mut a, 1, 2, &digest(2), &batch).unwrap_err();
    assert_eq!(code(&e), CLONE_OR_RESTORE, "{e}");
    let e = push(&mut a, 2, 3, &digest(3), &batch).unwrap_err();
    assert_eq!(code(&e), CLONE_OR_RESTORE, "reused seq 2: {e}");
    // A gap.
    let next =
        |seq: i64, hlc: &str| json!([block(seq, ROW1, "update", json!({"updated_at": seq}), hlc)]);
    let e = push(
        &mut a,
        4,
        4,
        &digest(4),
        &next(4, "001767225600002-00000000"),
    )
    .unwrap_err();
    assert_eq!(code(&e), SEQUENCE_GAP, "{e}");
    assert_eq!(snapshot(&mut owner)?, before);

    // A revoked device, and a role that is no device, cannot push.
    let mut r = connect_as(&cluster, "dev_r")?;
    let e = push(
        &mut r,
        1,
        1,
        &digest(5),
        &next(1, "001767225600002-00000000"),
    )
    .unwrap_err();
    assert_eq!(code(&e), "28000", "{e}");
    let mut stranger = connect_as(&cluster, "stranger")?;
    let e = push(
        &mut stranger,
        1,
        1,
        &digest(5),
        &next(1, "001767225600002-00000000"),
    )
    .unwrap_err();
    assert_eq!(code(&e), "42501", "{e}");
    // Devices call push, not the merge functions.
    let e = a
        .batch_execute(&format!(
            "SELECT sync.merge_availability_blocks('{}', 'update', '{{\"updated_at\": 9}}', '1|999999999999999-00000000|999999999999999-00000000|{DEV_A}', '{DEV_A}', NULL, 1)",
            Uuid::from_u128(ROW1)
        ))
        .unwrap_err();
    assert_eq!(code(&e), "42501", "{e}");
    assert_eq!(snapshot(&mut owner)?, before);

    // Malformed input: a clear error, nothing changed (the good change before it rolled back too).
    let good = block(
        3,
        ROW1,
        "update",
        json!({"updated_at": 3}),
        "001767225600002-00000000",
    );
    let malformed = [
        (
            block(4, ROW1, "update", json!({"updated_at": 4}), "x"),
            "HLC",
        ),
        (
            json!({"seq": 4, "table": "nope", "row_id": Uuid::from_u128(ROW1).to_string(), "op": "update",
                   "columns": {"updated_at": 4}, "hlc": "001767225600003-00000000"}),
            "not a replicated table",
        ),
        (
            block(
                4,
                ROW1,
                "update",
                json!({"nope": 4}),
                "001767225600003-00000000",
            ),
            "not a replicated column",
        ),
        (
            block(
                4,
                ROW1,
                "update",
                json!({"updated_at": "soon"}),
                "001767225600003-00000000",
            ),
            "is not a value of the bigint column",
        ),
        (
            block(
                4,
                ROW1,
                "update",
                json!({"updated_at": 4.5}),
                "001767225600003-00000000",
            ),
            "is not a value of the bigint column",
        ),
        (
            block(
                4,
                ROW1,
                "update",
                json!({"start_at": 4}),
                "001767225600003-00000000",
            ),
            "whole merge groups",
        ),
        (
            block(
                4,
                ROW1,
                "delete",
                json!({"deleted_at": 4}),
                "001767225600003-00000000",
            ),
            "not insert or update",
        ),
        (
            block(
                4,
                ROW1,
                "update",
                json!({"start_at": 9, "end_at": 1}),
                "001767225600003-00000000",
            ),
            "ck_availability_blocks_2",
        ),
    ];
    // An author that is not a uuid.
    let authored = |by: Value| {
        let mut b = block(
            4,
            ROW1,
            "update",
            json!({"updated_at": 4}),
            "001767225600003-00000000",
        );
        b["by"] = by;
        b
    };
    let malformed: Vec<(Value, &str)> = malformed
        .into_iter()
        .chain([
            (authored(json!(42)), "malformed change after seq 3"),
            (authored(json!("nobody")), "author"),
        ])
        .collect();
    for (bad, why) in &malformed {
        let e = push(&mut a, 3, 4, &digest(6), &json!([good, bad])).unwrap_err();
        let msg = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_default();
        assert!(msg.contains(why), "{bad}: {e}");
        assert!(code(&e) == MALFORMED || code(&e) == "23514", "{bad}: {e}");
        assert_eq!(snapshot(&mut owner)?, before, "{bad}");
    }
    for (first, last, d, changes) in [
        (3, 3, digest(6), json!({"not": "an array"})),
        (3, 3, vec![1u8; 5], json!([good])),
        (3, 4, digest(6), json!([good])),
        (3, 3, digest(6), json!([])),
    ] {
        let e = push(&mut a, first, last, &d, &changes).unwrap_err();
        assert_eq!(code(&e), MALFORMED, "{changes}: {e}");
        assert_eq!(snapshot(&mut owner)?, before, "{changes}");
    }

    // Another clinic's rows: not through push, neither a new one nor an existing one.
    let theirs = Uuid::from_u128(0x0190a000_0000_7000_8000_0000000000b0);
    for bad in [
        insert_block(
            3,
            0x0190a000_0000_7000_8000_000000000a02,
            CLINIC_B,
            "001767225600002-00000000",
        ),
        block(
            3,
            theirs.as_u128(),
            "update",
            json!({"updated_at": 3}),
            "001767225600002-00000000",
        ),
        block(
            3,
            ROW1,
            "update",
            json!({"clinic_id": CLINIC_B}),
            "001767225600002-00000000",
        ),
    ] {
        let e = push(&mut a, 3, 3, &digest(7), &json!([bad])).unwrap_err();
        assert!(code(&e) == "42501" || code(&e) == MALFORMED, "{bad}: {e}");
        assert_eq!(snapshot(&mut owner)?, before, "{bad}");
    }

    // A version far in the future is clamped to server now + 2 min, not refused; the original
    // HLC is kept as the second key.
    let far = "999999999999999-00000007";
    let ack = push(
        &mut a,
        3,
        3,
        &digest(8),
        &json!([block(3, ROW1, "update", json!({"updated_at": 3}), far)]),
    )?;
    assert_eq!(ack["applied"], 1);
    let r = row(&mut owner)?;
    assert_eq!(r["updated_at"], 3);
    let v = r["_v"]["updated_at"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let parts: Vec<&str> = v.split('|').collect();
    assert_eq!(parts.len(), 4, "{v}");
    assert_eq!((parts[0], parts[2], parts[3]), ("0", far, DEV_A), "{v}");
    let clamped: i64 = parts[1][..15].parse()?;
    let limit: i64 = owner
        .query_one(
            "SELECT (floor(extract(epoch FROM clock_timestamp()) * 1000))::bigint + 120000",
            &[],
        )?
        .get(0);
    assert!(clamped <= limit && clamped < 999_999_999_999_999, "{v}");
    assert!(parts[1].ends_with("-00000000"), "{v}");
    // The next batch follows on; an older edit of another group still merges, one of the
    // clamped group loses to it.
    let ack = push(
        &mut a,
        4,
        5,
        &digest(9),
        &json!([
            block(
                4,
                ROW1,
                "update",
                json!({"deleted_at": 4}),
                "001767225600005-00000000"
            ),
            block(
                5,
                ROW1,
                "update",
                json!({"updated_at": 5}),
                "001767225600006-00000000"
            ),
        ]),
    )?;
    assert_eq!(ack["applied"], 1, "{ack}");
    let r = row(&mut owner)?;
    assert_eq!(
        (r["deleted_at"].clone(), r["updated_at"].clone()),
        (json!(4), json!(3))
    );
    Ok(())
}

/// `sync.push_chunk(…, part, part_digest, changes)` × n, then `sync.push_commit(…, digest,
/// parts)`: nothing is applied until the commit, the commit checks it holds exactly the parts
/// the device digested (else CD003, nothing applied), applies them in one transaction with
/// one `_seq` and the authors, and a replay of the commit or of a part changes nothing.
#[test]
fn staged_parts_apply_at_once_or_not_at_all() -> Result<()> {
    use clinicdesk_server::push_v2::INCOMPLETE;
    let (cluster, mut owner, mut a) = push_server()?;
    let author = "0190a000-0000-7000-8000-0000000000f1";
    let row2 = 0x0190a000_0000_7000_8000_000000000a02;
    let mut p0 = json!([
        insert_block(1, ROW1, CLINIC_A, "001767225600000-00000000"),
        insert_block(2, row2, CLINIC_A, "001767225600000-00000000"),
    ]);
    for c in p0.as_array_mut().unwrap() {
        c["by"] = json!(author);
    }
    let p1 = json!([block(
        3,
        ROW1,
        "update",
        json!({"is_available": 0, "block_reason": "lunch"}),
        "001767225600001-00000000"
    )]);
    let chunk = |c: &mut Client, part: i32, d: &[u8], changes: &Value| {
        c.query_one(
            "SELECT sync.push_chunk($1::text::uuid, 1, 3, $2, $3, $4::text::jsonb)",
            &[&INC, &part, &d, &changes.to_string()],
        )
        .map(|r| r.get::<_, i32>(0))
    };
    let commit = |c: &mut Client, d: &[u8], parts: i32| {
        c.query_one(
            "SELECT sync.push_commit($1::text::uuid, 1, 3, $2, $3)::text",
            &[&INC, &d, &parts],
        )
        .map(|r| json_of(r.get(0)))
    };
    let (d0, d1) = (digest(10), digest(11));
    let whole: Vec<u8> = owner
        .query_one("SELECT sha256($1::bytea || $2::bytea)", &[&d0, &d1])?
        .get(0);
    let staged = |o: &mut Client| -> Result<i64> {
        Ok(o.query_one("SELECT count(*) FROM sync.push_chunks", &[])?
            .get(0))
    };
    let before = snapshot(&mut owner)?;

    assert_eq!(chunk(&mut a, 0, &d0, &p0)?, 1);
    assert_eq!(chunk(&mut a, 1, &d1, &p1)?, 2);
    assert_eq!(
        chunk(&mut a, 1, &d1, &p1)?,
        2,
        "staging a part again replaces it"
    );
    assert_eq!(snapshot(&mut owner)?, before, "staged parts apply nothing");

    // Bad parts and commits: a clear error, nothing staged or applied.
    let too_many = Value::Array(vec![p1[0].clone(); 1001]);
    for (part, d, changes) in [
        (-1, d1.clone(), p1.clone()),
        (10_000, d1.clone(), p1.clone()),
        (2, vec![1u8; 5], p1.clone()),
        (2, d1.clone(), json!([])),
        (2, d1.clone(), json!({"not": "an array"})),
        (2, d1.clone(), too_many),
    ] {
        let e = chunk(&mut a, part, &d, &changes).unwrap_err();
        assert_eq!(code(&e), MALFORMED, "part {part}: {e}");
    }
    for (d, parts) in [(whole.clone(), 3), (digest(12), 2), (whole.clone(), 1)] {
        let e = commit(&mut a, &d, parts).unwrap_err();
        assert_eq!(code(&e), INCOMPLETE, "{parts} parts: {e}");
    }
    let e = commit(&mut a, &whole, 0).unwrap_err();
    assert_eq!(code(&e), MALFORMED, "{e}");
    let mut r = connect_as(&cluster, "dev_r")?;
    assert_eq!(code(&chunk(&mut r, 0, &d0, &p0).unwrap_err()), "28000");
    assert_eq!(code(&commit(&mut r, &whole, 2).unwrap_err()), "28000");
    let mut stranger = connect_as(&cluster, "stranger")?;
    assert_eq!(
        code(&chunk(&mut stranger, 0, &d0, &p0).unwrap_err()),
        "42501"
    );
    assert_eq!(snapshot(&mut owner)?, before);
    assert_eq!(staged(&mut owner)?, 2);

    // The commit: both parts in one transaction, one sequence value, the authors kept.
    let ack = commit(&mut a, &whole, 2)?;
    assert_eq!(
        (ack["changes"].clone(), ack["applied"].clone()),
        (json!(3), json!(3)),
        "{ack}"
    );
    assert_eq!(staged(&mut owner)?, 0);
    let rows = owner.query(
        "SELECT id::text, is_available, _seq, _by::text FROM cd.availability_blocks
          WHERE clinic_id = $1::text::uuid ORDER BY id",
        &[&CLINIC_A],
    )?;
    assert_eq!(rows.len(), 2);
    let seqs: Vec<i64> = rows.iter().map(|r| r.get(2)).collect();
    assert_eq!(seqs[0], seqs[1], "one transaction, one _seq");
    assert_eq!(
        owner
            .query_one("SELECT seq FROM sync.clock", &[])?
            .get::<_, i64>(0),
        seqs[0]
    );
    // ROW1: inserted by the author, then updated by a change that names nobody.
    assert_eq!(rows[0].get::<_, i64>(1), 0);
    assert_eq!(rows[0].get::<_, Option<String>>(3), None);
    assert_eq!(rows[1].get::<_, Option<String>>(3).as_deref(), Some(author));
    let after = snapshot(&mut owner)?;

    // A retry (the ack was lost): the stored ack, nothing applied twice; a part staged again
    // after the commit is not kept.
    assert_eq!(commit(&mut a, &whole, 2)?, ack);
    assert_eq!(chunk(&mut a, 0, &d0, &p0)?, 0);
    assert_eq!(staged(&mut owner)?, 0);
    assert_eq!(snapshot(&mut owner)?, after);
    // The same sequence numbers with other contents: a clone or a restore.
    let e = commit(&mut a, &digest(13), 2).unwrap_err();
    assert_eq!(code(&e), CLONE_OR_RESTORE, "{e}");
    // A plain push after it follows on.
    let next = push(
        &mut a,
        4,
        4,
        &digest(14),
        &json!([block(
            4,
            ROW1,
            "update",
            json!({"updated_at": 4}),
            "001767225600002-00000000"
        )]),
    )?;
    assert_eq!(next["applied"], 1);
    Ok(())
}
