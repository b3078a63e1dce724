import { describe, expect, it, beforeEach, vi } from "vitest";
import { render, screen, fireEvent, waitFor } from "@testing-library/svelte";
import BookingDialog from "./BookingDialog.svelte";
import { fakeBackend, refuse, shimMissingCommands } from "../test/ipc";
import { ann, appointment, CLINIC_ID, drLee } from "../test/fixtures";

describe("BookingDialog", () => {
  beforeEach(() => shimMissingCommands());

  const props = (onbooked = vi.fn(), canOverride = false) => ({
    clinicId: CLINIC_ID, tz: "America/Edmonton", providers: [drLee], rooms: [],
    initial: { providerId: "s1", start: "2026-03-09 09:00", duration: 30, date: "2026-03-09" },
    canOverride, onbooked, onclose: vi.fn(),
  });

  async function pickAnn() {
    const box = screen.getByRole("combobox", { name: "Patient" });
    await fireEvent.input(box, { target: { value: "smith" } });
    await fireEvent.mouseDown(await screen.findByRole("option", { name: /Smith, Ann/ }));
  }

  it("is a dialog named Book appointment with the booking fields", () => {
    render(BookingDialog, props());
    const dlg = screen.getByRole("dialog", { name: "Book appointment" });
    expect(dlg).toBeInTheDocument();
    expect(screen.getByLabelText("Provider")).toHaveValue("s1");
    expect(screen.getByLabelText("Start")).toHaveValue("2026-03-09 09:00");
    expect(screen.getByLabelText("Duration (minutes)")).toHaveValue(30);
    expect(screen.getByRole("button", { name: "Book" })).toBeInTheDocument();
  });

  it("shows a double-booking refusal in the API's words and keeps what was typed", async () => {
    const calls = fakeBackend({
      search_patients: () => [ann],
      book_appointment: () => refuse("conflict", "Robin Lee already has an appointment at 09:00"),
    });
    const onbooked = vi.fn();
    render(BookingDialog, props(onbooked));
    await pickAnn();
    await fireEvent.input(screen.getByLabelText("Duration (minutes)"), { target: { value: "45" } });
    await fireEvent.input(screen.getByLabelText("Reason for visit"), { target: { value: "Knee" } });
    await fireEvent.click(screen.getByRole("button", { name: "Book" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Robin Lee already has an appointment at 09:00");
    expect(onbooked).not.toHaveBeenCalled();
    expect(screen.getByLabelText("Duration (minutes)")).toHaveValue(45);
    expect(screen.getByLabelText("Reason for visit")).toHaveValue("Knee");
    expect(screen.getByRole("combobox", { name: "Patient" })).toHaveValue("Smith, Ann (1980-02-03) — CGY-0001");
    expect(calls.at(-1)).toEqual({
      cmd: "book_appointment",
      args: { clinicId: CLINIC_ID, fields: { patient_id: "p1", provider_id: "s1", start: "2026-03-09 09:00", duration_minutes: "45", reason: "Knee" } },
    });
  });

  it("books and tells the caller", async () => {
    fakeBackend({ search_patients: () => [ann], book_appointment: () => appointment() });
    const onbooked = vi.fn();
    render(BookingDialog, props(onbooked));
    await pickAnn();
    await fireEvent.click(screen.getByRole("button", { name: "Book" }));
    await waitFor(() => expect(onbooked).toHaveBeenCalledTimes(1));
  });

  it("asks for a patient before calling the API", async () => {
    const calls = fakeBackend({});
    render(BookingDialog, props());
    await fireEvent.click(screen.getByRole("button", { name: "Book" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Choose a patient");
    expect(calls.filter((c) => c.cmd === "book_appointment")).toEqual([]);
  });

  it("an appointment type sets its duration and is sent", async () => {
    const calls = fakeBackend({
      list_appointment_types: () => [{ id: "t1", clinic_id: null, name: "Assessment", code: "A", duration_minutes: 60, color: null, is_active: true }],
      search_patients: () => [ann],
      book_appointment: () => appointment(),
    });
    render(BookingDialog, props());
    const type = await screen.findByLabelText("Appointment type");
    await fireEvent.change(type, { target: { value: "t1" } });
    expect(screen.getByLabelText("Duration (minutes)")).toHaveValue(60);
    await pickAnn();
    await fireEvent.click(screen.getByRole("button", { name: "Book" }));
    await waitFor(() => expect(calls.at(-1)?.cmd).toBe("book_appointment"));
    expect(calls.at(-1)?.args.fields).toMatchObject({ appointment_type_id: "t1", duration_minutes: "60" });
  });

  it("passes a manager's override reason", async () => {
    const calls = fakeBackend({ search_patients: () => [ann], book_appointment: () => appointment() });
    render(BookingDialog, props(vi.fn(), true));
    await pickAnn();
    await fireEvent.input(screen.getByLabelText("Override reason"), { target: { value: "Covering for Dr Wu" } });
    await fireEvent.click(screen.getByRole("button", { name: "Book" }));
    await waitFor(() => expect(calls.at(-1)?.cmd).toBe("book_appointment"));
    expect((calls.at(-1)?.args.fields as Record<string, string>).override_reason).toBe("Covering for Dr Wu");
  });

  it("lists a series' conflicts before saving", async () => {
    const calls = fakeBackend({
      search_patients: () => [ann],
      preview_series: () => [
        { index: 0, local_start: "2026-03-10 09:00", start_at: 1, problem: null },
        { index: 1, local_start: "2026-03-12 09:00", start_at: 2, problem: "Robin Lee is blocked: Holiday" },
      ],
    });
    render(BookingDialog, props());
    await pickAnn();
    await fireEvent.click(screen.getByLabelText("Repeat"));
    await fireEvent.input(screen.getByLabelText("Weekdays"), { target: { value: "tue,thu" } });
    await fireEvent.input(screen.getByLabelText("Occurrences"), { target: { value: "2" } });
    await fireEvent.click(screen.getByRole("button", { name: "Check series" }));
    const table = await screen.findByRole("table", { name: "Series occurrences" });
    expect(table).toHaveTextContent("Robin Lee is blocked: Holiday");
    expect(screen.getByText("1 of 2 occurrences have a conflict.")).toBeInTheDocument();
    expect(calls.at(-1)?.args.fields).toMatchObject({ weekdays: "tue,thu", count: "2", every_n_weeks: "1" });
    expect(screen.getByRole("button", { name: "Book series" })).toBeInTheDocument();
  });

  it("fills provider and start from a free slot", async () => {
    fakeBackend({ available_slots: () => [{ provider_id: "s1", start_at: Date.UTC(2026, 2, 9, 17, 30), end_at: 0, local_start: "2026-03-09 11:30" }] });
    render(BookingDialog, props());
    await fireEvent.click(screen.getByRole("button", { name: "Find free slots" }));
    // No clinic loaded, no setting: en-US, 12-hour (the formats are format.test.ts's).
    await fireEvent.click(await screen.findByRole("button", { name: "11:30 AM Robin Lee" }));
    expect(screen.getByLabelText("Start")).toHaveValue("2026-03-09 11:30");
  });

  it("says so where the type is chosen when the types cannot be read", async () => {
    fakeBackend({ list_appointment_types: () => refuse("storage_error", "the database is busy") });
    render(BookingDialog, props());
    expect(await screen.findByText("Appointment types could not be read: the database is busy")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Book" })).toBeEnabled();
  });
});
