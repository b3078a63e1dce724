import { beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import Schedule from "./Schedule.svelte";
import { app, resetSession } from "../lib/session.svelte";
import { keys } from "../lib/keys.svelte";
import { handleShortcut } from "../lib/shortcuts";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { appointment, clinic, CLINIC_ID, drLee, gridEntry, sessionFor } from "../test/fixtures";
import { addDays } from "../lib/time";
import { TEST_NOW } from "../test/clock";

const day = (date: string) => ({ clinic_id: CLINIC_ID, date, hours: 24, day_start: 0, day_end: 0, entries: [gridEntry(appointment())] });
const common = {
  list_staff: () => [drLee],
  list_rooms: () => [],
  list_appointment_types: () => [],
  day_schedule: (a: Record<string, unknown>) => day(a.date as string),
  list_roster: () => [],
  list_availability_blocks: () => [],
  get_appointment: () => appointment(),
};

function press(key: string) {
  const e = new KeyboardEvent("keydown", { key, cancelable: true });
  Object.defineProperty(e, "target", { value: document.body });
  return handleShortcut(e, keys.screen);
}

describe("Schedule screen", () => {
  beforeEach(() => {
    resetSession();
    shimMissingCommands();
    app.session = sessionFor("front_desk");
    app.clinicId = CLINIC_ID;
    app.clinics = [clinic];
    app.phase = "app";
  });

  it("loads the day for the clinic and opens an appointment's panel", async () => {
    const calls = fakeBackend(common);
    render(Schedule);
    const list = await screen.findByRole("list", { name: "Appointments in view" });
    const item = await within(list).findByRole("button", { name: "09:00 Ann Smith with Robin Lee" });
    const ds = calls.find((c) => c.cmd === "day_schedule");
    expect(ds?.args).toMatchObject({ clinicId: CLINIC_ID, providerId: null });
    await fireEvent.click(item);
    const panel = await screen.findByRole("complementary", { name: "Ann Smith" });
    expect(panel).toHaveTextContent("Knee pain"); // read whole with get_appointment
    expect(calls.find((c) => c.cmd === "get_appointment")?.args).toEqual({ appointmentId: "a1" });
    expect(screen.getByText("Times in America/Edmonton")).toBeInTheDocument();
  });

  it("keyboard: i checks the selected appointment in, through the same action as the button", async () => {
    const calls = fakeBackend({
      ...common,
      set_appointment_status: () => refuse("invalid_input", "status: cannot check in a cancelled appointment"),
    });
    render(Schedule);
    expect(press("i")).toBe(false); // nothing selected
    await fireEvent.click(await screen.findByRole("button", { name: "09:00 Ann Smith with Robin Lee" }));
    await screen.findByRole("complementary", { name: "Ann Smith" });
    expect(press("i")).toBe(true);
    expect(await screen.findByRole("alert")).toHaveTextContent("cannot check in a cancelled appointment");
    expect(calls.filter((c) => c.cmd === "set_appointment_status").map((c) => c.args)).toEqual([
      { appointmentId: "a1", action: "check_in", reason: null },
    ]);
  });

  it("b opens the booking dialog; the week view asks for the week", async () => {
    const calls = fakeBackend({ ...common, week_schedule: () => [day("2026-03-09")] });
    render(Schedule);
    await screen.findByRole("button", { name: "09:00 Ann Smith with Robin Lee" });
    expect(press("b")).toBe(true);
    expect(await screen.findByRole("dialog", { name: "Book appointment" })).toBeInTheDocument();
    expect(screen.getByLabelText("Provider")).toHaveValue("s1");
    await fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    await fireEvent.click(screen.getByLabelText("Week"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "week_schedule")).toBe(true));
  });

  it("a viewer cannot book: no button, no shortcut", async () => {
    app.session = { ...sessionFor("front_desk"), roles: [{ clinic_id: CLINIC_ID, role: "viewer" }] };
    fakeBackend(common);
    render(Schedule);
    await screen.findByRole("button", { name: "09:00 Ann Smith with Robin Lee" });
    expect(screen.queryByRole("button", { name: "Book appointment" })).not.toBeInTheDocument();
    expect(press("b")).toBe(false);
  });

  it("prints a provider's day sheet", async () => {
    fakeBackend(common);
    const printed: number[] = [];
    window.print = () => printed.push(1);
    render(Schedule);
    await screen.findByRole("button", { name: "09:00 Ann Smith with Robin Lee" });
    await fireEvent.change(screen.getByLabelText("Day sheet provider"), { target: { value: "s1" } });
    await fireEvent.click(screen.getByRole("button", { name: "Print day sheet" }));
    await waitFor(() => expect(printed).toHaveLength(1));
  });

  it("reads the days before and after ahead, uses each once, and drops them after a change", async () => {
    // Each day's schedule names its date in the patient, so the list shows which answer is used.
    const named = (a: Record<string, unknown>) => ({ ...day(a.date as string), entries: [gridEntry(appointment(), `Pat ${a.date as string}`)] });
    const calls = fakeBackend({ ...common, day_schedule: named, set_appointment_status: () => appointment({ status: "checked_in" }) });
    render(Schedule);
    const asked = () => calls.filter((c) => c.cmd === "day_schedule").map((c) => c.args.date as string);
    const today = (await screen.findByRole("button", { name: /^09:00 Pat / })).textContent!.match(/Pat (\S+)/)![1]!;
    const next = addDays(today, 1);
    await waitFor(() => expect(asked()).toEqual([today, next, addDays(today, -1)]));
    await fireEvent.click(screen.getByRole("button", { name: "Next day" }));
    // The next day comes from the read-ahead: no new question for it, then its own neighbours.
    expect(await screen.findByRole("button", { name: `09:00 Pat ${next} with Robin Lee` })).toBeInTheDocument();
    await waitFor(() => expect(asked()).toEqual([today, next, addDays(today, -1), addDays(next, 1), today]));
    // A change made here forgets every read-ahead: the day is read again, and so are its
    // neighbours (the old read-ahead of the day after is not used).
    await fireEvent.click(screen.getByRole("button", { name: `09:00 Pat ${next} with Robin Lee` }));
    const before = asked().length;
    await fireEvent.click(await screen.findByRole("button", { name: /Check in/ }));
    await waitFor(() => expect(asked().slice(before)).toEqual([next, addDays(next, 1), today]));
  });

  it("during the clinic's hours: its today, with the now line", async () => {
    vi.setSystemTime(TEST_NOW); // 10:00 on Monday 9 March 2026 in Edmonton
    const calls = fakeBackend(common);
    render(Schedule);
    await screen.findByRole("button", { name: "09:00 Ann Smith with Robin Lee" });
    expect(calls.find((c) => c.cmd === "day_schedule")?.args.date).toBe("2026-03-09");
    expect(screen.getByLabelText("Date")).toHaveValue("2026-03-09");
    expect(document.querySelector(".ec-now-indicator")).not.toBeNull();
  });

  it("after the grid's hours: still the clinic's today (not UTC's), no now line; t comes back to it", async () => {
    vi.setSystemTime(Date.UTC(2026, 2, 10, 5, 30)); // 23:30 on 9 March in Edmonton, 10 March in UTC
    const calls = fakeBackend(common);
    render(Schedule);
    await screen.findByRole("button", { name: "09:00 Ann Smith with Robin Lee" });
    expect(calls.find((c) => c.cmd === "day_schedule")?.args.date).toBe("2026-03-09");
    expect(document.querySelector(".ec-now-indicator")).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "Next day" }));
    expect(screen.getByLabelText("Date")).toHaveValue("2026-03-10");
    expect(press("t")).toBe(true);
    await waitFor(() => expect(screen.getByLabelText("Date")).toHaveValue("2026-03-09"));
  });
});
