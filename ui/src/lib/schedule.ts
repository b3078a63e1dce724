// The schedule grid's data: API entries (instants in ms) → calendar events on the clinic's wall
// clock. @event-calendar/core only knows fixed UTC offsets, so events are handed to it as
// floating wall-clock times ("2026-03-09T09:00:00") computed with the clinic's IANA zone; the
// calendar's own zone is set to the clinic's current offset only so the now-line is right.
// The day view's entries (`GridEntry`) carry ids; provider, room and type names come from the
// clinic's lists, which the screen loads once per clinic (`Names`).

import type { AppointmentStatus, AvailabilityBlock, GridEntry, RosterEntry } from "./types";
import { addDays, wallClock, wallClockParts } from "./time";
import { fmtDate, fmtHm, type DisplayFormat } from "./format";

/** The format of tests and of callers without a setting: ISO dates, 24-hour times. */
const ISO_24H: DisplayFormat = { locale: "en-CA", hour_cycle: "h23" };

export type Lane = "provider" | "room";

export type CalendarEvent = {
  id: string;
  resourceIds: string[];
  start: string;
  end: string;
  title: string;
  display?: "auto" | "background";
  classNames?: string[];
  styles?: string[];
  extendedProps?: Record<string, unknown>;
};

/** Names by id: providers (staff), rooms and appointment types of the clinic; the types'
 *  colours (`appointment_types.color`, "#RRGGBB") where they have one. */
export type Names = { provider: Map<string, string>; room: Map<string, string>; type: Map<string, string>; typeColor: Map<string, string> };

export const emptyNames = (): Names => ({ provider: new Map(), room: new Map(), type: new Map(), typeColor: new Map() });

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

/** Each status's cue beside its colour (WCAG 1.4.1: never colour alone): a glyph, then the
 *  status in words. */
export const STATUS_GLYPH: Record<AppointmentStatus, string> = {
  pending: "?",
  confirmed: "✓",
  reminded: "✉",
  checked_in: "⏵",
  in_progress: "▶",
  completed: "✔",
  no_show: "✗",
  cancelled: "⊘",
  rescheduled: "↷",
};

/** A duration in minutes as the front desk reads it: "12 min", "1 h 05 min", "2 h". */
export function minutesText(min: number): string {
  const m = Math.max(0, Math.floor(min));
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  const r = m % 60;
  return r ? `${h} h ${String(r).padStart(2, "0")} min` : `${h} h`;
}

/** How long a checked-in patient has been waiting at `now` (ms), in whole minutes; null for
 *  any other status. `now` is the screen's clock, never read here. */
export function waitingMinutes(e: Pick<GridEntry, "status" | "checked_in_at">, now: number): number | null {
  if (e.status !== "checked_in" || e.checked_in_at === null) return null;
  return Math.max(0, Math.floor((now - e.checked_in_at) / 60_000));
}

/** The status in words, with the wait of a checked-in patient: "Checked in, waiting 12 min". */
export function statusText(e: Pick<GridEntry, "status" | "checked_in_at">, now: number): string {
  const w = waitingMinutes(e, now);
  return w === null ? STATUS_LABEL[e.status] : `${STATUS_LABEL[e.status]}, waiting ${minutesText(w)}`;
}

/** A type's colour if it is one ("#RRGGBB", as the database's CHECK allows). */
export function safeColor(c: string | null | undefined): string | null {
  return c && /^#[0-9a-fA-F]{6}$/.test(c) ? c : null;
}

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
export function entryLabel(e: GridEntry, names: Names, tz: string, withDate = false, f: DisplayFormat = ISO_24H): string {
  const w = wallClockParts(e.start_at, tz);
  return `${withDate ? `${fmtDate(f, w)} ` : ""}${fmtHm(f, w.hour, w.minute)} ${e.patient_name} with ${providerName(names, e.provider_id)}`;
}

export function appointmentEvents(
  entries: GridEntry[],
  tz: string,
  names: Names,
  opts: { lane?: Lane; showInactive?: boolean; now?: number } = {},
): CalendarEvent[] {
  const lane = opts.lane ?? "provider";
  const out: CalendarEvent[] = [];
  for (const e of entries) {
    if (!isShown(e, opts.showInactive)) continue;
    const resource = laneOf(e, lane);
    const typeName = e.appointment_type_id ? names.type.get(e.appointment_type_id) : undefined;
    const typeColor = safeColor(e.appointment_type_id ? names.typeColor.get(e.appointment_type_id) : null);
    const where = lane === "provider" ? (e.room_id ? names.room.get(e.room_id) : undefined) : providerName(names, e.provider_id);
    out.push({
      id: e.id,
      resourceIds: [resource],
      start: wallClock(e.start_at, tz),
      end: wallClock(e.end_at, tz),
      // Only the parts there are: no dangling " ·" when the type or the room is missing.
      title: [e.patient_name, typeName, where].map((x) => x?.trim()).filter(Boolean).join(" · "),
      classNames: ["appt", `status-${e.status}`, ...(isShown(e) ? [] : ["inactive"]), ...(e.series_id ? ["in-series"] : [])],
      // The type's colour as the event's left edge; the status is the fill (CSS).
      ...(typeColor ? { styles: [`border-left: 6px solid ${typeColor}`] } : {}),
      extendedProps: { entryId: e.id, statusLabel: opts.now === undefined ? STATUS_LABEL[e.status] : statusText(e, opts.now), glyph: STATUS_GLYPH[e.status] },
    });
  }
  return out;
}

