-- The boundaries of local transactions in change_log (SYNC.md §1, §4.1): a PC pushes whole
-- transactions (a reschedule's new appointment, the old one's status, its history and KPI rows
-- together), never half of one. `Store::write_as` (WriteMode::Local) records one row per
-- transaction that captured changes, in that transaction, just before it commits.
-- Not replicated and not audited: bookkeeping of this PC's outbound queue, like change_log.
CREATE TABLE sync_txn (
    last_seq  INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    user_id   TEXT,
    at        INTEGER NOT NULL,
    CHECK (first_seq <= last_seq)
) STRICT;
