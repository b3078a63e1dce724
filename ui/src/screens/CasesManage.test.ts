// The Cases screen's work: opening a case, status and priority, linking appointments, and the
// authorization warnings.
import { beforeEach, describe, expect, it } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import { fakeBackend, refuse } from "../test/ipc";
import { argsOf, signedInAs } from "../test/screen";
import { ann, appointment, CLINIC_ID, drLee, gridEntry } from "../test/fixtures";
import Cases from "./Cases.svelte";

const kase = {
  id: "k1", case_number: "CGY-26-0001", patient_id: "p1", clinic_id: CLINIC_ID, case_type: "workers_comp", diagnosis_code: null, diagnosis_description: "Knee sprain",
  status: "active", priority: "medium", opened_at: Date.UTC(2026, 2, 1), closed_at: null, primary_clinician_id: null, authorization_number: "WCB-1", authorization_expiry: "2026-03-20",
  chief_complaint: null, treatment_plan: null,
};
const warning = { case: kase, days_left: 11, message: "authorization for case CGY-26-0001 expires on 2026-03-20 (11 days)", appointments_after_expiry: [appointment({ id: "a7" })] };

function backend(over: Record<string, (a: Record<string, unknown>) => unknown> = {}) {
  return fakeBackend({
    list_cases: () => [kase],
    case_warnings: () => [],
    get_case_detail: () => ({ case: kase, appointments: [] }),
    get_patient: () => ann,
    list_staff: () => [drLee],
    ...over,
  });
}
async function openCase() {
  await fireEvent.click(await screen.findByRole("button", { name: "CGY-26-0001" }));
  return screen.findByRole("complementary", { name: "Case CGY-26-0001" });
}

beforeEach(() => signedInAs("manager"));

describe("Cases: opening a case", () => {
  it("sends the patient and fields typed, keeps them when refused, then opens the new case", async () => {
    const opened = { ...kase, id: "k2", case_number: "CGY-26-0002", priority: "high" };
    let n = 0;
    const calls = backend({
      search_patients: () => [ann],
      create_case: () => (n++ === 0 ? refuse("invalid_input", "authorization_expiry: must not be before the case opens") : opened),
      get_case_detail: (a) => ({ case: a.caseId === "k2" ? opened : kase, appointments: [] }),
    });
    render(Cases);
    await fireEvent.click(await screen.findByRole("button", { name: "New case" }));
    const dlg = screen.getByRole("dialog", { name: "Open a case" });
    await fireEvent.input(within(dlg).getByRole("combobox", { name: "Patient" }), { target: { value: "smith" } });
    await fireEvent.mouseDown(await within(dlg).findByRole("option", { name: /Smith, Ann/ }));
    await fireEvent.input(within(dlg).getByLabelText("Case type"), { target: { value: "workers_comp" } });
    await fireEvent.change(within(dlg).getByLabelText("Priority"), { target: { value: "high" } });
    await waitFor(() => expect(within(dlg).getAllByRole("option", { name: "Robin Lee" })).toHaveLength(1));
    await fireEvent.change(within(dlg).getByLabelText("Primary clinician"), { target: { value: "s1" } });
    await fireEvent.input(within(dlg).getByLabelText("Authorization expiry"), { target: { value: "2020-01-01" } });
    await fireEvent.click(within(dlg).getByRole("button", { name: "Open case" }));

    expect(await within(dlg).findByRole("alert")).toHaveTextContent("authorization_expiry: must not be before the case opens");
    expect(argsOf(calls, "create_case")).toEqual([{
      clinicId: CLINIC_ID,
      fields: { patient_id: "p1", case_type: "workers_comp", priority: "high", primary_clinician_id: "s1", authorization_expiry: "2020-01-01" },
    }]);
    expect(within(dlg).getByLabelText("Case type")).toHaveValue("workers_comp");
    expect(within(dlg).getByLabelText("Authorization expiry")).toHaveValue("2020-01-01");

    await fireEvent.input(within(dlg).getByLabelText("Authorization expiry"), { target: { value: "2026-06-01" } });
    await fireEvent.click(within(dlg).getByRole("button", { name: "Open case" }));
    expect(await screen.findByRole("complementary", { name: "Case CGY-26-0002" })).toHaveTextContent("high");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
  });

  it("offers no new case to a clinician", async () => {
    signedInAs("clinician");
    backend();
    render(Cases);
    await screen.findByRole("button", { name: "CGY-26-0001" });
    expect(screen.queryByRole("button", { name: "New case" })).not.toBeInTheDocument();
  });
});

