//! The merge model of the sync (SYNC.md §3.2 and §6): how a change from any PC, or a verdict of
//! the server, is merged into one row of a mirror table. Pure: the server's generated
//! `sync.merge_<table>` functions and a PC applying pulled rows follow it, and the property
//! tests (`tests/merge.rs`) prove it converges whatever the delivery order.
//!
//! - A [`Version`] is `rank|clamped HLC|original HLC|device`, compared bytewise (as PostgreSQL's
//!   `COLLATE "C"` compares the text); rank 1 (a server verdict) dominates every device write.
//! - A row keeps the version of its insert (`v0`) and, per merge group changed since, the
//!   version that group took (`_v`). A group a change carries wins when the change's version is
//!   greater than the group's (`_v[g]`, else `v0`); then all of the group's columns are taken
//!   together, so columns a CHECK ties together never mix two writers.
//! - An insert is an upsert (a re-push, or two PCs creating the same deterministic id): each
//!   group merges as above and `v0` becomes the greater of the two.
//! - `deleted_at` is an ordinary last-writer-wins column: an edit to a deleted row merges but
//!   does not revive it (only a newer write of `deleted_at` can).
//! - Immutable tables are insert-only: an update is a protocol error.
//! - A [`Lattice`] column (`waitlist_offers.outcome`) orders its group by the value's level
//!   first and by version second: `accepted` beats `declined/expired/withdrawn`, which beat
//!   `pending`, whatever the clocks say.
//!
//! Every change is checked before anything is written: a bad change is a [`MergeError`] and
//! leaves the row as it was.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{ChangeOp, ChangeRecord, DeviceId, Hlc, WireError};

/// How far ahead of the server's clock a pushed version may be: the server clamps the HLC of a
/// device write to `server_now + 2 min` (SYNC.md §6), so a fast PC wins by at most that much.
pub const CLAMP_AHEAD_MS: i64 = 2 * 60 * 1000;

/// Who wrote a version: a device, or the server deciding a cross-PC conflict (a verdict).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    Device = 0,
    Verdict = 1,
}

/// The version of one write: `rank|clamped HLC|original HLC|device`. The derived order (field
/// by field) is the bytewise order of [`Version::encode`]'s text: every part has a fixed width
/// (`tests/merge.rs` checks it), so the server can compare the text with `COLLATE "C"`.
///
/// The original HLC as the second key keeps one device's own writes in order even when
/// several were clamped to the same millisecond; the device id makes the order total.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Version {
    rank: Rank,
    clamped: Hlc,
    original: Hlc,
    device: DeviceId,
}

impl Version {
    /// A version from its parts; the HLCs must have the fixed-width form and the clamped one
    /// may not be later than the original (a clamp only ever lowers).
    pub fn new(
        rank: Rank,
        clamped: Hlc,
        original: Hlc,
        device: DeviceId,
    ) -> Result<Version, WireError> {
        for (what, h) in [("clamped", clamped), ("original", original)] {
            if !h.is_fixed_width() {
                return Err(WireError::invalid(
                    "version",
                    format!("the {what} HLC {h:?} has no fixed-width text form"),
                ));
            }
        }
        if clamped > original {
            return Err(WireError::invalid(
                "version",
                format!(
                    "the clamped HLC {} is later than the original {}",
                    clamped.encode(),
                    original.encode()
                ),
            ));
        }
        Ok(Version {
            rank,
            clamped,
            original,
            device,
        })
    }

    /// The version the server stores for a write with `hlc` received at `server_now_ms`: the
    /// HLC clamped to `server_now_ms + CLAMP_AHEAD_MS` (order preserving), the original kept.
    /// Clamping happens once, when the push is accepted (replays are deduplicated), so stored
    /// versions are deterministic.
    pub fn stamp(
        rank: Rank,
        hlc: Hlc,
        device: DeviceId,
        server_now_ms: i64,
    ) -> Result<Version, WireError> {
        let clamped = hlc.at_most(server_now_ms.saturating_add(CLAMP_AHEAD_MS));
        Version::new(rank, clamped, hlc, device)
    }

