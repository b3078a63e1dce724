// Shared fake data for component tests.
import type { Session } from "../bindings";
import type { Appointment, Clinic, GridEntry, Patient, ScheduleEntry, Staff } from "../lib/types";

export const CLINIC_ID = "0190a000-0000-7000-8000-000000000001";

export const clinic = {
  id: CLINIC_ID, name: "Calgary North", code: "CGY", timezone: "America/Edmonton", phone: null,
  reminder_offsets_minutes: [1440, 120], idle_lock_minutes: 15,
  // ISO dates and a 24-hour clock, so the screens' tests read times as "09:00"; the formats of
  // every locale are format.test.ts's.
  country: "CA", display_locale: "en-CA" as const, hour_cycle: "h23" as const,
} as Clinic;

export function sessionFor(role: "front_desk" | "manager" | "admin" = "front_desk"): Session {
  return { user_id: "u1", username: "desk", display_name: "Dana Desk", roles: [{ clinic_id: CLINIC_ID, role }] };
}

export function status(role: "front_desk" | "manager" | "admin" = "front_desk", locked = false) {
  return { signed_in: true, locked, user: sessionFor(role), idle_timeout_minutes: 15, seconds_until_lock: 900 };
}

export const signedOut = { signed_in: false, locked: false, user: null, idle_timeout_minutes: 15, seconds_until_lock: 0 };

export const drLee = {
  id: "s1", first_name: "Robin", last_name: "Lee", title: "PT", discipline: "physio", primary_clinic_id: CLINIC_ID, is_active: true, is_clinical: true,
} as Staff;

export const ann = {
  id: "p1", clinic_id: CLINIC_ID, mrn: "CGY-0001", first_name: "Ann", last_name: "Smith", preferred_name: null,
  date_of_birth: "1980-02-03", phone: null, email: null,
} as Patient;

export function appointment(over: Partial<Appointment> = {}): Appointment {
  const start = Date.UTC(2026, 2, 9, 15, 0);
  return {
    id: "a1", clinic_id: CLINIC_ID, patient_id: "p1", provider_id: "s1", room_id: null, appointment_type_id: null,
    start_at: start, end_at: start + 30 * 60_000, status: "confirmed", case_id: null, reason: "Knee pain", notes: null,
    source: "front_desk", rescheduled_from_id: null, series_id: null, cancel_reason: null, override_reason: null,
    checked_in_at: null, started_at: null, completed_at: null, checked_out_at: null, cancelled_at: null,
    legacy_id: null, created_at: 0, updated_at: 0, deleted_at: null, ...over,
  };
}

export function scheduleEntry(over: Partial<Appointment> = {}): ScheduleEntry {
  return { appointment: appointment(over), patient_name: "Ann Smith", provider_name: "Robin Lee", room_name: null, type_name: null };
}

/** The day view's row for an appointment. */
export function gridEntry(a: Appointment, patientName = "Ann Smith"): GridEntry {
  return {
    id: a.id, provider_id: a.provider_id, room_id: a.room_id, appointment_type_id: a.appointment_type_id,
    patient_name: patientName, start_at: a.start_at, end_at: a.end_at, status: a.status, series_id: a.series_id,
    case_id: a.case_id, checked_in_at: a.checked_in_at,
  };
}