describe("Cases: status and priority", () => {
  it("changes the priority and shows a refusal of a status change", async () => {
    const calls = backend({
      set_case_priority: (a) => ({ ...kase, priority: a.priority }),
      set_case_status: () => refuse("invalid_input", "status: cannot go from active to new"),
    });
    render(Cases);
    const panel = await openCase();
    expect(panel).toHaveTextContent("Smith");
    await fireEvent.change(within(panel).getByLabelText("New priority"), { target: { value: "urgent" } });
    await fireEvent.click(within(panel).getByRole("button", { name: "Change priority" }));
    await waitFor(() => expect(argsOf(calls, "set_case_priority")).toEqual([{ caseId: "k1", priority: "urgent" }]));
    await waitFor(() => expect(panel).toHaveTextContent("urgent"));

    await fireEvent.change(within(panel).getByLabelText("New status"), { target: { value: "new" } });
    await fireEvent.click(within(panel).getByRole("button", { name: "Change status" }));
    expect(await within(panel).findByRole("alert")).toHaveTextContent("status: cannot go from active to new");
    expect(argsOf(calls, "set_case_status")).toEqual([{ caseId: "k1", status: "new" }]);
    expect(within(panel).getByLabelText("New status")).toHaveValue("new");
  });
});

describe("Cases: linking appointments", () => {
  it("links an appointment from a day's schedule and shows a refusal", async () => {
    const mine = appointment();
    const other = appointment({ id: "a2", patient_id: "p2", start_at: Date.UTC(2026, 2, 9, 16) });
    let linked = false;
    const calls = backend({
      day_schedule: () => ({ clinic_id: CLINIC_ID, date: "2026-03-09", hours: 24, day_start: 0, day_end: 0, entries: [gridEntry(mine), gridEntry(other, "Bo Chan")] }),
      link_appointment_to_case: (a) => {
        if (a.appointmentId === "a2") return refuse("invalid_input", "case_id: this case is another patient's");
        linked = a.caseId !== null;
        return { ...mine, case_id: a.caseId };
      },
      get_case_detail: () => ({ case: kase, appointments: linked ? [{ ...mine, case_id: "k1" }] : [] }),
    });
    render(Cases);
    const panel = await openCase();
    await fireEvent.input(within(panel).getByLabelText("Appointments on"), { target: { value: "2026-03-09" } });
    await fireEvent.click(within(panel).getByRole("button", { name: "Find appointments" }));
    const day = await within(panel).findByRole("table", { name: "Appointments on 2026-03-09" });
    expect(argsOf(calls, "day_schedule")).toEqual([{ clinicId: CLINIC_ID, date: "2026-03-09", providerId: null }]);

    await fireEvent.click(within(day).getByRole("button", { name: "Link 10:00 Bo Chan" }));
    expect(await within(panel).findByRole("alert")).toHaveTextContent("case_id: this case is another patient's");

    await fireEvent.click(within(day).getByRole("button", { name: "Link 09:00 Ann Smith" }));
    const linkedTable = within(panel).getByRole("table", { name: "Case appointments" });
    await waitFor(() => expect(linkedTable).toHaveTextContent("Confirmed"));
    expect(within(day).getByRole("row", { name: /09:00 Ann Smith/ })).toHaveTextContent("Linked");
    expect(within(panel).queryByRole("alert")).not.toBeInTheDocument();

    await fireEvent.click(within(linkedTable).getByRole("button", { name: /^Unlink / }));
    await waitFor(() => expect(linkedTable).toHaveTextContent("No appointments linked."));
    expect(argsOf(calls, "link_appointment_to_case")).toEqual([
      { appointmentId: "a2", caseId: "k1" },
      { appointmentId: "a1", caseId: "k1" },
      { appointmentId: "a1", caseId: null },
    ]);
  });
});

describe("Cases: authorization warnings", () => {
  it("lists the warnings for the days chosen and opens a case from one", async () => {
    const calls = backend({ case_warnings: (a) => (a.withinDays === 14 ? [warning] : []) });
    render(Cases);
    const list = await screen.findByRole("list", { name: "Authorization warnings" });
    await within(list).findByText("No authorization expires within 30 days.");
    expect(argsOf(calls, "case_warnings")[0]).toEqual({ clinicId: CLINIC_ID, withinDays: 30 });
    await fireEvent.change(screen.getByLabelText("Warn within"), { target: { value: "14" } });
    expect(await within(list).findByText(/authorization for case CGY-26-0001 expires on 2026-03-20 \(11 days\); 1 appointment\(s\) booked after it/)).toBeInTheDocument();
    await fireEvent.click(within(list).getByRole("button", { name: "Open case CGY-26-0001" }));
    expect(await screen.findByRole("complementary", { name: "Case CGY-26-0001" })).toHaveTextContent("WCB-1, until 2026-03-20");
  });

  it("shows a refusal of the warnings", async () => {
    backend({ case_warnings: () => refuse("permission_denied", "you may not see cases at this clinic") });
    render(Cases);
    expect(await screen.findByRole("alert")).toHaveTextContent("you may not see cases at this clinic");
  });
});
