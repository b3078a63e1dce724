// Admin → Sync (issue 13 point 7): enrolling this PC (test connection, enrol, the seed warning,
// errors shown beside the form), the enrolled view (status, clock warning, Sync now), the
// server's devices with a confirmed revocation, who is offered the tab, and axe-core over each
// state (zero WCAG 2.1 A/AA violations).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import Admin from "./Admin.svelte";
import { app, resetSession } from "../lib/session.svelte";
import { route } from "../lib/router.svelte";
import { sync } from "../lib/sync.svelte";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { clinic, CLINIC_ID, sessionFor } from "../test/fixtures";
import { expectNoAxeViolations } from "../test/axe";
import type { Session } from "../bindings";

const URL = "postgres://cd_owner@sync.example.org:5432/clinicdesk";
const notEnrolled = { enrolled: false, server: null, online: false, pending_changes: 0, last_ok_at: null, last_error: null, clock_skew_ms: null, clock_warning: null };
const enrolled = {
  enrolled: true,
  server: "postgres://cd_dev_1@sync.example.org:5432/clinicdesk?sslmode=verify-full",
  online: true,
  pending_changes: 3,
  last_ok_at: Date.UTC(2027, 2, 1, 16, 0),
  last_error: null,
  clock_skew_ms: 40,
  clock_warning: null,
};
const ME = "0190a000-0000-7000-8000-0000000000d1";
const OTHER = "0190a000-0000-7000-8000-0000000000d2";
const device = (id: string, over: Record<string, unknown> = {}) => ({
  device_id: id,
  role: `cd_dev_${id.slice(-2)}`,
  clinics: [CLINIC_ID],
  enrolled_at: Date.UTC(2027, 1, 1, 16, 0),
  last_seen_at: Date.UTC(2027, 2, 1, 16, 0),
  revoked_at: null,
  this_pc: id === ME,
  ...over,
});

function open(session: Session = sessionFor("admin")) {
  app.session = session;
  route.rest = ["sync"];
  window.location.hash = "#/admin/sync";
  render(Admin);
}

const region = (name: string) => screen.getByRole("region", { name });

beforeEach(() => {
  resetSession();
  document.documentElement.lang = "en";
  document.title = "ClinicDesk";
  shimMissingCommands();
  app.clinicId = CLINIC_ID;
  app.clinics = [clinic];
  app.phase = "app";
  sync.status = null;
});
afterEach(() => {
  route.rest = [];
  sync.status = null;
});

describe("Sync: offered to administrators only", () => {
  it("admins get the tab", async () => {
    fakeBackend({ sync_status: () => notEnrolled });
    open();
    const links = () => within(screen.getByRole("navigation", { name: "Admin sections" })).getAllByRole("link").map((l) => l.textContent);
    expect(links()).toContain("Sync");
    await screen.findByRole("form", { name: "Enrol this PC" });
  });

  it("a manager is not offered it, even at its address", async () => {
    fakeBackend({ sync_status: () => notEnrolled, list_users: () => [], list_roles: () => [], list_rooms: () => [] });
    open(sessionFor("manager"));
    const links = within(screen.getByRole("navigation", { name: "Admin sections" })).getAllByRole("link").map((l) => l.textContent);
    expect(links).not.toContain("Sync");
    expect(screen.queryByRole("form", { name: "Enrol this PC" })).not.toBeInTheDocument();
  });
});

