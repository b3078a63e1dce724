//! Property tests of the merge model (`clinicdesk_wire::merge`, SYNC.md §3.2 and §6).
//!
//! A history: two or three devices (one of them with a clock 10 minutes fast, one 5 minutes
//! slow) each make a sequence of inserts, updates, deletes and restores of a few rows of a
//! table with two declared merge groups (plus single-column groups and `deleted_at`); their
//! HLCs tick as the store's do and the server stamps each push (clamping the fast clock); the
//! server adds a few verdicts (rank 1). The union of the changes is then delivered in a
//! random order with random duplicates. Properties:
//! - (a) every delivery order converges to the same rows, and each group holds the values of
//!   the change with the greatest version that carried it (an oracle independent of `apply`);
//! - (b) merging a change again changes nothing;
//! - (c) one device's later edit of a group is never overwritten by its earlier one, at any
//!   point of any delivery order (even when the server clamped both);
//! - (d) a server verdict beats every device write to the groups it carries.
//!
//! The same runs on a table with the `waitlist_offers.outcome` lattice ((a) and (b)).
//!
//! Cases: a modest default for `cargo test`, more when `CI=true`, and `FUZZ_CASES=N` to run long
//! (`FUZZ_CASES=100000 cargo test -p clinicdesk-wire --test merge`).

use std::collections::BTreeMap;

use clinicdesk_wire::hlc::{MAX_COUNTER, MAX_MILLIS, OBSERVE_MAX_AHEAD_MS};
use clinicdesk_wire::merge::{Lattice, CLAMP_AHEAD_MS, WAITLIST_OFFER_OUTCOME};
use clinicdesk_wire::{
    apply, Change, ChangeOp, DeviceId, Hlc, MergeSchema, Rank, RowState, Version,
};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// Cases per property: `FUZZ_CASES`, else `ci` under CI (`CI=true`), else `local`.
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

