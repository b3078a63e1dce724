import { describe, expect, it } from "vitest";
import { appointmentEvents, blockEvents, emptyNames, entryLabel, eventContent, fillLoads, lanesPerPage, loadText, minutesText, onShift, pageOf, cellStart, providerLoad, resourceLabel, safeColor, shiftEvents, statusText, timeRangeText, waitingMinutes, AXIS_PX, MIN_COLUMN_PX, NO_ROOM, STATUS_GLYPH, STATUS_LABEL, viewDates } from "./schedule";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import type { AvailabilityBlock, RosterEntry, StaffSchedule } from "./types";
import { appointment, gridEntry } from "../test/fixtures";

const EDMONTON = "America/Edmonton";
const names = () => {
  const n = emptyNames();
  n.provider.set("s1", "Robin Lee");
  n.room.set("room1", "Room 1");
  n.type.set("t1", "Follow-up");
  return n;
};
const g = (over: Parameters<typeof appointment>[0]) => gridEntry(appointment(over));

describe("schedule event mapping", () => {
  it("puts an appointment at the clinic's wall-clock time, not the PC's", () => {
    // 2026-03-09 15:00 UTC = 09:00 in Edmonton (MDT, UTC-6 since 8 March).
    const start = Date.UTC(2026, 2, 9, 15, 0);
    const [e] = appointmentEvents([g({ start_at: start, end_at: start + 30 * 60_000, appointment_type_id: "t1" })], EDMONTON, names());
    expect(e?.start).toBe("2026-03-09T09:00:00");
    expect(e?.end).toBe("2026-03-09T09:30:00");
    expect(e?.resourceIds).toEqual(["s1"]);
    expect(e?.title).toBe("Ann Smith · Follow-up");
    expect(e?.classNames).toContain("status-confirmed");
    expect(e?.extendedProps?.entryId).toBe("a1");
  });

  it("keeps 09:00 at 09:00 across the daylight-saving change", () => {
    const before = Date.UTC(2026, 2, 6, 16, 0); // Fri, MST (UTC-7)
    const after = Date.UTC(2026, 2, 9, 15, 0); // Mon, MDT (UTC-6)
    const evs = appointmentEvents(
      [g({ id: "x", start_at: before, end_at: before + 3_600_000 }), g({ id: "y", start_at: after, end_at: after + 3_600_000 })],
      EDMONTON,
      names(),
    );
    expect(evs.map((e) => e.start.slice(11))).toEqual(["09:00:00", "09:00:00"]);
  });

  it("puts appointments in room columns in the room view, roomless ones in their own column", () => {
    const t = Date.UTC(2026, 0, 5, 17, 0);
    const evs = appointmentEvents([g({ id: "r", room_id: "room1", start_at: t, end_at: t + 1 }), g({ id: "n", start_at: t, end_at: t + 1 })], EDMONTON, names(), { lane: "room" });
    expect(evs.map((e) => e.resourceIds[0])).toEqual(["room1", NO_ROOM]);
    expect(evs[0]?.title).toBe("Ann Smith · Robin Lee");
    const byProvider = appointmentEvents([g({ id: "r", room_id: "room1", start_at: t, end_at: t + 1 })], EDMONTON, names());
    expect(byProvider[0]?.title).toBe("Ann Smith · Room 1");
  });

  it("hides cancelled and moved appointments unless asked", () => {
    const t = Date.UTC(2026, 0, 5, 17, 0);
    const list = [
      g({ id: "c", status: "cancelled", start_at: t, end_at: t + 1 }),
      g({ id: "m", status: "rescheduled", start_at: t, end_at: t + 1 }),
      g({ id: "k", status: "checked_in", start_at: t, end_at: t + 1 }),
    ];
    expect(appointmentEvents(list, EDMONTON, names()).map((e) => e.id)).toEqual(["k"]);
    expect(appointmentEvents(list, EDMONTON, names(), { showInactive: true }).map((e) => e.id)).toEqual(["c", "m", "k"]);
  });

  it("names an appointment by clinic time, patient and provider", () => {
    const t = Date.UTC(2026, 6, 1, 15, 30); // 09:30 MDT
    expect(entryLabel(g({ start_at: t, end_at: t + 1 }), names(), EDMONTON)).toBe("09:30 Ann Smith with Robin Lee");
    expect(entryLabel(g({ provider_id: "zz", start_at: t, end_at: t + 1 }), names(), EDMONTON)).toBe("09:30 Ann Smith with another provider");
    expect(entryLabel(g({ start_at: t, end_at: t + 1 }), names(), EDMONTON, true)).toBe("2026-07-01 09:30 Ann Smith with Robin Lee");
  });

  it("shows shifts and blocks as background events; a clinic-wide block spans every column", () => {
    const t = Date.UTC(2026, 0, 5, 15, 0);
    const schedule = { id: "sh", clinic_id: "c1", staff_id: "s1", shift_id: "t", schedule_date: "2026-01-05", start_at: t, end_at: t + 8 * 3_600_000, status: "scheduled" } as StaffSchedule;
    const roster: RosterEntry[] = [{ schedule, staff_name: "Robin Lee", shift_name: "Day" }];
    expect(shiftEvents(roster, EDMONTON)[0]).toMatchObject({ display: "background", resourceIds: ["s1"], start: "2026-01-05T08:00:00", end: "2026-01-05T16:00:00" });
    expect(shiftEvents([{ ...roster[0]!, schedule: { ...schedule, status: "cancelled" } }], EDMONTON)).toEqual([]);
    const block = { id: "b", clinic_id: "c1", provider_id: null, start_at: t, end_at: t + 3_600_000, is_available: false, block_reason: "Holiday" } as AvailabilityBlock;
    expect(blockEvents([block], EDMONTON, ["s1", "s2"])[0]).toMatchObject({ display: "background", resourceIds: ["s1", "s2"], title: "Holiday", classNames: ["blocked"] });
  });

  it("turns a clicked cell into the API's wall-clock start", () => {
    expect(cellStart(new Date(2026, 2, 9, 9, 15))).toBe("2026-03-09 09:15");
    expect(cellStart(new Date(2026, 11, 31, 23, 45))).toBe("2026-12-31 23:45");
  });

  it("lists the dates of a week view from Monday", () => {
    expect(viewDates("2026-03-11", "week", "2026-03-09")).toEqual([
      "2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13", "2026-03-14", "2026-03-15",
    ]);
    expect(viewDates("2026-03-11", "day", "2026-03-09")).toEqual(["2026-03-11"]);
  });
});

