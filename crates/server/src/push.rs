//! The merge and the push (SYNC.md §3.2, §4.1, §6), generated: one `sync.merge_<table>` per
//! replicated table implementing the merge model of `clinicdesk_wire::merge` (`tests/push_pg.rs`
//! proves they agree on random inputs), and `sync.push`, the one function a device calls to
//! hand over a batch of its changes.
//!
//! [`generate`] writes `migrations/postgres/V2__merge_and_push.sql` (refresh with
//! `cargo run -p clinicdesk-server --example gen_server_schema -- v2 > migrations/postgres/V2__merge_and_push.sql`);
//! `tests/generated.rs` fails when the checked-in file differs.
//!
//! - `sync.merge_<table>(id, op, cols, ver, dev)`: an insert is an upsert; each merge group a
//!   change carries wins iff its version is greater (`COLLATE "C"`) than the group's
//!   (`coalesce(_v->>g, _v0)`), the outcome lattice of `waitlist_offers` first; the row is
//!   rewritten (new `_seq`) only when something changed, so a replay rewrites nothing. `_v`
//!   keeps the model's canonical form (a group's version only when it differs from `_v0`).
//!   Immutable tables are insert-only (a replay with other values, or an update, is an error).
//!   A malformed change raises SQLSTATE 22023 before anything is written.
//! - `sync.push(incarnation, first, last, digest, changes)`: SECURITY DEFINER, the device by
//!   `session_user`; serialised on the `sync.clock` row; idempotent by (device, incarnation,
//!   first_seq); each change's HLC clamped to server now + 2 min and merged in order under the
//!   owner's row-level security scoped to the calling device (another clinic's row is refused).

use std::fmt::Write as _;

use clinicdesk_store::registry;
use clinicdesk_wire::merge::{Lattice, CLAMP_AHEAD_MS, WAITLIST_OFFER_OUTCOME};

use crate::schema::{self, Mirror, DEVICE_ROLE, SQLITE_VERSION};
use crate::{Result, ServerError};

/// The most changes one `sync.push` call takes (SYNC.md §4.1: bounded batches).
pub const MAX_BATCH: usize = 1000;

/// SQLSTATE of `clone_or_restore_detected`: a batch reuses sequence numbers the server already
/// acknowledged with other contents (a restored backup or a cloned disk).
pub const CLONE_OR_RESTORE: &str = "CD001";
/// SQLSTATE of `sequence_gap`: the batch does not start right after the last acknowledged one.
pub const SEQUENCE_GAP: &str = "CD002";
/// SQLSTATE of a malformed batch or change (PostgreSQL's invalid_parameter_value).
pub const MALFORMED: &str = "22023";

/// The lattice columns of the replicated tables.
pub const LATTICES: &[(&str, Lattice)] = &[("waitlist_offers", WAITLIST_OFFER_OUTCOME)];

/// The merge groups of `table` as the merge model sees them: the declared ones, then every
/// other column (the id first) as a group of its own, each named by its first column.
pub fn merge_groups(m: &Mirror) -> Result<Vec<Vec<String>>> {
    let spec = registry::spec(&m.name)
        .ok_or_else(|| ServerError::Schema(format!("{} is not in the registry", m.name)))?;
    let mut groups: Vec<Vec<String>> = Vec::new();
    for g in spec.merge_groups {
        for c in *g {
            if m.column(c).is_none() {
                return Err(ServerError::Schema(format!(
                    "{}: merge group column {c} is not mirrored",
                    m.name
                )));
            }
        }
        groups.push(g.iter().map(|c| c.to_string()).collect());
    }
    for c in &m.columns {
        if !groups.iter().flatten().any(|x| x == &c.name) {
            groups.push(vec![c.name.clone()]);
        }
    }
    Ok(groups)
}

