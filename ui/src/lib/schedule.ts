// The schedule grid's data: API entries (instants in ms) → calendar events on the clinic's wall
// clock. @event-calendar/core only knows fixed UTC offsets, so events are handed to it as
// floating wall-clock times ("2026-03-09T09:00:00") computed with the clinic's IANA zone; the
// calendar's own zone is set to the clinic's current offset only so the now-line is right.
// The day view's entries (`GridEntry`) carry ids; provider, room and type names come from the
// clinic's lists, which the screen loads once per clinic (`Names`).

import type { AppointmentStatus, AvailabilityBlock, GridEntry, RosterEntry } from "./types";
import { addDays, wallClock } from "./time";

export type Lane = "provider" | "room";

export type CalendarEvent = {
  id: string;
  resourceIds: string[];
  start: string;
  end: string;
  title: string;
  display?: "auto" | "background";
  classNames?: string[];
  extendedProps?: Record<string, unknown>;
};

/** Names by id: providers (staff), rooms and appointment types of the clinic. */
export type Names = { provider: Map<string, string>; room: Map<string, string>; type: Map<string, string> };

export const emptyNames = (): Names => ({ provider: new Map(), room: new Map(), type: new Map() });

/** Statuses that hold the slot; the others are history and hidden unless asked for. */
export const ACTIVE_STATUSES: readonly AppointmentStatus[] = [
  "pending", "confirmed", "reminded", "checked_in", "in_progress", "completed",
];

export const STATUS_LABEL: Record<AppointmentStatus, string> = {
  pending: "Pending",
  confirmed: "Confirmed",
  reminded: "Reminded",
  checked_in: "Checked in",
  in_progress: "In progress",
  completed: "Completed",
  no_show: "No-show",
  cancelled: "Cancelled",
  rescheduled: "Moved",
};

/** The room lane for appointments without a room. */
export const NO_ROOM = "__no_room__";

export function isShown(e: Pick<GridEntry, "status">, showInactive = false): boolean {
  return showInactive || ACTIVE_STATUSES.includes(e.status);
}

export function providerName(names: Names, id: string): string {
  return names.provider.get(id) ?? "another provider";
}

/** How the schedule names an appointment (its button in the appointment list); the week
 *  view puts the local date first. */
export function entryLabel(e: GridEntry, names: Names, tz: string, withDate = false): string {
  const w = wallClock(e.start_at, tz);
  return `${withDate ? `${w.slice(0, 10)} ` : ""}${w.slice(11, 16)} ${e.patient_name} with ${providerName(names, e.provider_id)}`;
}

export function appointmentEvents(
  entries: GridEntry[],
  tz: string,
  names: Names,
  opts: { lane?: Lane; showInactive?: boolean } = {},
): CalendarEvent[] {
  const lane = opts.lane ?? "provider";
  const out: CalendarEvent[] = [];
  for (const e of entries) {
    if (!isShown(e, opts.showInactive)) continue;
    const resource = laneOf(e, lane);
    const typeName = e.appointment_type_id ? names.type.get(e.appointment_type_id) : undefined;
    const where = lane === "provider" ? (e.room_id ? names.room.get(e.room_id) : undefined) : providerName(names, e.provider_id);
    out.push({
      id: e.id,
      resourceIds: [resource],
      start: wallClock(e.start_at, tz),
      end: wallClock(e.end_at, tz),
      title: [e.patient_name, typeName, where].filter(Boolean).join(" · "),
      classNames: ["appt", `status-${e.status}`, ...(e.series_id ? ["in-series"] : [])],
      extendedProps: { entryId: e.id, statusLabel: STATUS_LABEL[e.status] },
    });
  }
  return out;
}

/** The column an appointment sits in. */
export function laneOf(e: Pick<GridEntry, "provider_id" | "room_id">, lane: Lane): string {
  return lane === "provider" ? e.provider_id : (e.room_id ?? NO_ROOM);
}

/** Staff with a shift (not cancelled) in the roster. */
export function onShift(roster: RosterEntry[]): Set<string> {
  return new Set(roster.filter((r) => r.schedule.status !== "cancelled").map((r) => r.schedule.staff_id));
}

/** Width of a readable day column (px) and of the time axis beside the columns. */
export const MIN_COLUMN_PX = 120;
export const AXIS_PX = 64;

/** How many lanes (providers or rooms) fit the grid's width side by side: a day view shows a
 *  column per lane, a week view seven per lane. At least one. */
export function lanesPerPage(widthPx: number, view: "day" | "week"): number {
  const cols = Math.floor((widthPx - AXIS_PX) / (view === "day" ? MIN_COLUMN_PX : 7 * 48));
  return Math.max(1, cols);
}

/** One page of `items`, `per` a page; `page` is clamped to the pages there are. `from`/`to`
 *  are 1-based for display ("Providers 11–20 of 39"); both 0 when there are no items. */
export function pageOf<T>(items: readonly T[], page: number, per: number): { items: T[]; page: number; pages: number; from: number; to: number } {
  const pages = Math.max(1, Math.ceil(items.length / per));
  const p = Math.min(Math.max(0, page), pages - 1);
  const slice = items.slice(p * per, (p + 1) * per);
  return { items: slice, page: p, pages, from: slice.length ? p * per + 1 : 0, to: p * per + slice.length };
}

/** The start of a clicked cell — a calendar date, whose local fields are the clinic's wall
 *  clock — as the API's wall-clock input, "2026-03-09 09:15". */
export function cellStart(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getFullYear(), 4)}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The grid's event time text, "09:00–09:45", from the calendar's local dates (the formatter
 *  the calendar would otherwise build with Intl.DateTimeFormat.formatRange per event). */
export function timeRangeText(start: Date, end?: Date | null): string {
  const hm = (d: Date) => `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  return end ? `${hm(start)}–${hm(end)}` : hm(start);
}

/** Shifts (provider lane) as background events. */
export function shiftEvents(roster: RosterEntry[], tz: string): CalendarEvent[] {
  return roster
    .filter((r) => r.schedule.status !== "cancelled")
    .map((r) => ({
      id: `shift-${r.schedule.id}`,
      resourceIds: [r.schedule.staff_id],
      start: wallClock(r.schedule.start_at, tz),
      end: wallClock(r.schedule.end_at, tz),
      title: r.shift_name,
      display: "background" as const,
      classNames: ["shift"],
    }));
}

/** Availability blocks as background events: a provider's in their column, clinic-wide in every column. */
export function blockEvents(blocks: AvailabilityBlock[], tz: string, resourceIds: string[]): CalendarEvent[] {
  return blocks.map((b) => ({
    id: `block-${b.id}`,
    resourceIds: b.provider_id ? [b.provider_id] : resourceIds,
    start: wallClock(b.start_at, tz),
    end: wallClock(b.end_at, tz),
    title: b.block_reason ?? (b.is_available ? "Available" : "Blocked"),
    display: "background" as const,
    classNames: [b.is_available ? "available" : "blocked"],
  }));
}

/** The dates ("YYYY-MM-DD") a day or week view covers. */
export function viewDates(date: string, view: "day" | "week", weekStartDate: string): string[] {
  if (view === "day") return [date];
  return Array.from({ length: 7 }, (_, i) => addDays(weekStartDate, i));
}