    pub fn rank(&self) -> Rank {
        self.rank
    }

    pub fn clamped(&self) -> Hlc {
        self.clamped
    }

    pub fn original(&self) -> Hlc {
        self.original
    }

    pub fn device(&self) -> DeviceId {
        self.device
    }

    /// The text form `rank|clamped|original|device` (fixed width).
    pub fn encode(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.rank as u8,
            self.clamped.encode(),
            self.original.encode(),
            self.device
        )
    }

    /// The text form only, exactly as [`Version::encode`] writes it (a lowercase hyphenated
    /// device id, fixed-width HLCs), so that a parsed version sorts as its text does.
    pub fn parse(s: &str) -> Result<Version, WireError> {
        let bad = || WireError::invalid("version", format!("'{s}' is not a version"));
        let parts: Vec<&str> = s.split('|').collect();
        let [rank, clamped, original, device] = parts[..] else {
            return Err(bad());
        };
        let rank = match rank {
            "0" => Rank::Device,
            "1" => Rank::Verdict,
            _ => return Err(bad()),
        };
        let clamped = Hlc::decode(clamped).ok_or_else(bad)?;
        let original = Hlc::decode(original).ok_or_else(bad)?;
        let device = DeviceId::parse(device).map_err(|_| bad())?;
        let v = Version::new(rank, clamped, original, device)?;
        if v.encode() != s {
            return Err(bad());
        }
        Ok(v)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl TryFrom<String> for Version {
    type Error = WireError;
    fn try_from(s: String) -> Result<Self, WireError> {
        Version::parse(&s)
    }
}

impl From<Version> for String {
    fn from(v: Version) -> String {
        v.encode()
    }
}

/// A column whose values form levels: a value of a higher level wins over a lower one whatever
/// the versions; within a level, the later version wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lattice {
    pub column: &'static str,
    /// The values by level, lowest first.
    pub levels: &'static [&'static [&'static str]],
}

/// `waitlist_offers.outcome` (SYNC.md §3.2, §5 item 4): an offer accepted on one PC stays
/// accepted when another PC expired, declined or withdrew it meanwhile.
pub const WAITLIST_OFFER_OUTCOME: Lattice = Lattice {
    column: "outcome",
    levels: &[
        &["pending"],
        &["declined", "expired", "withdrawn"],
        &["accepted"],
    ],
};

impl Lattice {
    fn level(&self, value: &Value) -> Option<usize> {
        let s = value.as_str()?;
        self.levels.iter().position(|l| l.contains(&s))
    }
}

/// Why a change cannot be merged (a protocol error: the row is left as it was).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("merge schema of {table}: {message}")]
    Schema { table: String, message: String },
    #[error("a change to {got} was given to the merge of {expected}")]
    WrongTable { expected: String, got: String },
    #[error("{table} {row_id}: '{column}' is not a replicated column of {table}")]
    UnknownColumn {
        table: String,
        row_id: Uuid,
        column: String,
    },
    #[error("{table} {row_id}: an insert carries every column; it lacks {missing:?}")]
    IncompleteInsert {
        table: String,
        row_id: Uuid,
        missing: Vec<String>,
    },
    #[error(
        "{table} {row_id}: a change carries whole merge groups; group {group} lacks {missing:?}"
    )]
    PartialGroup {
        table: String,
        row_id: Uuid,
        group: String,
        missing: Vec<String>,
    },
    #[error("{table} {row_id}: {table} is insert-only; an update is a protocol error")]
    ImmutableUpdate { table: String, row_id: Uuid },
    #[error("{table} {row_id}: an immutable row was inserted again with other values")]
    ImmutableRewrite { table: String, row_id: Uuid },
    #[error("{table} {row_id}: {value} is not a value of the {column} lattice")]
    NotInLattice {
        table: String,
        row_id: Uuid,
        column: String,
        value: Value,
    },
}

/// One merge group: its name (its first column) and its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    name: String,
    columns: Vec<String>,
}

