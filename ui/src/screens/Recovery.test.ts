// Issue 11 point 1 in the UI: the recovery key is shown once after setup and must be confirmed
// as written down; a missing database is its own screen (retry, restore with the recovery key,
// start a new clinic), never a silent new database.
import { beforeEach, describe, expect, it } from "vitest";
import { render, screen, fireEvent } from "@testing-library/svelte";
import App from "../App.svelte";
import { resetSession } from "../lib/session.svelte";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { clinic, signedOut, status } from "../test/fixtures";
import { submitSetup } from "../test/screen";

const info = (initialised: boolean) => ({ version: "0.1.0", database: "/data/clinicdesk.db", initialised, device_id: "d" });
const today = { clinic_id: clinic.id, date: "2026-03-09", entries: [], counts: { booked: 0, checked_in: 0, in_progress: 0, completed: 0, no_show: 0 } };
const KEY = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01";
const MISSING = "the database at /data/clinicdesk.db is missing: locate it (put the file back or reconnect its drive), restore a backup with the recovery key, or start a new clinic";

describe("the database key's safety net", () => {
  beforeEach(() => {
    resetSession();
    shimMissingCommands();
    window.location.hash = "#/today";
  });

  it("shows the recovery key and the audit verification key once after setup; Continue waits for the confirmation", async () => {
    fakeBackend({
      app_info: () => info(false),
      first_run_setup: () => status("admin"),
      take_recovery_key: () => ({ recovery_key: KEY, audit_verification_key: "ab".repeat(32) }),
      update_user: () => ({}),
      list_clinics: () => [clinic],
      todays_appointments: () => today,
    });
    render(App);
    await screen.findByRole("heading", { name: "Set up ClinicDesk" });
    await submitSetup("Administrator");
    await screen.findByRole("heading", { name: "Your recovery key" });
    expect(screen.getByTestId("recovery-key")).toHaveTextContent(KEY);
    expect(screen.getByTestId("audit-key")).toHaveTextContent("ab".repeat(32));
    const go = screen.getByRole("button", { name: "Continue" });
    expect(go).toBeDisabled();
    await fireEvent.click(screen.getByLabelText("I have written it down or printed it"));
    expect(go).toBeEnabled();
    await fireEvent.click(go);
    await screen.findByRole("navigation", { name: "Main" });
    expect(screen.queryByTestId("recovery-key")).toBeNull();
  });

  it("a missing database: its own screen; a refused restore is shown, a good one goes to sign-in", async () => {
    let tries = 0;
    const calls = fakeBackend({
      app_info: () => refuse("database_missing", MISSING),
      restore_new_database: () =>
        tries++ === 0 ? refuse("recovery_key", "the recovery key is not valid: it has a typo") : info(true),
      session_status: () => signedOut,
    });
    render(App);
    await screen.findByRole("heading", { name: "The clinic database is missing" });
    expect(screen.getByText(MISSING)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Start a new clinic" })).toBeDisabled();
    await fireEvent.input(screen.getByLabelText("Recovery key"), { target: { value: "abcd-typo" } });
    await fireEvent.click(screen.getByRole("button", { name: "Choose the backup and restore…" }));
    expect(await screen.findByText("the recovery key is not valid: it has a typo")).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === "restore_new_database")?.args).toEqual({ recoveryKey: "abcd-typo" });
    await fireEvent.input(screen.getByLabelText("Recovery key"), { target: { value: KEY } });
    await fireEvent.click(screen.getByRole("button", { name: "Choose the backup and restore…" }));
    await screen.findByLabelText("Username");
    expect(calls.some((c) => c.cmd === "start_new_database")).toBe(false);
  });

  it("a missing database: a new clinic only when asked for, then setup", async () => {
    const calls = fakeBackend({
      app_info: () => refuse("database_missing", MISSING),
      start_new_database: () => info(false),
    });
    render(App);
    await screen.findByRole("heading", { name: "The clinic database is missing" });
    await fireEvent.click(screen.getByLabelText("The old database is gone; start a new clinic"));
    await fireEvent.click(screen.getByRole("button", { name: "Start a new clinic" }));
    await screen.findByRole("heading", { name: "Set up ClinicDesk" });
    expect(calls.filter((c) => c.cmd === "start_new_database")).toHaveLength(1);
  });
});
