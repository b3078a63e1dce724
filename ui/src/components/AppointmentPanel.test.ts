import { describe, expect, it, beforeEach, vi } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import AppointmentPanel from "./AppointmentPanel.svelte";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { drLee, scheduleEntry, appointment } from "../test/fixtures";
import { APPOINTMENT_NEXT_STEPS } from "../bindings";
import { ACTIONS } from "../lib/actions";
import type { AppointmentStatus } from "../lib/types";

describe("AppointmentPanel", () => {
  beforeEach(() => shimMissingCommands());

  const props = (onchanged = vi.fn(), status: AppointmentStatus = "confirmed") => ({
    entry: scheduleEntry({ status }), tz: "America/Edmonton", providers: [drLee], canOverride: false, onchanged, onclose: vi.fn(),
  });

  // Each button where it is a legal next step (the e2e tests find them by these names).
  const offeredIn: [string, AppointmentStatus][] = [
    ["Check in", "confirmed"], ["Start", "checked_in"], ["Complete", "in_progress"], ["Check out", "completed"],
    ["Cancel appointment", "confirmed"], ["No-show", "confirmed"], ["Move", "confirmed"],
  ];
  it("has every action button by its name", () => {
    for (const [name, status] of offeredIn) {
      const { unmount } = render(AppointmentPanel, props(vi.fn(), status));
      expect(screen.getByRole("button", { name })).toBeInTheDocument();
      expect(screen.getByRole("complementary", { name: "Ann Smith" })).toBeInTheDocument();
      unmount();
    }
  });

  it("offers exactly the domain's next steps for every status, the primary one first and prominent", () => {
    // APPOINTMENT_NEXT_STEPS is generated from crates/domain (AppointmentAction::next_steps):
    // a step the UI adds, drops or reorders fails here.
    expect(APPOINTMENT_NEXT_STEPS.length).toBe(18);
    for (const row of APPOINTMENT_NEXT_STEPS) {
      const entry = scheduleEntry({ status: row.status, checked_out_at: row.checked_out ? Date.UTC(2026, 2, 9, 16, 0) : null });
      const { unmount } = render(AppointmentPanel, { ...props(), entry });
      const group = screen.getByRole("group", { name: "Appointment actions" });
      const buttons = within(group).queryAllByRole("button");
      const what = `${row.status}${row.checked_out ? ", checked out" : ""}`;
      expect(buttons.map((b) => b.textContent?.trim()), what).toEqual(row.actions.map((a) => ACTIONS[a].label));
      buttons.forEach((b, i) => expect(b.classList.contains("primary"), `${what}: ${b.textContent}`).toBe(i === 0));
      if (row.actions.length === 0) expect(group).toHaveTextContent("Nothing more to do");
      unmount();
    }
  });

  it("a confirmed appointment is not offered Start or Complete", () => {
    render(AppointmentPanel, props());
    expect(screen.getByRole("button", { name: "Check in" })).toHaveClass("primary");
    for (const name of ["Start", "Complete", "Check out"]) expect(screen.queryByRole("button", { name })).not.toBeInTheDocument();
  });

  it("checks in through set_appointment_status", async () => {
    const calls = fakeBackend({ set_appointment_status: () => appointment({ status: "checked_in" }) });
    const onchanged = vi.fn();
    render(AppointmentPanel, props(onchanged));
    await fireEvent.click(screen.getByRole("button", { name: "Check in" }));
    await waitFor(() => expect(onchanged).toHaveBeenCalled());
    expect(calls).toEqual([{ cmd: "set_appointment_status", args: { appointmentId: "a1", action: "check_in", reason: null } }]);
  });

  it("shows the API's refusal inline", async () => {
    fakeBackend({ set_appointment_status: () => refuse("invalid_input", "status: cannot go from confirmed to completed") });
    const onchanged = vi.fn();
    render(AppointmentPanel, props(onchanged, "in_progress"));
    await fireEvent.click(screen.getByRole("button", { name: "Complete" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("status: cannot go from confirmed to completed");
    expect(onchanged).not.toHaveBeenCalled();
  });

  it("asks for a cancellation reason, sends it, and keeps it when refused", async () => {
    const calls = fakeBackend({ set_appointment_status: () => refuse("invalid_input", "reason: too short") });
    render(AppointmentPanel, props());
    await fireEvent.click(screen.getByRole("button", { name: "Cancel appointment" }));
    const reason = screen.getByLabelText("Cancellation reason");
    await fireEvent.input(reason, { target: { value: "Patient is ill" } });
    await fireEvent.click(screen.getByRole("button", { name: "Confirm cancellation" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("reason: too short");
    expect(calls[0]?.args).toEqual({ appointmentId: "a1", action: "cancel", reason: "Patient is ill" });
    expect(screen.getByLabelText("Cancellation reason")).toHaveValue("Patient is ill");
  });

  it("moves through reschedule_appointment with the new wall-clock start", async () => {
    const calls = fakeBackend({ reschedule_appointment: () => appointment({ id: "a2" }) });
    const onchanged = vi.fn();
    render(AppointmentPanel, props(onchanged));
    await fireEvent.click(screen.getByRole("button", { name: "Move" }));
    const start = screen.getByLabelText("New start");
    expect(start).toHaveValue("2026-03-09 09:00");
    await fireEvent.input(start, { target: { value: "2026-03-10 10:30" } });
    await fireEvent.click(screen.getByRole("button", { name: "Confirm move" }));
    await waitFor(() => expect(onchanged).toHaveBeenCalled());
    expect(calls[0]).toEqual({ cmd: "reschedule_appointment", args: { appointmentId: "a1", fields: { start: "2026-03-10 10:30" } } });
  });
});
