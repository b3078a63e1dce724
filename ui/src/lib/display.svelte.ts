// Dates and times for screens, in the signed-in user's display format at the current clinic
// (session.svelte.ts `displayFormat`: the user's override, else the clinic's setting, else its
// country's) and on the clinic's wall clock. Reading the session's state, a template that calls
// these redraws when the setting changes.

import { clinicZone, displayFormat } from "./session.svelte";
import { fmtClock, fmtDate, fmtDateLong, fmtDateTime, fmtDateTimeLong, fmtTime } from "./format";
import { wallClockParts } from "./time";

/** "Mon, Dec 7, 2026, 9:05 a.m." */
export const showWhen = (ms: number, tz: string = clinicZone()): string => fmtDateTimeLong(displayFormat(), ms, tz);
/** "2026-12-07 9:05 a.m." */
export const showDateTime = (ms: number, tz: string = clinicZone()): string => fmtDateTime(displayFormat(), ms, tz);
/** The numeric date of an instant ("12/07/2026"). */
export const showDateOf = (ms: number, tz: string = clinicZone()): string => fmtDate(displayFormat(), wallClockParts(ms, tz));
/** The numeric date of a "YYYY-MM-DD". */
export const showDate = (date: string): string => fmtDate(displayFormat(), date);
/** "Mon, Dec 7, 2026" of a "YYYY-MM-DD". */
export const showDay = (date: string): string => fmtDateLong(displayFormat(), date);
/** "9:05 a.m." */
export const showTime = (ms: number, tz: string = clinicZone()): string => fmtTime(displayFormat(), ms, tz);
/** A wall-clock "HH:MM" (a time the API already put on the clinic's clock). */
export const showClock = (hhmm: string): string => fmtClock(displayFormat(), hhmm);