fn config(local: u32, ci: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(local, ci),
        max_shrink_iters: 1024,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A table of the model: its columns, declared merge groups and lattice.
struct Table {
    name: &'static str,
    columns: &'static [&'static str],
    groups: &'static [&'static [&'static str]],
    lattice: Option<Lattice>,
}

/// Two declared groups, like `appointments`' slot and status; `e` and `deleted_at` are
/// groups of their own.
const PLAIN: Table = Table {
    name: "appointments",
    columns: &["a", "b", "c", "d", "e", "deleted_at"],
    groups: &[&["a", "b"], &["c", "d"]],
    lattice: None,
};

/// Like `waitlist_offers`: the outcome lattice orders its group.
const OFFERS: Table = Table {
    name: "waitlist_offers",
    columns: &["outcome", "decided_at", "note", "deleted_at"],
    groups: &[&["outcome", "decided_at"]],
    lattice: Some(WAITLIST_OFFER_OUTCOME),
};

const OUTCOMES: &[&str] = &["pending", "accepted", "declined", "expired", "withdrawn"];

/// The clinic's "now" when the history starts (2026-01-01).
const BASE_MS: i64 = 1_767_225_600_000;
const ROWS: u128 = 2;
const SERVER: u128 = 0xffff;

impl Table {
    fn schema(&self) -> MergeSchema {
        let s = MergeSchema::new(self.name, self.columns, self.groups, false).unwrap();
        match self.lattice {
            Some(l) => s.with_lattice(l).unwrap(),
            None => s,
        }
    }

    /// The groups a change may carry besides `deleted_at`, by name.
    fn edit_groups(&self, schema: &MergeSchema) -> Vec<String> {
        schema
            .group_names()
            .filter(|g| *g != "deleted_at")
            .map(str::to_string)
            .collect()
    }

    /// The lattice level of a change's value for `group` (0 without a lattice).
    fn level(&self, schema: &MergeSchema, group: &str, columns: &Map<String, Value>) -> usize {
        match self.lattice {
            Some(l) if schema.group_of(l.column) == Some(group) => {
                let v = columns[l.column].as_str().unwrap();
                l.levels.iter().position(|lv| lv.contains(&v)).unwrap()
            }
            _ => 0,
        }
    }
}

#[derive(Debug, Clone)]
enum Kind {
    Insert,
    /// Update the edit groups picked by the mask's bits.
    Update(u8),
    Delete,
    Restore,
}

#[derive(Debug, Clone)]
struct Edit {
    row: u128,
    kind: Kind,
    /// Picks the lattice value.
    choice: usize,
    /// Wall-clock ms since the device's previous edit (0: the HLC counter ticks).
    dt: i64,
    /// Server ms since the device's previous push.
    push_dt: i64,
}

fn edit() -> impl Strategy<Value = Edit> {
    let kind = prop_oneof![
        2 => Just(Kind::Insert),
        5 => (1u8..16).prop_map(Kind::Update),
        1 => Just(Kind::Delete),
        1 => Just(Kind::Restore),
    ];
    (0..ROWS, kind, 0..OUTCOMES.len(), 0i64..3, 0i64..5_000).prop_map(
        |(row, kind, choice, dt, push_dt)| Edit {
            row,
            kind,
            choice,
            dt,
            push_dt,
        },
    )
}

/// A device: its clock's offset from the server's and its edits in the order it made them.
fn device_edits() -> impl Strategy<Value = (i64, Vec<Edit>)> {
    (
        prop_oneof![Just(0i64), Just(10 * 60_000), Just(-5 * 60_000)],
        prop::collection::vec(edit(), 1..8),
    )
}

/// Devices' edits and the server's verdicts (updates only).
type History = (Vec<(i64, Vec<Edit>)>, Vec<Edit>);

fn history() -> impl Strategy<Value = History> {
    (
        prop::collection::vec(device_edits(), 2..=3),
        prop::collection::vec(edit(), 0..=2),
    )
}

fn device(n: u128) -> DeviceId {
    DeviceId::parse(&Uuid::from_u128(n).to_string()).unwrap()
}

fn row_id(row: u128) -> Uuid {
    Uuid::from_u128(row + 1)
}

/// The columns of one edit; every value names its writer, so no two changes write one value.
fn columns(
    t: &Table,
    schema: &MergeSchema,
    e: &Edit,
    verdict: bool,
    who: usize,
    seq: i64,
) -> Map<String, Value> {
    let value = |c: &str| -> Value {
        match t.lattice {
            Some(l) if l.column == c => json!(OUTCOMES[e.choice]),
            _ if c == "deleted_at" => Value::Null,
            _ => json!(format!("{who}.{seq}.{c}")),
        }
    };
    let groups = t.edit_groups(schema);
    let picked: Vec<&String> = match e.kind {
        // A verdict rewrites groups; it never inserts, deletes or restores.
        Kind::Insert | Kind::Delete | Kind::Restore if verdict => groups.iter().take(1).collect(),
        Kind::Insert => {
            return t
                .columns
                .iter()
                .map(|c| (c.to_string(), value(c)))
                .collect()
        }
        Kind::Update(mask) => {
            let p: Vec<&String> = groups
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << (i % 4)) != 0)
                .map(|(_, g)| g)
                .collect();
            if p.is_empty() {
                groups.iter().take(1).collect()
            } else {
                p
            }
        }
        Kind::Delete => return Map::from_iter([("deleted_at".into(), json!(seq))]),
        Kind::Restore => return Map::from_iter([("deleted_at".into(), Value::Null)]),
    };
    picked
        .into_iter()
        .flat_map(|g| schema.group_columns(g).unwrap().iter())
        .map(|c| (c.clone(), value(c)))
        .collect()
}

/// The changes of a history, as the server stamps them: a device's HLC ticks as the store's
/// does, each push is clamped to the server's clock + 2 min.
fn changes(t: &Table, (devices, verdicts): &History) -> Vec<Change> {
    let schema = t.schema();
    let mut out = Vec::new();
    for (d, (offset, edits)) in devices.iter().enumerate() {
        let dev = device(d as u128 + 1);
        let mut hlc = Hlc::default();
        let (mut wall, mut server_now) = (BASE_MS + offset, BASE_MS);
        for (i, e) in edits.iter().enumerate() {
            wall += e.dt;
            server_now += e.push_dt;
            hlc = hlc.tick(wall);
            let seq = i as i64 + 1;
            out.push(Change {
                table: t.name.into(),
                row_id: row_id(e.row),
                op: match e.kind {
                    Kind::Insert => ChangeOp::Insert,
                    _ => ChangeOp::Update,
                },
                columns: columns(t, &schema, e, false, d, seq),
                version: Version::stamp(Rank::Device, hlc, dev, server_now).unwrap(),
                device: dev,
                seq,
            });
        }
    }
    let server = device(SERVER);
    let mut hlc = Hlc::default();
    for (i, e) in verdicts.iter().enumerate() {
        hlc = hlc.tick(BASE_MS - 60_000);
        let seq = i as i64 + 1;
        out.push(Change {
            table: t.name.into(),
            row_id: row_id(e.row),
            op: ChangeOp::Update,
            columns: columns(t, &schema, e, true, SERVER as usize, seq),
            version: Version::new(Rank::Verdict, hlc, hlc, server).unwrap(),
            device: server,
            seq,
        });
    }
    out
}