describe("Sync: enrolling this PC", () => {
  it("tests the connection and shows the server", async () => {
    const calls = fakeBackend({
      sync_status: () => notEnrolled,
      sync_test_connection: () => ({ server_id: "srv-1", schema_version: 6, postgres_version: "17.2", clock_skew_ms: 20, clock_warning: null, devices: 0 }),
    });
    open();
    const form = await screen.findByRole("form", { name: "Enrol this PC" });
    await expectNoAxeViolations(document, "Admin: sync, not enrolled");
    await fireEvent.click(within(form).getByRole("button", { name: "Test connection" }));
    expect(within(region("Enrol this PC")).getByRole("alert")).toHaveTextContent("Give the server address");
    expect(calls.some((c) => c.cmd === "sync_test_connection")).toBe(false);
    await fireEvent.input(screen.getByLabelText("Server address"), { target: { value: URL } });
    await fireEvent.input(screen.getByLabelText("Server owner's password"), { target: { value: "owner pw" } });
    await fireEvent.click(within(form).getByRole("button", { name: "Test connection" }));
    expect(await within(region("Enrol this PC")).findByRole("status")).toHaveTextContent("Connected: server srv-1, schema version 6, PostgreSQL 17.2, 0 device(s) enrolled.");
    expect(calls.find((c) => c.cmd === "sync_test_connection")?.args).toEqual({ serverUrl: URL, ownerPassword: "owner pw" });
    await expectNoAxeViolations(document, "Admin: sync, connection tested");
  });

  it("shows a wrong password where the user is looking, and enrols nothing", async () => {
    const calls = fakeBackend({
      sync_status: () => notEnrolled,
      sync_test_connection: () => refuse("sync_owner_password", "the server refused the owner's password (cd_owner: password authentication failed); nothing was changed"),
      sync_enrol: () => refuse("sync_owner_password", "the server refused the owner's password (cd_owner: password authentication failed); nothing was changed"),
    });
    open();
    await screen.findByRole("form", { name: "Enrol this PC" });
    await fireEvent.input(screen.getByLabelText("Server address"), { target: { value: URL } });
    await fireEvent.input(screen.getByLabelText("Server owner's password"), { target: { value: "wrong" } });
    await fireEvent.click(screen.getByRole("button", { name: "Test connection" }));
    expect(await within(region("Enrol this PC")).findByRole("alert")).toHaveTextContent("refused the owner's password");
    await fireEvent.click(screen.getByRole("button", { name: "Enrol this PC" }));
    await waitFor(() => expect(calls.some((c) => c.cmd === "sync_enrol")).toBe(true));
    expect(await within(region("Enrol this PC")).findByRole("alert")).toHaveTextContent("nothing was changed");
    // The password typed is not kept in the form once used.
    expect(screen.getByLabelText("Server owner's password")).toHaveValue("");
    expect(screen.getByRole("form", { name: "Enrol this PC" })).toBeInTheDocument();
    await expectNoAxeViolations(document, "Admin: sync, refused");
  });

  it("warns about seeding, enrols with the seed and shows the enrolled view", async () => {
    let status: Record<string, unknown> = notEnrolled;
    const calls = fakeBackend({
      sync_status: () => status,
      sync_enrol: () => {
        status = enrolled;
        return { device_id: ME, server: enrolled.server, role: "cd_dev_1", clinics: [CLINIC_ID], seeded_rows: 1234, password_place: "the OS keyring entry clinicdesk / sync:db" };
      },
    });
    open();
    await screen.findByRole("form", { name: "Enrol this PC" });
    expect(screen.queryByText(/Seeding copies every record/)).not.toBeInTheDocument();
    await fireEvent.click(screen.getByLabelText("Seed the server from this PC (first PC only)"));
    expect(screen.getByText(/Seeding copies every record/)).toBeInTheDocument();
    await expectNoAxeViolations(document, "Admin: sync, seed warning");
    await fireEvent.input(screen.getByLabelText("Server address"), { target: { value: URL } });
    await fireEvent.input(screen.getByLabelText("Server owner's password"), { target: { value: "owner pw" } });
    await fireEvent.click(screen.getByRole("button", { name: "Enrol this PC" }));
    expect(await screen.findByText(/This PC is enrolled as device .*; 1234 rows copied to the server/)).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === "sync_enrol")?.args).toEqual({ serverUrl: URL, ownerPassword: "owner pw", seed: true });
    expect(region("Sync status")).toBeInTheDocument();
  });
});

