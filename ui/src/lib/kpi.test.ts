import { describe, expect, it } from "vitest";
import { dateToSeconds, kpiChartData } from "./kpi";
import type { GoalTemplate, KpiReport, Metric } from "./types";

const m = (value: number | null): Metric => ({ value, numerator: null, denominator: null });
const row = (d: string, v: number | null) => ({
  period_start: d, period_end: d, no_show_rate: m(v), cancellation_rate: m(0.1), provider_utilization: m(0.5),
  waitlist_fill_rate: m(null), waitlist_time_to_fill_hours: m(3.5), credential_compliance: m(1),
});
const report: KpiReport = { clinic_id: "c", timezone: "UTC", period: "week", from: "2026-03-02", to: "2026-03-15", rows: [row("2026-03-02", 0.04), row("2026-03-09", null)] };

describe("KPI chart data", () => {
  it("plots rates as percent with gaps for periods without a value", () => {
    const d = kpiChartData(report, "no_show_rate", []);
    expect(d.x).toEqual([dateToSeconds("2026-03-02"), dateToSeconds("2026-03-09")]);
    expect(d.series).toEqual([{ label: "No-show rate", values: [4, null], goal: false }]);
  });
  it("adds a flat goal line per active goal on the metric", () => {
    const goals = [
      { id: "g1", name: "No-shows under 5%", metric_key: "no_show_rate", comparator: "lt", target_value: 0.05, period: "week", is_active: true },
      { id: "g2", name: "Other", metric_key: "cancellation_rate", comparator: "lt", target_value: 0.1, period: "week", is_active: true },
      { id: "g3", name: "Old", metric_key: "no_show_rate", comparator: "lt", target_value: 0.2, period: "week", is_active: false },
      { id: "g4", name: "No target", metric_key: "no_show_rate", comparator: "lt", target_value: null, period: "week", is_active: true },
    ] as GoalTemplate[];
    const d = kpiChartData(report, "no_show_rate", goals);
    expect(d.series).toHaveLength(2);
    expect(d.series[1]).toEqual({ label: "Goal: No-shows under 5% (lt 5%)", values: [5, 5], goal: true });
  });
  it("keeps hours as hours", () => {
    expect(kpiChartData(report, "waitlist_time_to_fill_hours", []).series[0]?.values).toEqual([3.5, 3.5]);
  });
});
