// One test (or more) per screen: each renders against a fake Rust side and checks what it
// shows and what it sends.
import { beforeEach, describe, expect, it } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import { app, resetSession } from "../lib/session.svelte";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { clinic, CLINIC_ID, drLee, scheduleEntry, sessionFor } from "../test/fixtures";
import Today from "./Today.svelte";
import Waitlist from "./Waitlist.svelte";
import Reminders from "./Reminders.svelte";
import Credentials from "./Credentials.svelte";
import Roster from "./Roster.svelte";
import Cases from "./Cases.svelte";
import Kpis from "./Kpis.svelte";
import Capacity from "./Capacity.svelte";
import Admin from "./Admin.svelte";
import Lock from "./Lock.svelte";

beforeEach(() => {
  resetSession();
  shimMissingCommands();
  app.session = sessionFor("admin");
  app.clinicId = CLINIC_ID;
  app.clinics = [clinic];
  app.phase = "app";
  window.location.hash = "#/";
});

describe("Today", () => {
  it("lists today's appointments with counts and waiting time", async () => {
    fakeBackend({
      todays_appointments: () => ({
        clinic_id: CLINIC_ID, date: "2026-03-09",
        entries: [{ ...scheduleEntry({ status: "checked_in" }), local_time: "09:00", waiting_minutes: 12 }],
        counts: { booked: 3, checked_in: 1, in_progress: 0, completed: 1, no_show: 1 },
      }),
    });
    render(Today);
    const table = await screen.findByRole("table", { name: "Today's appointments" });
    expect(within(table).getByText("12 min")).toBeInTheDocument();
    expect(within(table).getByText("Checked in")).toBeInTheDocument();
    expect(screen.getByRole("list", { name: "Today's counts" })).toHaveTextContent("Booked 3");
  });
});

