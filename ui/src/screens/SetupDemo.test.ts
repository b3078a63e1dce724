// First run: the new database can be filled with demo data instead, then signed in to.
import { beforeEach, describe, expect, it } from "vitest";
import { render, screen, fireEvent } from "@testing-library/svelte";
import App from "../App.svelte";
import { app, resetSession } from "../lib/session.svelte";
import { fakeBackend, shimMissingCommands } from "../test/ipc";

describe("first run with demo data", () => {
  beforeEach(() => {
    resetSession();
    shimMissingCommands();
    window.location.hash = "#/";
  });

  it("generates the demo into the new database and goes to sign-in", async () => {
    const calls = fakeBackend({
      app_info: () => ({ version: "0.1.0", database: "/tmp/c.db", initialised: false, device_id: "d" }),
      generate_demo: () => ({ size: "small", rows_total: 12, rows_by_table: [["clinics", 1]], seconds: 1, rows_per_second: 12, admin_username: "admin" }),
    });
    render(App);
    await screen.findByRole("heading", { name: "Set up ClinicDesk" });
    await fireEvent.input(screen.getByLabelText("Password for the demo users"), { target: { value: "clinicdesk-demo" } });
    await fireEvent.click(screen.getByRole("button", { name: "Generate demo data" }));
    await fireEvent.click(await screen.findByRole("button", { name: "Go to sign-in" }));
    expect(await screen.findByLabelText("Username")).toBeInTheDocument();
    expect(app.info?.initialised).toBe(true);
    expect(calls.find((c) => c.cmd === "generate_demo")?.args).toEqual({ taskId: expect.stringMatching(/^demo-/), size: "small", password: "clinicdesk-demo" });
  });
});
