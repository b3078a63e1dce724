// The sync conflicts inbox (issue 13): the open conflicts in front-desk words, rebooking into a
// suggested slot, the waitlist, dismissing with a note, the history, an error where the user
// looks, the empty state, the navigation's badge and who is offered the inbox; axe-core over
// each state (zero WCAG 2.1 A/AA violations).
import { beforeEach, describe, expect, it } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import Conflicts from "./Conflicts.svelte";
import App from "../App.svelte";
import { app, resetSession } from "../lib/session.svelte";
import { badgeCount, conflicts, conflictsNavShown } from "../lib/conflicts.svelte";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { clinic, CLINIC_ID, sessionFor, status } from "../test/fixtures";
import { expectNoAxeViolations } from "../test/axe";
import type { Session } from "../bindings";
import type { SyncConflictView } from "../lib/types";

const conflict = (over: Partial<SyncConflictView> = {}): SyncConflictView => ({
  id: "c1", clinic_id: CLINIC_ID, kind: "appointment_overlap", resource: "provider", appointment_id: "a9", winner_id: "a1",
  patient: "Jane Doe", patient_phone: "+1 403 555 0101", provider: "Robin Lee", slot: "Tue 2026-03-10 10:00–10:30",
  winner: "Ann Smith with Robin Lee", detail: "the provider was already booked", device_id: "d1", this_pc: true,
  created_at: 0, resolved_at: null, resolved_by: null, resolution: null, rebooked_id: null, note: null,
  message: "Jane Doe's booking …",
  ...over,
});
const resolved = (how: string, over: Partial<SyncConflictView> = {}) =>
  conflict({ resolved_at: Date.UTC(2026, 2, 9, 17), resolved_by: "Dana Desk", resolution: how, ...over });
const slot = (over: Record<string, unknown> = {}) => ({
  provider_id: "s1", provider: "Robin Lee", same_provider: true, start_at: Date.UTC(2026, 2, 10, 17), end_at: Date.UTC(2026, 2, 10, 17, 30),
  local_start: "2026-03-10 11:00", label: "Tue 2026-03-10 11:00–11:30 with Robin Lee", ...over,
});

beforeEach(() => {
  resetSession();
  document.documentElement.lang = "en";
  document.title = "ClinicDesk";
  shimMissingCommands();
  app.session = sessionFor("front_desk");
  app.clinicId = CLINIC_ID;
  app.clinics = [clinic];
  app.phase = "app";
  conflicts.open = [];
  window.location.hash = "#/conflicts";
});

const card = () => screen.findByRole("article", { name: /Jane Doe/ });

