// The Admin sections for appointment types, availability blocks and closures, and demo data:
// what each sends to Rust, what it shows, and that a refusal keeps the form as typed.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import Admin from "./Admin.svelte";
import { app, resetSession } from "../lib/session.svelte";
import { route } from "../lib/router.svelte";
import { listenProgress, stopListening, tasks } from "../lib/progress.svelte";
import { addDays, localDate } from "../lib/time";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { appointment, clinic, CLINIC_ID, drLee, sessionFor } from "../test/fixtures";
import type { AppointmentType, AvailabilityBlock, CredentialType, Staff } from "../lib/types";

const type = (label: string, value: string) => fireEvent.input(screen.getByLabelText(label), { target: { value } });

function openTab(tab: string, role: "admin" | "manager" = "admin") {
  app.session = sessionFor(role);
  route.rest = [tab];
  window.location.hash = `#/admin/${tab}`;
}

beforeEach(() => {
  resetSession();
  shimMissingCommands();
  app.clinicId = CLINIC_ID;
  app.clinics = [clinic];
  app.phase = "app";
});
afterEach(() => {
  route.rest = [];
  for (const k of Object.keys(tasks)) delete tasks[k];
});

describe("Admin sections", () => {
  it("offers admins appointment types, availability and demo data", () => {
    fakeBackend({ list_rooms: () => [], list_users: () => [], list_roles: () => [] });
    openTab("", "admin");
    render(Admin);
    const links = () => within(screen.getByRole("navigation", { name: "Admin sections" })).getAllByRole("link").map((l) => l.textContent);
    expect(links()).toEqual(expect.arrayContaining(["Appointment types", "Availability and closures", "Demo data"]));
  });
});