/** What the grid draws inside an appointment: its time, its status (glyph and words: the
 *  colour is never the only cue) and its title. Built from text nodes, never HTML; three
 *  elements with one text node each (a day draws a few hundred appointments on every
 *  navigation): the glyph is the status element's `data-glyph`, drawn by CSS
 *  (`.appt-status::before` in app.css, with empty alternative text so that screen readers read
 *  the words only). Other events (shifts, blocks) keep the calendar's own content. */
export function eventContent(arg: { event: { title: unknown; extendedProps: Record<string, unknown> }; timeText: string }): { domNodes: Node[] } | undefined {
  const label = arg.event.extendedProps.statusLabel;
  if (typeof label !== "string") return undefined;
  const el = (tag: string, cls: string, text: string) => {
    const n = document.createElement(tag);
    n.className = cls;
    n.textContent = text;
    return n;
  };
  const status = el("span", "appt-status", label);
  status.dataset.glyph = String(arg.event.extendedProps.glyph ?? "");
  return { domNodes: [el("time", "ec-event-time", arg.timeText), status, el("h4", "ec-event-title", typeof arg.event.title === "string" ? arg.event.title : "")] };
}

/** Merged, sorted [start, end) intervals. */
function merged(list: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of [...list].sort((x, y) => x[0] - y[0])) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else if (b > a) out.push([a, b]);
  }
  return out;
}
const minutesOf = (list: [number, number][]) => list.reduce((m, [a, b]) => m + (b - a), 0) / 60_000;

/** A provider's day at a glance: minutes booked (appointments that hold their slot) and, when
 *  they have a shift, minutes of the shift still free. `entries` and `roster` are the day's. */
export function providerLoad(providerId: string, entries: GridEntry[], roster: RosterEntry[]): { booked: number; free: number | null } {
  const booked = merged(entries.filter((e) => e.provider_id === providerId && isShown(e)).map((e) => [e.start_at, e.end_at]));
  const shifts = merged(
    roster.filter((r) => r.schedule.staff_id === providerId && r.schedule.status !== "cancelled").map((r) => [r.schedule.start_at, r.schedule.end_at]),
  );
  const bookedInShift = shifts.flatMap(([s, t]) => booked.map(([a, b]): [number, number] => [Math.max(a, s), Math.min(b, t)]).filter(([a, b]) => b > a));
  return { booked: minutesOf(booked), free: shifts.length ? minutesOf(shifts) - minutesOf(bookedInShift) : null };
}

/** The load in words, for a column's heading: "2 h 30 min booked · 5 h free". */
export function loadText(l: { booked: number; free: number | null }): string {
  return `${minutesText(l.booked)} booked · ${l.free === null ? "no shift" : `${minutesText(l.free)} free`}`;
}

/** A column's heading: its name and, beneath it, the day's load when `loadOf` gives one (the day
 *  view of providers). The load's element is always there, named by its column
 *  (`data-lane`), so a new day's loads are written into it (`fillLoads`) without the calendar
 *  rebuilding its column heads. */
export function resourceLabel(
  arg: { resource: { id?: unknown; title: unknown } },
  loadOf: (id: string) => string | undefined = () => undefined,
): { domNodes: Node[] } {
  const name = document.createElement("span");
  name.className = "lane-name";
  name.textContent = typeof arg.resource.title === "string" ? arg.resource.title : "";
  const small = document.createElement("small");
  small.className = "lane-load";
  const id = String(arg.resource.id ?? "");
  small.dataset.lane = id;
  small.textContent = loadOf(id) ?? "";
  return { domNodes: [name, small] };
}

/** Write each column's load (by lane id; none: empty, and hidden by CSS) into the column heads
 *  under `root`. */
export function fillLoads(root: ParentNode, loads: ReadonlyMap<string, string>): void {
  for (const el of root.querySelectorAll<HTMLElement>(".lane-load")) {
    const text = loads.get(el.dataset.lane ?? "") ?? "";
    if (el.textContent !== text) el.textContent = text;
  }
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

/** The grid's event time text, "09:00–09:45" (or "9:00 a.m.–9:45 a.m." in a 12-hour format),
 *  from the calendar's local dates (the formatter the calendar would otherwise build with
 *  Intl.DateTimeFormat.formatRange per event). */
export function timeRangeText(start: Date, end?: Date | null, f: DisplayFormat = ISO_24H): string {
  const hm = (d: Date) => fmtHm(f, d.getHours(), d.getMinutes());
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
