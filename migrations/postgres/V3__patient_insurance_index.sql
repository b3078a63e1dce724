-- ClinicDesk server schema V3 (hand-written: an index, no mirrored table changes).
-- sync.patient_vis_spread finds a patient's insurance rows by patient_id on every insert of a
-- patient and every change of its visibility. Without an index each of those scanned the whole
-- table: seeding the large demo (200,000 patients) took quadratic time.
CREATE INDEX ix_patient_insurance_patient ON cd.patient_insurance (patient_id);
