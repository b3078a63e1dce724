// The schedule at a glance (issue 15): statuses in colour and words, type colours, a legend, how
// long checked-in patients wait (by the screen's clock: the test clock here), booked and free
// time per provider, the selected appointment's keys from the domain's next steps, and the view
// switches as segmented controls.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import Schedule from "./Schedule.svelte";
import { app, resetSession } from "../lib/session.svelte";
import { keys } from "../lib/keys.svelte";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { appointment, clinic, CLINIC_ID, drLee, gridEntry, sessionFor } from "../test/fixtures";
import { TEST_NOW } from "../test/clock";
import { APPOINTMENT_NEXT_STEPS } from "../bindings";
import { ACTIONS } from "../lib/actions";
import type { Appointment, AppointmentType, RosterEntry, StaffSchedule } from "../lib/types";

const MIN = 60_000;
const at = (h: number, m = 0) => Date.UTC(2026, 2, 9, h + 6, m); // Edmonton wall clock (MDT) on 9 March
const physio = { id: "t1", clinic_id: CLINIC_ID, name: "Physio", code: "PHY", duration_minutes: 30, color: "#c2410c", required_credential_type_ids: [], is_active: true } as unknown as AppointmentType;
const review = { ...physio, id: "t2", name: "Review", code: "REV", color: null } as AppointmentType;
const waiting = appointment({ id: "w", status: "checked_in", start_at: at(9, 45), end_at: at(10, 15), checked_in_at: at(9, 48), appointment_type_id: "t1" });
const seen = appointment({ id: "c", status: "completed", start_at: at(8), end_at: at(8, 30) });
const gone = appointment({ id: "x", status: "cancelled", start_at: at(11), end_at: at(12) });
const dayShift: RosterEntry = {
  schedule: { id: "sh", clinic_id: CLINIC_ID, staff_id: "s1", shift_id: "d", schedule_date: "2026-03-09", start_at: at(8), end_at: at(16), status: "scheduled" } as StaffSchedule,
  staff_name: "Robin Lee",
  shift_name: "Day",
};

function backend(list: Appointment[], extra: Record<string, (a: Record<string, unknown>) => unknown> = {}) {
  return fakeBackend({
    list_staff: () => [drLee],
    list_rooms: () => [],
    list_appointment_types: () => [physio, review],
    day_schedule: (a) => ({ clinic_id: CLINIC_ID, date: a.date, hours: 24, day_start: 0, day_end: 0, entries: a.date === "2026-03-09" ? list.map((x) => gridEntry(x)) : [] }),
    list_roster: () => [dayShift],
    list_availability_blocks: () => [],
    get_appointment: (a) => list.find((x) => x.id === a.appointmentId),
    ...extra,
  });
}

