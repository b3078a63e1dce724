import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import DisplayPreferences from "./DisplayPreferences.svelte";
import { fakeBackend, refuse } from "../test/ipc";
import { clinic } from "../test/fixtures";
import { app, displayFormat } from "../lib/session.svelte";
import { fmtDateTimeLong } from "../lib/format";

describe("one's own date and time format", () => {
  it("shows the clinic's, saves an override, and the screens' format follows at once", async () => {
    app.clinics = [{ ...clinic, display_locale: null, hour_cycle: null, country: "CA" }];
    app.clinicId = clinic.id;
    app.prefs = { display_locale: null, hour_cycle: null };
    const calls = fakeBackend({
      set_display_preferences: (a) => {
        const f = a.fields as Record<string, string>;
        return { display_locale: f.display_locale || null, hour_cycle: f.hour_cycle || null };
      },
    });
    render(DisplayPreferences, { onclose: () => {} });
    const form = screen.getByRole("form", { name: "Date and time format" });
    // The clinic's (from its country): English (Canada), 12-hour.
    expect(within(form).getByRole("option", { name: "The clinic's (English (Canada))" })).toBeInTheDocument();
    expect(within(form).getByRole("option", { name: "The clinic's (12-hour)" })).toBeInTheDocument();
    expect(form).toHaveTextContent("Example: Mon, Dec 7, 2026, 9:05 p.m.");
    await fireEvent.change(within(form).getByLabelText("Language and region"), { target: { value: "en-GB" } });
    await fireEvent.change(within(form).getByLabelText("Clock"), { target: { value: "h23" } });
    expect(form).toHaveTextContent("Example: Mon 7 Dec 2026, 21:05");
    await fireEvent.click(within(form).getByRole("button", { name: "Save format" }));
    await screen.findByText(/Dates and times now read like this: Mon 7 Dec 2026, 21:05/);
    expect(calls.at(-1)?.args.fields).toEqual({ display_locale: "en-GB", hour_cycle: "h23" });
    expect(displayFormat()).toEqual({ locale: "en-GB", hour_cycle: "h23" });
    expect(fmtDateTimeLong(displayFormat(), Date.UTC(2026, 11, 7, 21, 5), "UTC")).toBe("Mon 7 Dec 2026, 21:05");
  });

  it("a refused save says why and changes nothing", async () => {
    app.clinics = [{ ...clinic }];
    app.clinicId = clinic.id;
    app.prefs = { display_locale: null, hour_cycle: null };
    fakeBackend({ set_display_preferences: () => refuse("invalid_input", "display_locale: 'xx' is not a display locale ClinicDesk formats") });
    render(DisplayPreferences, { onclose: () => {} });
    await fireEvent.change(screen.getByLabelText("Language and region"), { target: { value: "fr-CA" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save format" }));
    await screen.findByText(/is not a display locale/);
    expect(app.prefs).toEqual({ display_locale: null, hour_cycle: null });
    expect(screen.queryByText(/now read like this/)).toBeNull();
  });
});