/// A history's changes and a delivery order: every change at least once, some twice or more,
/// shuffled.
fn delivery(t: &'static Table) -> impl Strategy<Value = (Vec<Change>, Vec<usize>)> {
    history()
        .prop_map(move |h| changes(t, &h))
        .prop_flat_map(|cs| {
            let n = cs.len();
            (Just(cs), prop::collection::vec(0..n, 0..=n))
        })
        .prop_flat_map(|(cs, dups)| {
            let order: Vec<usize> = (0..cs.len()).chain(dups).collect();
            (Just(cs), Just(order).prop_shuffle())
        })
}

type Rows = BTreeMap<Uuid, RowState>;

/// Merge `changes` in `order`, calling `after(rows, index, changed)` after each change.
fn replay(
    schema: &MergeSchema,
    changes: &[Change],
    order: &[usize],
    mut after: impl FnMut(&Rows, usize, bool, &RowState),
) -> Rows {
    let mut rows = Rows::new();
    for &i in order {
        let c = &changes[i];
        let row = rows.entry(c.row_id).or_default();
        let before = row.clone();
        let changed = apply(row, c, schema).unwrap();
        after(&rows, i, changed, &before);
    }
    rows
}

/// What every row must end as: per group, the values and version of the change with the
/// greatest (lattice level, version) among those that carried it; `v0` the greatest insert.
fn assert_oracle(t: &Table, schema: &MergeSchema, changes: &[Change], rows: &Rows) {
    for (id, row) in rows {
        let mine: Vec<&Change> = changes.iter().filter(|c| c.row_id == *id).collect();
        let v0 = mine
            .iter()
            .filter(|c| c.op == ChangeOp::Insert)
            .map(|c| c.version)
            .max();
        assert_eq!(row.v0(), v0.as_ref(), "v0 of {id}");
        for g in schema.group_names() {
            let cols = schema.group_columns(g).unwrap();
            let winner = mine
                .iter()
                .filter(|c| c.columns.contains_key(&cols[0]))
                .max_by_key(|c| (t.level(schema, g, &c.columns), c.version));
            assert_eq!(
                row.version_of(g),
                winner.map(|c| &c.version),
                "version of group {g} of {id}"
            );
            for c in cols {
                assert_eq!(
                    row.value(c),
                    winner.map(|w| &w.columns[c]),
                    "{c} of {id} (group {g})"
                );
            }
        }
    }
    let touched: std::collections::BTreeSet<Uuid> = changes.iter().map(|c| c.row_id).collect();
    assert!(rows.keys().eq(touched.iter()));
}

/// (a): the delivery order does not matter, and the result is the oracle's; (b): a change
/// merged again changes nothing, during the delivery and after it.
fn converges_and_is_idempotent(t: &Table, changes: &[Change], order: &[usize]) {
    let schema = t.schema();
    let in_order: Vec<usize> = (0..changes.len()).collect();
    let reference = replay(&schema, changes, &in_order, |_, _, _, _| {});
    assert_oracle(t, &schema, changes, &reference);
    let mut seen = vec![false; changes.len()];
    let rows = replay(&schema, changes, order, |rows, i, changed, before| {
        if seen[i] {
            assert!(!changed, "change {i} merged again changed its row");
            assert_eq!(&rows[&changes[i].row_id], before);
        }
        seen[i] = true;
    });
    assert_eq!(
        rows, reference,
        "a different delivery order, a different result"
    );
    let mut again = rows.clone();
    for c in changes {
        let row = again.get_mut(&c.row_id).unwrap();
        assert!(!apply(row, c, &schema).unwrap(), "{c:?} merged again");
    }
    assert_eq!(again, rows);
}

