-- Writes no longer merge the patient search index's segments (crates/store/src/db.rs
-- `settle_search_index`): FTS5's automatic merging rewrote the whole index inside an ordinary
-- patient write after a bulk load (~1.5 s on the large demo, the 16th write after the load and
-- again a few hundred later). A write now only adds its small segment; a level is merged at
-- once only when it holds 64 (small ones, in practice); the desktop app's housekeeping thread
-- merges in small steps (`Store::merge_search_index`).
INSERT INTO patients_fts(patients_fts, rank) VALUES ('automerge', 0);
INSERT INTO patients_fts(patients_fts, rank) VALUES ('crisismerge', 64);
