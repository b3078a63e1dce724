// How dates and times read on screen: the display locale and hour cycle of the signed-in user at
// the current clinic (the user's override, else the clinic's setting, else its country's), never
// the machine's. The tables mirror crates/domain/src/locale.rs; format.test.ts formats the
// instants of format-samples.json (written by the Rust test `format_samples`) and must produce
// the same strings, so the grid, the panels, the day sheet and a CSV export agree.

import type { DisplayLocale, HourCycle } from "../bindings";
import { wallClockParts, type WallClock } from "./time";

export type { DisplayLocale, HourCycle };
/** clinicdesk_domain::DisplayFormat: a locale and an hour cycle, resolved. */
export type DisplayFormat = { locale: DisplayLocale; hour_cycle: HourCycle };

export const LOCALES: { tag: DisplayLocale; label: string }[] = [
  { tag: "en-CA", label: "English (Canada)" },
  { tag: "en-US", label: "English (United States)" },
  { tag: "en-GB", label: "English (United Kingdom)" },
  { tag: "en-AU", label: "English (Australia)" },
  { tag: "fr-CA", label: "Français (Canada)" },
];

type Tables = {
  numeric: "iso" | "mdy" | "dmy";
  long: "wmdy" | "wdmy";
  weekdays: string[];
  months: string[];
  am: string;
  pm: string;
  sep: string;
};

const EN_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const TABLES: Record<DisplayLocale, Tables> = {
  "en-CA": { numeric: "iso", long: "wmdy", weekdays: EN_WEEKDAYS, months: EN_MONTHS, am: "a.m.", pm: "p.m.", sep: ":" },
  "en-US": { numeric: "mdy", long: "wmdy", weekdays: EN_WEEKDAYS, months: EN_MONTHS, am: "AM", pm: "PM", sep: ":" },
  "en-GB": { numeric: "dmy", long: "wdmy", weekdays: EN_WEEKDAYS, months: EN_MONTHS, am: "am", pm: "pm", sep: ":" },
  "en-AU": { numeric: "dmy", long: "wdmy", weekdays: EN_WEEKDAYS, months: EN_MONTHS, am: "am", pm: "pm", sep: ":" },
  "fr-CA": {
    numeric: "iso",
    long: "wdmy",
    weekdays: ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
    months: ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."],
    am: "a.m.",
    pm: "p.m.",
    sep: " h ",
  },
};

const DEFAULT_CYCLE: Record<DisplayLocale, HourCycle> = {
  "en-CA": "h12",
  "en-US": "h12",
  "en-GB": "h23",
  "en-AU": "h12",
  "fr-CA": "h23",
};

/** The locale a clinic's country implies (DisplayLocale::for_country). */
export function localeForCountry(country: string | null | undefined): DisplayLocale {
  switch ((country ?? "").trim().toUpperCase()) {
    case "CA":
    case "CAN":
    case "CANADA":
      return "en-CA";
    case "GB":
    case "UK":
    case "GBR":
    case "UNITED KINGDOM":
    case "IE":
    case "IRELAND":
    case "NZ":
    case "NEW ZEALAND":
      return "en-GB";
    case "AU":
    case "AUS":
    case "AUSTRALIA":
      return "en-AU";
    default:
      return "en-US";
  }
}

type Pref = { display_locale?: DisplayLocale | null; hour_cycle?: HourCycle | null };