describe("the schedule at a glance", () => {
  beforeEach(() => {
    resetSession();
    shimMissingCommands();
    app.session = sessionFor("front_desk");
    app.clinicId = CLINIC_ID;
    app.clinics = [clinic];
    app.phase = "app";
  });

  it("draws each status in its colour with its words, the type's colour at the edge, and how long a patient waits", async () => {
    vi.setSystemTime(TEST_NOW); // 10:00: checked in at 09:48
    backend([waiting, seen]);
    render(Schedule);
    await screen.findByRole("button", { name: "09:45 Ann Smith with Robin Lee" });
    const ev = await waitFor(() => {
      const e = document.querySelector<HTMLElement>(".ec-event.status-checked_in");
      expect(e).not.toBeNull();
      return e!;
    });
    expect(ev).toHaveTextContent("Checked in, waiting 12 min");
    expect(ev).toHaveTextContent("Ann Smith · Physio");
    expect(ev).toHaveStyle({ borderLeft: "6px solid #c2410c" });
    const completed = document.querySelector<HTMLElement>(".ec-event.status-completed .appt-status");
    expect(completed).toHaveTextContent("Completed");
    expect(completed?.dataset.glyph).toBe("✔");
  });

  it("has a legend of the statuses and the coloured types; cancelled and moved show, muted, when asked for", async () => {
    backend([waiting, gone]);
    render(Schedule);
    const legend = await screen.findByRole("list", { name: "Legend" });
    await waitFor(() => expect(legend).toHaveTextContent("Physio"));
    for (const s of ["Pending", "Confirmed", "Reminded", "Checked in", "In progress", "Completed"]) expect(legend).toHaveTextContent(s);
    expect(legend).not.toHaveTextContent("Review"); // no colour: nothing to explain
    expect(legend).not.toHaveTextContent("Cancelled");
    expect(document.querySelector(".ec-event.status-cancelled")).toBeNull();
    await fireEvent.click(screen.getByLabelText("Show cancelled and moved"));
    for (const s of ["Cancelled", "Moved", "No-show"]) expect(legend).toHaveTextContent(s);
    await waitFor(() => expect(document.querySelector(".ec-event.status-cancelled")).toHaveClass("inactive"));
    expect(document.querySelector(".ec-event.status-cancelled")).toHaveTextContent("Cancelled");
    expect(document.querySelector<HTMLElement>(".ec-event.status-cancelled .appt-status")?.dataset.glyph).toBe("⊘");
  });

  it("gives each provider's booked and free time for the day", async () => {
    backend([waiting, seen, gone]);
    render(Schedule);
    const loads = await screen.findByRole("list", { name: "Booked and free time" });
    // 08:00–08:30 and 09:45–10:15 booked; the cancelled hour frees its slot; an 8-hour shift.
    await waitFor(() => expect(loads).toHaveTextContent("Robin Lee: 1 h booked · 7 h free"));
    const head = document.querySelector(".lane-load");
    expect(head).toHaveTextContent("1 h booked · 7 h free");
    // The next day (same columns): the column's head shows that day's load.
    await fireEvent.click(screen.getByRole("button", { name: "Next day" }));
    await waitFor(() => expect(loads).toHaveTextContent("Robin Lee: 0 min booked · 8 h free"));
    await waitFor(() => expect(document.querySelector(".lane-load")).toHaveTextContent("0 min booked · 8 h free"));
    // The week view has no per-day column load.
    await fireEvent.click(screen.getByRole("radio", { name: "Week" }));
    await waitFor(() => expect(screen.queryByRole("list", { name: "Booked and free time" })).toBeNull());
  });

  it("the selected appointment's keys are exactly its legal next steps", async () => {
    const one = appointment({ id: "k" });
    let current = one;
    backend([one], { get_appointment: () => current });
    render(Schedule);
    const item = await screen.findByRole("button", { name: "09:00 Ann Smith with Robin Lee" });
    const enabledKeys = () => keys.screen.filter((s) => s.group === "Selected appointment" && s.key !== "Escape" && (s.enabled?.() ?? true)).map((s) => s.key);
    expect(enabledKeys()).toEqual([]);
    for (const row of APPOINTMENT_NEXT_STEPS) {
      current = { ...one, status: row.status, checked_out_at: row.checked_out ? at(10) : null };
      await fireEvent.click(item);
      const panel = await screen.findByRole("complementary", { name: "Ann Smith" });
      await waitFor(() => expect(within(panel).getByRole("group", { name: "Appointment actions" }).querySelectorAll("button")).toHaveLength(row.actions.length));
      expect(enabledKeys(), `${row.status} ${row.checked_out}`).toEqual(row.actions.map((a) => ACTIONS[a].key));
    }
  });

  it("switches views with segmented controls whose labels stand apart", async () => {
    backend([]);
    render(Schedule);
    for (const [group, names] of [["View", ["Day", "Week"]], ["Columns", ["Providers", "Rooms"]]] as const) {
      const g = screen.getByRole("group", { name: group });
      expect(g).toHaveClass("segmented");
      const labels = [...g.querySelectorAll("label")];
      expect(labels.map((l) => l.textContent)).toEqual([...names]);
      for (const n of names) expect(within(g).getByRole("radio", { name: n })).toBeInTheDocument();
      expect(labels[0]).toHaveClass("on");
      await fireEvent.click(within(g).getByRole("radio", { name: names[1] }));
      expect(labels[1]).toHaveClass("on");
      expect(labels[0]).not.toHaveClass("on");
    }
  });

  it("shows a failure to read the clinic's lists, and keeps it after the day is read", async () => {
    backend([waiting], { list_appointment_types: () => refuse("storage_error", "appointment types: the database is busy") });
    render(Schedule);
    await screen.findByRole("button", { name: "09:45 Ann Smith with Robin Lee" });
    await waitFor(() => expect(screen.getByRole("alert")).toHaveTextContent("appointment types: the database is busy"));
  });

  // Last in the file: with setInterval faked, jsdom's animation frames stop for what follows.
  it("moves the wait on with the screen's clock", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"], now: TEST_NOW });
    backend([waiting]);
    render(Schedule);
    // (Not the list "Appointments in view": it follows the grid a frame later, and the
    // animation frames of jsdom run on the faked timers.)
    await waitFor(() => expect(document.querySelector(".ec-event.status-checked_in")).toHaveTextContent("waiting 12 min"));
    vi.advanceTimersByTime(5 * MIN);
    await waitFor(() => expect(document.querySelector(".ec-event.status-checked_in")).toHaveTextContent("waiting 17 min"));
  });
});
