// Admin → Export and import (issue 14 point 4): the FHIR export and import with progress and
// cancel, the import's error list, holiday calendars, what each role is offered, and axe-core
// over each state (zero WCAG 2.1 A/AA violations).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import Admin from "./Admin.svelte";
import { app, resetSession } from "../lib/session.svelte";
import { route } from "../lib/router.svelte";
import { listenProgress, stopListening, tasks } from "../lib/progress.svelte";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { clinic, CLINIC_ID, sessionFor } from "../test/fixtures";
import { expectNoAxeViolations } from "../test/axe";
import type { Session } from "../bindings";

const viewer: Session = { ...sessionFor(), roles: [{ clinic_id: CLINIC_ID, role: "viewer" }] };

function open(session: Session = sessionFor("admin")) {
  app.session = session;
  route.rest = ["interop"];
  window.location.hash = "#/admin/interop";
  render(Admin);
}

const region = (name: string) => screen.getByRole("region", { name });

const exported = {
  folder: "/home/desk/fhir",
  total: 12,
  files: [
    { resource_type: "Organization", file: "Organization.ndjson", count: 1 },
    { resource_type: "Patient", file: "Patient.ndjson", count: 8 },
    { resource_type: "Appointment", file: "Appointment.ndjson", count: 3 },
  ],
};
const result = (over: Record<string, unknown> = {}) => ({
  files: ["Patient.ndjson", "Appointment.ndjson"],
  manifests_skipped: 1,
  ignored: 4,
  result: { records: 11, patients: 8, staff: 1, rooms: 0, appointments: 2, skipped: 0, invalid: 0, errors: [], ...over },
});

beforeEach(() => {
  resetSession();
    // The page as index.html makes it (jsdom's test document has neither a language nor a title).
    document.documentElement.lang = "en";
    document.title = "ClinicDesk";
  shimMissingCommands();
  app.clinicId = CLINIC_ID;
  app.clinics = [clinic];
  app.phase = "app";
});
afterEach(() => {
  route.rest = [];
  for (const k of Object.keys(tasks)) delete tasks[k];
});

describe("Export and import: offered by role", () => {
  it("admins and managers get the export, the import and the holiday calendar", async () => {
    fakeBackend({});
    open(sessionFor("manager"));
    const links = within(screen.getByRole("navigation", { name: "Admin sections" })).getAllByRole("link").map((l) => l.textContent);
    expect(links).toContain("Export and import");
    expect(region("FHIR export")).toBeInTheDocument();
    expect(region("FHIR import")).toBeInTheDocument();
    expect(region("Holidays from a calendar")).toBeInTheDocument();
    await expectNoAxeViolations(document, "Admin: export and import");
  });

  it("a role that may only read gets the export alone", async () => {
    fakeBackend({});
    open(viewer);
    expect(region("FHIR export")).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "FHIR import" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Choose files and import…" })).not.toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Holidays from a calendar" })).not.toBeInTheDocument();
  });
});