/// What the merge knows about one table: its replicated columns, their merge groups (a
/// column in no declared group is a group of its own), whether it is immutable, and its
/// lattice column if any. Built from the registry's `TableSpec::merge_groups`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeSchema {
    table: String,
    columns: Vec<String>,
    groups: Vec<Group>,
    group_of: BTreeMap<String, usize>,
    immutable: bool,
    lattice: Option<(usize, Lattice)>,
}

impl MergeSchema {
    /// `columns`: the table's replicated columns; `groups`: its declared merge groups (each
    /// column in at most one; every column must be one of `columns`).
    pub fn new(
        table: &str,
        columns: &[&str],
        groups: &[&[&str]],
        immutable: bool,
    ) -> Result<MergeSchema, MergeError> {
        let err = |message: String| MergeError::Schema {
            table: table.to_string(),
            message,
        };
        let mut out = MergeSchema {
            table: table.to_string(),
            columns: Vec::new(),
            groups: Vec::new(),
            group_of: BTreeMap::new(),
            immutable,
            lattice: None,
        };
        for c in columns {
            if out.columns.iter().any(|k| k == c) {
                return Err(err(format!("column {c} is listed twice")));
            }
            out.columns.push(c.to_string());
        }
        for g in groups {
            let Some(first) = g.first() else {
                return Err(err("an empty merge group".into()));
            };
            for c in *g {
                if !columns.contains(c) {
                    return Err(err(format!("merge group {first}: {c} is not a column")));
                }
                if out.group_of.contains_key(*c) {
                    return Err(err(format!("column {c} is in two merge groups")));
                }
                out.group_of.insert(c.to_string(), out.groups.len());
            }
            out.groups.push(Group {
                name: first.to_string(),
                columns: g.iter().map(|c| c.to_string()).collect(),
            });
        }
        for c in columns {
            if !out.group_of.contains_key(*c) {
                out.group_of.insert(c.to_string(), out.groups.len());
                out.groups.push(Group {
                    name: c.to_string(),
                    columns: vec![c.to_string()],
                });
            }
        }
        Ok(out)
    }

    /// This schema with `lattice` ordering the group of its column.
    pub fn with_lattice(mut self, lattice: Lattice) -> Result<MergeSchema, MergeError> {
        let Some(&g) = self.group_of.get(lattice.column) else {
            return Err(MergeError::Schema {
                table: self.table,
                message: format!("lattice column {} is not a column", lattice.column),
            });
        };
        self.lattice = Some((g, lattice));
        Ok(self)
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The merge groups' names (a group is named by its first column), in order.
    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().map(|g| g.name.as_str())
    }

    /// The name of the merge group `column` belongs to.
    pub fn group_of(&self, column: &str) -> Option<&str> {
        self.group_of
            .get(column)
            .map(|&g| self.groups[g].name.as_str())
    }

    /// The columns of the group called `group`.
    pub fn group_columns(&self, group: &str) -> Option<&[String]> {
        self.groups
            .iter()
            .find(|g| g.name == group)
            .map(|g| g.columns.as_slice())
    }

    /// The lattice level of group `g`'s value in `values` (0 for a group without a lattice).
    fn level(&self, g: usize, values: &Map<String, Value>) -> usize {
        match &self.lattice {
            Some((lg, l)) if *lg == g => values.get(l.column).and_then(|v| l.level(v)).unwrap_or(0),
            _ => 0,
        }
    }

