// The roster's requests (swap, time off, cancelling), coverage needs (add, cancel) and the
// manager's override of a refusal the API lets a manager override.
import { beforeEach, describe, expect, it } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import { fakeBackend, refuse } from "../test/ipc";
import { argsOf, signedInAs } from "../test/screen";
import { CLINIC_ID, drLee } from "../test/fixtures";
import Roster from "./Roster.svelte";

const kim = { ...drLee, id: "s2", first_name: "Kim", last_name: "Wu", user_id: "u1" };
const robin = { ...drLee, user_id: null };
const shift = (id: string, staffId: string, date: string) => ({
  schedule: { id, clinic_id: CLINIC_ID, staff_id: staffId, shift_id: "t1", schedule_date: date, start_at: Date.UTC(2026, 2, 9, 15), end_at: Date.UTC(2026, 2, 9, 23), status: "scheduled", override_reason: null, notes: null },
  staff_name: staffId === "s1" ? "Robin Lee" : "Kim Wu",
  shift_name: "Day",
});
const template = { id: "t1", clinic_id: CLINIC_ID, name: "Day", shift_type: "morning", start_time: "08:00", end_time: "16:00", default_capacity: 1, color: null, is_active: true };
const need = { id: "n1", clinic_id: CLINIC_ID, shift_id: "t1", schedule_id: null, need_date: "2026-03-12", start_at: Date.UTC(2026, 2, 12, 15), end_at: Date.UTC(2026, 2, 12, 23), reason: "demand", status: "open", original_staff_id: null, filled_by_staff_id: null, filled_schedule_id: null, notes: null };
const timeOff = (status: string) => ({ id: "to1", clinic_id: CLINIC_ID, staff_id: "s2", start_date: "2026-03-16", end_date: "2026-03-18", kind: "vacation", reason: null, status });
const swap = { id: "sw1", clinic_id: CLINIC_ID, requester_staff_id: "s1", requester_schedule_id: "ss1", target_staff_id: "s2", target_schedule_id: null, status: "requested", reason: "dentist" };

const CREDENTIAL_REFUSAL = "Kim Wu lacks a current CPR certificate on 2026-03-12 (a manager may override with a reason)";

function backend(over: Record<string, (a: Record<string, unknown>) => unknown> = {}) {
  return fakeBackend({
    list_roster: () => [shift("ss1", "s1", "2026-03-10"), shift("ss2", "s2", "2026-03-11")],
    list_staff: () => [robin, kim],
    list_shift_templates: () => [template],
    list_swaps: () => [],
    list_time_off: () => [],
    list_coverage_needs: () => [],
    ...over,
  });
}

beforeEach(() => signedInAs("manager"));

