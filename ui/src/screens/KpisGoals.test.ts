// The KPI screen's goals: their progress beside the charts, the list, adding one.
import { beforeEach, describe, expect, it } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import { fakeBackend, refuse } from "../test/ipc";
import { argsOf, signedInAs } from "../test/screen";
import { CLINIC_ID } from "../test/fixtures";
import Kpis from "./Kpis.svelte";

const m = (v: number | null) => ({ value: v, numerator: 1, denominator: 20 });
const report = {
  clinic_id: CLINIC_ID, timezone: "America/Edmonton", period: "week", from: "2026-03-02", to: "2026-03-09",
  rows: [{ period_start: "2026-03-02", period_end: "2026-03-08", no_show_rate: m(0.04), cancellation_rate: m(0.1), provider_utilization: m(0.7), waitlist_fill_rate: m(null), waitlist_time_to_fill_hours: m(null), credential_compliance: m(1) }],
};
const goal = (over: Record<string, unknown> = {}) => ({
  id: "g1", clinic_id: null, name: "Few no-shows", description: null, metric_key: "no_show_rate", comparator: "lte", target_value: 0.05, period: "month", is_system: true, is_active: true, ...over,
});
const progress = (over: Record<string, unknown> = {}) => ({
  goal: goal(), period_start: "2026-03-01", period_end: "2026-03-31", value: 0.04, numerator: 2, denominator: 50, target: 0.05, met: true, gap: -0.01, ...over,
});
beforeEach(() => signedInAs("manager"));

describe("KPIs: goals", () => {
  it("shows each goal's progress beside the chart, for today or the date chosen", async () => {
    const calls = fakeBackend({
      kpi_report: () => report,
      list_goals: () => [goal(), goal({ id: "g2", name: "Busy providers", metric_key: "provider_utilization", comparator: "gte", target_value: 0.8, is_system: false, clinic_id: CLINIC_ID })],
      goal_progress: (a) =>
        a.date === "2026-02-15"
          ? [progress({ period_start: "2026-02-01", period_end: "2026-02-28", value: 0.07, met: false })]
          : [progress(), progress({ goal: goal({ id: "g2", name: "Busy providers", metric_key: "provider_utilization", comparator: "gte", target_value: 0.8 }), value: null, met: false })],
    });
    render(Kpis);
    expect(await screen.findByRole("img", { name: "No-show rate chart" })).toBeInTheDocument();
    const table = screen.getByRole("table", { name: "Goal progress" });
    await waitFor(() => expect(within(table).getByRole("row", { name: /Few no-shows/ })).toHaveTextContent(/2026-03-01 – 2026-03-31\s*4\.0%\s*≤ 5\.0%\s*Met/));
    expect(within(table).getByRole("row", { name: /Busy providers/ })).toHaveTextContent(/—\s*≥ 80\.0%\s*No data/);
    expect(argsOf(calls, "goal_progress")).toEqual([{ clinicId: CLINIC_ID, date: null }]);
    expect(screen.getByRole("table", { name: "Goals" })).toHaveTextContent(/Busy providers\s*Provider utilization\s*≥ 80\.0%\s*month\s*Clinic/);

    await fireEvent.input(screen.getByLabelText("Progress on"), { target: { value: "2026-02-15" } });
    await waitFor(() => expect(within(table).getByRole("row", { name: /Few no-shows/ })).toHaveTextContent(/7\.0%.*Not met/));
    expect(argsOf(calls, "goal_progress").at(-1)).toEqual({ clinicId: CLINIC_ID, date: "2026-02-15" });
  });

  it("adds a goal with the fields typed, keeps them when refused, then lists it", async () => {
    let goals = [goal()];
    let n = 0;
    const calls = fakeBackend({
      kpi_report: () => report,
      list_goals: () => goals,
      goal_progress: () => [],
      create_goal: (a) => {
        if (n++ === 0) return refuse("conflict", "this clinic already has a goal named 'Few cancellations'");
        const f = a.fields as Record<string, string>;
        const g = goal({ id: "g3", name: f.name, metric_key: "cancellation_rate", comparator: "lt", target_value: 0.08, period: "week", is_system: false, clinic_id: CLINIC_ID });
        goals = [...goals, g];
        return g;
      },
    });
    render(Kpis);
    const form = await screen.findByRole("form", { name: "Add a goal" });
    await fireEvent.input(within(form).getByLabelText("Goal name"), { target: { value: "Few cancellations" } });
    await fireEvent.change(within(form).getByLabelText("Goal metric"), { target: { value: "cancellation_rate" } });
    await fireEvent.change(within(form).getByLabelText("Comparator"), { target: { value: "lt" } });
    await fireEvent.input(within(form).getByLabelText("Target"), { target: { value: "8%" } });
    await fireEvent.change(within(form).getByLabelText("Goal period"), { target: { value: "week" } });
    await fireEvent.click(within(form).getByRole("button", { name: "Add goal" }));

    expect(await within(form).findByRole("alert")).toHaveTextContent("this clinic already has a goal named 'Few cancellations'");
    expect(argsOf(calls, "create_goal")).toEqual([{ clinicId: CLINIC_ID, fields: { name: "Few cancellations", metric_key: "cancellation_rate", comparator: "lt", target_value: "8%", period: "week" } }]);
    expect(within(form).getByLabelText("Goal name")).toHaveValue("Few cancellations");
    expect(within(form).getByLabelText("Target")).toHaveValue("8%");

    await fireEvent.input(within(form).getByLabelText("Goal name"), { target: { value: "Fewer cancellations" } });
    await fireEvent.click(within(form).getByRole("button", { name: "Add goal" }));
    const list = screen.getByRole("table", { name: "Goals" });
    expect(await within(list).findByRole("row", { name: /Fewer cancellations/ })).toHaveTextContent(/Cancellation rate\s*< 8\.0%\s*week\s*Clinic/);
    expect(within(form).getByLabelText("Goal name")).toHaveValue("");
    expect(argsOf(calls, "list_goals").length).toBe(2);
  });

  it("shows a refusal of goal progress", async () => {
    fakeBackend({ kpi_report: () => report, list_goals: () => [], goal_progress: () => refuse("invalid_input", "date: not a date") });
    render(Kpis);
    const panel = await screen.findByRole("complementary", { name: "Goals" });
    expect(await within(panel).findByRole("alert")).toHaveTextContent("date: not a date");
  });
});