    /// Check `change` against the schema; the indices of the groups it carries.
    fn check(&self, change: &Change) -> Result<Vec<usize>, MergeError> {
        let row_id = change.row_id;
        let table = || self.table.clone();
        if change.table != self.table {
            return Err(MergeError::WrongTable {
                expected: table(),
                got: change.table.clone(),
            });
        }
        if let Some(c) = change
            .columns
            .keys()
            .find(|c| !self.group_of.contains_key(*c))
        {
            return Err(MergeError::UnknownColumn {
                table: table(),
                row_id,
                column: c.clone(),
            });
        }
        if self.immutable && change.op == ChangeOp::Update {
            return Err(MergeError::ImmutableUpdate {
                table: table(),
                row_id,
            });
        }
        let mut touched: Vec<usize> = change.columns.keys().map(|c| self.group_of[c]).collect();
        touched.sort_unstable();
        touched.dedup();
        let missing = |cols: &[String]| -> Vec<String> {
            cols.iter()
                .filter(|c| !change.columns.contains_key(*c))
                .cloned()
                .collect()
        };
        if change.op == ChangeOp::Insert {
            let missing = missing(&self.columns);
            if !missing.is_empty() {
                return Err(MergeError::IncompleteInsert {
                    table: table(),
                    row_id,
                    missing,
                });
            }
        }
        for &g in &touched {
            let missing = missing(&self.groups[g].columns);
            if !missing.is_empty() {
                return Err(MergeError::PartialGroup {
                    table: table(),
                    row_id,
                    group: self.groups[g].name.clone(),
                    missing,
                });
            }
        }
        if let Some((_, l)) = &self.lattice {
            if let Some(v) = change.columns.get(l.column) {
                if l.level(v).is_none() {
                    return Err(MergeError::NotInLattice {
                        table: table(),
                        row_id,
                        column: l.column.to_string(),
                        value: v.clone(),
                    });
                }
            }
        }
        Ok(touched)
    }
}

/// A change as the merge sees it: a captured change ([`ChangeRecord`]) with the version the
/// server stamped on it, or a server verdict. A delete is an update of `deleted_at` (rows are
/// never removed, only tombstoned).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub table: String,
    pub row_id: Uuid,
    pub op: ChangeOp,
    /// Column → new value; an update carries whole merge groups.
    pub columns: Map<String, Value>,
    pub version: Version,
    /// The device that pushed it.
    pub device: DeviceId,
    /// The device's own capture sequence (its `change_log.seq`).
    pub seq: i64,
}

impl Change {
    /// The change a pushed record becomes once the server stamped `version` on it.
    pub fn from_record(record: &ChangeRecord, version: Version) -> Change {
        Change {
            table: record.table.clone(),
            row_id: record.row_id,
            op: record.op,
            columns: record.columns.clone(),
            version,
            device: record.device,
            seq: record.seq,
        }
    }

    /// Whether this change deletes its row (sets `deleted_at`).
    pub fn is_tombstone(&self) -> bool {
        self.columns.get("deleted_at").is_some_and(|v| !v.is_null())
    }
}

/// One row of a mirror table as the merge keeps it. A row whose insert has not arrived yet
/// (an update delivered first) has no `v0` and only the groups the updates carried.
///
/// The fields keep one canonical form — `_v` holds a group's version only when it differs
/// from `v0` — so two replicas that merged the same changes are equal (`==`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowState {
    v0: Option<Version>,
    v: BTreeMap<String, Version>,
    values: Map<String, Value>,
}

impl RowState {
    /// The version of the row's insert (the greatest, when several PCs inserted it).
    pub fn v0(&self) -> Option<&Version> {
        self.v0.as_ref()
    }

    /// The groups whose version differs from `v0` (the server's `_v`).
    pub fn versions(&self) -> &BTreeMap<String, Version> {
        &self.v
    }

    /// The version group `group` holds: `coalesce(_v[group], v0)`.
    pub fn version_of(&self, group: &str) -> Option<&Version> {
        self.v.get(group).or(self.v0.as_ref())
    }

    pub fn values(&self) -> &Map<String, Value> {
        &self.values
    }

    pub fn value(&self, column: &str) -> Option<&Value> {
        self.values.get(column)
    }

    /// Whether the row's insert has been merged (before that, readers do not see it).
    pub fn is_inserted(&self) -> bool {
        self.v0.is_some()
    }

    /// Whether the row is tombstoned (`deleted_at` set).
    pub fn is_deleted(&self) -> bool {
        self.values.get("deleted_at").is_some_and(|v| !v.is_null())
    }
}

