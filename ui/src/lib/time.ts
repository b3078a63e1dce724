// Rendering instants in the clinic's time zone. The Rust side does every time-zone conversion
// that matters for rules (it takes clinic wall-clock input and returns ms instants plus local
// strings); the UI only formats, with Intl.DateTimeFormat and the clinic's IANA zone.

import { addDays as dfAddDays, format, parseISO, startOfWeek } from "date-fns";

const partsCache = new Map<string, Intl.DateTimeFormat>();

function partsFormat(tz: string): Intl.DateTimeFormat {
  let f = partsCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone: tz,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    partsCache.set(tz, f);
  }
  return f;
}

export type WallClock = { year: number; month: number; day: number; hour: number; minute: number; second: number };

/** The clinic's wall clock at an instant, read from Intl (the slow path: ICU, ~tens of µs). */
function intlParts(ms: number, tz: string): WallClock {
  const out: Record<string, number> = {};
  for (const p of partsFormat(tz).formatToParts(new Date(ms))) {
    if (p.type !== "literal") out[p.type] = Number(p.value);
  }
  return {
    year: out.year ?? 0,
    month: out.month ?? 0,
    day: out.day ?? 0,
    hour: (out.hour ?? 0) % 24,
    minute: out.minute ?? 0,
    second: out.second ?? 0,
  };
}

/** Zone offsets change only at quarter-hour instants (DST and every current zone's rules switch
 *  at :00, :15, :30 or :45 UTC), so the offset is read from Intl once per zone and quarter hour
 *  and the wall clock computed from it: a day's grid renders a few hundred times. */
const QUARTER_MS = 15 * 60_000;
const offsetCache = new Map<string, number>();

function offsetMsAt(ms: number, tz: string): number {
  const start = Math.floor(ms / QUARTER_MS) * QUARTER_MS;
  const key = `${tz}|${start}`;
  let off = offsetCache.get(key);
  if (off === undefined) {
    const w = intlParts(start, tz);
    off = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - start;
    if (offsetCache.size >= 50_000) offsetCache.clear();
    offsetCache.set(key, off);
  }
  return off;
}

/** The clinic's wall clock at an instant. */
export function wallClockParts(ms: number, tz: string): WallClock {
  const d = new Date(ms + offsetMsAt(ms, tz));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** "YYYY-MM-DDTHH:MM:SS" on the clinic's wall clock (a floating time, no offset). */
export function wallClock(ms: number, tz: string): string {
  const w = wallClockParts(ms, tz);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
}

/** "YYYY-MM-DD", the clinic's local date at an instant. */
export function localDate(ms: number, tz: string): string {
  return wallClock(ms, tz).slice(0, 10);
}

/** "HH:MM" on the clinic's wall clock. */
export function localTime(ms: number, tz: string): string {
  return wallClock(ms, tz).slice(11, 16);
}

/** "YYYY-MM-DD HH:MM", the form the API accepts as clinic wall-clock input. */
export function localDateTime(ms: number, tz: string): string {
  return wallClock(ms, tz).slice(0, 16).replace("T", " ");
}

/** The zone's UTC offset at an instant, as "+HH:MM"/"-HH:MM". */
export function offsetString(ms: number, tz: string): string {
  const w = wallClockParts(ms, tz);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  const minutes = Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
  const sign = minutes < 0 ? "-" : "+";
  const a = Math.abs(minutes);
  return `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** "YYYY-MM-DD" plus n days (calendar arithmetic on the date alone, no instant involved). */
export function addDays(date: string, n: number): string {
  return format(dfAddDays(parseISO(date), n), "yyyy-MM-dd");
}

/** Monday of the week holding the date ("YYYY-MM-DD"); clinic weeks start on Monday. */
export function weekStart(date: string): string {
  return format(startOfWeek(parseISO(date), { weekStartsOn: 1 }), "yyyy-MM-dd");
}

/** "mm:ss" or "h:mm:ss" left until a deadline (0 when past). */
export function countdown(deadlineMs: number, nowMs: number): string {
  const s = Math.max(0, Math.floor((deadlineMs - nowMs) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(r)}` : `${pad(m)}:${pad(r)}`;
}

/** The instant (ms) of a clinic wall-clock time "YYYY-MM-DD[ HH:MM]" (for list filters; the
 *  API does the conversions that matter). In a DST gap it lands an hour off, which a filter
 *  can live with. */
export function wallToInstant(wall: string, tz: string): number {
  const [d = "", t = "00:00"] = wall.trim().split(/[ T]/);
  const asUtc = Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10), +t.slice(0, 2), +t.slice(3, 5));
  const offsetMs = (ms: number) => {
    const w = wallClockParts(ms, tz);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
  };
  const first = asUtc - offsetMs(asUtc);
  return asUtc - offsetMs(first);
}
