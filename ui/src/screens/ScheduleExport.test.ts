// "Export calendar" on the schedule (issue 14 point 4): a provider's appointments for the
// visible week (or days chosen) as an .ics file the app saves, patient names left out unless
// unticked; a role that does not see patients gets no choice; every failure shows beside it.
import { beforeEach, describe, expect, it } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import Schedule from "./Schedule.svelte";
import { app, resetSession } from "../lib/session.svelte";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { appointment, clinic, CLINIC_ID, drLee, gridEntry, sessionFor } from "../test/fixtures";
import { expectNoAxeViolations } from "../test/axe";

const day = (date: string) => ({ clinic_id: CLINIC_ID, date, hours: 24, day_start: 0, day_end: 0, entries: [gridEntry(appointment())] });
const common = {
  list_staff: () => [drLee],
  list_rooms: () => [],
  list_appointment_types: () => [],
  day_schedule: (a: Record<string, unknown>) => day(a.date as string),
  week_schedule: () => [],
  list_roster: () => [],
  list_availability_blocks: () => [],
  get_appointment: () => appointment(),
};

const form = () => screen.getByRole("form", { name: "Export calendar" });

async function shown() {
  render(Schedule);
  await screen.findByRole("button", { name: "09:00 Ann Smith with Robin Lee" });
}

describe("Export calendar", () => {
  beforeEach(() => {
    resetSession();
    // The page as index.html makes it (jsdom's test document has neither a language nor a title).
    document.documentElement.lang = "en";
    document.title = "ClinicDesk";
    shimMissingCommands();
    app.session = sessionFor("front_desk");
    app.clinicId = CLINIC_ID;
    app.clinics = [clinic];
    app.phase = "app";
  });

  it("exports the chosen provider's visible week without patient names, and says where", async () => {
    const calls = fakeBackend({ ...common, export_ics: () => ({ file: "/home/desk/robin.ics", events: 4 }) });
    await shown();
    const f = form();
    expect(within(f).getByLabelText("From")).toHaveValue("2026-03-09");
    expect(within(f).getByLabelText("To")).toHaveValue("2026-03-15");
    expect(within(f).getByRole("checkbox", { name: "Leave patient names out" })).toBeChecked();
    await fireEvent.change(within(f).getByLabelText("Calendar of"), { target: { value: "s1" } });
    await fireEvent.click(within(f).getByRole("button", { name: "Export calendar…" }));
    expect(await screen.findByRole("status")).toHaveTextContent("4 appointments written to /home/desk/robin.ics.");
    expect(calls.find((c) => c.cmd === "export_ics")?.args).toEqual({
      providerId: "s1", from: "2026-03-09", to: "2026-03-15", withoutPatientNames: true,
    });
    await expectNoAxeViolations(document, "Schedule: calendar exported");
  });

  it("follows the day sheet's provider and the week shown; names in when unticked", async () => {
    const calls = fakeBackend({ ...common, export_ics: () => ({ file: "/c.ics", events: 1 }) });
    await shown();
    await fireEvent.change(screen.getByLabelText("Day sheet provider"), { target: { value: "s1" } });
    await fireEvent.input(screen.getByLabelText("Date"), { target: { value: "2026-03-18" } }); // the week of Monday 16 March
    const f = form();
    await waitFor(() => expect(within(f).getByLabelText("From")).toHaveValue("2026-03-16"));
    expect(within(f).getByLabelText("Calendar of")).toHaveValue("s1");
    await fireEvent.click(within(f).getByRole("checkbox", { name: "Leave patient names out" }));
    await fireEvent.click(within(f).getByRole("button", { name: "Export calendar…" }));
    await screen.findByRole("status");
    expect(calls.find((c) => c.cmd === "export_ics")?.args).toEqual({
      providerId: "s1", from: "2026-03-16", to: "2026-03-22", withoutPatientNames: false,
    });
  });

  it("asks for a provider, says nothing when the dialog is cancelled, and shows a refusal", async () => {
    let answer: () => unknown = () => null;
    const calls = fakeBackend({ ...common, export_ics: () => answer() });
    await shown();
    const f = form();
    await fireEvent.click(within(f).getByRole("button", { name: "Export calendar…" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Choose the provider whose calendar to export.");
    expect(calls.some((c) => c.cmd === "export_ics")).toBe(false);
    await fireEvent.change(within(f).getByLabelText("Calendar of"), { target: { value: "s1" } });
    await fireEvent.click(within(f).getByRole("button", { name: "Export calendar…" }));
    await waitFor(() => expect(calls.some((c) => c.cmd === "export_ics")).toBe(true));
    await waitFor(() => expect(within(f).getByRole("button", { name: "Export calendar…" })).toBeEnabled());
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(screen.queryByRole("status")).not.toBeInTheDocument();
    answer = () => refuse("invalid_input", "to: a calendar covers at most 366 days");
    await fireEvent.click(within(f).getByRole("button", { name: "Export calendar…" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("a calendar covers at most 366 days");
    await expectNoAxeViolations(document, "Schedule: calendar export refused");
  });

  it("a role that does not see patients gets no choice: names are always left out", async () => {
    app.session = { ...sessionFor("front_desk"), roles: [{ clinic_id: CLINIC_ID, role: "viewer" }] };
    const calls = fakeBackend({ ...common, export_ics: () => ({ file: "/c.ics", events: 0 }) });
    await shown();
    const f = form();
    expect(within(f).queryByRole("checkbox")).not.toBeInTheDocument();
    await fireEvent.change(within(f).getByLabelText("Calendar of"), { target: { value: "s1" } });
    await fireEvent.click(within(f).getByRole("button", { name: "Export calendar…" }));
    expect(await screen.findByRole("status")).toHaveTextContent("0 appointments written to /c.ics.");
    expect(calls.find((c) => c.cmd === "export_ics")?.args).toMatchObject({ withoutPatientNames: true });
  });
});
