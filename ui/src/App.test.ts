import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import App from "./App.svelte";
import { app, resetSession, signIn, idleTimerRunning } from "./lib/session.svelte";
import { fakeBackend, refuse, shimMissingCommands } from "./test/ipc";
import { clinic, signedOut, status } from "./test/fixtures";
import { submitSetup } from "./test/screen";

const info = (initialised: boolean) => ({ version: "0.1.0", database: "/tmp/c.db", initialised, device_id: "d" });
const today = { clinic_id: clinic.id, date: "2026-03-09", entries: [], counts: { booked: 0, checked_in: 0, in_progress: 0, completed: 0, no_show: 0 } };

describe("the shell: setup, sign-in, lock", () => {
  beforeEach(() => {
    resetSession();
    shimMissingCommands();
    window.location.hash = "#/today";
  });
  afterEach(() => vi.useRealTimers());

  it("first run: the setup form creates the clinic and the admin, then opens the app", async () => {
    const calls = fakeBackend({
      app_info: () => info(false),
      first_run_setup: () => status("admin"),
      update_user: () => ({}),
      list_clinics: () => [clinic],
      todays_appointments: () => today,
    });
    render(App);
    await screen.findByRole("heading", { name: "Set up ClinicDesk" });
    await submitSetup("Alex Admin");
    await screen.findByRole("navigation", { name: "Main" });
    expect(calls.find((c) => c.cmd === "first_run_setup")?.args).toEqual({
      clinic: { name: "Calgary North", code: "CGY", timezone: "America/Edmonton" },
      username: "admin",
      password: "correct horse battery",
    });
    expect(calls.find((c) => c.cmd === "update_user")?.args).toEqual({ userId: "u1", fields: { display_name: "Alex Admin" } });
    const nav = screen.getByRole("navigation", { name: "Main" });
    for (const name of ["Schedule", "Today", "Waitlist", "Reminders", "Credentials", "Roster", "Cases", "KPIs", "Capacity", "Admin"]) {
      expect(within(nav).getByRole("link", { name })).toBeInTheDocument();
    }
  });

  it("shows a setup refusal in the API's words and keeps the form", async () => {
    fakeBackend({ app_info: () => info(false), first_run_setup: () => refuse("invalid_input", "timezone: 'Mars/Base' is not an IANA time zone") });
    render(App);
    await screen.findByRole("heading", { name: "Set up ClinicDesk" });
    await fireEvent.input(screen.getByLabelText("Clinic name"), { target: { value: "X" } });
    await fireEvent.input(screen.getByLabelText("Time zone"), { target: { value: "Mars/Base" } });
    await fireEvent.input(screen.getByLabelText("Clinic code"), { target: { value: "X" } });
    await fireEvent.input(screen.getByLabelText("Admin username"), { target: { value: "a" } });
    await fireEvent.input(screen.getByLabelText("Admin display name"), { target: { value: "A" } });
    await fireEvent.input(screen.getByLabelText("Admin password"), { target: { value: "p" } });
    await fireEvent.click(screen.getByRole("button", { name: "Create clinic" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("'Mars/Base' is not an IANA time zone");
    expect(screen.getByLabelText("Time zone")).toHaveValue("Mars/Base");
  });

  it("sign-in: a refusal is shown and the username kept; success shows only the role's navigation", async () => {
    let attempts = 0;
    fakeBackend({
      app_info: () => info(true),
      session_status: () => signedOut,
      login: () => (attempts++ === 0 ? refuse("bad_credentials", "wrong username or password") : status("front_desk")),
      list_clinics: () => [clinic],
      todays_appointments: () => today,
    });
    render(App);
    const user = await screen.findByLabelText("Username");
    await fireEvent.input(user, { target: { value: "desk" } });
    await fireEvent.input(screen.getByLabelText("Password"), { target: { value: "nope" } });
    await fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("wrong username or password");
    expect(screen.getByLabelText("Username")).toHaveValue("desk");
    await fireEvent.input(screen.getByLabelText("Password"), { target: { value: "right" } });
    await fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    const nav = await screen.findByRole("navigation", { name: "Main" });
    expect(within(nav).getAllByRole("link").map((a) => a.textContent)).toEqual(["Schedule", "Today", "Waitlist", "Reminders", "Roster"]);
    expect(await screen.findByRole("heading", { name: /^Today/ })).toBeInTheDocument();
  });

  it("a command answered `locked` brings up the lock screen; the same user unlocks", async () => {
    let locked = false;
    let unlockTries = 0;
    fakeBackend({
      app_info: () => info(true),
      session_status: () => status("front_desk"),
      list_clinics: () => [clinic],
      todays_appointments: () => today,
      list_waitlist: () => (locked ? refuse("locked", "the session is locked after inactivity: enter your password to unlock") : []),
      unlock: () => (unlockTries++ === 0 ? refuse("bad_credentials", "wrong username or password") : ((locked = false), status("front_desk"))),
    });
    render(App);
    await screen.findByRole("heading", { name: /^Today/ });
    locked = true;
    window.location.hash = "#/waitlist"; // the waitlist's load is refused: locked
    await screen.findByRole("heading", { name: "Locked" });
    expect(screen.getByText(/enter your password to unlock/)).toBeInTheDocument();
    await fireEvent.input(screen.getByLabelText("Password"), { target: { value: "bad" } });
    await fireEvent.click(screen.getByRole("button", { name: "Unlock" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("wrong username or password");
    await fireEvent.input(screen.getByLabelText("Password"), { target: { value: "good" } });
    await fireEvent.click(screen.getByRole("button", { name: "Unlock" }));
    await screen.findByRole("navigation", { name: "Main" });
  });

  it("the lock screen offers signing in as someone else", async () => {
    const calls = fakeBackend({ app_info: () => info(true), session_status: () => status("front_desk", true), list_clinics: () => [clinic], logout: () => signedOut });
    render(App);
    await screen.findByRole("heading", { name: "Locked" });
    expect(screen.getByText(/Dana Desk/)).toBeInTheDocument();
    await fireEvent.click(screen.getByRole("button", { name: "Sign in as someone else" }));
    await screen.findByRole("button", { name: "Sign in" });
    expect(calls.some((c) => c.cmd === "logout")).toBe(true);
  });

  it("locks on the UI's own idle timer and tells the Rust side", async () => {
    vi.useFakeTimers();
    const calls = fakeBackend({ login: () => status("front_desk"), list_clinics: () => [clinic], lock: () => status("front_desk", true), activity: () => status() });
    await signIn("desk", "pw");
    expect(app.phase).toBe("app");
    expect(idleTimerRunning()).toBe(true);
    await vi.advanceTimersByTimeAsync(14 * 60_000);
    expect(app.phase).toBe("app");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(app.phase).toBe("locked");
    await waitFor(() => expect(calls.some((c) => c.cmd === "lock")).toBe(true));
  });

  it("opens the help overlay with ?", async () => {
    fakeBackend({ app_info: () => info(true), session_status: () => status("front_desk"), list_clinics: () => [clinic], todays_appointments: () => today });
    render(App);
    await screen.findByRole("navigation", { name: "Main" });
    await fireEvent.keyDown(window, { key: "?" });
    expect(await screen.findByRole("dialog", { name: "Keyboard shortcuts" })).toBeInTheDocument();
  });
});
