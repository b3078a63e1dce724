import { describe, expect, it } from "vitest";
import samples from "./format-samples.json";
import { fmtClock, fmtDate, fmtDateLong, fmtDateTime, fmtDateTimeLong, fmtTime, fmtWall, resolveFormat, type DisplayFormat } from "./format";

// The Rust formatter's output (crates/domain/tests/format_samples.rs writes the file and fails
// when it is stale); the UI's must be identical, so screens and exports agree.
describe("the UI formats every sample as the Rust side does", () => {
  for (const f of samples.formats) {
    const fmt = { locale: f.locale, hour_cycle: f.hour_cycle } as DisplayFormat;
    it(`${f.locale} ${f.hour_cycle}`, () => {
      for (const s of f.samples) {
        const date = s.wall.slice(0, 10);
        expect(fmtDate(fmt, date), s.wall).toBe(s.date);
        expect(fmtDateLong(fmt, date), s.wall).toBe(s.date_long);
        expect(fmtClock(fmt, s.wall.slice(11, 16)), s.wall).toBe(s.time);
        expect(fmtWall(fmt, s.wall), s.wall).toBe(s.date_time);
        // From an instant, on a zone's wall clock (UTC: the wall clock is the instant's).
        const ms = Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10), +s.wall.slice(11, 13), +s.wall.slice(14, 16));
        expect(fmtTime(fmt, ms, "UTC"), s.wall).toBe(s.time);
        expect(fmtDateTime(fmt, ms, "UTC"), s.wall).toBe(s.date_time);
        expect(fmtDateTimeLong(fmt, ms, "UTC"), s.wall).toBe(s.date_time_long);
      }
    });
  }
  it("covers every locale in both cycles", () => {
    expect(samples.formats.length).toBe(10);
  });
});

describe("the user's setting, else the clinic's, else its country's", () => {
  it("resolves as DisplayFormat::resolve does", () => {
    expect(samples.resolve.length).toBeGreaterThan(100);
    for (const r of samples.resolve) {
      expect(resolveFormat(r.user as never, r.clinic as never), JSON.stringify(r)).toEqual(r.expect);
    }
  });
});

describe("on a clinic's wall clock", () => {
  it("formats an instant in the clinic's zone, across a DST change", () => {
    const f: DisplayFormat = { locale: "en-CA", hour_cycle: "h12" };
    // 2026-03-08 09:00 UTC = 02:00 MST → clocks go forward: 03:00 MDT at 09:00 UTC.
    expect(fmtTime(f, Date.UTC(2026, 2, 8, 8, 30), "America/Edmonton")).toBe("1:30 a.m.");
    expect(fmtTime(f, Date.UTC(2026, 2, 8, 9, 30), "America/Edmonton")).toBe("3:30 a.m.");
    expect(fmtDateTimeLong({ locale: "en-AU", hour_cycle: "h12" }, Date.UTC(2026, 11, 7, 22, 0), "Australia/Sydney")).toBe("Tue 8 Dec 2026, 9:00 am");
  });
});