/// The V2 server migration: the merge functions and `sync.push`.
pub fn generate() -> Result<String> {
    let mirrors = schema::mirrors(Some(SQLITE_VERSION))?;
    let mut s = String::from(HEADER);
    s.push_str(CHECK_CHANGE);
    for m in &mirrors {
        merge_function(&mut s, m, Protocol::V1)?;
    }
    push_function(&mut s, &mirrors);
    let _ = write!(
        s,
        "
-- Devices call sync.push only (the merge functions run inside it, as the owner).
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA sync FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sync.push(uuid, bigint, bigint, bytea, jsonb) TO {DEVICE_ROLE};
"
    );
    Ok(s)
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `(p_cols->>'c')::type` for each column.
fn casts(m: &Mirror) -> Vec<String> {
    m.columns
        .iter()
        .map(|c| format!("(p_cols->>'{}')::{}", c.name, c.pg_type))
        .collect()
}

/// The form of the generated merge functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// V2 and the evolutions before V5: `sync.merge_<t>(id, op, cols, ver, dev)`; each row a
    /// merge changes takes the next `sync.stamp()`.
    V1,
    /// From V5 ([`PROTOCOL_V2_SINCE`]): `sync.merge_<t>(id, op, cols, ver, dev, by, seq)`;
    /// a winning change records its author in `_by`, and every row one push changes takes
    /// the push's one sequence value `seq` (a `sync.stamp()` per row rewrote the clock row
    /// once per change: quadratic in the batch, as every update follows the row's chain).
    V2,
}

/// The first server migration whose merge functions have the [`Protocol::V2`] form.
pub const PROTOCOL_V2_SINCE: i32 = 5;

impl Protocol {
    /// The form the merge functions of server migration `version` have.
    pub fn of_migration(version: i32) -> Protocol {
        if version >= PROTOCOL_V2_SINCE {
            Protocol::V2
        } else {
            Protocol::V1
        }
    }
    fn params(self) -> &'static str {
        match self {
            Protocol::V1 => "p_id uuid, p_op text, p_cols jsonb, p_ver text, p_dev uuid",
            Protocol::V2 => {
                "p_id uuid, p_op text, p_cols jsonb, p_ver text, p_dev uuid, p_by uuid, p_seq bigint"
            }
        }
    }
    /// The new `_seq` of a row the merge changes.
    fn seq(self) -> &'static str {
        match self {
            Protocol::V1 => "sync.stamp()",
            Protocol::V2 => "p_seq",
        }
    }
}

/// The merge function of one mirror (and its lattice's level function) in `form`.
pub fn merge_function_sql(s: &mut String, m: &Mirror, form: Protocol) -> Result<()> {
    merge_function(s, m, form)
}

