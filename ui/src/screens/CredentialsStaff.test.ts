// The Credentials screen's staff section: staff (add, change), a staff member's credentials
// (add one, record an adverse action) and a credential's history.
import { beforeEach, describe, expect, it } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import { fakeBackend, refuse } from "../test/ipc";
import { argsOf, signedInAs } from "../test/screen";
import { CLINIC_ID, drLee } from "../test/fixtures";
import Credentials from "./Credentials.svelte";

const robin = { ...drLee, user_id: null, employment_type: "full_time", email: "robin@example.org", phone: null, title: "PT", discipline: "physio" };
const cpr = { id: "ct1", name: "CPR", code: "CPR", description: null, required_for_disciplines: [], is_required_for_clinical: true, renewal_period_months: 24, alert_thresholds_days: [30], is_active: true };
const licence = { ...cpr, id: "ct2", name: "Licence", code: "LIC" };
const credential = { id: "cr1", staff_id: "s1", credential_type_id: "ct1", credential_number: "X1", issuing_authority: "Red Cross", issuing_state: null, issue_date: "2024-03-01", expiry_date: "2026-03-01", status: "active", verification_status: "verified", verified_at: null, verified_by: null, renewed_at: null, document_ref: null, notes: null };
const expiring = { credential_id: "cr1", staff_id: "s1", staff_name: "Robin Lee", clinic_id: CLINIC_ID, credential_type_id: "ct1", credential_type: "CPR", credential_number: "X1", expiry_date: "2026-03-12", days_left: 3, status: "active", window_days: 7 };
const dashboard = { within_days: 90, counts: { expired: 0, within_7: 1, within_30: 1, within_60: 1, within_90: 1 }, expired: [], expiring: [expiring], horizon_days: 90, at_risk: [] };

function backend(over: Record<string, (a: Record<string, unknown>) => unknown> = {}) {
  return fakeBackend({
    credential_dashboard: () => dashboard,
    list_credential_alerts: () => [],
    list_staff: () => [robin],
    list_credential_types: () => [cpr, licence],
    list_credentials: () => [credential],
    ...over,
  });
}
async function openCredentialsOfRobin() {
  const staff = await screen.findByRole("table", { name: "Staff" });
  await fireEvent.click(await within(staff).findByRole("button", { name: "Credentials of Robin Lee" }));
  return screen.findByRole("region", { name: "Credentials of Robin Lee" });
}

beforeEach(() => signedInAs("manager"));

