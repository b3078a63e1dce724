-- Server verdicts on overlapping bookings (SYNC.md §5 item 1; hand-written, append-only).
--
-- Two PCs, each offline, can book the same provider, room or patient at overlapping times: each
-- PC's own booking rule (crates/api/src/ops/booking/rules.rs) only sees its own rows. The server
-- decides, in the push's transaction (sync.accept holds the sync.clock row, so pushes are judged
-- one at a time, in the order they reach the server): the first active booking to reach the
-- server keeps the slot; a later one that overlaps it is merged (nothing is dropped) but its
-- status group is rewritten to cancelled with a rank-1 version ('1|…', which beats every device
-- write, so every PC converges on it), with a reason naming the winner, a system status-history
-- row, its pending reminders cancelled and a cd.sync_conflicts row (id = UUIDv5 of device, row,
-- kind and version: a replayed push creates none twice). The rows arrive on the PCs by pull.
-- The conflict row itself is versioned at rank 0 (the losing change's version): a PC that pulled
-- it writes its resolution with a later HLC, which must win.
--
-- Scope: overlaps within one clinic (a device's session sees only its clinics' rows under the
-- forced row-level security, so the judgement and the backstop are per clinic). Only a device's
-- push is judged: the owner's own session (the first PC's seed, a repair) is not.
--
-- The backstop: EXCLUDE USING gist constraints over the rows the server judged or the owner
-- wrote since this migration (_judged; rows already on an upgraded server are history and are
-- not re-judged). A backstop that fires aborts the push (a bug): it is never used with ON
-- CONFLICT (not supported with exclusion constraints; DO NOTHING would drop the row silently).
-- No per-row EXCEPTION blocks (subtransactions).

CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

-- UUIDv5 in the verdicts' namespace (the extension's schema is wherever it was installed).
DO $do$
DECLARE
    ns text;
BEGIN
    SELECT n.nspname INTO ns FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'uuid-ossp';
    EXECUTE format(
        'CREATE FUNCTION sync.verdict_id(p_name text) RETURNS uuid LANGUAGE sql IMMUTABLE '
        'SET search_path = pg_catalog, pg_temp AS $f$ SELECT %I.uuid_generate_v5(%L::uuid, p_name) $f$',
        ns, 'c1d5c0f1-7e3a-5b8e-9a41-5f0d2b6e8c73');
END $do$;

-- Rows the backstop covers: every row written from now on (judged by a push, or written by the
-- owner); the rows already here are history.
ALTER TABLE cd.appointments ADD COLUMN _judged boolean NOT NULL DEFAULT false;
ALTER TABLE cd.appointments ALTER COLUMN _judged SET DEFAULT true;

-- The statuses that hold a slot (domain AppointmentStatus::is_active).
CREATE FUNCTION sync.is_active_appointment(p_status text, p_deleted_at bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_deleted_at IS NULL
       AND p_status IN ('pending', 'confirmed', 'reminded', 'checked_in', 'in_progress', 'completed')
$$;

-- Whether this session is a device's (a push), not the owner's own.
CREATE FUNCTION sync.device_session() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM sync.devices d WHERE d.role_name = session_user)
$$;

CREATE INDEX ix_appointments_provider_slot ON cd.appointments
    USING gist (clinic_id, provider_id, int8range(start_at, end_at))
    WHERE deleted_at IS NULL AND status IN ('pending', 'confirmed', 'reminded', 'checked_in', 'in_progress', 'completed');
CREATE INDEX ix_appointments_room_slot ON cd.appointments
    USING gist (clinic_id, room_id, int8range(start_at, end_at))
    WHERE room_id IS NOT NULL AND deleted_at IS NULL AND status IN ('pending', 'confirmed', 'reminded', 'checked_in', 'in_progress', 'completed');
CREATE INDEX ix_appointments_patient_slot ON cd.appointments
    USING gist (clinic_id, patient_id, int8range(start_at, end_at))
    WHERE deleted_at IS NULL AND status IN ('pending', 'confirmed', 'reminded', 'checked_in', 'in_progress', 'completed');