/// Merge `change` into `state` (the row `change.row_id` of `schema`'s table); whether the row
/// changed. Nothing changes on an error. Applying a change already merged changes nothing.
pub fn apply(
    state: &mut RowState,
    change: &Change,
    schema: &MergeSchema,
) -> Result<bool, MergeError> {
    let touched = schema.check(change)?;
    let before = state.clone();
    if schema.immutable {
        // Insert-only: the first insert writes the row; a replay must carry the same values.
        if state.v0.is_some() && state.values != change.columns {
            return Err(MergeError::ImmutableRewrite {
                table: schema.table.clone(),
                row_id: change.row_id,
            });
        }
        state.values = change.columns.clone();
        state.v0 = state.v0.max(Some(change.version));
        return Ok(*state != before);
    }
    let ver = change.version;
    // Every group's version before the merge (None: not written yet).
    let mut eff: Vec<Option<Version>> = schema
        .groups
        .iter()
        .map(|g| state.version_of(&g.name).copied())
        .collect();
    for g in touched {
        let wins = match eff[g] {
            None => true,
            Some(cur) => {
                (schema.level(g, &change.columns), ver) > (schema.level(g, &state.values), cur)
            }
        };
        if wins {
            for c in &schema.groups[g].columns {
                state.values.insert(c.clone(), change.columns[c].clone());
            }
            eff[g] = Some(ver);
        }
    }
    if change.op == ChangeOp::Insert {
        state.v0 = state.v0.max(Some(ver));
    }
    state.v = schema
        .groups
        .iter()
        .zip(eff)
        .filter_map(|(g, e)| {
            e.filter(|e| Some(e) != state.v0.as_ref())
                .map(|e| (g.name.clone(), e))
        })
        .collect();
    Ok(*state != before)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn device(n: u128) -> DeviceId {
        DeviceId::parse(&Uuid::from_u128(n).to_string()).unwrap()
    }

    fn ver(rank: Rank, millis: i64, dev: u128) -> Version {
        let h = Hlc { millis, counter: 0 };
        Version::new(rank, h, h, device(dev)).unwrap()
    }

    fn schema() -> MergeSchema {
        MergeSchema::new(
            "appointments",
            &[
                "start_at",
                "end_at",
                "status",
                "cancel_reason",
                "notes",
                "deleted_at",
            ],
            &[&["start_at", "end_at"], &["status", "cancel_reason"]],
            false,
        )
        .unwrap()
    }

    fn change(op: ChangeOp, columns: Value, version: Version) -> Change {
        Change {
            table: "appointments".into(),
            row_id: Uuid::from_u128(1),
            op,
            columns: columns.as_object().unwrap().clone(),
            version,
            device: version.device(),
            seq: 1,
        }
    }

    fn inserted(v: Version) -> RowState {
        let mut s = RowState::default();
        let c = change(
            ChangeOp::Insert,
            json!({"start_at": 10, "end_at": 20, "status": "pending", "cancel_reason": null,
                   "notes": null, "deleted_at": null}),
            v,
        );
        assert!(apply(&mut s, &c, &schema()).unwrap());
        s
    }

    #[test]
    fn version_text_round_trips_and_refuses_other_forms() {
        let v = Version::stamp(
            Rank::Device,
            Hlc {
                millis: 1_700_000_000_000,
                counter: 3,
            },
            device(0xff),
            1_700_000_000_000,
        )
        .unwrap();
        let text = v.encode();
        assert_eq!(
            text,
            "0|001700000000000-00000003|001700000000000-00000003|00000000-0000-0000-0000-0000000000ff"
        );
        assert_eq!(Version::parse(&text).unwrap(), v);
        assert_eq!(
            serde_json::from_str::<Version>(&serde_json::to_string(&v).unwrap()).unwrap(),
            v
        );
        for bad in [
            "",
            "2|001700000000000-00000003|001700000000000-00000003|00000000-0000-0000-0000-0000000000ff",
            "0|001700000000000-00000003|001700000000000-00000003|00000000-0000-0000-0000-0000000000FF",
            "0|001700000000000-00000003|001700000000000-00000003",
            // Clamped later than the original.
            "0|001700000000001-00000003|001700000000000-00000003|00000000-0000-0000-0000-0000000000ff",
            "0|001700000000000-00000003|001700000000000-00000003|00000000-0000-0000-0000-0000000000ff|",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stamp_clamps_a_far_future_clock_and_keeps_the_original() {
        let now = 1_000_000;
        let far = Hlc {
            millis: now + 3_600_000,
            counter: 5,
        };
        let v = Version::stamp(Rank::Device, far, device(1), now).unwrap();
        assert_eq!(v.clamped().millis, now + CLAMP_AHEAD_MS);
        assert_eq!(v.original(), far);
        // Two own writes clamped to the same millisecond stay in order by the original.
        let later = Version::stamp(Rank::Device, far.tick(0), device(1), now).unwrap();
        assert_eq!(later.clamped(), v.clamped());
        assert!(later > v);
    }

    #[test]
    fn a_group_wins_or_loses_as_a_whole() {
        let mut s = inserted(ver(Rank::Device, 1, 1));
        let newer = change(
            ChangeOp::Update,
            json!({"start_at": 30, "end_at": 40}),
            ver(Rank::Device, 5, 2),
        );
        let older = change(
            ChangeOp::Update,
            json!({"start_at": 50, "end_at": 60}),
            ver(Rank::Device, 3, 3),
        );
        assert!(apply(&mut s, &newer, &schema()).unwrap());
        assert!(!apply(&mut s, &older, &schema()).unwrap());
        assert_eq!(
            (s.value("start_at"), s.value("end_at")),
            (Some(&json!(30)), Some(&json!(40)))
        );
        assert_eq!(s.version_of("start_at"), Some(&newer.version));
        assert_eq!(s.version_of("status"), s.v0());
        // The same change again is a no-op.
        assert!(!apply(&mut s, &newer, &schema()).unwrap());
    }

    #[test]
    fn edits_to_a_deleted_row_merge_but_do_not_revive_it() {
        let mut s = inserted(ver(Rank::Device, 1, 1));
        let delete = change(
            ChangeOp::Update,
            json!({"deleted_at": 99}),
            ver(Rank::Device, 2, 1),
        );
        assert!(delete.is_tombstone());
        apply(&mut s, &delete, &schema()).unwrap();
        let edit = change(
            ChangeOp::Update,
            json!({"notes": "x"}),
            ver(Rank::Device, 3, 2),
        );
        assert!(apply(&mut s, &edit, &schema()).unwrap());
        assert!(s.is_deleted());
        assert_eq!(s.value("notes"), Some(&json!("x")));
        // A newer explicit restore does revive it.
        let restore = change(
            ChangeOp::Update,
            json!({"deleted_at": null}),
            ver(Rank::Device, 4, 2),
        );
        apply(&mut s, &restore, &schema()).unwrap();
        assert!(!s.is_deleted());
    }

    #[test]
    fn an_insert_is_an_upsert_and_a_verdict_dominates() {
        let mut s = inserted(ver(Rank::Device, 5, 1));
        let verdict = change(
            ChangeOp::Update,
            json!({"status": "cancelled", "cancel_reason": "sync conflict"}),
            ver(Rank::Verdict, 1, 9),
        );
        assert!(apply(&mut s, &verdict, &schema()).unwrap());
        // A later insert of the same id (a re-push, a deterministic id) merges group by group.
        let again = change(
            ChangeOp::Insert,
            json!({"start_at": 11, "end_at": 21, "status": "confirmed", "cancel_reason": null,
                   "notes": "n", "deleted_at": null}),
            ver(Rank::Device, 7, 2),
        );
        assert!(apply(&mut s, &again, &schema()).unwrap());
        assert_eq!(s.v0(), Some(&again.version));
        assert_eq!(s.value("start_at"), Some(&json!(11)));
        assert_eq!(s.value("status"), Some(&json!("cancelled")));
        assert_eq!(s.versions().keys().collect::<Vec<_>>(), ["status"]);
    }

    #[test]
    fn bad_changes_are_typed_errors_and_change_nothing() {
        let mut s = inserted(ver(Rank::Device, 1, 1));
        let before = s.clone();
        let v = ver(Rank::Device, 9, 2);
        let partial = change(ChangeOp::Update, json!({"start_at": 1}), v);
        assert!(matches!(
            apply(&mut s, &partial, &schema()),
            Err(MergeError::PartialGroup { ref group, ref missing, .. })
                if group == "start_at" && missing == &["end_at"]
        ));
        let unknown = change(ChangeOp::Update, json!({"nope": 1}), v);
        assert!(matches!(
            apply(&mut s, &unknown, &schema()),
            Err(MergeError::UnknownColumn { .. })
        ));
        let short = change(ChangeOp::Insert, json!({"notes": 1}), v);
        assert!(matches!(
            apply(&mut s, &short, &schema()),
            Err(MergeError::IncompleteInsert { .. })
        ));
        let mut other = change(ChangeOp::Update, json!({"notes": 1}), v);
        other.table = "patients".into();
        assert!(matches!(
            apply(&mut s, &other, &schema()),
            Err(MergeError::WrongTable { .. })
        ));
        assert_eq!(s, before);
        assert!(MergeSchema::new("t", &["a", "b"], &[&["a", "b"], &["b"]], false).is_err());
        assert!(MergeSchema::new("t", &["a"], &[&["a", "z"]], false).is_err());
        assert!(MergeSchema::new("t", &["a"], &[&[]], false).is_err());
    }

    #[test]
    fn immutable_tables_are_insert_only() {
        let schema = MergeSchema::new("appointments", &["notes"], &[], true).unwrap();
        let mut s = RowState::default();
        let ins = change(
            ChangeOp::Insert,
            json!({"notes": "a"}),
            ver(Rank::Device, 1, 1),
        );
        assert!(apply(&mut s, &ins, &schema).unwrap());
        assert!(!apply(&mut s, &ins, &schema).unwrap());
        let upd = change(
            ChangeOp::Update,
            json!({"notes": "b"}),
            ver(Rank::Device, 2, 1),
        );
        assert!(matches!(
            apply(&mut s, &upd, &schema),
            Err(MergeError::ImmutableUpdate { .. })
        ));
        let rewrite = change(
            ChangeOp::Insert,
            json!({"notes": "b"}),
            ver(Rank::Device, 3, 1),
        );
        assert!(matches!(
            apply(&mut s, &rewrite, &schema),
            Err(MergeError::ImmutableRewrite { .. })
        ));
        assert_eq!(s.value("notes"), Some(&json!("a")));
    }

    #[test]
    fn an_accepted_offer_beats_a_later_withdrawal() {
        let schema = MergeSchema::new(
            "appointments",
            &["outcome", "decided_at"],
            &[&["outcome", "decided_at"]],
            false,
        )
        .unwrap()
        .with_lattice(WAITLIST_OFFER_OUTCOME)
        .unwrap();
        let mut s = RowState::default();
        let ins = change(
            ChangeOp::Insert,
            json!({"outcome": "pending", "decided_at": null}),
            ver(Rank::Device, 1, 1),
        );
        let accept = change(
            ChangeOp::Update,
            json!({"outcome": "accepted", "decided_at": 5}),
            ver(Rank::Device, 2, 1),
        );
        let withdraw = change(
            ChangeOp::Update,
            json!({"outcome": "withdrawn", "decided_at": 9}),
            ver(Rank::Verdict, 9, 2),
        );
        for c in [&ins, &accept, &withdraw] {
            apply(&mut s, c, &schema).unwrap();
        }
        assert_eq!(s.value("outcome"), Some(&json!("accepted")));
        assert_eq!(s.value("decided_at"), Some(&json!(5)));
        let bad = change(
            ChangeOp::Update,
            json!({"outcome": "maybe", "decided_at": 1}),
            ver(Rank::Device, 3, 1),
        );
        assert!(matches!(
            apply(&mut s, &bad, &schema),
            Err(MergeError::NotInLattice { .. })
        ));
    }
}