/** DisplayFormat::resolve: the user's override, else the clinic's, else its country's. */
export function resolveFormat(user: Pref | null | undefined, clinic: (Pref & { country?: string | null }) | null | undefined): DisplayFormat {
  const locale = user?.display_locale ?? clinic?.display_locale ?? localeForCountry(clinic?.country);
  const hour_cycle = user?.hour_cycle ?? clinic?.hour_cycle ?? DEFAULT_CYCLE[locale];
  return { locale, hour_cycle };
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

type Ymd = { year: number; month: number; day: number };

/** 0 = Monday … 6 = Sunday, for a calendar date. */
function weekdayIndex(d: Ymd): number {
  return (new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay() + 6) % 7;
}

function parseYmd(date: string): Ymd {
  return { year: +date.slice(0, 4), month: +date.slice(5, 7), day: +date.slice(8, 10) };
}

/** The numeric date of a "YYYY-MM-DD" (or of wall-clock parts). */
export function fmtDate(f: DisplayFormat, date: string | Ymd): string {
  const d = typeof date === "string" ? parseYmd(date) : date;
  const t = TABLES[f.locale];
  switch (t.numeric) {
    case "iso":
      return `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;
    case "mdy":
      return `${pad(d.month)}/${pad(d.day)}/${pad(d.year, 4)}`;
    default:
      return `${pad(d.day)}/${pad(d.month)}/${pad(d.year, 4)}`;
  }
}

/** The date with its weekday ("Mon, Dec 7, 2026", "Mon 7 Dec 2026"). */
export function fmtDateLong(f: DisplayFormat, date: string | Ymd): string {
  const d = typeof date === "string" ? parseYmd(date) : date;
  const t = TABLES[f.locale];
  const wd = t.weekdays[weekdayIndex(d)];
  const mon = t.months[d.month - 1];
  return t.long === "wmdy" ? `${wd}, ${mon} ${d.day}, ${d.year}` : `${wd} ${d.day} ${mon} ${d.year}`;
}

/** A time of day from hours and minutes ("9:05 a.m.", "09:05", "09 h 05"). */
export function fmtHm(f: DisplayFormat, hour: number, minute: number): string {
  const t = TABLES[f.locale];
  if (f.hour_cycle === "h23") return `${pad(hour)}${t.sep}${pad(minute)}`;
  const h12 = hour % 12 === 0 ? 12 : hour % 12;
  return `${h12}${t.sep}${pad(minute)} ${hour < 12 ? t.am : t.pm}`;
}

/** A time of day from "HH:MM". */
export function fmtClock(f: DisplayFormat, hhmm: string): string {
  return fmtHm(f, +hhmm.slice(0, 2), +hhmm.slice(3, 5));
}

/** An instant's time on the clinic's wall clock. */
export function fmtTime(f: DisplayFormat, ms: number, tz: string): string {
  const w = wallClockParts(ms, tz);
  return fmtHm(f, w.hour, w.minute);
}

/** Two instants' times on one day: "9:00 a.m. – 9:30 a.m.". */
export function fmtTimeRange(f: DisplayFormat, fromMs: number, toMs: number, tz: string): string {
  return `${fmtTime(f, fromMs, tz)} – ${fmtTime(f, toMs, tz)}`;
}

function fromWall(f: DisplayFormat, w: WallClock): string {
  return `${fmtDate(f, w)} ${fmtHm(f, w.hour, w.minute)}`;
}

/** An instant as numeric date and time on the clinic's wall clock. */
export function fmtDateTime(f: DisplayFormat, ms: number, tz: string): string {
  return fromWall(f, wallClockParts(ms, tz));
}

/** An instant as long date and time ("Mon, Dec 7, 2026, 9:05 a.m."). */
export function fmtDateTimeLong(f: DisplayFormat, ms: number, tz: string): string {
  const w = wallClockParts(ms, tz);
  return `${fmtDateLong(f, w)}, ${fmtHm(f, w.hour, w.minute)}`;
}

/** A wall-clock "YYYY-MM-DD HH:MM" (or "YYYY-MM-DDTHH:MM…") as numeric date and time. */
export function fmtWall(f: DisplayFormat, wall: string): string {
  const d = parseYmd(wall);
  const t = wall.slice(11, 16);
  return t.length === 5 ? `${fmtDate(f, d)} ${fmtClock(f, t)}` : fmtDate(f, d);
}
