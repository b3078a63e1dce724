// An appointment of a recurring series: moving and cancelling ask for the scope and go through
// edit_series / cancel_series; a single appointment keeps the single-appointment commands.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import AppointmentPanel from "./AppointmentPanel.svelte";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { appointment, drLee, scheduleEntry } from "../test/fixtures";

describe("AppointmentPanel for a series", () => {
  beforeEach(() => shimMissingCommands());

  const props = (onchanged = vi.fn(), seriesId: string | null = "r1") => ({
    entry: scheduleEntry({ series_id: seriesId }), tz: "America/Edmonton", providers: [drLee], canOverride: false, onchanged, onclose: vi.fn(),
  });
  const scopes = () => screen.getByRole("group", { name: "Which appointments" });

  it("moves this and the following occurrences through edit_series with only what changed", async () => {
    const moved = appointment({ id: "a7", rescheduled_from_id: "a1", series_id: "r2" });
    const calls = fakeBackend({
      edit_series: () => ({ series_id: "r2", booked: [appointment({ id: "a6", rescheduled_from_id: "a0" }), moved], skipped: [] }),
    });
    const onchanged = vi.fn();
    render(AppointmentPanel, props(onchanged));
    await fireEvent.click(screen.getByRole("button", { name: "Move" }));
    expect(screen.queryByLabelText("New start")).not.toBeInTheDocument();
    expect(within(scopes()).getByRole("radio", { name: "This one" })).toBeChecked();
    await fireEvent.click(within(scopes()).getByRole("radio", { name: "This and following" }));
    expect(screen.getByLabelText("New time")).toHaveValue("09:00");
    await fireEvent.input(screen.getByLabelText("New time"), { target: { value: "10:30" } });
    await fireEvent.input(screen.getByLabelText("Move by days"), { target: { value: "1" } });
    await fireEvent.click(screen.getByRole("button", { name: "Confirm move" }));
    await waitFor(() => expect(onchanged).toHaveBeenCalledWith(moved));
    expect(calls).toEqual([{ cmd: "edit_series", args: { appointmentId: "a1", scope: "following", fields: { time: "10:30", shift_days: "1" } } }]);
  });

  it("sends a new provider for the whole series and keeps the form when refused", async () => {
    const calls = fakeBackend({ edit_series: () => refuse("conflict", "2 occurrences cannot move: 2026-03-16 09:00 Robin Lee is booked") });
    const onchanged = vi.fn();
    render(AppointmentPanel, { ...props(onchanged), providers: [drLee, { ...drLee, id: "s2", first_name: "Sam", last_name: "Ng" }] });
    await fireEvent.click(screen.getByRole("button", { name: "Move" }));
    await fireEvent.click(within(scopes()).getByRole("radio", { name: "The whole series" }));
    await fireEvent.change(screen.getByLabelText("New provider"), { target: { value: "s2" } });
    await fireEvent.input(screen.getByLabelText("Reason for the move"), { target: { value: "Robin on leave" } });
    await fireEvent.click(screen.getByRole("button", { name: "Confirm move" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("2 occurrences cannot move: 2026-03-16 09:00 Robin Lee is booked");
    expect(calls[0]).toEqual({ cmd: "edit_series", args: { appointmentId: "a1", scope: "all", fields: { provider_id: "s2", reason: "Robin on leave" } } });
    expect(onchanged).not.toHaveBeenCalled();
    expect(within(scopes()).getByRole("radio", { name: "The whole series" })).toBeChecked();
    expect(screen.getByLabelText("New provider")).toHaveValue("s2");
    expect(screen.getByLabelText("Reason for the move")).toHaveValue("Robin on leave");
  });

  it("cancels the whole series through cancel_series with the reason", async () => {
    const cancelled = appointment({ status: "cancelled", cancel_reason: "Course finished" });
    const calls = fakeBackend({ cancel_series: () => [appointment({ id: "a2", status: "cancelled" }), cancelled] });
    const onchanged = vi.fn();
    render(AppointmentPanel, props(onchanged));
    await fireEvent.click(screen.getByRole("button", { name: "Cancel appointment" }));
    await fireEvent.click(within(scopes()).getByRole("radio", { name: "The whole series" }));
    await fireEvent.input(screen.getByLabelText("Cancellation reason"), { target: { value: "Course finished" } });
    await fireEvent.click(screen.getByRole("button", { name: "Confirm cancellation" }));
    await waitFor(() => expect(onchanged).toHaveBeenCalledWith(cancelled));
    expect(calls).toEqual([{ cmd: "cancel_series", args: { appointmentId: "a1", scope: "all", reason: "Course finished" } }]);
  });

  it("shows cancel_series' refusal and keeps the reason and the scope", async () => {
    fakeBackend({ cancel_series: () => refuse("invalid_input", "appointment: this appointment is not part of a series") });
    render(AppointmentPanel, props());
    await fireEvent.click(screen.getByRole("button", { name: "Cancel appointment" }));
    await fireEvent.click(within(scopes()).getByRole("radio", { name: "This and following" }));
    await fireEvent.input(screen.getByLabelText("Cancellation reason"), { target: { value: "Moving away" } });
    await fireEvent.click(screen.getByRole("button", { name: "Confirm cancellation" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("appointment: this appointment is not part of a series");
    expect(screen.getByLabelText("Cancellation reason")).toHaveValue("Moving away");
    expect(within(scopes()).getByRole("radio", { name: "This and following" })).toBeChecked();
  });

  it("asks no scope for a single appointment and keeps set_appointment_status", async () => {
    const calls = fakeBackend({ set_appointment_status: () => appointment({ status: "cancelled" }) });
    render(AppointmentPanel, props(vi.fn(), null));
    await fireEvent.click(screen.getByRole("button", { name: "Cancel appointment" }));
    expect(screen.queryByRole("group", { name: "Which appointments" })).not.toBeInTheDocument();
    await fireEvent.input(screen.getByLabelText("Cancellation reason"), { target: { value: "Ill" } });
    await fireEvent.click(screen.getByRole("button", { name: "Confirm cancellation" }));
    await waitFor(() => expect(calls).toEqual([{ cmd: "set_appointment_status", args: { appointmentId: "a1", action: "cancel", reason: "Ill" } }]));
  });
});