describe("columns that fit, a page at a time", () => {
  it("fits readable day columns beside the time axis, seven per lane in a week", () => {
    expect(lanesPerPage(AXIS_PX + 10 * MIN_COLUMN_PX, "day")).toBe(10);
    expect(lanesPerPage(AXIS_PX + 10 * MIN_COLUMN_PX - 1, "day")).toBe(9);
    expect(lanesPerPage(1280, "week")).toBe(3);
    expect(lanesPerPage(100, "day")).toBe(1);
  });
  it("pages through the lanes and clamps the page", () => {
    const xs = Array.from({ length: 25 }, (_, i) => i);
    expect(pageOf(xs, 0, 10)).toEqual({ items: xs.slice(0, 10), page: 0, pages: 3, from: 1, to: 10 });
    expect(pageOf(xs, 2, 10)).toMatchObject({ items: [20, 21, 22, 23, 24], from: 21, to: 25 });
    expect(pageOf(xs, 9, 10).page).toBe(2);
    expect(pageOf(xs, -1, 10).page).toBe(0);
    expect(pageOf([], 3, 10)).toEqual({ items: [], page: 0, pages: 1, from: 0, to: 0 });
  });
  it("knows who is on shift (cancelled shifts do not count)", () => {
    const r = (staff_id: string, status: string) => ({ schedule: { staff_id, status } }) as unknown as RosterEntry;
    expect([...onShift([r("a", "scheduled"), r("b", "cancelled"), r("c", "on_duty")])]).toEqual(["a", "c"]);
  });
  it("formats the grid's times on the 24-hour clock", () => {
    expect(timeRangeText(new Date(2026, 10, 23, 9, 5), new Date(2026, 10, 23, 9, 50))).toBe("09:05–09:50");
    expect(timeRangeText(new Date(2026, 10, 23, 14, 0))).toBe("14:00");
  });
});

