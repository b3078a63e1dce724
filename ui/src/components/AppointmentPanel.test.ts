import { describe, expect, it, beforeEach, vi } from "vitest";
import { render, screen, fireEvent, waitFor } from "@testing-library/svelte";
import AppointmentPanel from "./AppointmentPanel.svelte";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { drLee, scheduleEntry, appointment } from "../test/fixtures";

describe("AppointmentPanel", () => {
  beforeEach(() => shimMissingCommands());

  const props = (onchanged = vi.fn()) => ({
    entry: scheduleEntry(), tz: "America/Edmonton", providers: [drLee], canOverride: false, onchanged, onclose: vi.fn(),
  });

  it("has every action button by its name", () => {
    render(AppointmentPanel, props());
    for (const name of ["Check in", "Start", "Complete", "Check out", "Cancel appointment", "No-show", "Move"]) {
      expect(screen.getByRole("button", { name })).toBeInTheDocument();
    }
    expect(screen.getByRole("complementary", { name: "Ann Smith" })).toBeInTheDocument();
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
    render(AppointmentPanel, props(onchanged));
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