proptest! {
    #![proptest_config(config(256, 1024))]

    #[test]
    fn any_delivery_order_converges_and_a_change_merged_again_changes_nothing(
        (changes, order) in delivery(&PLAIN)
    ) {
        converges_and_is_idempotent(&PLAIN, &changes, &order);
    }

    #[test]
    fn with_the_outcome_lattice_too((changes, order) in delivery(&OFFERS)) {
        converges_and_is_idempotent(&OFFERS, &changes, &order);
        // An offer accepted anywhere ends accepted.
        let schema = OFFERS.schema();
        let rows = replay(&schema, &changes, &order, |_, _, _, _| {});
        for (id, row) in &rows {
            let accepted = changes
                .iter()
                .any(|c| c.row_id == *id && c.columns.get("outcome") == Some(&json!("accepted")));
            prop_assert_eq!(
                accepted,
                row.value("outcome") == Some(&json!("accepted")),
                "outcome of {}", id
            );
        }
    }

    /// (c): at every step of any delivery order, when a group holds device D's edit number n,
    /// no edit of D to that group with a higher number has been merged yet.
    #[test]
    fn a_devices_own_edits_stay_in_order((changes, order) in delivery(&PLAIN)) {
        let schema = PLAIN.schema();
        let by_version: BTreeMap<Version, &Change> =
            changes.iter().map(|c| (c.version, c)).collect();
        prop_assert_eq!(by_version.len(), changes.len(), "versions are unique");
        let mut merged: Vec<&Change> = Vec::new();
        replay(&schema, &changes, &order, |rows, i, _, _| {
            merged.push(&changes[i]);
            for (id, row) in rows {
                for g in schema.group_names() {
                    let Some(v) = row.version_of(g) else { continue };
                    let holder = by_version[v];
                    let first = &schema.group_columns(g).unwrap()[0];
                    let newer_own = merged.iter().find(|c| {
                        c.row_id == *id
                            && c.device == holder.device
                            && c.seq > holder.seq
                            && c.columns.contains_key(first)
                    });
                    assert!(
                        newer_own.is_none(),
                        "group {g} of {id} holds edit {} of {} after its edit {} was merged",
                        holder.seq,
                        holder.device,
                        newer_own.unwrap().seq
                    );
                }
            }
        });
    }

    /// (d): a group a verdict carried ends with the latest verdict's values, whatever the
    /// devices wrote and however fast their clocks were.
    #[test]
    fn a_server_verdict_dominates_device_writes((changes, order) in delivery(&PLAIN)) {
        let schema = PLAIN.schema();
        let rows = replay(&schema, &changes, &order, |_, _, _, _| {});
        for verdict in changes.iter().filter(|c| c.version.rank() == Rank::Verdict) {
            let row = &rows[&verdict.row_id];
            for (c, _) in &verdict.columns {
                let g = schema.group_of(c).unwrap();
                let held = row.version_of(g).unwrap();
                prop_assert_eq!(held.rank(), Rank::Verdict, "group {} of {}", g, verdict.row_id);
                prop_assert!(*held >= verdict.version);
            }
        }
    }

    /// The derived order of versions is the bytewise order of their text (what PostgreSQL's
    /// `COLLATE "C"` compares), and a version parses back from its text.
    #[test]
    fn version_order_is_the_bytewise_order_of_its_text(
        a in version(), b in version()
    ) {
        prop_assert_eq!(a.cmp(&b), a.encode().as_bytes().cmp(b.encode().as_bytes()));
        prop_assert_eq!(Version::parse(&a.encode()).unwrap(), a);
    }

    /// The server's clamp keeps one device's order: a later HLC pushed no earlier gets a
    /// greater version, however far ahead the device's clock is (the pushes' server times
    /// are drawn around the clamp's limit, where an order could flip).
    #[test]
    fn the_clamp_keeps_one_devices_order(
        h1 in hlc(), dm in 0i64..5, dc in 0u32..3, off in -5i64..5, dn in 0i64..5
    ) {
        let h2 = Hlc { millis: h1.millis + dm, counter: if dm == 0 { h1.counter + 1 + dc } else { dc } };
        let now = h1.millis - CLAMP_AHEAD_MS + off;
        let d = device(7);
        let v1 = Version::stamp(Rank::Device, h1, d, now).unwrap();
        let v2 = Version::stamp(Rank::Device, h2, d, now + dn).unwrap();
        prop_assert!(v1 < v2);
        prop_assert!(v1.clamped() <= v2.clamped());
    }

    /// Observing a remote HLC moves past it, or past the bound when it is too far ahead.
    #[test]
    fn observe_is_bounded(local in hlc(), remote in hlc(), now in 0i64..1_000_000_000_000) {
        let next = local.observe_bounded(remote, now);
        let cap = Hlc { millis: now + OBSERVE_MAX_AHEAD_MS, counter: 0 };
        prop_assert!(next > local && next > remote.min(cap));
        prop_assert!(next.millis <= local.millis.max(remote.millis.min(cap.millis)).max(now));
    }
}

fn hlc() -> impl Strategy<Value = Hlc> {
    (0i64..1_000_000_000_000, 0u32..1_000).prop_map(|(millis, counter)| Hlc { millis, counter })
}

fn version() -> impl Strategy<Value = Version> {
    (
        any::<bool>(),
        0..=MAX_MILLIS,
        0..=MAX_COUNTER,
        0..=MAX_MILLIS,
        0..=MAX_COUNTER,
        any::<u128>(),
    )
        .prop_map(|(verdict, m1, c1, m2, c2, d)| {
            let (a, b) = (
                Hlc {
                    millis: m1,
                    counter: c1,
                },
                Hlc {
                    millis: m2,
                    counter: c2,
                },
            );
            let rank = if verdict { Rank::Verdict } else { Rank::Device };
            Version::new(rank, a.min(b), a.max(b), device(d)).unwrap()
        })
}