describe("Roster: assigning with a manager override", () => {
  it("sends the date field, shows the refusal and offers an override that needs a reason", async () => {
    let n = 0;
    const calls = backend({ assign_shift: () => (n++ === 0 ? refuse("conflict", CREDENTIAL_REFUSAL) : shift("ss9", "s2", "2026-03-12").schedule) });
    render(Roster);
    const form = await screen.findByRole("form", { name: "Assign a shift" });
    await waitFor(() => expect(within(form).getAllByRole("option", { name: "Kim Wu" })).toHaveLength(1));
    await fireEvent.change(within(form).getByLabelText("Staff member"), { target: { value: "s2" } });
    await fireEvent.change(within(form).getByLabelText("Shift"), { target: { value: "t1" } });
    await fireEvent.input(within(form).getByLabelText("Shift date"), { target: { value: "2026-03-12" } });
    await fireEvent.click(within(form).getByRole("button", { name: "Assign" }));

    expect(await screen.findByRole("alert")).toHaveTextContent(CREDENTIAL_REFUSAL);
    expect(argsOf(calls, "assign_shift")).toEqual([{ clinicId: CLINIC_ID, fields: { staff_id: "s2", shift_id: "t1", date: "2026-03-12" } }]);
    expect(within(form).getByLabelText("Shift date")).toHaveValue("2026-03-12");
    expect(within(form).getByLabelText("Staff member")).toHaveValue("s2");

    const override = screen.getByRole("form", { name: "Override: Assign" });
    const go = within(override).getByRole("button", { name: "Assign with override" });
    expect(go).toBeDisabled();
    await fireEvent.click(go);
    expect(argsOf(calls, "assign_shift")).toHaveLength(1);
    await fireEvent.input(within(override).getByLabelText("Override reason"), { target: { value: "renewal in the mail" } });
    await fireEvent.click(go);
    await waitFor(() => expect(argsOf(calls, "assign_shift")).toHaveLength(2));
    expect(argsOf(calls, "assign_shift")[1]).toEqual({
      clinicId: CLINIC_ID, fields: { staff_id: "s2", shift_id: "t1", date: "2026-03-12", override_reason: "renewal in the mail" },
    });
    await waitFor(() => expect(screen.queryByRole("form", { name: "Override: Assign" })).not.toBeInTheDocument());
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("offers no override for a refusal that is not a rule to override", async () => {
    backend({ assign_shift: () => refuse("invalid_input", "date: is required") });
    render(Roster);
    const form = await screen.findByRole("form", { name: "Assign a shift" });
    await fireEvent.submit(form);
    expect(await screen.findByRole("alert")).toHaveTextContent("date: is required");
    expect(screen.queryByRole("form", { name: /^Override/ })).not.toBeInTheDocument();
  });

  it("fills a coverage need with an override after the refusal, for the same person", async () => {
    const calls = backend({
      list_coverage_needs: () => [need],
      fill_coverage_need: (a) => (a.overrideReason ? [{ ...need, status: "filled" }, shift("ss9", "s2", "2026-03-12").schedule] : refuse("conflict", CREDENTIAL_REFUSAL)),
    });
    render(Roster);
    const table = await screen.findByRole("table", { name: "Open coverage needs" });
    await within(table).findByRole("button", { name: "Fill need 2026-03-12" });
    await waitFor(() => expect(within(table).getAllByRole("option", { name: "Kim Wu" })).toHaveLength(1));
    await fireEvent.change(within(table).getByLabelText("Cover 2026-03-12 with"), { target: { value: "s2" } });
    await fireEvent.click(within(table).getByRole("button", { name: "Fill need 2026-03-12" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(CREDENTIAL_REFUSAL);
    const override = screen.getByRole("form", { name: "Override: Fill need 2026-03-12" });
    await fireEvent.input(within(override).getByLabelText("Override reason"), { target: { value: "only one available" } });
    await fireEvent.click(within(override).getByRole("button", { name: "Fill need 2026-03-12 with override" }));
    await waitFor(() => expect(argsOf(calls, "fill_coverage_need")).toHaveLength(2));
    expect(argsOf(calls, "fill_coverage_need")).toEqual([
      { needId: "n1", staffId: "s2", overrideReason: null },
      { needId: "n1", staffId: "s2", overrideReason: "only one available" },
    ]);
  });

  it("approves a swap with an override after the refusal", async () => {
    const calls = backend({
      list_swaps: () => [swap],
      decide_swap: (a) => (a.overrideReason ? { ...swap, status: "approved" } : refuse("conflict", CREDENTIAL_REFUSAL)),
    });
    render(Roster);
    await fireEvent.click(await screen.findByRole("button", { name: "Approve swap Robin Lee" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(CREDENTIAL_REFUSAL);
    const override = screen.getByRole("form", { name: "Override: Approve swap Robin Lee" });
    await fireEvent.input(within(override).getByLabelText("Override reason"), { target: { value: "covered by Kim's CPR class" } });
    await fireEvent.submit(override);
    await waitFor(() => expect(argsOf(calls, "decide_swap")).toHaveLength(2));
    expect(argsOf(calls, "decide_swap")[1]).toEqual({ swapId: "sw1", approve: true, note: null, overrideReason: "covered by Kim's CPR class" });
  });
});

describe("Roster: staff requests", () => {
  it("requests a swap with the fields typed and keeps them when refused", async () => {
    const calls = backend({ request_swap: () => refuse("conflict", "this assignment is completed and cannot be swapped") });
    render(Roster);
    const form = await screen.findByRole("form", { name: "Request a swap" });
    await waitFor(() => expect(within(form).getAllByRole("option", { name: /Robin Lee — 2026-03-10 Day/ })).toHaveLength(1));
    await fireEvent.change(within(form).getByLabelText("Shift to hand over"), { target: { value: "ss1" } });
    await fireEvent.change(within(form).getByLabelText("Swap with"), { target: { value: "s2" } });
    await fireEvent.change(within(form).getByLabelText("Their shift in return"), { target: { value: "ss2" } });
    await fireEvent.input(within(form).getByLabelText("Swap reason"), { target: { value: "dentist" } });
    await fireEvent.click(within(form).getByRole("button", { name: "Request swap" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent("this assignment is completed and cannot be swapped");
    expect(argsOf(calls, "request_swap")).toEqual([{ fields: { requester_schedule_id: "ss1", target_staff_id: "s2", target_schedule_id: "ss2", reason: "dentist" } }]);
    expect(within(form).getByLabelText("Swap reason")).toHaveValue("dentist");
    expect(within(form).getByLabelText("Shift to hand over")).toHaveValue("ss1");
  });

  it("requests time off for the signed-in staff member by default", async () => {
    let listed: unknown[] = [];
    const calls = backend({
      list_time_off: () => listed,
      request_time_off: (a) => {
        listed = [timeOff("requested")];
        return { ...timeOff("requested"), ...(a.fields as object) };
      },
    });
    render(Roster);
    const form = await screen.findByRole("form", { name: "Request time off" });
    await waitFor(() => expect(within(form).getByLabelText("Staff member")).toHaveValue("s2"));
    await fireEvent.input(within(form).getByLabelText("First day"), { target: { value: "2026-03-16" } });
    await fireEvent.input(within(form).getByLabelText("Last day"), { target: { value: "2026-03-18" } });
    await fireEvent.change(within(form).getByLabelText("Kind"), { target: { value: "education" } });
    await fireEvent.click(within(form).getByRole("button", { name: "Request time off" }));
    expect(await screen.findByRole("status")).toHaveTextContent("Time off requested for Kim Wu, 2026-03-16 – 2026-03-18.");
    expect(argsOf(calls, "request_time_off")).toEqual([{ clinicId: CLINIC_ID, fields: { staff_id: "s2", start_date: "2026-03-16", end_date: "2026-03-18", kind: "education" } }]);
    const table = screen.getByRole("table", { name: "Time-off requests" });
    expect(await within(table).findByRole("button", { name: "Cancel time off Kim Wu" })).toBeInTheDocument();
  });

  it("keeps the time-off request typed when the API refuses it", async () => {
    backend({ request_time_off: () => refuse("invalid_input", "end_date: must not be before start_date") });
    render(Roster);
    const form = await screen.findByRole("form", { name: "Request time off" });
    await waitFor(() => expect(within(form).getByLabelText("Staff member")).toHaveValue("s2"));
    await fireEvent.input(within(form).getByLabelText("First day"), { target: { value: "2026-03-18" } });
    await fireEvent.input(within(form).getByLabelText("Last day"), { target: { value: "2026-03-16" } });
    await fireEvent.input(within(form).getByLabelText("Time-off reason"), { target: { value: "course" } });
    await fireEvent.submit(form);
    expect(await within(form).findByRole("alert")).toHaveTextContent("end_date: must not be before start_date");
    expect(within(form).getByLabelText("First day")).toHaveValue("2026-03-18");
    expect(within(form).getByLabelText("Time-off reason")).toHaveValue("course");
  });

  it("cancels approved time off and lists by the status chosen", async () => {
    const calls = backend({ list_time_off: (a) => (a.status === "approved" ? [timeOff("approved")] : []), cancel_time_off: () => refuse("invalid_input", "status: cannot go from cancelled to cancelled") });
    render(Roster);
    await screen.findByText("No time-off requests.");
    expect(argsOf(calls, "list_time_off")[0]).toEqual({ clinicId: CLINIC_ID, status: "requested" });
    await fireEvent.change(screen.getByLabelText("Show time off"), { target: { value: "approved" } });
    await fireEvent.click(await screen.findByRole("button", { name: "Cancel time off Kim Wu" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("status: cannot go from cancelled to cancelled");
    expect(argsOf(calls, "cancel_time_off")).toEqual([{ requestId: "to1" }]);
  });
});

describe("Roster: deciding time off", () => {
  it("approves time off and says what the approval released", async () => {
    const calls = backend({
      list_time_off: () => [timeOff("requested")],
      decide_time_off: () => ({ request: timeOff("approved"), coverage_needs: [need, { ...need, id: "n2" }], affected_appointments: [] }),
    });
    render(Roster);
    await fireEvent.click(await screen.findByRole("button", { name: "Approve time off Kim Wu" }));
    expect(await screen.findByRole("status")).toHaveTextContent("Time off approved for Kim Wu: 2 shift(s) released into coverage needs, 0 appointment(s) to move.");
    expect(argsOf(calls, "decide_time_off")).toEqual([{ requestId: "to1", approve: true, note: null }]);
  });
});

describe("Roster: coverage needs", () => {
  it("adds a coverage need for a shift and date", async () => {
    const calls = backend({ create_coverage_need: () => refuse("conflict", "the Day shift template is inactive") });
    render(Roster);
    const form = await screen.findByRole("form", { name: "Add a coverage need" });
    await waitFor(() => expect(within(form).getAllByRole("option", { name: "Day (08:00–16:00)" })).toHaveLength(1));
    await fireEvent.change(within(form).getByLabelText("Shift"), { target: { value: "t1" } });
    await fireEvent.input(within(form).getByLabelText("Need date"), { target: { value: "2026-03-13" } });
    await fireEvent.input(within(form).getByLabelText("Notes"), { target: { value: "flu season" } });
    await fireEvent.click(within(form).getByRole("button", { name: "Add need" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent("the Day shift template is inactive");
    expect(argsOf(calls, "create_coverage_need")).toEqual([{ clinicId: CLINIC_ID, fields: { shift_id: "t1", date: "2026-03-13", notes: "flu season" } }]);
    expect(within(form).getByLabelText("Notes")).toHaveValue("flu season");
  });

  it("cancels a need with a reason, showing a refusal inside the dialog", async () => {
    let n = 0;
    const calls = backend({
      list_coverage_needs: () => (n < 2 ? [need] : []),
      cancel_coverage_need: () => (n++ === 0 ? refuse("invalid_input", "reason: say why the need is cancelled") : { ...need, status: "cancelled" }),
    });
    render(Roster);
    await fireEvent.click(await screen.findByRole("button", { name: "Cancel need 2026-03-12" }));
    const dlg = screen.getByRole("dialog", { name: "Cancel coverage need 2026-03-12" });
    await fireEvent.input(within(dlg).getByLabelText("Reason"), { target: { value: " " } });
    await fireEvent.submit(within(dlg).getByRole("form", { name: "Cancel coverage need" }));
    expect(await within(dlg).findByRole("alert")).toHaveTextContent("reason: say why the need is cancelled");
    expect(within(dlg).getByLabelText("Reason")).toHaveValue(" ");
    await fireEvent.input(within(dlg).getByLabelText("Reason"), { target: { value: "clinic closed" } });
    await fireEvent.click(within(dlg).getByRole("button", { name: "Cancel need" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(argsOf(calls, "cancel_coverage_need")).toEqual([{ needId: "n1", reason: " " }, { needId: "n1", reason: "clinic closed" }]);
  });
});

describe("Roster: my requests (staff without the staffing right)", () => {
  const mySwap = (over: Record<string, unknown> = {}) => ({
    swap: { ...swap, id: "sw2", requester_staff_id: "s2", requester_schedule_id: "ss2", target_staff_id: "s1", target_schedule_id: "ss1", reason: "wedding" },
    requester_name: "Kim Wu",
    target_name: "Robin Lee",
    handed_over: shift("ss2", "s2", "2026-03-11"),
    in_return: shift("ss1", "s1", "2026-03-10"),
    is_requester: true,
    ...over,
  });

  function staffBackend(over: Record<string, (a: Record<string, unknown>) => unknown> = {}) {
    return backend({
      my_swaps: () => [mySwap(), mySwap({ swap: { ...mySwap().swap, id: "sw3", status: "approved" } }), mySwap({ swap: { ...mySwap().swap, id: "sw4" }, is_requester: false, requester_name: "Robin Lee", target_name: "Kim Wu" })],
      my_time_off: () => [timeOff("requested"), { ...timeOff("approved"), id: "to2", start_date: "2026-04-01", end_date: "2026-04-02" }],
      ...over,
    });
  }

  beforeEach(() => signedInAs("clinician"));

  it("lists the user's own swaps and time off and reads none of the managers' queues", async () => {
    const calls = staffBackend();
    render(Roster);
    const swaps = await screen.findByRole("table", { name: "My swap requests" });
    await within(swaps).findAllByText("Kim Wu");
    expect(within(swaps).getAllByText("2026-03-11 Day 09:00–17:00")).toHaveLength(3);
    // Only the pending swap the user asked for can be withdrawn.
    expect(within(swaps).getAllByRole("button", { name: "Withdraw swap 2026-03-11" })).toHaveLength(1);
    const off = screen.getByRole("table", { name: "My time off" });
    expect(within(off).getAllByRole("button", { name: /^Cancel time off/ }).map((b) => b.textContent)).toEqual(["Cancel time off 2026-03-16"]);
    expect(argsOf(calls, "my_swaps")).toEqual([{ clinicId: CLINIC_ID, status: null }]);
    expect(argsOf(calls, "my_time_off")).toEqual([{ clinicId: CLINIC_ID, status: null }]);
    for (const cmd of ["list_swaps", "list_time_off", "list_coverage_needs", "list_shift_templates"]) expect(argsOf(calls, cmd)).toEqual([]);
    expect(screen.queryByRole("form", { name: "Assign a shift" })).not.toBeInTheDocument();
    expect(screen.queryByRole("table", { name: "Swap requests" })).not.toBeInTheDocument();
    expect(screen.getByRole("form", { name: "Request time off" })).toBeInTheDocument();
  });

  it("withdraws a pending swap and reloads the list", async () => {
    let withdrawn = false;
    const calls = staffBackend({
      my_swaps: () => [withdrawn ? mySwap({ swap: { ...mySwap().swap, status: "cancelled" } }) : mySwap()],
      cancel_swap: () => {
        withdrawn = true;
        return { ...mySwap().swap, status: "cancelled" };
      },
    });
    render(Roster);
    await fireEvent.click(await screen.findByRole("button", { name: "Withdraw swap 2026-03-11" }));
    expect(await screen.findByText("Swap request for 2026-03-11 Day 09:00–17:00 withdrawn.")).toBeInTheDocument();
    expect(argsOf(calls, "cancel_swap")).toEqual([{ swapId: "sw2" }]);
    const swaps = screen.getByRole("table", { name: "My swap requests" });
    await waitFor(() => expect(within(swaps).queryByRole("button", { name: /^Withdraw swap/ })).not.toBeInTheDocument());
    expect(within(swaps).getByText("Withdrawn")).toBeInTheDocument();
  });

  it("shows Rust's refusal when cancelling time off", async () => {
    const calls = staffBackend({ cancel_time_off: () => refuse("invalid_input", "status: cannot change time off request from approved to cancelled") });
    render(Roster);
    await fireEvent.click(await screen.findByRole("button", { name: "Cancel time off 2026-03-16" }));
    const section = screen.getByRole("region", { name: "My requests" });
    expect(await within(section).findByRole("alert")).toHaveTextContent("cannot change time off request");
    expect(argsOf(calls, "cancel_time_off")).toEqual([{ requestId: "to1" }]);
  });

  it("tells a user without a staff profile why there is nothing to list", async () => {
    const NOT_LINKED = "your user account is not linked to a staff profile, so you have no requests of your own (an administrator links it on the staff record)";
    staffBackend({ my_swaps: () => refuse("not_found", NOT_LINKED), my_time_off: () => refuse("not_found", NOT_LINKED) });
    render(Roster);
    const section = await screen.findByRole("region", { name: "My requests" });
    expect(await within(section).findByRole("alert")).toHaveTextContent(NOT_LINKED);
    expect(within(section).queryByRole("table")).not.toBeInTheDocument();
    expect(screen.getByRole("table", { name: "Shift roster" })).toBeInTheDocument();
  });

  it("is not shown to managers, who have the queues", async () => {
    signedInAs("manager");
    const calls = staffBackend();
    render(Roster);
    await screen.findByRole("table", { name: "Swap requests" });
    expect(screen.queryByRole("region", { name: "My requests" })).not.toBeInTheDocument();
    expect(argsOf(calls, "my_swaps")).toEqual([]);
  });
});
