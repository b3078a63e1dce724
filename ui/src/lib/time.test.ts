import { describe, expect, it } from "vitest";
import { addDays, countdown, wallToInstant, localDate, localDateTime, localTime, offsetString, wallClock, weekStart } from "./time";

describe("clinic time formatting", () => {
  it("renders instants on the clinic's wall clock", () => {
    const t = Date.UTC(2026, 6, 1, 2, 30); // 1 July 02:30 UTC
    expect(wallClock(t, "America/Edmonton")).toBe("2026-06-30T20:30:00");
    expect(localDate(t, "America/Edmonton")).toBe("2026-06-30");
    expect(localTime(t, "Asia/Kolkata")).toBe("08:00");
    expect(localDateTime(t, "Europe/Berlin")).toBe("2026-07-01 04:30");
  });

  it("gives the zone's offset at an instant (DST aware)", () => {
    expect(offsetString(Date.UTC(2026, 0, 15), "America/Edmonton")).toBe("-07:00");
    expect(offsetString(Date.UTC(2026, 6, 15), "America/Edmonton")).toBe("-06:00");
    expect(offsetString(Date.UTC(2026, 0, 15), "Asia/Kolkata")).toBe("+05:30");
    expect(offsetString(Date.UTC(2026, 0, 15), "UTC")).toBe("+00:00");
  });

  it("does date arithmetic on dates alone", () => {
    expect(addDays("2026-03-07", 2)).toBe("2026-03-09");
    expect(addDays("2026-01-01", -1)).toBe("2025-12-31");
    expect(weekStart("2026-03-15")).toBe("2026-03-09"); // Sunday → Monday before
    expect(weekStart("2026-03-09")).toBe("2026-03-09");
  });

  it("turns a clinic wall-clock time into an instant", () => {
    expect(wallToInstant("2026-03-09 09:00", "America/Edmonton")).toBe(Date.UTC(2026, 2, 9, 15, 0));
    expect(wallToInstant("2026-01-15", "America/Edmonton")).toBe(Date.UTC(2026, 0, 15, 7, 0));
    expect(wallToInstant("2026-07-01 00:00", "Asia/Kolkata")).toBe(Date.UTC(2026, 5, 30, 18, 30));
  });

  it("counts down to an offer's deadline", () => {
    expect(countdown(1_000_000 + 125_000, 1_000_000)).toBe("02:05");
    expect(countdown(1_000_000 + 3_725_000, 1_000_000)).toBe("1:02:05");
    expect(countdown(1_000, 5_000)).toBe("00:00");
  });
});

describe("wall clock from cached offsets", () => {
  it("agrees with Intl minute by minute across DST changes and odd offsets", () => {
    const f = (tz: string) =>
      new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    const viaIntl = (ms: number, tz: string) => {
      const o: Record<string, string> = {};
      for (const p of f(tz).formatToParts(new Date(ms))) o[p.type] = p.value;
      return `${o.year}-${o.month}-${o.day}T${o.hour === "24" ? "00" : o.hour}:${o.minute}:${o.second}`;
    };
    // Spring forward and fall back in Edmonton and Sydney, Nepal's +05:45, Lord Howe's 30-minute DST.
    const cases: [string, string][] = [
      ["America/Edmonton", "2026-03-08T08:00:00Z"],
      ["America/Edmonton", "2026-11-01T07:00:00Z"],
      ["Australia/Sydney", "2026-04-04T15:00:00Z"],
      ["Asia/Kathmandu", "2026-06-01T00:00:00Z"],
      ["Australia/Lord_Howe", "2026-04-04T14:00:00Z"],
    ];
    for (const [tz, iso] of cases) {
      const t0 = Date.parse(iso) - 3 * 3_600_000;
      for (let ms = t0; ms < t0 + 6 * 3_600_000; ms += 60_000 + 7_000) expect(wallClock(ms, tz)).toBe(viaIntl(ms, tz));
    }
  });
});
