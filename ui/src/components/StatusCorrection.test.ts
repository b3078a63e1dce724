// A manager corrects a final appointment status from the panel (correct_appointment_status),
// with a required reason; other roles are not offered it.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, fireEvent, waitFor } from "@testing-library/svelte";
import AppointmentPanel from "./AppointmentPanel.svelte";
import { app, resetSession } from "../lib/session.svelte";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { appointment, CLINIC_ID, drLee, scheduleEntry, sessionFor } from "../test/fixtures";

describe("status correction", () => {
  beforeEach(() => {
    resetSession();
    shimMissingCommands();
    app.clinicId = CLINIC_ID;
  });

  const props = (onchanged = vi.fn()) => ({
    entry: scheduleEntry({ status: "no_show" }), tz: "America/Edmonton", providers: [drLee], canOverride: true, onchanged, onclose: vi.fn(),
  });

  async function correct(to: string, reason: string) {
    await fireEvent.click(screen.getByRole("button", { name: "Correct status" }));
    await fireEvent.change(screen.getByLabelText("Correct status to"), { target: { value: to } });
    await fireEvent.input(screen.getByLabelText("Reason for the correction"), { target: { value: reason } });
    await fireEvent.click(screen.getByRole("button", { name: "Confirm correction" }));
  }

  it("a manager corrects a no-show to checked in with the reason", async () => {
    app.session = sessionFor("manager");
    const fixed = appointment({ status: "checked_in" });
    const calls = fakeBackend({ correct_appointment_status: () => fixed });
    const onchanged = vi.fn();
    render(AppointmentPanel, props(onchanged));
    expect(screen.queryByRole("form", { name: "Correct the status" })).not.toBeInTheDocument();
    await correct("checked_in", "Patient was in the waiting room");
    await waitFor(() => expect(onchanged).toHaveBeenCalledWith(fixed));
    expect(calls).toEqual([{ cmd: "correct_appointment_status", args: { appointmentId: "a1", to: "checked_in", reason: "Patient was in the waiting room" } }]);
    expect(screen.queryByRole("form", { name: "Correct the status" })).not.toBeInTheDocument();
  });

  it("shows the refusal in the API's words and keeps the choice and the reason", async () => {
    app.session = sessionFor("admin");
    fakeBackend({ correct_appointment_status: () => refuse("invalid_transition", "appointment: cannot go from no_show to completed") });
    const onchanged = vi.fn();
    render(AppointmentPanel, props(onchanged));
    await correct("completed", "Seen after all");
    expect(await screen.findByRole("alert")).toHaveTextContent("appointment: cannot go from no_show to completed");
    expect(screen.getByLabelText("Correct status to")).toHaveValue("completed");
    expect(screen.getByLabelText("Reason for the correction")).toHaveValue("Seen after all");
    expect(screen.getByLabelText("Reason for the correction")).toBeRequired();
    expect(onchanged).not.toHaveBeenCalled();
  });

  it("is not offered to the front desk", () => {
    app.session = sessionFor("front_desk");
    fakeBackend({});
    // On an appointment that can still move (its steps are shown) and on the no-show.
    const { unmount } = render(AppointmentPanel, { ...props(), entry: scheduleEntry({ status: "confirmed" }) });
    expect(screen.getByRole("button", { name: "Move" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Correct status" })).not.toBeInTheDocument();
    unmount();
    render(AppointmentPanel, props());
    expect(screen.getByRole("complementary", { name: "Ann Smith" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Correct status" })).not.toBeInTheDocument();
  });
});