describe("Appointment types", () => {
  const initial: AppointmentType = {
    id: "t1", clinic_id: CLINIC_ID, name: "Initial assessment", code: "INIT", duration_minutes: 60, color: null,
    required_credential_type_ids: ["ct1"], is_active: true, created_at: 0, updated_at: 0, deleted_at: null,
  };
  const cpr = { id: "ct1", name: "CPR", code: "CPR", is_active: true } as CredentialType;

  it("lists the clinic's types and creates one with a required credential", async () => {
    const list: AppointmentType[] = [initial];
    const calls = fakeBackend({
      list_appointment_types: () => list,
      list_credential_types: () => [cpr],
      create_appointment_type: () => {
        const t = { ...initial, id: "t2", name: "Follow-up", code: "FU", duration_minutes: 30, required_credential_type_ids: ["ct1"] };
        list.push(t);
        return t;
      },
    });
    openTab("appointment-types");
    render(Admin);
    const table = await screen.findByRole("table", { name: "Appointment types" });
    expect(await within(table).findByText("Initial assessment")).toBeInTheDocument();
    expect(within(table).getByText("CPR")).toBeInTheDocument();
    await type("Type name", "Follow-up");
    await type("Type code", "FU");
    await type("Duration (minutes)", "30");
    await fireEvent.click(screen.getByRole("checkbox", { name: "CPR" }));
    await fireEvent.click(screen.getByRole("button", { name: "Create appointment type" }));
    expect(await screen.findByRole("status")).toHaveTextContent("Appointment type Follow-up created.");
    expect(calls.find((c) => c.cmd === "create_appointment_type")?.args).toEqual({
      clinicId: CLINIC_ID,
      fields: { name: "Follow-up", code: "FU", duration_minutes: "30", required_credential_type_ids: "ct1" },
    });
    expect(await within(table).findByText("Follow-up")).toBeInTheDocument();
    expect(calls.filter((c) => c.cmd === "list_appointment_types")).toHaveLength(2);
  });

  it("shows the refusal in the API's words and keeps the form", async () => {
    fakeBackend({
      list_appointment_types: () => [initial],
      list_credential_types: () => [],
      create_appointment_type: () => refuse("conflict", "code: INIT is already used at this clinic"),
    });
    openTab("appointment-types");
    render(Admin);
    await screen.findByText("Initial assessment");
    await type("Type name", "Another initial");
    await type("Type code", "INIT");
    await fireEvent.click(screen.getByRole("button", { name: "Create appointment type" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("code: INIT is already used at this clinic");
    expect(screen.getByLabelText("Type name")).toHaveValue("Another initial");
    expect(screen.getByLabelText("Type code")).toHaveValue("INIT");
  });
});

describe("Availability and closures", () => {
  const start = Date.UTC(2026, 2, 10, 18, 0);
  const block: AvailabilityBlock = {
    id: "b1", clinic_id: CLINIC_ID, provider_id: null, start_at: start, end_at: start + 3_600_000, is_available: false,
    block_reason: "Staff meeting", created_by: null, created_at: 0, updated_at: 0, deleted_at: null,
  };
  const today = () => localDate(Date.now(), clinic.timezone);
  /** The availability section against a fake with the given staff, blocks and other commands. */
  function open(staff: Staff[], blocks: () => AvailabilityBlock[], more: Parameters<typeof fakeBackend>[0]) {
    const calls = fakeBackend({ list_staff: () => staff, list_availability_blocks: blocks, ...more });
    openTab("availability");
    render(Admin);
    return calls;
  }

  it("lists the blocks of the coming month and deletes one", async () => {
    let blocks = [block];
    const calls = open([drLee], () => blocks, { delete_availability_block: () => ((blocks = []), null) });
    const table = await screen.findByRole("table", { name: "Availability blocks" });
    const del = await within(table).findByRole("button", { name: /^Delete Staff meeting from / });
    expect(calls.find((c) => c.cmd === "list_availability_blocks")?.args).toEqual({
      clinicId: CLINIC_ID, from: today(), to: addDays(today(), 30), providerId: null,
    });
    await fireEvent.click(del);
    expect(await within(table).findByText("No blocks in this range.")).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === "delete_availability_block")?.args).toEqual({ blockId: "b1" });
  });

  it("creates a provider's closed block with its reason", async () => {
    const calls = open([drLee], () => [], { create_availability_block: () => ({ ...block, provider_id: "s1" }) });
    await within(screen.getByLabelText("Block applies to")).findByRole("option", { name: "Robin Lee" });
    await type("Block starts", "2026-03-10 12:00");
    await type("Block ends", "2026-03-10 13:00");
    await fireEvent.change(screen.getByLabelText("Block applies to"), { target: { value: "s1" } });
    await type("Block reason", "Staff meeting");
    await fireEvent.click(screen.getByRole("button", { name: "Create block" }));
    await waitFor(() => expect(calls.some((c) => c.cmd === "create_availability_block")).toBe(true));
    expect(calls.find((c) => c.cmd === "create_availability_block")?.args).toEqual({
      clinicId: CLINIC_ID,
      fields: { start: "2026-03-10 12:00", end: "2026-03-10 13:00", provider_id: "s1", is_available: "no", reason: "Staff meeting" },
    });
    expect(await screen.findByRole("status")).toHaveTextContent(/^Block from .* created\.$/);
    await waitFor(() => expect(calls.filter((c) => c.cmd === "list_availability_blocks")).toHaveLength(2));
  });

  it("keeps the block form and shows the refusal beside it", async () => {
    open([], () => [], { create_availability_block: () => refuse("invalid_input", "reason: a block that closes time needs a reason (e.g. Holiday)") });
    await type("Block starts", "2026-03-10 12:00");
    await type("Block ends", "2026-03-10 13:00");
    await fireEvent.click(screen.getByRole("button", { name: "Create block" }));
    const form = screen.getByRole("form", { name: "New availability block" });
    expect(await within(form).findByRole("alert")).toHaveTextContent("reason: a block that closes time needs a reason (e.g. Holiday)");
    expect(screen.getByLabelText("Block starts")).toHaveValue("2026-03-10 12:00");
    expect(screen.getByLabelText("Block ends")).toHaveValue("2026-03-10 13:00");
  });

  it("closes weekends and holidays and lists the appointments on closed days", async () => {
    const affected = appointment({ id: "a9", start_at: Date.UTC(2027, 11, 25, 16, 0) });
    const calls = open([drLee], () => [], {
      generate_closures: () => ({ created: [block, { ...block, id: "b2" }], already_closed: ["2027-12-26"], affected: [affected] }),
    });
    await type("Close from", "2027-01-01");
    await type("Close until", "2027-12-31");
    await type("Holidays", "2027-12-25=Christmas Day");
    await fireEvent.click(screen.getByRole("button", { name: "Generate closures" }));
    expect(await screen.findByText(/Closed 2 days; 1 already closed\./)).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === "generate_closures")?.args).toEqual({
      clinicId: CLINIC_ID,
      fields: { from: "2027-01-01", to: "2027-12-31", weekends: "yes", weekend_days: "sat,sun", holidays: "2027-12-25=Christmas Day" },
    });
    const table = screen.getByRole("table", { name: "Appointments on closed days" });
    expect(within(table).getByText("Robin Lee")).toBeInTheDocument();
    expect(within(table).getByText("Confirmed")).toBeInTheDocument();
  });

  it("sends weekends=no without weekend days and shows the refusal", async () => {
    const calls = open([], () => [], {
      generate_closures: () => refuse("invalid_input", "holidays: nothing to close: give holidays or leave weekends on"),
    });
    await type("Close from", "2027-01-01");
    await type("Close until", "2027-03-31");
    await fireEvent.click(screen.getByRole("checkbox", { name: "Close weekends" }));
    await fireEvent.click(screen.getByRole("button", { name: "Generate closures" }));
    const form = screen.getByRole("form", { name: "Close weekends and holidays" });
    expect(await within(form).findByRole("alert")).toHaveTextContent("holidays: nothing to close: give holidays or leave weekends on");
    expect(calls.find((c) => c.cmd === "generate_closures")?.args).toEqual({
      clinicId: CLINIC_ID, fields: { from: "2027-01-01", to: "2027-03-31", weekends: "no" },
    });
    expect(screen.getByLabelText("Close until")).toHaveValue("2027-03-31");
    expect(screen.getByRole("checkbox", { name: "Close weekends" })).not.toBeChecked();
  });
});