describe("FHIR export", () => {
  it("sends the slot days, shows progress without a known total, cancels through cancel_task", async () => {
    let fail: (e: unknown) => void = () => {};
    const calls = fakeBackend({ export_fhir: () => new Promise((_, reject) => (fail = reject)), cancel_task: () => true }, { events: true });
    stopListening();
    await listenProgress();
    try {
      open();
      await fireEvent.input(screen.getByLabelText("Free slots from"), { target: { value: "2027-03-01" } });
      await fireEvent.click(screen.getByRole("button", { name: "Export to a folder…" }));
      await waitFor(() => expect(calls.some((c) => c.cmd === "export_fhir")).toBe(true));
      const args = calls.find((c) => c.cmd === "export_fhir")!.args;
      expect(args).toEqual({ taskId: expect.stringMatching(/^fhir-export-/), from: "2027-03-01", to: null });
      expect(screen.getByRole("button", { name: "Export to a folder…" })).toBeDisabled();
      await emit("progress", { task: args.taskId, stage: "exporting", done: 10000, total: 0 });
      await screen.findByRole("progressbar", { name: "FHIR export: exporting 10000" });
      await expectNoAxeViolations(document, "Admin: FHIR export running");
      await fireEvent.click(screen.getByRole("button", { name: "Cancel the FHIR export" }));
      await waitFor(() => expect(calls.find((c) => c.cmd === "cancel_task")?.args).toEqual({ taskId: args.taskId }));
      fail({ code: "cancelled", message: "the FHIR export was cancelled" });
      expect(await within(region("FHIR export")).findByRole("alert")).toHaveTextContent("the FHIR export was cancelled");
      expect(screen.queryByRole("progressbar")).not.toBeInTheDocument();
      expect(screen.getByRole("button", { name: "Export to a folder…" })).toBeEnabled();
    } finally {
      stopListening();
    }
  });

  it("reports what was written, per resource type", async () => {
    const calls = fakeBackend({ export_fhir: () => exported });
    open();
    await fireEvent.click(screen.getByRole("button", { name: "Export to a folder…" }));
    const part = region("FHIR export");
    expect(await within(part).findByRole("status")).toHaveTextContent("12 resources written to /home/desk/fhir.");
    const table = within(part).getByRole("table", { name: "Resources exported" });
    expect(within(table).getByRole("row", { name: "Patient Patient.ndjson 8" })).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === "export_fhir")?.args).toMatchObject({ from: null, to: null });
    await expectNoAxeViolations(document, "Admin: FHIR exported");
  });

  it("says nothing when the folder dialog is cancelled, and shows a refusal", async () => {
    let answer: () => unknown = () => null;
    fakeBackend({ export_fhir: () => answer() });
    open();
    await fireEvent.click(screen.getByRole("button", { name: "Export to a folder…" }));
    await waitFor(() => expect(screen.getByRole("button", { name: "Export to a folder…" })).toBeEnabled());
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(screen.queryByRole("status")).not.toBeInTheDocument();
    answer = () => refuse("invalid_input", "to: free slots are exported for at most 92 days at a time");
    await fireEvent.click(screen.getByRole("button", { name: "Export to a folder…" }));
    expect(await within(region("FHIR export")).findByRole("alert")).toHaveTextContent("at most 92 days");
  });

  it("refuses an end day without a first day before asking the app", async () => {
    const calls = fakeBackend({ export_fhir: () => exported });
    open();
    await fireEvent.input(screen.getByLabelText("Free slots to"), { target: { value: "2027-03-10" } });
    await fireEvent.click(screen.getByRole("button", { name: "Export to a folder…" }));
    expect(await within(region("FHIR export")).findByRole("alert")).toHaveTextContent("Give the first day");
    expect(calls.some((c) => c.cmd === "export_fhir")).toBe(false);
  });
});