describe("the grid at a glance", () => {
  const t = Date.UTC(2026, 2, 9, 15, 0); // 09:00 MDT
  const min = 60_000;
  const shift = (over: Partial<StaffSchedule> = {}): RosterEntry => ({
    schedule: { id: "sh", clinic_id: "c1", staff_id: "s1", shift_id: "t", schedule_date: "2026-03-09", start_at: t, end_at: t + 8 * 60 * min, status: "scheduled", ...over } as StaffSchedule,
    staff_name: "Robin Lee",
    shift_name: "Day",
  });

  it("never leaves a dangling separator when the type or the room is missing or blank", () => {
    const n = names();
    n.type.set("blank", "  ");
    const title = (over: Parameters<typeof appointment>[0]) => appointmentEvents([g({ start_at: t, end_at: t + 1, ...over })], EDMONTON, n)[0]?.title;
    expect(title({})).toBe("Ann Smith");
    expect(title({ appointment_type_id: "t1" })).toBe("Ann Smith · Follow-up");
    expect(title({ room_id: "room1" })).toBe("Ann Smith · Room 1");
    expect(title({ appointment_type_id: "blank", room_id: "gone" })).toBe("Ann Smith");
    expect(title({ appointment_type_id: "unknown", room_id: "room1" })).toBe("Ann Smith · Room 1");
  });

  it("colours an appointment by status and type, and says its status in words", () => {
    const n = names();
    n.typeColor.set("t1", "#ff8800");
    const [e] = appointmentEvents([g({ start_at: t, end_at: t + 30 * min, appointment_type_id: "t1", status: "in_progress" })], EDMONTON, n, { now: t });
    expect(e?.classNames).toEqual(["appt", "status-in_progress"]);
    expect(e?.styles).toEqual(["border-left: 6px solid #ff8800"]);
    expect(e?.extendedProps).toMatchObject({ statusLabel: "In progress", glyph: "▶" });
    const [plain] = appointmentEvents([g({ start_at: t, end_at: t + 1 })], EDMONTON, names());
    expect(plain?.styles).toBeUndefined();
    // Every status has its glyph and its words.
    for (const s of Object.keys(STATUS_LABEL) as (keyof typeof STATUS_LABEL)[]) expect(STATUS_GLYPH[s]).toMatch(/\S/);
  });

  it("accepts only #RRGGBB colours", () => {
    expect(safeColor("#0f766e")).toBe("#0f766e");
    for (const bad of [null, undefined, "", "red", "#fff", "#12345g", "#123456; background: url(x)"]) expect(safeColor(bad)).toBeNull();
  });

  it("marks cancelled, moved and no-shows as muted when they are shown", () => {
    const list = ["cancelled", "rescheduled", "no_show", "completed"].map((status, i) => g({ id: `a${i}`, status: status as "completed", start_at: t, end_at: t + 1 }));
    const evs = appointmentEvents(list, EDMONTON, names(), { showInactive: true });
    expect(evs.map((e) => e.classNames?.includes("inactive"))).toEqual([true, true, true, false]);
  });

  it("shows how long a checked-in patient has waited, by the clock it is given", () => {
    const e = g({ status: "checked_in", checked_in_at: t, start_at: t, end_at: t + 1 });
    expect(waitingMinutes(e, t + 12 * min + 59_000)).toBe(12);
    expect(statusText(e, t + 12 * min)).toBe("Checked in, waiting 12 min");
    expect(statusText(e, t + 75 * min)).toBe("Checked in, waiting 1 h 15 min");
    expect(statusText(e, t - 5 * min)).toBe("Checked in, waiting 0 min"); // a clock behind the check-in
    expect(waitingMinutes(g({ status: "confirmed", start_at: t, end_at: t + 1 }), t + 99 * min)).toBeNull();
    expect(appointmentEvents([e], EDMONTON, names(), { now: t + 20 * min })[0]?.extendedProps?.statusLabel).toBe("Checked in, waiting 20 min");
    expect(minutesText(120)).toBe("2 h");
    expect(minutesText(61)).toBe("1 h 01 min");
  });

  it("draws the status as a glyph and words inside the event, from text (never HTML)", () => {
    const [e] = appointmentEvents([g({ status: "checked_in", checked_in_at: t, start_at: t, end_at: t + 1 })], EDMONTON, emptyNames(), { now: t + 3 * min });
    const out = eventContent({ event: { title: "<b>Ann</b>", extendedProps: e!.extendedProps! }, timeText: "09:00–09:30" });
    const box = document.createElement("div");
    box.append(...out!.domNodes);
    expect(box.querySelector("time")?.textContent).toBe("09:00–09:30");
    // The words as text; the glyph drawn by CSS from data-glyph, with no text for screen readers.
    expect(box.querySelector(".appt-status")?.textContent).toBe("Checked in, waiting 3 min");
    expect(box.querySelector<HTMLElement>(".appt-status")?.dataset.glyph).toBe("⏵");
    const appCss = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../app.css"), "utf8");
    expect(appCss).toMatch(/\.appt-status::before\s*\{[^}]*content:\s*attr\(data-glyph\)\s*\/\s*""/);
    // One text node per element: nothing else drawn per appointment.
    expect(box.querySelectorAll("*")).toHaveLength(3);
    expect([...box.children].map((c) => c.childNodes.length)).toEqual([1, 1, 1]);
    expect(box.querySelector("h4")?.textContent).toBe("<b>Ann</b>");
    expect(box.querySelector("b")).toBeNull();
    // Shifts and blocks keep the calendar's own content.
    expect(eventContent({ event: { title: "Day", extendedProps: {} }, timeText: "" })).toBeUndefined();
  });

  it("sums a provider's booked and free time on their shift", () => {
    const entries = [
      g({ id: "a", start_at: t, end_at: t + 30 * min }),
      g({ id: "b", start_at: t + 15 * min, end_at: t + 45 * min }), // overlaps a: counted once
      g({ id: "c", start_at: t - 60 * min, end_at: t - 30 * min }), // before the shift: booked, not free time
      g({ id: "x", status: "cancelled", start_at: t + 60 * min, end_at: t + 120 * min }), // frees its slot
      g({ id: "o", provider_id: "s2", start_at: t, end_at: t + 60 * min }), // someone else's
    ];
    expect(providerLoad("s1", entries, [shift()])).toEqual({ booked: 75, free: 8 * 60 - 45 });
    expect(loadText(providerLoad("s1", entries, [shift()]))).toBe("1 h 15 min booked · 7 h 15 min free");
    expect(providerLoad("s1", entries, [shift({ status: "cancelled" })])).toEqual({ booked: 75, free: null });
    expect(loadText({ booked: 0, free: null })).toBe("0 min booked · no shift");
    expect(providerLoad("s2", entries, [])).toEqual({ booked: 60, free: null });
  });

  it("heads a column with its name and, when given, its load; a new day's loads are written in place", () => {
    const box = document.createElement("div");
    const loads = new Map([["s1", "1 h booked · 7 h free"]]);
    box.append(...resourceLabel({ resource: { id: "s1", title: "Robin Lee" } }, (id) => loads.get(id)).domNodes);
    box.append(...resourceLabel({ resource: { id: "s2", title: "Ana Ortiz" } }, (id) => loads.get(id)).domNodes);
    expect(box.textContent).toBe("Robin Lee1 h booked · 7 h freeAna Ortiz");
    // No load (a room, the week view): the element is there, empty (hidden by CSS).
    const room = resourceLabel({ resource: { id: "r1", title: "Room 1" } }).domNodes;
    expect(room.map((n) => n.textContent)).toEqual(["Room 1", ""]);
    // The next day: the same heads, their loads replaced; a column without one is emptied.
    const heads = [...box.childNodes];
    fillLoads(box, new Map([["s2", "30 min booked · no shift"]]));
    expect([...box.childNodes]).toEqual(heads);
    expect(box.textContent).toBe("Robin LeeAna Ortiz30 min booked · no shift");
  });
});