describe("Sync: an enrolled PC", () => {
  it("shows the status, the clock warning and runs a round now", async () => {
    const calls = fakeBackend({
      sync_status: () => ({ ...enrolled, clock_skew_ms: 600_000, clock_warning: "This PC's clock is about 10 min behind the server's." }),
      sync_now: () => ({ pushed_changes: 3, pulled_rows: 7, server_seq: 90 }),
    });
    open();
    app.info = { version: "0.1.0", database: "/data/clinicdesk.db", initialised: true, device_id: ME };
    const part = await screen.findByRole("region", { name: "Sync status" });
    expect(within(part).getByText(enrolled.server)).toBeInTheDocument();
    expect(within(part).getByText(ME)).toBeInTheDocument();
    expect(within(part).getByText("3")).toBeInTheDocument();
    expect(within(part).getByRole("alert")).toHaveTextContent("10 min behind");
    expect(screen.queryByRole("form", { name: "Enrol this PC" })).not.toBeInTheDocument();
    await expectNoAxeViolations(document, "Admin: sync, enrolled");
    await fireEvent.click(within(part).getByRole("button", { name: "Sync now" }));
    expect(await within(part).findByText("Sent 3 change(s), received 7 row(s).")).toBeInTheDocument();
    expect(calls.filter((c) => c.cmd === "sync_now")).toHaveLength(1);
  });

  it("shows why sync is stopped and a failed round", async () => {
    fakeBackend({
      sync_status: () => ({ ...enrolled, online: false, last_error: { code: "sync_revoked", message: "this PC's sync access was revoked", at: Date.UTC(2027, 2, 1, 17, 0) } }),
      sync_now: () => refuse("sync_revoked", "this PC's sync access was revoked or its password is wrong"),
    });
    open();
    const part = await screen.findByRole("region", { name: "Sync status" });
    expect(within(part).getByText(/this PC's sync access was revoked \(/)).toBeInTheDocument();
    await fireEvent.click(within(part).getByRole("button", { name: "Sync now" }));
    expect(await within(part).findByRole("alert")).toHaveTextContent("revoked or its password is wrong");
  });

  it("lists the devices with the owner's password and revokes one after confirmation", async () => {
    let revoked: number | null = null;
    const calls = fakeBackend({
      sync_status: () => enrolled,
      sync_devices: () => [device(ME), device(OTHER, { revoked_at: revoked })],
      sync_revoke_device: () => {
        revoked = Date.UTC(2027, 2, 2, 9, 0);
        return { device_id: OTHER, role: "cd_dev_d2", terminated: 1 };
      },
    });
    open();
    const part = await screen.findByRole("region", { name: "Devices" });
    await fireEvent.click(within(part).getByRole("button", { name: "Show devices" }));
    expect(within(part).getByRole("alert")).toHaveTextContent("owner's password");
    await fireEvent.input(within(part).getByLabelText("Server address (as its owner)"), { target: { value: URL } });
    await fireEvent.input(within(part).getByLabelText("Server owner's password"), { target: { value: "owner pw" } });
    await fireEvent.click(within(part).getByRole("button", { name: "Show devices" }));
    const table = await within(part).findByRole("table", { name: "Devices" });
    expect(within(table).getAllByRole("row")).toHaveLength(3);
    expect(within(table).getByText(/\(this PC\)/)).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === "sync_devices")?.args).toEqual({ serverUrl: URL, ownerPassword: "owner pw" });
    await expectNoAxeViolations(document, "Admin: sync, devices");

    // Revoke asks first; keeping the device sends nothing.
    await fireEvent.click(within(table).getByRole("button", { name: `Revoke device …${OTHER.slice(-12)}` }));
    const confirm = within(part).getByRole("form", { name: "Revoke the device" });
    expect(confirm).toHaveTextContent(`Revoke device ${OTHER}?`);
    await expectNoAxeViolations(document, "Admin: sync, revoke confirmation");
    await fireEvent.click(within(confirm).getByRole("button", { name: "Keep the device" }));
    expect(within(part).queryByRole("form", { name: "Revoke the device" })).not.toBeInTheDocument();
    expect(calls.some((c) => c.cmd === "sync_revoke_device")).toBe(false);

    await fireEvent.click(within(table).getByRole("button", { name: `Revoke device …${OTHER.slice(-12)}` }));
    await fireEvent.click(within(part).getByRole("button", { name: "Confirm revocation" }));
    expect(await within(part).findByRole("status")).toHaveTextContent(`Device ${OTHER} is revoked (1 open connection(s) closed).`);
    expect(calls.find((c) => c.cmd === "sync_revoke_device")?.args).toEqual({ serverUrl: URL, ownerPassword: "owner pw", deviceId: OTHER });
    const after = within(part).getByRole("table", { name: "Devices" });
    expect(within(after).getByText(/^revoked /)).toBeInTheDocument();
    expect(within(after).getAllByRole("button", { name: /^Revoke device/ })).toHaveLength(1);
  });

  it("shows a refused revocation beside the devices", async () => {
    fakeBackend({
      sync_status: () => enrolled,
      sync_devices: () => [device(ME), device(OTHER)],
      sync_revoke_device: () => refuse("permission_denied", "you may not administer sync"),
    });
    open();
    const part = await screen.findByRole("region", { name: "Devices" });
    await fireEvent.input(within(part).getByLabelText("Server address (as its owner)"), { target: { value: URL } });
    await fireEvent.input(within(part).getByLabelText("Server owner's password"), { target: { value: "owner pw" } });
    await fireEvent.click(within(part).getByRole("button", { name: "Show devices" }));
    const table = await within(part).findByRole("table", { name: "Devices" });
    await fireEvent.click(within(table).getByRole("button", { name: `Revoke device …${OTHER.slice(-12)}` }));
    await fireEvent.click(within(part).getByRole("button", { name: "Confirm revocation" }));
    expect(await within(part).findByRole("alert")).toHaveTextContent("you may not administer sync");
  });
});
