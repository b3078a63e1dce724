-- Forward-secure sealing of the audit chain (crates/store/src/audit/seal.rs). Each seal is an
-- HMAC, under the epoch's sealing key K_i, of the range of audit entries it covers and the hash
-- of the last one; after sealing, K_i is replaced by K_{i+1} = H(K_i) in local_meta
-- ('audit_seal_key') and erased. The administrator keeps K_0 (the verification key).
-- Append-only like audit_log.
CREATE TABLE audit_seals (
    epoch     INTEGER PRIMARY KEY CHECK (epoch >= 0),
    from_seq  INTEGER NOT NULL CHECK (from_seq >= 1),
    to_seq    INTEGER NOT NULL CHECK (to_seq >= from_seq),
    head_hash TEXT NOT NULL,
    mac       TEXT NOT NULL,
    at        INTEGER NOT NULL
);
CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals BEGIN
    SELECT RAISE(ABORT, 'audit_seals is append-only');
END;
CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals BEGIN
    SELECT RAISE(ABORT, 'audit_seals is append-only');
END;
