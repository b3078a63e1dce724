-- The audit chain anchored off the PC (issue 13 point 5; SYNC.md §5 item 5). After each sync
-- round a PC reports its audit chain's head (seq, hash) and the hash its chain has *now* at
-- the head it reported last (the anchor the server names). The server keeps every head it
-- was told, append-only, and flags a PC whose history no longer leads to its last head: a
-- different hash there (history rewritten and re-hashed by someone holding the database key)
-- or no entry there any more (the tail truncated). A restored backup comes with a new
-- incarnation: its chain is checked against the newest head at or before its own end, and
-- the restore is recorded (not a flag). Also: the clock skew the PC measured.

-- V1 created an unused placeholder of this table (keyed by device, incarnation and seq: a
-- rewritten chain's head can repeat a seq with another hash); no code ever wrote it.
DROP TABLE sync.audit_heads;

CREATE TABLE sync.audit_heads (
    n           bigserial PRIMARY KEY,
    device_id   uuid NOT NULL REFERENCES sync.devices,
    incarnation uuid NOT NULL,
    seq         bigint NOT NULL CHECK (seq >= 0),
    hash        text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    reported_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ix_audit_heads_device ON sync.audit_heads (device_id, n DESC);

-- What the server concluded about a PC's audit history: `tamper_suspected` (the chain's hash
-- at the anchor differs), `truncated` (the chain no longer reaches the anchor), or
-- `restored_from_backup` (a new incarnation, checked against an earlier head: informational).
CREATE TABLE sync.audit_flags (
    n             bigserial PRIMARY KEY,
    device_id     uuid NOT NULL REFERENCES sync.devices,
    incarnation   uuid NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('tamper_suspected', 'truncated', 'restored_from_backup')),
    anchor_seq    bigint NOT NULL,
    anchor_hash   text NOT NULL,
    reported_hash text,
    flagged_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Like every table of the server: row-level security on and forced, the owner's policy only
-- (devices reach them through the functions below, never directly).
ALTER TABLE sync.audit_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync.audit_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON sync.audit_heads TO CURRENT_USER USING (true) WITH CHECK (true);
ALTER TABLE sync.audit_flags ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync.audit_flags FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON sync.audit_flags TO CURRENT_USER USING (true) WITH CHECK (true);

-- Append-only, for the owner too: a head or a flag, once written, is what the server was told.
CREATE FUNCTION sync.append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '42501';
END $$;
CREATE TRIGGER audit_heads_append_only BEFORE UPDATE OR DELETE ON sync.audit_heads
    FOR EACH ROW EXECUTE FUNCTION sync.append_only();
CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON sync.audit_heads
    FOR EACH STATEMENT EXECUTE FUNCTION sync.append_only();
CREATE TRIGGER audit_flags_append_only BEFORE UPDATE OR DELETE ON sync.audit_flags
    FOR EACH ROW EXECUTE FUNCTION sync.append_only();
CREATE TRIGGER audit_flags_no_truncate BEFORE TRUNCATE ON sync.audit_flags
    FOR EACH STATEMENT EXECUTE FUNCTION sync.append_only();

-- The head the calling device's chain must still lead to: its last report; in a new
-- incarnation (a restore), the newest head at or before `p_head_seq`. NULL: none yet.
CREATE FUNCTION sync.audit_anchor_of(p_device uuid, p_incarnation uuid, p_head_seq bigint)
RETURNS sync.audit_heads
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT h.* FROM sync.audit_heads h
    WHERE h.device_id = p_device
      AND (EXISTS (SELECT 1 FROM sync.audit_heads x WHERE x.device_id = p_device AND x.incarnation = p_incarnation)
           OR h.seq <= p_head_seq)
      AND (NOT EXISTS (SELECT 1 FROM sync.audit_heads x WHERE x.device_id = p_device AND x.incarnation = p_incarnation)
           OR h.n = (SELECT max(x.n) FROM sync.audit_heads x WHERE x.device_id = p_device))
    ORDER BY h.n DESC
    LIMIT 1
$$;

-- sync.calling_device() (V5): the enrolled, unrevoked device of session_user, else 28000.

-- The sequence number whose hash the calling device must send with its next report (NULL:
-- nothing anchored yet).
CREATE FUNCTION sync.audit_anchor(p_incarnation uuid, p_head_seq bigint) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT (sync.audit_anchor_of(sync.calling_device(), p_incarnation, p_head_seq)).seq
$$;

-- Record the calling device's head; returns `anchored`, `restored_from_backup`,
-- `tamper_suspected` or `truncated` (the last two also recorded in sync.audit_flags).
-- `p_anchor_hash` is the device's chain's hash at the anchor's seq now (NULL: no entry there).
CREATE FUNCTION sync.report_audit_head(
    p_incarnation uuid, p_seq bigint, p_hash text, p_anchor_seq bigint, p_anchor_hash text
) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    dev uuid := sync.calling_device();
    a sync.audit_heads;
    fresh boolean;
    verdict text := 'anchored';
BEGIN
    IF p_seq IS NULL OR p_seq < 0 OR p_hash IS NULL OR p_hash !~ '^[0-9a-f]{64}$' THEN
        RAISE EXCEPTION 'an audit head is a sequence number and a SHA-256 hash' USING ERRCODE = '22023';
    END IF;
    -- One report at a time per device (the anchor must not move under it).
    PERFORM 1 FROM sync.devices WHERE device_id = dev FOR UPDATE;
    fresh := NOT EXISTS (SELECT 1 FROM sync.audit_heads WHERE device_id = dev AND incarnation = p_incarnation);
    a := sync.audit_anchor_of(dev, p_incarnation, p_seq);
    IF a.n IS NOT NULL THEN
        IF p_anchor_seq IS DISTINCT FROM a.seq THEN
            RAISE EXCEPTION 'the anchor is seq %, not %', a.seq, p_anchor_seq USING ERRCODE = '22023';
        END IF;
        IF p_anchor_hash IS NULL THEN
            verdict := 'truncated';
        ELSIF p_anchor_hash <> a.hash THEN
            verdict := 'tamper_suspected';
        ELSIF fresh AND EXISTS (SELECT 1 FROM sync.audit_heads WHERE device_id = dev) THEN
            verdict := 'restored_from_backup';
        END IF;
        IF verdict <> 'anchored' THEN
            INSERT INTO sync.audit_flags (device_id, incarnation, kind, anchor_seq, anchor_hash, reported_hash)
            VALUES (dev, p_incarnation, verdict, a.seq, a.hash, p_anchor_hash);
        END IF;
    END IF;
    -- A head already reported (no audit entry since) is not stored again.
    IF a.n IS NULL OR a.seq <> p_seq OR a.hash <> p_hash OR verdict <> 'anchored' THEN
        INSERT INTO sync.audit_heads (device_id, incarnation, seq, hash)
        VALUES (dev, p_incarnation, p_seq, p_hash);
    END IF;
    RETURN verdict;
END $$;

-- The clock skew the device measured (server minus PC, ms), shown with its devices.
CREATE FUNCTION sync.report_skew(p_skew_ms integer) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    UPDATE sync.devices SET skew_ms = p_skew_ms WHERE device_id = sync.calling_device()
$$;

REVOKE EXECUTE ON FUNCTION sync.audit_anchor_of(uuid, uuid, bigint), sync.append_only()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sync.audit_anchor(uuid, bigint),
    sync.report_audit_head(uuid, bigint, text, bigint, text),
    sync.report_skew(integer) TO clinicdesk_device;