describe("Backup and restore", () => {
  it("asks the app to back up (it opens the dialog and owns the path), shows progress and the file", async () => {
    let finish: (v: unknown) => void = () => {};
    const calls = fakeBackend({ backup: () => new Promise((r) => (finish = r)) }, { events: true });
    stopListening();
    await listenProgress();
    try {
      openTab("backup");
      render(Admin);
      await fireEvent.click(screen.getByRole("button", { name: "Back up now…" }));
      await waitFor(() => expect(calls.some((c) => c.cmd === "backup")).toBe(true));
      const args = calls.find((c) => c.cmd === "backup")!.args;
      expect(args).toEqual({ taskId: expect.stringMatching(/^backup-/) });
      await emit("progress", { task: args.taskId, stage: "backup", done: 3, total: 12 });
      expect(await screen.findByRole("progressbar")).toHaveAttribute("value", "3");
      // The reply may come before the last progress report: the size waits for it.
      finish("/media/usb/clinicdesk-backup.db");
      await emit("progress", { task: args.taskId, stage: "backup", done: 256, total: 256 });
      await screen.findByText("Backup written to /media/usb/clinicdesk-backup.db (2.0 MB).");
    } finally {
      stopListening();
    }
  });

  it("says nothing when the dialog is cancelled and shows every failure", async () => {
    let answer: () => unknown = () => null;
    fakeBackend({ backup: () => answer(), restore: () => answer() });
    openTab("backup");
    render(Admin);
    await fireEvent.click(screen.getByRole("button", { name: "Back up now…" }));
    await fireEvent.click(screen.getByRole("button", { name: "Restore from a backup…" }));
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(screen.queryByText(/Backup written|Restored/)).not.toBeInTheDocument();
    answer = () => refuse("storage_error", "backup or restore failed: the backup is damaged");
    await fireEvent.click(screen.getByRole("button", { name: "Restore from a backup…" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("the backup is damaged");
  });
});

describe("Demo data", () => {
  const report = {
    size: "small", rows_total: 612, rows_by_table: [["clinics", 1], ["patients", 500], ["appointments", 111]],
    seconds: 2.5, rows_per_second: 244.8, admin_username: "admin",
  };

  async function start(size: "Small" | "Large", password: string) {
    openTab("demo");
    render(Admin);
    await fireEvent.click(screen.getByRole("radio", { name: new RegExp(`^${size}:`) }));
    await type("Password for the demo users", password);
    await fireEvent.click(screen.getByRole("button", { name: "Generate demo data" }));
  }

  it("shows the task's progress events, cancels through cancel_task and shows the outcome", async () => {
    let fail: (e: unknown) => void = () => {};
    const calls = fakeBackend(
      { generate_demo: () => new Promise((_, reject) => (fail = reject)), cancel_task: () => true },
      { events: true },
    );
    stopListening();
    await listenProgress();
    try {
      await start("Large", "demo-pass");
      await waitFor(() => expect(calls.some((c) => c.cmd === "generate_demo")).toBe(true));
      const args = calls.find((c) => c.cmd === "generate_demo")!.args;
      expect(args).toEqual({ taskId: expect.stringMatching(/^demo-/), size: "large", password: "demo-pass" });
      expect(screen.getByRole("button", { name: "Generate demo data" })).toBeDisabled();
      await emit("progress", { task: args.taskId, stage: "patients", done: 50, total: 200 });
      const bar = await screen.findByRole("progressbar", { name: "Demo data: patients 50 of 200" });
      expect(bar).toHaveAttribute("value", "50");
      await fireEvent.click(screen.getByRole("button", { name: "Cancel demo generation" }));
      await waitFor(() => expect(calls.find((c) => c.cmd === "cancel_task")?.args).toEqual({ taskId: args.taskId }));
      fail({ code: "cancelled", message: "demo generation was cancelled" });
      expect(await screen.findByRole("alert")).toHaveTextContent("demo generation was cancelled");
      expect(screen.queryByRole("progressbar")).not.toBeInTheDocument();
      expect(screen.getByLabelText("Password for the demo users")).toHaveValue("demo-pass");
      expect(screen.getByRole("radio", { name: /^Large:/ })).toBeChecked();
    } finally {
      stopListening();
    }
  });

  it("reports what was written", async () => {
    const calls = fakeBackend({ generate_demo: () => report });
    await start("Small", "demo-pass");
    expect(await screen.findByRole("status")).toHaveTextContent("Sign in as admin");
    const table = screen.getByRole("table", { name: "Demo rows by table" });
    expect(within(table).getByText("patients")).toBeInTheDocument();
    expect(within(table).getByText("500")).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === "generate_demo")?.args).toMatchObject({ size: "small", password: "demo-pass" });
  });

  it("shows the refusal of a database that is not empty and keeps the password", async () => {
    fakeBackend({ generate_demo: () => refuse("invalid_input", "demo data can only be generated into a new, empty database") });
    await start("Small", "demo-pass");
    expect(await screen.findByRole("alert")).toHaveTextContent("demo data can only be generated into a new, empty database");
    expect(screen.getByLabelText("Password for the demo users")).toHaveValue("demo-pass");
    expect(screen.getByRole("button", { name: "Generate demo data" })).toBeEnabled();
  });
});

describe("Patient import", () => {
  const CSV_TEXT = "legacy_id,first_name,last_name\nL-1,Ann,Lee\nL-2,Bob,Bell\nL-3,Cy,Cole\n";
  const done = { rows: 3, imported: 2, skipped: 1, invalid: 0, errors: [] };

  async function pick(role: "admin" | "manager" = "admin") {
    openTab("import", role);
    render(Admin);
    const input = screen.getByLabelText("CSV file");
    await fireEvent.change(input, { target: { files: [new File([CSV_TEXT], "patients.csv", { type: "text/csv" })] } });
    await fireEvent.click(screen.getByRole("button", { name: "Import patients" }));
  }

  it("is offered to managers, who may import", () => {
    fakeBackend({});
    openTab("", "manager");
    render(Admin);
    const links = within(screen.getByRole("navigation", { name: "Admin sections" })).getAllByRole("link").map((l) => l.textContent);
    expect(links).toContain("Patient import");
  });

  it("sends the file's text, shows the task's progress, cancels through cancel_task", async () => {
    let fail: (e: unknown) => void = () => {};
    const calls = fakeBackend(
      { import_patients: () => new Promise((_, reject) => (fail = reject)), cancel_task: () => true },
      { events: true },
    );
    stopListening();
    await listenProgress();
    try {
      await pick("manager");
      await waitFor(() => expect(calls.some((c) => c.cmd === "import_patients")).toBe(true));
      const args = calls.find((c) => c.cmd === "import_patients")!.args;
      expect(args).toEqual({ taskId: expect.stringMatching(/^import-/), clinicId: CLINIC_ID, csv: CSV_TEXT });
      expect(screen.getByRole("button", { name: "Import patients" })).toBeDisabled();
      await emit("progress", { task: args.taskId, stage: "importing", done: 250, total: 600 });
      const bar = await screen.findByRole("progressbar", { name: "Patient import: importing 250 of 600" });
      expect(bar).toHaveAttribute("value", "250");
      await fireEvent.click(screen.getByRole("button", { name: "Cancel patient import" }));
      await waitFor(() => expect(calls.find((c) => c.cmd === "cancel_task")?.args).toEqual({ taskId: args.taskId }));
      fail({ code: "cancelled", message: "the patient import was cancelled" });
      expect(await screen.findByRole("alert")).toHaveTextContent("the patient import was cancelled");
      expect(screen.queryByRole("progressbar")).not.toBeInTheDocument();
      expect(screen.getByRole("button", { name: "Import patients" })).toBeEnabled();
    } finally {
      stopListening();
    }
  });

  it("reports what was imported and skipped", async () => {
    fakeBackend({ import_patients: () => done });
    await pick();
    expect(await screen.findByRole("status")).toHaveTextContent("Imported 2 of 3 patients; 1 skipped (their legacy_id was imported before).");
    expect(screen.queryByRole("table", { name: "Rows with errors" })).not.toBeInTheDocument();
  });

  it("lists the bad rows by line and says nothing was imported", async () => {
    fakeBackend({
      import_patients: () => ({
        rows: 150, imported: 0, skipped: 0, invalid: 120,
        errors: [
          { line: 3, message: "date_of_birth: '1980-02-30' is not a valid date" },
          { line: 9, message: "another patient already has MRN CGY-1" },
        ],
      }),
    });
    await pick();
    expect(await screen.findByRole("alert")).toHaveTextContent("120 of 150 rows have errors, so nothing was imported. The first 2 are listed.");
    const rows = within(screen.getByRole("table", { name: "Rows with errors" })).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.textContent)).toEqual(["3date_of_birth: '1980-02-30' is not a valid date", "9another patient already has MRN CGY-1"]);
    expect(screen.queryByRole("status")).not.toBeInTheDocument();
  });

  it("shows a refusal of the file as Rust words it", async () => {
    fakeBackend({ import_patients: () => refuse("invalid_input", "csv: the first line must name the columns; missing: legacy_id") });
    await pick();
    expect(await screen.findByRole("alert")).toHaveTextContent("missing: legacy_id");
  });
});
