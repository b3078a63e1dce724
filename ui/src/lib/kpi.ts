// KPI report rows → chart series (uPlot's column arrays), with each active goal on the metric
// drawn as a flat line at its target. Rates come from the API as fractions; charts show percent.

import type { GoalTemplate, KpiReport, KpiRow, Metric } from "./types";

export const METRICS = [
  { key: "no_show_rate", label: "No-show rate", percent: true },
  { key: "cancellation_rate", label: "Cancellation rate", percent: true },
  { key: "provider_utilization", label: "Provider utilization", percent: true },
  { key: "waitlist_fill_rate", label: "Waitlist fill rate", percent: true },
  { key: "waitlist_time_to_fill_hours", label: "Waitlist time to fill (hours)", percent: false },
  { key: "credential_compliance", label: "Credential compliance", percent: true },
] as const;

export type MetricKey = (typeof METRICS)[number]["key"];

export type ChartData = {
  x: number[];
  labels: string[];
  series: { label: string; values: (number | null)[]; goal: boolean }[];
};

/** Seconds since the epoch of a "YYYY-MM-DD" at UTC midnight (uPlot's x axis unit). */
export function dateToSeconds(d: string): number {
  return Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)) / 1000;
}

export function metricOf(row: KpiRow, key: MetricKey): Metric {
  return row[key];
}

export function kpiChartData(report: KpiReport, key: MetricKey, goals: GoalTemplate[]): ChartData {
  const meta = METRICS.find((m) => m.key === key);
  const scale = meta?.percent ? 100 : 1;
  const x = report.rows.map((r) => dateToSeconds(r.period_start));
  const values = report.rows.map((r) => {
    const v = metricOf(r, key).value;
    return v === null ? null : Math.round(v * scale * 100) / 100;
  });
  const series: ChartData["series"] = [{ label: meta?.label ?? key, values, goal: false }];
  for (const g of goals) {
    if (!g.is_active || g.metric_key !== key || g.target_value === null) continue;
    const t = Math.round(g.target_value * scale * 100) / 100;
    series.push({ label: `Goal: ${g.name} (${g.comparator} ${t}${meta?.percent ? "%" : ""})`, values: x.map(() => t), goal: true });
  }
  return { x, labels: report.rows.map((r) => r.period_start), series };
}

/** How the goal comparators read. */
export const COMPARATORS: Record<string, string> = { lt: "<", lte: "≤", gt: ">", gte: "≥" };

export function metricLabel(key: string): string {
  return METRICS.find((m) => m.key === key)?.label ?? key;
}

/** A metric's value as shown: rates in percent, others with one decimal; "—" without a value. */
export function formatMetric(key: string, v: number | null): string {
  if (v === null) return "—";
  return METRICS.find((m) => m.key === key)?.percent ? `${(v * 100).toFixed(1)}%` : v.toFixed(1);
}