describe("Conflicts inbox", () => {
  it("explains each open conflict in front-desk words", async () => {
    fakeBackend({ list_sync_conflicts: () => [conflict(), conflict({ id: "c2", this_pc: false, patient: "Bo Chan", patient_phone: null, winner: null })] });
    render(Conflicts);
    const c = await card();
    expect(c).toHaveTextContent(
      "Two front desks booked Robin Lee for Tue 2026-03-10 10:00–10:30. This PC's booking for Jane Doe (phone +1 403 555 0101) was cancelled; the appointment booked first (Ann Smith with Robin Lee) was kept.",
    );
    expect(within(c).getByRole("link", { name: "+1 403 555 0101" })).toHaveAttribute("href", "tel:+1 403 555 0101");
    expect(await screen.findByRole("article", { name: /Bo Chan/ })).toHaveTextContent("Another PC's booking for Bo Chan was cancelled");
    await expectNoAxeViolations(document, "Conflicts: open");
  });

  it("rebooks into a suggested slot, the same provider's first", async () => {
    let done = false;
    const calls = fakeBackend({
      list_sync_conflicts: () => (done ? [] : [conflict()]),
      suggest_rebook_slots: () => [slot(), slot({ provider_id: "s2", provider: "Kim Wu", same_provider: false, label: "Tue 2026-03-10 10:00–10:30 with Kim Wu", local_start: "2026-03-10 10:00" })],
      rebook_sync_conflict: () => ((done = true), resolved("rebooked", { rebooked_id: "a10" })),
    });
    render(Conflicts);
    const c = await card();
    await fireEvent.click(within(c).getByRole("button", { name: "Rebook Jane Doe" }));
    const list = await within(c).findByRole("list", { name: "Free slots for Jane Doe" });
    const buttons = within(list).getAllByRole("button").map((b) => b.textContent);
    expect(buttons).toEqual(["Book Tue 2026-03-10 11:00–11:30 with Robin Lee", "Book Tue 2026-03-10 10:00–10:30 with Kim Wu"]);
    await expectNoAxeViolations(document, "Conflicts: suggested slots");
    await fireEvent.click(within(list).getAllByRole("button")[0]!);
    expect(await screen.findByRole("status")).toHaveTextContent("Rebooked (Tue 2026-03-10 11:00–11:30 with Robin Lee) Jane Doe.");
    expect(calls.find((x) => x.cmd === "rebook_sync_conflict")?.args).toEqual({ conflictId: "c1", providerId: "s1", start: "2026-03-10 11:00", note: null });
    expect(await screen.findByText("No open conflicts: nothing to rebook.")).toBeInTheDocument();
  });

  it("a slot taken meanwhile: the refusal shows on the card and the conflict stays open", async () => {
    fakeBackend({
      list_sync_conflicts: () => [conflict()],
      suggest_rebook_slots: () => [slot()],
      rebook_sync_conflict: () => refuse("conflict", "Robin Lee is already booked then"),
    });
    render(Conflicts);
    const c = await card();
    await fireEvent.click(within(c).getByRole("button", { name: "Rebook Jane Doe" }));
    await fireEvent.click(await within(c).findByRole("button", { name: /Book Tue 2026-03-10 11:00/ }));
    expect(await within(c).findByRole("alert")).toHaveTextContent("Robin Lee is already booked then");
    expect(screen.getByRole("article", { name: /Jane Doe/ })).toBeInTheDocument();
    await expectNoAxeViolations(document, "Conflicts: error");
  });

  it("adds the patient to the waitlist", async () => {
    let done = false;
    const calls = fakeBackend({
      list_sync_conflicts: () => (done ? [] : [conflict()]),
      waitlist_sync_conflict: () => ((done = true), resolved("waitlisted")),
    });
    render(Conflicts);
    await fireEvent.click(within(await card()).getByRole("button", { name: "Add Jane Doe to waitlist" }));
    expect(await screen.findByRole("status")).toHaveTextContent("Added to the waitlist: Jane Doe.");
    await waitFor(() => expect(screen.getByRole("status")).toHaveFocus());
    expect(calls.find((x) => x.cmd === "waitlist_sync_conflict")?.args).toEqual({ conflictId: "c1", note: null });
  });

  it("dismisses with a note", async () => {
    let done = false;
    const calls = fakeBackend({
      list_sync_conflicts: () => (done ? [] : [conflict()]),
      resolve_sync_conflict: () => ((done = true), resolved("dismissed", { note: "patient cancelled" })),
    });
    render(Conflicts);
    await fireEvent.click(within(await card()).getByRole("button", { name: "Dismiss conflict of Jane Doe" }));
    const form = screen.getByRole("form", { name: "Dismiss conflict of Jane Doe" });
    const submit = within(form).getByRole("button", { name: "Dismiss with this note" });
    expect(submit).toBeDisabled();
    await fireEvent.input(within(form).getByRole("textbox", { name: /Note/ }), { target: { value: "patient cancelled" } });
    await expectNoAxeViolations(document, "Conflicts: dismiss form");
    await fireEvent.click(submit);
    expect(await screen.findByRole("status")).toHaveTextContent("Dismissed the conflict of Jane Doe.");
    expect(calls.find((x) => x.cmd === "resolve_sync_conflict")?.args).toEqual({ id: "c1", resolution: "dismissed", note: "patient cancelled", rebookedAppointmentId: null });
  });

  it("the history shows resolved conflicts with how, who and when", async () => {
    const calls = fakeBackend({
      list_sync_conflicts: (a) => (a.all ? [resolved("dismissed", { note: "patient cancelled" })] : []),
    });
    render(Conflicts);
    expect(await screen.findByText("No open conflicts: nothing to rebook.")).toBeInTheDocument();
    await fireEvent.click(screen.getByRole("checkbox", { name: "History" }));
    const table = await screen.findByRole("table", { name: "Resolved conflicts" });
    const row = (await within(table).findByText("patient cancelled")).closest("tr")!;
    expect(row).toHaveTextContent("Jane Doe");
    expect(row).toHaveTextContent("Dismissed");
    expect(row).toHaveTextContent("Dana Desk");
    expect(calls.some((x) => x.cmd === "list_sync_conflicts" && x.args.all === true)).toBe(true);
    await expectNoAxeViolations(document, "Conflicts: history");
  });

  it("a refused list shows why", async () => {
    fakeBackend({ list_sync_conflicts: () => refuse("forbidden", "you may not see sync conflicts") });
    render(Conflicts);
    expect(await screen.findByRole("alert")).toHaveTextContent("you may not see sync conflicts");
    expect(screen.queryByText(/No open conflicts/)).not.toBeInTheDocument();
  });
});