describe("Credentials: a staff member's credentials", () => {
  it("lists them and adds one, keeping the form when refused", async () => {
    let n = 0;
    const calls = backend({
      create_credential: () => (n++ === 0 ? refuse("invalid_input", "expiry_date: must not be before the issue date") : { ...credential, id: "cr9", credential_type_id: "ct2" }),
    });
    render(Credentials);
    const panel = await openCredentialsOfRobin();
    const table = within(panel).getByRole("table", { name: "Credentials of Robin Lee" });
    await within(table).findByText("X1");
    expect(table).toHaveTextContent("CPR");
    expect(argsOf(calls, "list_credentials")[0]).toEqual({ staffId: "s1", query: { clinic_id: null, q: null, include_deleted: false, limit: null, offset: null } });

    const form = within(panel).getByRole("form", { name: "Add credential" });
    await fireEvent.change(within(form).getByLabelText("Credential type"), { target: { value: "ct2" } });
    await fireEvent.input(within(form).getByLabelText("Credential number"), { target: { value: "PT-77" } });
    await fireEvent.input(within(form).getByLabelText("Issue date"), { target: { value: "2026-02-01" } });
    await fireEvent.input(within(form).getByLabelText("Expiry date"), { target: { value: "2026-01-01" } });
    await fireEvent.click(within(form).getByRole("button", { name: "Add credential" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent("expiry_date: must not be before the issue date");
    expect(argsOf(calls, "create_credential")).toEqual([{ staffId: "s1", fields: { credential_type_id: "ct2", credential_number: "PT-77", issue_date: "2026-02-01", expiry_date: "2026-01-01" } }]);
    expect(within(form).getByLabelText("Credential number")).toHaveValue("PT-77");
    expect(within(form).getByLabelText("Expiry date")).toHaveValue("2026-01-01");

    await fireEvent.input(within(form).getByLabelText("Expiry date"), { target: { value: "2028-02-01" } });
    await fireEvent.click(within(form).getByRole("button", { name: "Add credential" }));
    await waitFor(() => expect(within(form).getByLabelText("Credential number")).toHaveValue(""));
    expect(argsOf(calls, "create_credential")[1]?.fields).toMatchObject({ expiry_date: "2028-02-01" });
    expect(within(form).queryByRole("alert")).not.toBeInTheDocument();
    // The dashboard is read again: the new credential may change the counts.
    await waitFor(() => expect(argsOf(calls, "credential_dashboard").length).toBeGreaterThan(1));
  });

  it("records an adverse action against a credential, the refusal inside the dialog", async () => {
    const calls = backend({ record_adverse_action: () => refuse("invalid_input", "end_date: must not be before start_date") });
    render(Credentials);
    const panel = await openCredentialsOfRobin();
    await fireEvent.click(await within(panel).findByRole("button", { name: "Record adverse action on CPR" }));
    const dlg = screen.getByRole("dialog", { name: "Record adverse action — Robin Lee, CPR" });
    await fireEvent.change(within(dlg).getByLabelText("Action"), { target: { value: "restriction" } });
    await fireEvent.input(within(dlg).getByLabelText("Reason"), { target: { value: "board order 12" } });
    await fireEvent.input(within(dlg).getByLabelText("Start date"), { target: { value: "2026-03-10" } });
    await fireEvent.input(within(dlg).getByLabelText("End date"), { target: { value: "2026-03-01" } });
    await fireEvent.click(within(dlg).getByRole("button", { name: "Save adverse action" }));
    expect(await within(dlg).findByRole("alert")).toHaveTextContent("end_date: must not be before start_date");
    expect(argsOf(calls, "record_adverse_action")).toEqual([{ credentialId: "cr1", fields: { action_type: "restriction", reason: "board order 12", start_date: "2026-03-10", end_date: "2026-03-01" } }]);
    expect(within(dlg).getByLabelText("Reason")).toHaveValue("board order 12");
    expect(within(dlg).getByLabelText("Action")).toHaveValue("restriction");
  });

  it("shows a credential's history from the expiring list", async () => {
    const calls = backend({
      credential_history: () => ({
        credential,
        verifications: [{ id: "v1", credential_id: "cr1", verified_by: null, method: "online_lookup", result: "verified", verified_at: Date.UTC(2026, 1, 2, 18), reference: "REF-9", notes: null }],
        adverse_actions: [{ id: "aa1", credential_id: "cr1", staff_id: "s1", action_type: "probation", reason: "late renewal", authority: "College", start_date: "2026-01-01", end_date: null, reported_by: null }],
        alerts: [{ id: "al1", credential_id: "cr1", staff_id: "s1", threshold_days: 30, expiry_date: "2026-03-01", alert_date: "2026-01-30", message: "CPR expires in 30 days", acknowledged_at: null, acknowledged_by: null }],
      }),
    });
    render(Credentials);
    const table = await screen.findByRole("table", { name: "Expiring credentials" });
    await fireEvent.click(within(table).getByRole("button", { name: "History for Robin Lee" }));
    const dlg = await screen.findByRole("dialog", { name: "History — Robin Lee, CPR" });
    expect(await within(dlg).findByRole("table", { name: "Verifications" })).toHaveTextContent("online_lookup");
    expect(within(dlg).getByRole("table", { name: "Verifications" })).toHaveTextContent("REF-9");
    expect(within(dlg).getByRole("table", { name: "Adverse actions" })).toHaveTextContent(/probation.*2026-01-01.*open-ended.*late renewal/);
    expect(within(dlg).getByRole("table", { name: "Expiry alerts" })).toHaveTextContent("CPR expires in 30 days");
    expect(argsOf(calls, "credential_history")).toEqual([{ credentialId: "cr1" }]);
  });

  it("shows a refused history in the dialog", async () => {
    backend({ credential_history: () => refuse("not_found", "credential cr1 not found") });
    render(Credentials);
    const table = await screen.findByRole("table", { name: "Expiring credentials" });
    await fireEvent.click(within(table).getByRole("button", { name: "History for Robin Lee" }));
    const dlg = await screen.findByRole("dialog", { name: "History — Robin Lee, CPR" });
    expect(await within(dlg).findByRole("alert")).toHaveTextContent("credential cr1 not found");
  });
});

describe("Credentials: staff", () => {
  it("adds a staff member and keeps the form when refused", async () => {
    const calls = backend({ create_staff: () => refuse("invalid_input", "email: not an email address") });
    render(Credentials);
    const form = await screen.findByRole("form", { name: "Add a staff member" });
    await fireEvent.input(within(form).getByLabelText("First name"), { target: { value: "Sam" } });
    await fireEvent.input(within(form).getByLabelText("Last name"), { target: { value: "Ortiz" } });
    await fireEvent.input(within(form).getByLabelText("Discipline"), { target: { value: "physiotherapy" } });
    await fireEvent.change(within(form).getByLabelText("Employment"), { target: { value: "part_time" } });
    await fireEvent.input(within(form).getByLabelText("Email"), { target: { value: "sam@" } });
    await fireEvent.click(within(form).getByLabelText("Clinical"));
    await fireEvent.click(within(form).getByRole("button", { name: "Add staff member" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent("email: not an email address");
    expect(argsOf(calls, "create_staff")).toEqual([{ clinicId: CLINIC_ID, fields: { first_name: "Sam", last_name: "Ortiz", discipline: "physiotherapy", employment_type: "part_time", email: "sam@", is_clinical: "no" } }]);
    expect(within(form).getByLabelText("First name")).toHaveValue("Sam");
    expect(within(form).getByLabelText("Email")).toHaveValue("sam@");
    expect(within(form).getByLabelText("Clinical")).not.toBeChecked();
  });

  it("changes a staff member, sending every field so an emptied one is cleared", async () => {
    let staff: unknown[] = [robin];
    const calls = backend({
      list_staff: () => staff,
      update_staff: () => {
        staff = [{ ...robin, is_active: false, email: null }];
        return staff[0];
      },
    });
    render(Credentials);
    const table = await screen.findByRole("table", { name: "Staff" });
    await fireEvent.click(await within(table).findByRole("button", { name: "Edit Robin Lee" }));
    const dlg = screen.getByRole("dialog", { name: "Edit staff member — Robin Lee" });
    expect(within(dlg).getByLabelText("Email")).toHaveValue("robin@example.org");
    await fireEvent.input(within(dlg).getByLabelText("Email"), { target: { value: "" } });
    await fireEvent.click(within(dlg).getByLabelText("Active"));
    await fireEvent.click(within(dlg).getByRole("button", { name: "Save staff member" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(argsOf(calls, "update_staff")).toEqual([{
      staffId: "s1",
      fields: { first_name: "Robin", last_name: "Lee", title: "PT", discipline: "physio", employment_type: "full_time", email: "", phone: "", is_clinical: "yes", is_active: "no" },
    }]);
    await waitFor(() => expect(within(table).getByRole("row", { name: /Robin Lee/ })).toHaveTextContent(/Yes\s*No/));
  });
});