ALTER TABLE cd.appointments ADD CONSTRAINT ex_appointments_provider
    EXCLUDE USING gist (clinic_id WITH =, provider_id WITH =, int8range(start_at, end_at) WITH &&)
    WHERE (_judged AND deleted_at IS NULL AND status IN ('pending', 'confirmed', 'reminded', 'checked_in', 'in_progress', 'completed'));
ALTER TABLE cd.appointments ADD CONSTRAINT ex_appointments_room
    EXCLUDE USING gist (clinic_id WITH =, room_id WITH =, int8range(start_at, end_at) WITH &&)
    WHERE (_judged AND room_id IS NOT NULL AND deleted_at IS NULL AND status IN ('pending', 'confirmed', 'reminded', 'checked_in', 'in_progress', 'completed'));
ALTER TABLE cd.appointments ADD CONSTRAINT ex_appointments_patient
    EXCLUDE USING gist (clinic_id WITH =, patient_id WITH =, int8range(start_at, end_at) WITH &&)
    WHERE (_judged AND deleted_at IS NULL AND status IN ('pending', 'confirmed', 'reminded', 'checked_in', 'in_progress', 'completed'));

-- The verdict on one merged appointment (BEFORE INSERT OR UPDATE, after the merge function chose
-- the row's values and versions).
CREATE FUNCTION sync.judge_appointment() RETURNS trigger
LANGUAGE plpgsql SET search_path = sync, cd, pg_temp AS $$
DECLARE
    winner uuid;
    res text;
    ver text;
    verdict text;
    reason text;
    cid uuid;
    now_ms bigint;
BEGIN
    IF NOT sync.device_session() OR NOT sync.is_active_appointment(NEW.status, NEW.deleted_at) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND sync.is_active_appointment(OLD.status, OLD.deleted_at)
       AND OLD.clinic_id = NEW.clinic_id AND OLD.provider_id = NEW.provider_id
       AND OLD.room_id IS NOT DISTINCT FROM NEW.room_id AND OLD.patient_id = NEW.patient_id
       AND OLD.start_at = NEW.start_at AND OLD.end_at = NEW.end_at THEN
        RETURN NEW;   -- it already held this slot (an edit of a note does not re-judge history)
    END IF;
    NEW._judged := true;
    SELECT a.id INTO winner FROM cd.appointments a
     WHERE a.clinic_id = NEW.clinic_id AND a.provider_id = NEW.provider_id
       AND int8range(a.start_at, a.end_at) && int8range(NEW.start_at, NEW.end_at)
       AND a.deleted_at IS NULL AND a.status IN ('pending', 'confirmed', 'reminded', 'checked_in', 'in_progress', 'completed')
       AND a.id <> NEW.id
     ORDER BY a.start_at, a.id LIMIT 1;
    res := 'provider';
    IF winner IS NULL AND NEW.room_id IS NOT NULL THEN
        SELECT a.id INTO winner FROM cd.appointments a
         WHERE a.clinic_id = NEW.clinic_id AND a.room_id = NEW.room_id
           AND int8range(a.start_at, a.end_at) && int8range(NEW.start_at, NEW.end_at)
           AND a.deleted_at IS NULL AND a.status IN ('pending', 'confirmed', 'reminded', 'checked_in', 'in_progress', 'completed')
           AND a.id <> NEW.id
         ORDER BY a.start_at, a.id LIMIT 1;
        res := 'room';
    END IF;
    IF winner IS NULL THEN
        SELECT a.id INTO winner FROM cd.appointments a
         WHERE a.clinic_id = NEW.clinic_id AND a.patient_id = NEW.patient_id
           AND int8range(a.start_at, a.end_at) && int8range(NEW.start_at, NEW.end_at)
           AND a.deleted_at IS NULL AND a.status IN ('pending', 'confirmed', 'reminded', 'checked_in', 'in_progress', 'completed')
           AND a.id <> NEW.id
         ORDER BY a.start_at, a.id LIMIT 1;
        res := 'patient';
    END IF;
    IF winner IS NULL THEN
        RETURN NEW;
    END IF;

    -- The loser. Its verdict version: the pushed change's (the greatest of the row's versions)
    -- at rank 1, so it beats every device write of the status group, on every PC.
    SELECT max(x.v COLLATE "C") INTO ver
      FROM (SELECT NEW._v0 AS v UNION ALL SELECT e.value FROM jsonb_each_text(NEW._v) e) x;
    verdict := '1' || substr(ver, 2);
    now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    reason := 'sync conflict: slot taken by ' || winner::text;
    IF NEW.rescheduled_from_id IS NOT NULL THEN
        reason := reason || '; this was a reschedule of ' || NEW.rescheduled_from_id::text
            || ', whose original slot was released';
    END IF;
    cid := sync.verdict_id(coalesce(NEW._dev::text, '') || '/' || NEW.id::text || '/appointment_overlap/' || ver);

    INSERT INTO cd.appointment_status_history (id, clinic_id, appointment_id, from_status, to_status,
        changed_at, changed_by, reason, is_correction, created_at, updated_at, deleted_at, _v0, _v, _seq, _by, _dev)
    VALUES (sync.verdict_id('status/' || cid::text), NEW.clinic_id, NEW.id, NEW.status, 'cancelled',
        now_ms, NULL, reason, 0, now_ms, now_ms, NULL, verdict, '{}', NEW._seq, NULL, NULL)
    ON CONFLICT (id) DO NOTHING;
    INSERT INTO cd.sync_conflicts (id, clinic_id, kind, appointment_id, winner_id, resource, device_id, detail,
        resolved_at, resolved_by, resolution, rebooked_id, note, created_at, updated_at, deleted_at, _v0, _v, _seq, _by, _dev)
    VALUES (cid, NEW.clinic_id, 'appointment_overlap', NEW.id, winner, res, NEW._dev::text, reason,
        NULL, NULL, NULL, NULL, NULL, now_ms, now_ms, NULL, ver, '{}', NEW._seq, NULL, NULL)
    ON CONFLICT (id) DO NOTHING;
    UPDATE cd.appointment_reminders r
       SET status = 'cancelled', _v = r._v || jsonb_build_object('status', verdict), _seq = NEW._seq
     WHERE r.appointment_id = NEW.id AND r.status = 'pending' AND r.deleted_at IS NULL;

    NEW.status := 'cancelled';
    NEW.cancel_reason := reason;
    NEW.cancelled_at := now_ms;
    NEW._v := NEW._v || jsonb_build_object('status', verdict);
    RETURN NEW;
END $$;

CREATE TRIGGER appointments_verdict BEFORE INSERT OR UPDATE ON cd.appointments
    FOR EACH ROW EXECUTE FUNCTION sync.judge_appointment();

-- A reminder pushed after its appointment lost (the booking's reminders come after it in the
-- same local transaction) is cancelled by the same verdict.
CREATE FUNCTION sync.judge_reminder() RETURNS trigger
LANGUAGE plpgsql SET search_path = sync, cd, pg_temp AS $$
DECLARE
    verdict text;
BEGIN
    IF NEW.status <> 'pending' OR NOT sync.device_session() THEN
        RETURN NEW;
    END IF;
    SELECT a._v->>'status' INTO verdict FROM cd.appointments a
     WHERE a.id = NEW.appointment_id AND a.status = 'cancelled' AND left(a._v->>'status', 2) = '1|';
    IF verdict IS NOT NULL THEN
        NEW.status := 'cancelled';
        NEW._v := NEW._v || jsonb_build_object('status', verdict);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER appointment_reminders_verdict BEFORE INSERT OR UPDATE ON cd.appointment_reminders
    FOR EACH ROW EXECUTE FUNCTION sync.judge_reminder();

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA sync FROM PUBLIC;