describe("Waitlist", () => {
  it("shows a live offer with its countdown and accepts it", async () => {
    const now = Date.now();
    const calls = fakeBackend({
      list_waitlist: () => [{
        entry: { id: "w1", clinic_id: CLINIC_ID, patient_id: "p1", provider_ids: [], duration_minutes: 30, earliest_date: "2026-03-09", latest_date: "2026-03-20", preferred_days: [], preferred_time_start: null, preferred_time_end: null, priority: 1, status: "offered", notes: null, created_at: 0 },
        patient_name: "Ann Smith",
        offer: { id: "o1", waitlist_id: "w1", provider_id: "s1", room_id: null, start_at: now + 86_400_000, end_at: now + 86_400_000 + 1_800_000, expires_at: now + 10 * 60_000 + 30_000, outcome: "pending" },
      }],
      accept_offer: () => refuse("conflict", "the offer has lapsed"),
    });
    render(Waitlist);
    const table = await screen.findByRole("table", { name: "Waitlist entries" });
    expect(await within(table).findByRole("timer", { name: /Offer expires in 10:(29|30)/ })).toBeInTheDocument();
    await fireEvent.click(within(table).getByRole("button", { name: "Accept offer for Ann Smith" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("the offer has lapsed");
    expect(calls.find((c) => c.cmd === "accept_offer")?.args).toEqual({ offerId: "o1" });
  });
});

describe("Reminders", () => {
  it("exports the queue to the file the user picks in the app's dialog (the page names no path)", async () => {
    const calls = fakeBackend({ pending_reminders: () => [], export_pending_reminders_csv: () => "/tmp/r.csv" });
    render(Reminders);
    await screen.findByRole("table", { name: "Pending reminders" });
    await fireEvent.click(screen.getByRole("button", { name: "Export CSV…" }));
    await screen.findByText(/Exported 0 reminders to \/tmp\/r.csv/);
    expect(calls.find((c) => c.cmd === "export_pending_reminders_csv")?.args).toEqual({ clinicId: CLINIC_ID, untilMs: null });
  });

  it("says nothing when the dialog is cancelled, and shows a refusal", async () => {
    let answer: () => unknown = () => null;
    fakeBackend({ pending_reminders: () => [], export_pending_reminders_csv: () => answer() });
    render(Reminders);
    await screen.findByRole("table", { name: "Pending reminders" });
    await fireEvent.click(screen.getByRole("button", { name: "Export CSV…" }));
    await waitFor(() => expect(screen.queryByText(/Exported/)).not.toBeInTheDocument());
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    answer = () => refuse("invalid_input", "file: /x/clinicdesk.db is this clinic's database");
    await fireEvent.click(screen.getByRole("button", { name: "Export CSV…" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("is this clinic's database");
  });
});

describe("Credentials", () => {
  it("shows the counts, the at-risk staff and acknowledges an alert", async () => {
    const calls = fakeBackend({
      credential_dashboard: () => ({
        within_days: 90, counts: { expired: 1, within_7: 2, within_30: 3, within_60: 4, within_90: 5 },
        expired: [{ credential_id: "cr1", staff_id: "s1", staff_name: "Robin Lee", clinic_id: CLINIC_ID, credential_type_id: "t", credential_type: "CPR", credential_number: "X1", expiry_date: "2026-03-01", days_left: -8, status: "expired", window_days: null }],
        expiring: [], horizon_days: 90,
        at_risk: [{ staff_id: "s1", staff_name: "Robin Lee", clinic_id: CLINIC_ID, discipline: "physio", lapses: [{ credential_type: "CPR", credential_id: "cr1", kind: "expired", from: "2026-03-02", until: null, reason: "expired" }], shifts: [{ schedule_id: "ss1", schedule_date: "2026-03-10", start_at: 0, end_at: 1, status: "scheduled", coverage_need_id: "n1", reason: "CPR expired" }], more_shifts: false, appointments: [{ appointment_id: "a1", patient_name: "Ann Smith", start_at: 0, local_start: "2026-03-10 09:00", status: "confirmed", reason: "CPR expired" }], more_appointments: true }],
      }),
      list_credential_alerts: () => [{ id: "al1", credential_id: "cr1", staff_id: "s1", threshold_days: 7, expiry_date: "2026-03-01", alert_date: "2026-02-22", message: "CPR expires in 7 days", acknowledged_at: null, staff_name: "Robin Lee", credential_type: "CPR", current: true }],
      acknowledge_credential_alert: () => ({}),
    });
    render(Credentials);
    expect(await screen.findByRole("list", { name: "Credential expiry counts" })).toHaveTextContent("Within 30 days 3");
    expect(screen.getByRole("table", { name: "Shifts at risk for Robin Lee" })).toHaveTextContent("need raised");
    expect(screen.getByText("More appointments not shown.")).toBeInTheDocument();
    await fireEvent.click(screen.getByRole("button", { name: "Acknowledge alert for Robin Lee" }));
    await waitFor(() => expect(calls.some((c) => c.cmd === "acknowledge_credential_alert" && c.args.alertId === "al1")).toBe(true));
    expect(calls.find((c) => c.cmd === "credential_dashboard")?.args.filter).toMatchObject({ clinic_id: CLINIC_ID, within_days: 90 });
  });

  it("records a renewal and shows a refusal inside the dialog", async () => {
    fakeBackend({
      credential_dashboard: () => ({ within_days: 90, counts: { expired: 0, within_7: 1, within_30: 1, within_60: 1, within_90: 1 }, expired: [], horizon_days: 90, at_risk: [],
        expiring: [{ credential_id: "cr2", staff_id: "s1", staff_name: "Robin Lee", clinic_id: CLINIC_ID, credential_type_id: "t", credential_type: "Licence", credential_number: null, expiry_date: "2026-03-12", days_left: 3, status: "active", window_days: 7 }] }),
      list_credential_alerts: () => [],
      renew_credential: () => refuse("invalid_input", "expiry_date: must be after the current expiry"),
    });
    render(Credentials);
    await fireEvent.click(await screen.findByRole("button", { name: "Record renewal for Robin Lee" }));
    const dlg = screen.getByRole("dialog", { name: /Record renewal/ });
    await fireEvent.input(within(dlg).getByLabelText("New expiry date"), { target: { value: "2026-01-01" } });
    await fireEvent.click(within(dlg).getByRole("button", { name: "Save renewal" }));
    expect(await within(dlg).findByRole("alert")).toHaveTextContent("must be after the current expiry");
    expect(within(dlg).getByLabelText("New expiry date")).toHaveValue("2026-01-01");
  });
});

describe("Roster", () => {
  it("shows the week grid and approves a swap", async () => {
    const calls = fakeBackend({
      list_roster: () => [{ schedule: { id: "ss1", clinic_id: CLINIC_ID, staff_id: "s1", shift_id: "t1", schedule_date: "2026-03-09", start_at: Date.UTC(2026, 2, 9, 14), end_at: Date.UTC(2026, 2, 9, 22), status: "scheduled", override_reason: null, notes: null }, staff_name: "Robin Lee", shift_name: "Day" }],
      list_staff: () => [drLee, { ...drLee, id: "s2", first_name: "Kim", last_name: "Wu" }],
      list_shift_templates: () => [],
      list_swaps: () => [{ id: "sw1", requester_staff_id: "s1", requester_schedule_id: "ss1", target_staff_id: "s2", target_schedule_id: null, status: "requested", reason: "dentist" }],
      list_time_off: () => [],
      list_coverage_needs: () => [],
      decide_swap: () => ({}),
    });
    render(Roster);
    expect(await screen.findByRole("table", { name: "Shift roster" })).toBeInTheDocument();
    await fireEvent.click(await screen.findByRole("button", { name: "Approve swap Robin Lee" }));
    await waitFor(() => expect(calls.find((c) => c.cmd === "decide_swap")?.args).toEqual({ swapId: "sw1", approve: true, note: null, overrideReason: null }));
    expect(calls.find((c) => c.cmd === "list_coverage_needs")?.args).toEqual({ clinicId: CLINIC_ID, status: "open" });
  });
});

describe("Cases", () => {
  it("opens a case with its appointments", async () => {
    const c = { id: "k1", case_number: "CGY-26-0001", patient_id: "p1", clinic_id: CLINIC_ID, case_type: "WCB", diagnosis_description: "Knee sprain", status: "active", priority: "high", opened_at: Date.UTC(2026, 2, 1), primary_clinician_id: null, authorization_number: null, authorization_expiry: null, chief_complaint: null, treatment_plan: null };
    fakeBackend({ list_cases: () => [c], get_case_detail: () => ({ case: c, appointments: [scheduleEntry().appointment] }) });
    render(Cases);
    await fireEvent.click(await screen.findByRole("button", { name: "CGY-26-0001" }));
    const panel = await screen.findByRole("complementary", { name: "Case CGY-26-0001" });
    const table = await within(panel).findByRole("table", { name: "Case appointments" });
    await waitFor(() => expect(table).toHaveTextContent("Confirmed"));
    expect(panel).toHaveTextContent("Knee sprain");
  });
});

describe("KPIs", () => {
  it("shows the metric per period as a table beside the chart", async () => {
    const m = (v: number | null) => ({ value: v, numerator: 1, denominator: 20 });
    fakeBackend({
      kpi_report: () => ({ clinic_id: CLINIC_ID, timezone: "America/Edmonton", period: "week", from: "2026-03-02", to: "2026-03-09", rows: [{ period_start: "2026-03-02", period_end: "2026-03-08", no_show_rate: m(0.05), cancellation_rate: m(0), provider_utilization: m(0), waitlist_fill_rate: m(null), waitlist_time_to_fill_hours: m(null), credential_compliance: m(1) }] }),
      list_goals: () => [],
    });
    render(Kpis);
    expect(await screen.findByRole("table", { name: "KPI values" })).toHaveTextContent("5.0%");
    expect(screen.getByRole("img", { name: "No-show rate chart" })).toBeInTheDocument();
  });
});

describe("Capacity", () => {
  it("takes a snapshot on demand", async () => {
    const snap = { id: "c1", snapshot_timestamp: Date.UTC(2026, 2, 9, 17), total_staff_on_duty: 4, staff_utilization_percent: 75, total_rooms: 5, rooms_in_use: 2, room_utilization_percent: 40, total_appointment_slots: 40, slots_booked: 30, slots_available: 10, waiting_patients: 6, active_patients_in_clinic: 8, average_wait_time_minutes: 12, capacity_status: "high", is_at_capacity: false, is_overcapacity: false };
    let snaps: unknown[] = [];
    const calls = fakeBackend({ list_capacity_snapshots: () => snaps, take_capacity_snapshot: () => ((snaps = [snap]), snap) });
    render(Capacity);
    await screen.findByText("No snapshot that day.");
    await fireEvent.click(screen.getByRole("button", { name: "Take snapshot now" }));
    expect(await screen.findByRole("list", { name: "Latest capacity" })).toHaveTextContent("Waiting 6");
    expect(calls.some((c) => c.cmd === "take_capacity_snapshot")).toBe(true);
  });
});

describe("Admin", () => {
  it("shows only the sections the role may use", async () => {
    app.session = sessionFor("manager");
    fakeBackend({ list_rooms: () => [] });
    render(Admin);
    const tabs = screen.getByRole("navigation", { name: "Admin sections" });
    expect(within(tabs).getAllByRole("link").map((l) => l.textContent)).toEqual(["Rooms", "Credential types", "Shift templates", "Appointment types", "Availability and closures", "Patient import", "Export and import", "Audit log"]);
  });

  it("verifies the audit chain", async () => {
    window.location.hash = "#/admin/audit";
    const { route } = await import("../lib/router.svelte");
    route.rest = ["audit"];
    fakeBackend({
      list_audit: () => [],
      verify_audit: () => ({ entries: 1234, ok: true, first_broken_seq: null, reason: null }),
      audit_anchor: () => ({ seq: 1200, at: Date.UTC(2026, 11, 8, 9), flag: null, flagged_at: null, anchored_entry_changed: false }),
    });
    render(Admin);
    await fireEvent.click(await screen.findByRole("button", { name: "Verify chain" }));
    expect(await screen.findByText("The audit chain is intact (1234 entries).")).toBeInTheDocument();
    expect(await screen.findByText(/Anchored on the sync server through entry #1200/)).toBeInTheDocument();
    expect(screen.queryByRole("alert")).toBeNull();
    route.rest = [];
  });

  it("says when the sync server flagged this PC's audit history", async () => {
    window.location.hash = "#/admin/audit";
    const { route } = await import("../lib/router.svelte");
    route.rest = ["audit"];
    fakeBackend({
      list_audit: () => [],
      verify_audit: () => ({ entries: 1234, ok: true, first_broken_seq: null, reason: null }),
      audit_anchor: () => ({ seq: 1200, at: Date.UTC(2026, 11, 8, 9), flag: "tamper_suspected", flagged_at: Date.UTC(2026, 11, 8, 10), anchored_entry_changed: true }),
    });
    render(Admin);
    await fireEvent.click(await screen.findByRole("button", { name: "Verify chain" }));
    const alerts = await screen.findAllByRole("alert");
    expect(alerts.map((a) => a.textContent).join(" ")).toMatch(/flagged this PC's audit history.*rewritten/);
    expect(alerts.map((a) => a.textContent).join(" ")).toMatch(/#1200\) is no longer what was reported/);
    route.rest = [];
  });
});

describe("Lock screen", () => {
  it("has the Locked heading and the Unlock button", () => {
    app.phase = "locked";
    render(Lock);
    expect(screen.getByRole("heading", { name: "Locked" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Unlock" })).toBeInTheDocument();
    expect(screen.getByLabelText("Password")).toBeInTheDocument();
  });
});