describe("the navigation's badge", () => {
  const manager = sessionFor("manager");
  const desk = sessionFor("front_desk");
  const viewer: Session = { ...sessionFor(), roles: [{ clinic_id: CLINIC_ID, role: "viewer" }] };

  it("counts this PC's conflicts on the front desk and the clinic's for managers", () => {
    const open = [conflict(), conflict({ id: "c2", this_pc: false })];
    expect(badgeCount(desk, open)).toBe(1);
    expect(badgeCount(manager, open)).toBe(2);
    expect(conflictsNavShown(desk, 0)).toBe(false);
    expect(conflictsNavShown(desk, 1)).toBe(true);
    expect(conflictsNavShown(manager, 0)).toBe(true);
    expect(conflictsNavShown(viewer, 3)).toBe(false);
  });

  function backend(role: "front_desk" | "manager", open: SyncConflictView[]) {
    return fakeBackend({
      session_status: () => status(role),
      app_info: () => ({ version: "1.0.0", database_exists: true, initialised: true, path: "/tmp/x" }),
      list_clinics: () => [clinic],
      list_sync_conflicts: () => open,
      sync_status: () => ({ enrolled: false, server: null, online: false, pending_changes: 0, last_ok_at: null, last_error: null, clock_skew_ms: null, clock_warning: null }),
    });
  }

  it("front desk: the link shows with the count while this PC has open conflicts", async () => {
    window.location.hash = "#/schedule";
    backend("front_desk", [conflict(), conflict({ id: "c2", this_pc: false })]);
    render(App);
    const nav = await screen.findByRole("navigation", { name: "Main" });
    const link = await within(nav).findByRole("link", { name: /Conflicts/ });
    await waitFor(() => expect(link).toHaveTextContent("Conflicts1(1 open)"));
  });

  it("front desk: hidden when nothing is open; managers keep it without a count", async () => {
    window.location.hash = "#/schedule";
    backend("front_desk", []);
    const { unmount } = render(App);
    const nav = await screen.findByRole("navigation", { name: "Main" });
    await within(nav).findByRole("link", { name: "Waitlist" });
    expect(within(nav).queryByRole("link", { name: /Conflicts/ })).not.toBeInTheDocument();
    unmount();
    backend("manager", []);
    render(App);
    const nav2 = await screen.findByRole("navigation", { name: "Main" });
    expect(await within(nav2).findByRole("link", { name: "Conflicts" })).toBeInTheDocument();
  });
});