fn merge_function(s: &mut String, m: &Mirror, form: Protocol) -> Result<()> {
    let spec = registry::spec(&m.name)
        .ok_or_else(|| ServerError::Schema(format!("{} is not in the registry", m.name)))?;
    let t = &m.name;
    let groups = merge_groups(m)?;
    let names: Vec<String> = m.columns.iter().map(|c| c.name.clone()).collect();
    let types: Vec<String> = m.columns.iter().map(|c| c.pg_type.to_string()).collect();
    let declared: Vec<String> = groups
        .iter()
        .filter(|g| g.len() > 1)
        .map(|g| {
            format!(
                "[{}]",
                g.iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let lattice = LATTICES.iter().find(|(lt, _)| lt == t).map(|(_, l)| *l);
    let lattice_check = match lattice {
        Some(l) => {
            level_function(s, t, l);
            format!(
                "
    IF p_cols ? '{c}' AND sync.level_{t}(p_cols->>'{c}') IS NULL THEN
        RAISE EXCEPTION 'merge {t} %: % is not a value of the {c} lattice', p_id, p_cols->'{c}'
            USING ERRCODE = '{MALFORMED}';
    END IF;",
                c = l.column
            )
        }
        None => String::new(),
    };
    let insert = match form {
        Protocol::V1 => format!(
            "INSERT INTO cd.{t} ({}, _v0, _v, _seq, _dev)\n        VALUES ({}, p_ver, '{{}}', sync.stamp(), p_dev);",
            names.join(", "),
            casts(m).join(", ")
        ),
        Protocol::V2 => format!(
            "INSERT INTO cd.{t} ({}, _v0, _v, _seq, _by, _dev)\n        VALUES ({}, p_ver, '{{}}', p_seq, p_by, p_dev);",
            names.join(", "),
            casts(m).join(", ")
        ),
    };
    let check = match form {
        Protocol::V1 => format!(
            "PERFORM sync.check_change('{t}', p_id, p_op, p_cols, p_ver,
        ARRAY[{}],
        ARRAY[{}],
        '[{}]', {});",
            quoted(&names),
            quoted(&types),
            declared.join(", "),
            spec.immutable,
        ),
        // The version is sync.accept's (built from a checked HLC and the device); the merge
        // groups are checked here, without a loop.
        Protocol::V2 => {
            let mut c = format!(
                "PERFORM sync.check_columns('{t}', p_id, p_op, p_cols,
        ARRAY[{}],
        ARRAY[{}],
        {});",
                quoted(&names),
                quoted(&types),
                spec.immutable,
            );
            for g in groups.iter().filter(|g| g.len() > 1) {
                let cols = quoted(g);
                let _ = write!(
                    c,
                    "
    IF p_cols ?| ARRAY[{cols}] AND NOT p_cols ?& ARRAY[{cols}] THEN
        RAISE EXCEPTION 'merge {t} %: a change carries whole merge groups; group {} lacks %', p_id,
            ARRAY(SELECT c FROM unnest(ARRAY[{cols}]) c WHERE NOT p_cols ? c) USING ERRCODE = '{MALFORMED}';
    END IF;",
                    g[0]
                );
            }
            c
        }
    };
    let _ = write!(
        s,
        "
CREATE FUNCTION sync.merge_{t}({params}) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r cd.{t}%ROWTYPE;
BEGIN
    {check}{lattice_check}
    SELECT * INTO r FROM cd.{t} WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        IF p_op = 'update' THEN
            RAISE EXCEPTION 'merge {t} %: an update of a row the server does not hold (or that is not the device''s)', p_id
                USING ERRCODE = '{MALFORMED}';
        END IF;
        {insert}
        RETURN true;
    END IF;
",
        params = form.params(),
    );
    if spec.immutable {
        let _ = write!(
            s,
            "    IF ({}) IS DISTINCT FROM ({}) THEN
        RAISE EXCEPTION 'merge {t} %: an immutable row was inserted again with other values', p_id
            USING ERRCODE = '{MALFORMED}';
    END IF;
    IF p_ver > r._v0 COLLATE \"C\" THEN
        UPDATE cd.{t} SET _v0 = p_ver, _seq = {seq} WHERE id = p_id;
        RETURN true;
    END IF;
    RETURN false;
END $$;
",
            names
                .iter()
                .map(|c| format!("r.{c}"))
                .collect::<Vec<_>>()
                .join(", "),
            casts(m).join(", "),
            seq = form.seq(),
        );
        return Ok(());
    }
    s.push_str(
        "    DECLARE
        won text[] := '{}';
        nv0 text := r._v0;
        nv jsonb := '{}';
        eff text;
        g text;
    BEGIN
",
    );
    for g in &groups {
        let name = &g[0];
        let mut cond = format!("p_cols ? '{name}'");
        let eff = format!("coalesce(r._v->>'{name}', r._v0) COLLATE \"C\"");
        match lattice.filter(|l| g.iter().any(|c| c == l.column)) {
            Some(l) => {
                let lv = |x: &str| format!("sync.level_{t}({x})");
                let _ = write!(
                    cond,
                    " AND (({new} > {cur}) OR ({new} = {cur} AND p_ver > {eff}))",
                    new = lv(&format!("p_cols->>'{}'", l.column)),
                    cur = format!("coalesce({}, 0)", lv(&format!("r.{}", l.column))),
                );
            }
            None => {
                let _ = write!(cond, " AND p_ver > {eff}");
            }
        }
        let sets: Vec<String> = g
            .iter()
            .map(|c| {
                let ty = m.column(c).map_or("text", |x| x.pg_type);
                format!("r.{c} := (p_cols->>'{c}')::{ty};")
            })
            .collect();
        let _ = write!(
            s,
            "        IF {cond} THEN\n            {}\n            won := won || '{name}'::text;\n        END IF;\n",
            sets.join(" ")
        );
    }
    let group_names: Vec<String> = groups.iter().map(|g| g[0].clone()).collect();
    let assigns: Vec<String> = names
        .iter()
        .filter(|c| *c != "id")
        .map(|c| format!("{c} = r.{c}"))
        .collect();
    let _ = write!(
        s,
        "        IF p_op = 'insert' AND p_ver > r._v0 COLLATE \"C\" THEN
            nv0 := p_ver;
        END IF;{early}
        FOREACH g IN ARRAY ARRAY[{}] LOOP
            eff := CASE WHEN g = ANY (won) THEN p_ver ELSE coalesce(r._v->>g, r._v0) END;
            IF eff <> nv0 THEN
                nv := nv || jsonb_build_object(g, eff);
            END IF;
        END LOOP;{late}
        UPDATE cd.{t} SET {},
            _v0 = nv0, _v = nv, _seq = {seq},{by}
            _dev = CASE WHEN cardinality(won) > 0 THEN p_dev ELSE _dev END
         WHERE id = p_id;
        RETURN true;
    END;
END $$;
",
        quoted(&group_names),
        assigns.join(", "),
        seq = form.seq(),
        early = if form == Protocol::V2 {
            NOTHING_WON
        } else {
            ""
        },
        late = if form == Protocol::V1 {
            NOTHING_WON
        } else {
            ""
        },
        by = match form {
            Protocol::V1 => "",
            Protocol::V2 =>
                "\n            _by = CASE WHEN cardinality(won) > 0 THEN p_by ELSE _by END,",
        },
    );
    Ok(())
}

/// A change that wins no group (and is not a newer insert) changes nothing: the row stays.
const NOTHING_WON: &str = "
        IF cardinality(won) = 0 AND nv0 = r._v0 THEN
            RETURN false;
        END IF;";

/// The level of a value of `t`'s lattice column (NULL: not a value of it).
fn level_function(s: &mut String, t: &str, l: Lattice) {
    let whens: Vec<String> = l
        .levels
        .iter()
        .enumerate()
        .flat_map(|(i, vals)| vals.iter().map(move |v| format!("WHEN '{v}' THEN {i}")))
        .collect();
    let _ = write!(
        s,
        "
-- The level of a {t}.{c} value in its lattice (NULL: not a value of it).
CREATE FUNCTION sync.level_{t}(v text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE v {} END
$$;
",
        whens.join(" "),
        c = l.column
    );
}

fn push_function(s: &mut String, mirrors: &[Mirror]) {
    let cases: Vec<String> = mirrors
        .iter()
        .map(|m| {
            format!(
                "            WHEN '{t}' THEN changed := sync.merge_{t}(v_id, v_op, v_cols, ver, dev.device_id);",
                t = m.name
            )
        })
        .collect();
    let _ = write!(
        s,
        r#"
-- The push (SYNC.md §4.1) ------------------------------------------------------------------------
-- One call = one transaction = one batch of whole local transactions, in order. Errors:
-- 28000 not an enrolled device (revoked), {CLONE_OR_RESTORE} clone_or_restore_detected, {SEQUENCE_GAP} sequence_gap,
-- {MALFORMED} a malformed batch or change, 42501 a row outside the device's clinics (row-level
-- security), 23xxx a constraint: the client keeps the batch and stops its queue visibly.
CREATE FUNCTION sync.push(p_incarnation uuid, p_first bigint, p_last bigint, p_digest bytea, p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = sync, cd, pg_temp AS $$
DECLARE
    dev sync.devices%ROWTYPE;
    b sync.batches%ROWTYPE;
    acked bigint;
    v_n int;
    c jsonb;
    prev bigint;
    v_seq bigint;
    v_id uuid;
    v_op text;
    v_cols jsonb;
    hlc text;
    ver text;
    lim text;
    changed boolean;
    applied int := 0;
    v_clock bigint;
    ack jsonb;
BEGIN
    SELECT * INTO dev FROM sync.devices d WHERE d.role_name = session_user AND d.revoked_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not an enrolled device: %', session_user USING ERRCODE = '28000';
    END IF;
    -- One push at a time: commit order is sequence order.
    PERFORM 1 FROM sync.clock k WHERE k.id = 1 FOR UPDATE;
    IF p_incarnation IS NULL OR p_first IS NULL OR p_last IS NULL OR p_first < 1 OR p_last < p_first THEN
        RAISE EXCEPTION 'malformed batch: sequence range % .. %', p_first, p_last USING ERRCODE = '{MALFORMED}';
    END IF;
    IF p_digest IS NULL OR octet_length(p_digest) <> 32 THEN
        RAISE EXCEPTION 'malformed batch: the digest is not a SHA-256' USING ERRCODE = '{MALFORMED}';
    END IF;

    SELECT * INTO b FROM sync.batches x
     WHERE x.device_id = dev.device_id AND x.incarnation = p_incarnation AND x.first_seq = p_first;
    IF FOUND THEN
        IF b.digest <> p_digest OR b.last_seq <> p_last THEN
            RAISE EXCEPTION 'clone_or_restore_detected: batch % .. % of incarnation % was acknowledged with other contents',
                p_first, p_last, p_incarnation USING ERRCODE = '{CLONE_OR_RESTORE}';
        END IF;
        RETURN b.ack;   -- the acknowledgement the client never received: nothing applied twice
    END IF;
    SELECT i.last_seq INTO acked FROM sync.incarnations i
     WHERE i.device_id = dev.device_id AND i.incarnation = p_incarnation;
    IF NOT FOUND THEN
        -- A new incarnation (a new enrolment or re-keyed restore) starts where its first batch does.
        acked := p_first - 1;
        INSERT INTO sync.incarnations (device_id, incarnation, last_seq) VALUES (dev.device_id, p_incarnation, acked);
    END IF;
    IF p_first <= acked THEN
        RAISE EXCEPTION 'clone_or_restore_detected: batch % .. % reuses sequence numbers of incarnation % (acknowledged up to %)',
            p_first, p_last, p_incarnation, acked USING ERRCODE = '{CLONE_OR_RESTORE}';
    END IF;
    IF p_first <> acked + 1 THEN
        RAISE EXCEPTION 'sequence_gap: batch starts at %, the server acknowledged up to %', p_first, acked
            USING ERRCODE = '{SEQUENCE_GAP}';
    END IF;
    IF jsonb_typeof(p_changes) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'malformed batch: the changes are not a JSON array' USING ERRCODE = '{MALFORMED}';
    END IF;
    v_n := jsonb_array_length(p_changes);
    IF v_n = 0 OR v_n > {MAX_BATCH} THEN
        RAISE EXCEPTION 'malformed batch: % changes (1 to {MAX_BATCH})', v_n USING ERRCODE = '{MALFORMED}';
    END IF;

    -- §6: a version's HLC is clamped to server now + 2 min (order preserving), the original kept.
    lim := lpad((floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint + {CLAMP_AHEAD_MS})::text, 15, '0') || '-00000000';
    prev := p_first - 1;
    FOR c IN SELECT e.value FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS e ORDER BY e.ordinality LOOP
        IF jsonb_typeof(c) IS DISTINCT FROM 'object' OR jsonb_typeof(c->'seq') IS DISTINCT FROM 'number'
           OR (c->>'seq') !~ '^[0-9]{{1,18}}$' OR jsonb_typeof(c->'table') IS DISTINCT FROM 'string'
           OR jsonb_typeof(c->'row_id') IS DISTINCT FROM 'string' OR jsonb_typeof(c->'op') IS DISTINCT FROM 'string'
           OR jsonb_typeof(c->'columns') IS DISTINCT FROM 'object' OR jsonb_typeof(c->'hlc') IS DISTINCT FROM 'string' THEN
            RAISE EXCEPTION 'malformed change after seq %: %', prev, left(c::text, 200) USING ERRCODE = '{MALFORMED}';
        END IF;
        v_seq := (c->>'seq')::bigint;
        IF v_seq <= prev OR v_seq > p_last THEN
            RAISE EXCEPTION 'malformed batch: change seq % out of order (after %, batch ends at %)', v_seq, prev, p_last
                USING ERRCODE = '{MALFORMED}';
        END IF;
        IF (c->>'row_id') !~ '^[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$' THEN
            RAISE EXCEPTION 'malformed change %: row id %', v_seq, c->>'row_id' USING ERRCODE = '{MALFORMED}';
        END IF;
        hlc := c->>'hlc';
        IF hlc !~ '^[0-9]{{15}}-[0-9]{{8}}$' THEN
            RAISE EXCEPTION 'malformed change %: HLC %', v_seq, hlc USING ERRCODE = '{MALFORMED}';
        END IF;
        v_id := (c->>'row_id')::uuid;
        v_op := c->>'op';
        v_cols := c->'columns';
        ver := '0|' || least(hlc COLLATE "C", lim COLLATE "C") || '|' || hlc || '|' || dev.device_id::text;
        CASE c->>'table'
{cases}
            ELSE
                RAISE EXCEPTION 'malformed change %: % is not a replicated table', v_seq, c->>'table'
                    USING ERRCODE = '{MALFORMED}';
        END CASE;
        IF changed THEN
            applied := applied + 1;
        END IF;
        prev := v_seq;
    END LOOP;
    IF prev <> p_last THEN
        RAISE EXCEPTION 'malformed batch: the last change is seq %, the batch says %', prev, p_last
            USING ERRCODE = '{MALFORMED}';
    END IF;

    SELECT k.seq INTO v_clock FROM sync.clock k WHERE k.id = 1;
    ack := jsonb_build_object('device', dev.device_id, 'incarnation', p_incarnation,
        'first_seq', p_first, 'last_seq', p_last, 'changes', v_n, 'applied', applied, 'server_seq', v_clock);
    UPDATE sync.incarnations i SET last_seq = p_last
     WHERE i.device_id = dev.device_id AND i.incarnation = p_incarnation;
    INSERT INTO sync.batches (device_id, incarnation, first_seq, last_seq, digest, ack)
    VALUES (dev.device_id, p_incarnation, p_first, p_last, p_digest, ack);
    UPDATE sync.devices d SET last_seen_at = now() WHERE d.device_id = dev.device_id;
    PERFORM pg_notify('cd_sync', v_clock::text);
    RETURN ack;
END $$;
"#,
        cases = cases.join("\n")
    );
}

const HEADER: &str = "-- GENERATED by crates/server (push::generate) from the table registry; do not edit.
-- Refresh: cargo run -p clinicdesk-server --example gen_server_schema -- v2 > migrations/postgres/V2__merge_and_push.sql
--
-- The merge (SYNC.md §3.2, the model is clinicdesk_wire::merge) and the push (§4.1, §6).
-- No per-row EXCEPTION blocks: each is a subtransaction (SYNC.md §4.1); a bad change raises and
-- the whole push rolls back.
";

const CHECK_CHANGE: &str = r#"
-- A change checked against its table before anything is written (the model's MergeSchema::check):
-- the op, the version's text form, known columns of the right JSON type, the id, an insert
-- carrying every column, whole merge groups, lattice values, no update of an immutable table.
CREATE FUNCTION sync.check_change(p_table text, p_id uuid, p_op text, p_cols jsonb, p_ver text,
    p_columns text[], p_types text[], p_groups jsonb, p_immutable boolean)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    k text;
    ty text;
    jt text;
    g jsonb;
    want text[];
BEGIN
    IF p_op IS NULL OR p_op NOT IN ('insert', 'update') THEN
        RAISE EXCEPTION 'merge % %: op % is not insert or update', p_table, p_id, p_op USING ERRCODE = '22023';
    END IF;
    IF p_ver IS NULL OR p_ver !~ '^[01]\|[0-9]{15}-[0-9]{8}\|[0-9]{15}-[0-9]{8}\|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RAISE EXCEPTION 'merge % %: % is not a version', p_table, p_id, p_ver USING ERRCODE = '22023';
    END IF;
    IF jsonb_typeof(p_cols) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'merge % %: the columns are not a JSON object', p_table, p_id USING ERRCODE = '22023';
    END IF;
    IF p_immutable AND p_op = 'update' THEN
        RAISE EXCEPTION 'merge % %: % is insert-only; an update is a protocol error', p_table, p_id, p_table
            USING ERRCODE = '22023';
    END IF;
    FOR k IN SELECT jsonb_object_keys(p_cols) LOOP
        ty := p_types[array_position(p_columns, k)];
        IF ty IS NULL THEN
            RAISE EXCEPTION 'merge % %: % is not a replicated column of %', p_table, p_id, k, p_table
                USING ERRCODE = '22023';
        END IF;
        jt := jsonb_typeof(p_cols->k);
        IF NOT (jt = 'null'
                OR (jt = 'string' AND ty IN ('text', 'uuid'))
                OR (jt = 'number' AND ty = 'double precision')
                OR (jt = 'number' AND ty = 'bigint' AND (p_cols->>k) ~ '^-?[0-9]{1,19}$')) THEN
            RAISE EXCEPTION 'merge % %: % (%) is not a value of the % column %', p_table, p_id, p_cols->k, jt, ty, k
                USING ERRCODE = '22023';
        END IF;
    END LOOP;
    IF p_cols ? 'id' AND (p_op = 'update' OR (p_cols->>'id') IS DISTINCT FROM p_id::text) THEN
        RAISE EXCEPTION 'merge % %: the id column is the row id, set by the insert only', p_table, p_id
            USING ERRCODE = '22023';
    END IF;
    IF p_op = 'insert' AND NOT p_cols ?& p_columns THEN
        RAISE EXCEPTION 'merge % %: an insert carries every column; it lacks %', p_table, p_id,
            ARRAY(SELECT c FROM unnest(p_columns) c WHERE NOT p_cols ? c) USING ERRCODE = '22023';
    END IF;
    FOR g IN SELECT jsonb_array_elements(p_groups) LOOP
        want := ARRAY(SELECT jsonb_array_elements_text(g));
        IF p_cols ?| want AND NOT p_cols ?& want THEN
            RAISE EXCEPTION 'merge % %: a change carries whole merge groups; group % lacks %', p_table, p_id,
                want[1], ARRAY(SELECT c FROM unnest(want) c WHERE NOT p_cols ? c) USING ERRCODE = '22023';
        END IF;
    END LOOP;
END $$;
"#;
