// A calm shell (issue 15, point 3): the screens before the app are centred with the first field
// focused; the bar holds the navigation, the clinic, one account menu and the help, so it fits
// 1280 px for every role; a failed call is never silent.
import { beforeEach, describe, expect, it } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import App from "./App.svelte";
import { app, resetSession } from "./lib/session.svelte";
import { failures, reportFailure } from "./lib/failures.svelte";
import { fakeBackend, shimMissingCommands } from "./test/ipc";
import { clinic, signedOut, status } from "./test/fixtures";

const info = { version: "0.1.0", database: "/tmp/c.db", initialised: true, device_id: "d" };
const today = { clinic_id: clinic.id, date: "2026-03-09", entries: [], counts: { booked: 0, checked_in: 0, in_progress: 0, completed: 0, no_show: 0 } };

function rejection(reason: unknown): Event {
  const ev = new Event("unhandledrejection");
  Object.defineProperty(ev, "reason", { value: reason });
  return ev;
}

describe("a calm shell", () => {
  beforeEach(() => {
    resetSession();
    shimMissingCommands();
    failures.last = null;
    window.location.hash = "#/today";
  });

  it("centres the sign-in card and puts the cursor in Username", async () => {
    fakeBackend({ app_info: () => info, session_status: () => signedOut });
    render(App);
    const user = await screen.findByLabelText("Username");
    await waitFor(() => expect(user).toHaveFocus());
    expect(screen.getByRole("form", { name: "Sign in" }).closest("main")?.parentElement).toHaveClass("centered");
  });

  it("the lock screen is centred too, with the password focused", async () => {
    fakeBackend({ app_info: () => info, session_status: () => status("front_desk", true), list_clinics: () => [clinic] });
    render(App);
    await screen.findByRole("heading", { name: "Locked" });
    await waitFor(() => expect(screen.getByLabelText("Password")).toHaveFocus());
    expect(screen.getByRole("heading", { name: "Locked" }).closest(".centered")).not.toBeNull();
  });

  it("keeps the admin's bar to the navigation, the clinic, one account menu and the help", async () => {
    const calls = fakeBackend({ app_info: () => info, session_status: () => status("admin"), list_clinics: () => [clinic], todays_appointments: () => today, logout: () => signedOut });
    render(App);
    const nav = await screen.findByRole("navigation", { name: "Main" });
    expect(within(nav).getAllByRole("link")).toHaveLength(11);
    const bar = nav.closest("header")!;
    // Outside the menu, the bar has one button: the help.
    const loose = [...bar.querySelectorAll("button")].filter((b) => !b.closest("details"));
    expect(loose.map((b) => b.getAttribute("aria-label") ?? b.textContent)).toEqual(["Keyboard shortcuts"]);
    const menu = bar.querySelector("details.account")!;
    expect(menu.querySelector("summary")).toHaveTextContent(app.session!.display_name);
    expect(menu).not.toHaveAttribute("open");
    await fireEvent.click(menu.querySelector("summary")!);
    const account = within(bar).getByRole("group", { name: "Account" });
    for (const name of ["My password", "Lock", "Sign out"]) expect(within(account).getByRole("button", { name })).toBeInTheDocument();
    await fireEvent.click(within(account).getByRole("button", { name: "Sign out" }));
    await waitFor(() => expect(calls.some((c) => c.cmd === "logout")).toBe(true));
    await screen.findByRole("button", { name: "Sign in" });
  });

  it("shows a failure that no screen caught, at the top, until dismissed; never a session code", async () => {
    fakeBackend({ app_info: () => info, session_status: () => status("front_desk"), list_clinics: () => [clinic], todays_appointments: () => today });
    render(App);
    await screen.findByRole("navigation", { name: "Main" });
    expect(screen.queryByRole("alert")).toBeNull();
    window.dispatchEvent(rejection({ code: "ipc_error", message: "command backup not allowed" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("command backup not allowed");
    await fireEvent.click(screen.getByRole("button", { name: "Dismiss" }));
    expect(screen.queryByRole("alert")).toBeNull();
    reportFailure({ code: "locked", message: "the session is locked" });
    expect(failures.last).toBeNull();
    reportFailure(new Error("boom"));
    expect(await screen.findByRole("alert")).toHaveTextContent("boom");
  });

  it("before sign-in too", async () => {
    fakeBackend({ app_info: () => info, session_status: () => signedOut });
    render(App);
    await screen.findByLabelText("Username");
    window.dispatchEvent(rejection("the dialog could not open"));
    expect(await screen.findByRole("alert")).toHaveTextContent("the dialog could not open");
  });
});
