-- The schedule grid reads a clinic's day from one covering index: the columns it paints,
-- in start order, with the patient's name, so a day of ~300 appointments is one short index
-- range scan and no lookup per row (neither into the table nor into patients).
--
-- `appointments.patient_name` is derived, local data: the patient's display name, kept by the
-- triggers below whichever path writes the appointment (booking, series, waitlist, a remote
-- change being applied) or renames the patient. It is not a column of the appointment record:
-- the generated audit and change-capture triggers list V1's columns only, so it is neither
-- audited nor replicated (each device derives it from its own patients table).
ALTER TABLE appointments ADD COLUMN patient_name TEXT;

UPDATE appointments
SET patient_name = (SELECT p.first_name || ' ' || p.last_name FROM patients p WHERE p.id = appointments.patient_id);

-- An insert that does not bring the name (every path but bulk demo generation) gets it here.
CREATE TRIGGER appointments_patient_name_ai AFTER INSERT ON appointments
WHEN NEW.patient_name IS NULL
BEGIN
    UPDATE appointments
    SET patient_name = (SELECT p.first_name || ' ' || p.last_name FROM patients p WHERE p.id = NEW.patient_id)
    WHERE id = NEW.id;
END;

CREATE TRIGGER appointments_patient_name_au AFTER UPDATE OF patient_id ON appointments
WHEN OLD.patient_id IS NOT NEW.patient_id
BEGIN
    UPDATE appointments
    SET patient_name = (SELECT p.first_name || ' ' || p.last_name FROM patients p WHERE p.id = NEW.patient_id)
    WHERE id = NEW.id;
END;

CREATE TRIGGER patients_name_to_appointments_au AFTER UPDATE OF first_name, last_name ON patients
WHEN OLD.first_name IS NOT NEW.first_name OR OLD.last_name IS NOT NEW.last_name
BEGIN
    UPDATE appointments SET patient_name = NEW.first_name || ' ' || NEW.last_name
    WHERE patient_id = NEW.id;
END;

-- Replaces ix_appointments_clinic_time (its first two columns are the same, so every query
-- that used it uses this one), so a write still maintains one clinic/time index, not two.
CREATE INDEX ix_appointments_day ON appointments(
    clinic_id, start_at, end_at, status, provider_id, room_id, appointment_type_id,
    patient_name, id, series_id, case_id, checked_in_at, deleted_at
);
DROP INDEX ix_appointments_clinic_time;