describe("FHIR import", () => {
  it("imports into this clinic with progress; cancelling shows the refusal and keeps nothing", async () => {
    let fail: (e: unknown) => void = () => {};
    const calls = fakeBackend({ import_fhir: () => new Promise((_, reject) => (fail = reject)), cancel_task: () => true }, { events: true });
    stopListening();
    await listenProgress();
    try {
      open();
      await fireEvent.click(screen.getByRole("button", { name: "Choose files and import…" }));
      await waitFor(() => expect(calls.some((c) => c.cmd === "import_fhir")).toBe(true));
      const args = calls.find((c) => c.cmd === "import_fhir")!.args;
      expect(args).toEqual({ taskId: expect.stringMatching(/^fhir-import-/), clinicId: CLINIC_ID });
      await emit("progress", { task: args.taskId, stage: "importing", done: 250, total: 600 });
      const bar = await screen.findByRole("progressbar", { name: "FHIR import: importing 250 of 600" });
      expect(bar).toHaveAttribute("value", "250");
      await fireEvent.click(screen.getByRole("button", { name: "Cancel the FHIR import" }));
      await waitFor(() => expect(calls.find((c) => c.cmd === "cancel_task")?.args).toEqual({ taskId: args.taskId }));
      fail({ code: "cancelled", message: "the FHIR import was cancelled" });
      expect(await within(region("FHIR import")).findByRole("alert")).toHaveTextContent("the FHIR import was cancelled");
      expect(screen.queryByRole("progressbar")).not.toBeInTheDocument();
    } finally {
      stopListening();
    }
  });

  it("reports what was imported and skipped", async () => {
    fakeBackend({ import_fhir: () => result({ skipped: 3 }) });
    open();
    await fireEvent.click(screen.getByRole("button", { name: "Choose files and import…" }));
    expect(await within(region("FHIR import")).findByRole("status")).toHaveTextContent(
      "Imported 8 patients, 1 staff member, 0 rooms and 2 appointments from 2 files; 3 skipped (already here); 4 other resources ignored.",
    );
  });

  it("lists the bad resources by line and path and says nothing was imported", async () => {
    fakeBackend({
      import_fhir: () =>
        result({
          patients: 0, staff: 0, rooms: 0, appointments: 0, invalid: 120,
          errors: [
            { line: 2, path: "Patient.birthDate", message: "'1990' is not a date (use YYYY-MM-DD)" },
            { line: 7, path: "Appointment.participant", message: "Practitioner/x is not in this import or the database" },
          ],
        }),
    });
    open();
    await fireEvent.click(screen.getByRole("button", { name: "Choose files and import…" }));
    const part = region("FHIR import");
    expect(await within(part).findByRole("alert")).toHaveTextContent("120 of 11 resources have errors, so nothing was imported. The first 2 are listed.");
    const table = within(part).getByRole("table", { name: "Resources with errors" });
    expect(within(table).getByRole("row", { name: "2 Patient.birthDate '1990' is not a date (use YYYY-MM-DD)" })).toBeInTheDocument();
    expect(within(table).getAllByRole("row")).toHaveLength(3);
    expect(within(part).queryByRole("status")).not.toBeInTheDocument();
    await expectNoAxeViolations(document, "Admin: FHIR import with errors");
  });

  it("shows a refusal of the files as Rust words it", async () => {
    fakeBackend({ import_fhir: () => refuse("invalid_input", "file: Patient.ndjson cannot be read as text") });
    open();
    await fireEvent.click(screen.getByRole("button", { name: "Choose files and import…" }));
    expect(await within(region("FHIR import")).findByRole("alert")).toHaveTextContent("Patient.ndjson cannot be read as text");
  });
});

describe("Holidays from a calendar", () => {
  it("closes the calendar's days and says which appointments need moving", async () => {
    const calls = fakeBackend({
      import_holidays: () => ({ file: "/h.ics", days: 3, ignored: 1, closures: { created: [{}, {}], already_closed: ["2027-12-25"], affected: [{}] } }),
    });
    open();
    await fireEvent.click(screen.getByRole("button", { name: "Choose a calendar and close its days…" }));
    expect(await within(region("Holidays from a calendar")).findByRole("status")).toHaveTextContent(
      "2 days closed, 1 already closed; 1 timed event left out. 1 appointment now falls on closed days: move them.",
    );
    expect(calls.find((c) => c.cmd === "import_holidays")?.args).toEqual({ clinicId: CLINIC_ID });
  });

  it("shows the refusal", async () => {
    fakeBackend({ import_holidays: () => refuse("invalid_input", "ics: this is not an iCalendar file") });
    open();
    await fireEvent.click(screen.getByRole("button", { name: "Choose a calendar and close its days…" }));
    expect(await within(region("Holidays from a calendar")).findByRole("alert")).toHaveTextContent("not an iCalendar file");
  });
});
