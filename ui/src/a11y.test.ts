// Accessibility checked by a tool: axe-core's WCAG 2.0/2.1 level A and AA rules (src/test/axe.ts)
// over every screen, as each role sees it inside the whole app (the bar, the navigation, the
// account menu), every Admin section, the screens before sign-in, and the dialogs and panels the
// screens open — each with realistic data (src/test/world.ts), checked only once that data is
// drawn. And a check that the checker can fail. Colour contrast is not checked here: jsdom has
// no layout and no computed colours (axe reports it as "incomplete"; see src/test/axe.ts).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { render, screen, fireEvent, waitFor, within } from "@testing-library/svelte";
import App from "./App.svelte";
import { app, resetSession } from "./lib/session.svelte";
import { keys } from "./lib/keys.svelte";
import { failures, reportFailure } from "./lib/failures.svelte";
import { applyProgress, tasks } from "./lib/progress.svelte";
import { navFor, type Screen } from "./lib/access";
import { refuse, shimMissingCommands } from "./test/ipc";
import axe from "axe-core";
import { axeViolations, describeViolations, expectNoAxeViolations, WCAG_TAGS } from "./test/axe";
import { SOUTH, world } from "./test/world";
import { appointment, CLINIC_ID, sessionFor, signedOut, status } from "./test/fixtures";
import indexHtml from "../index.html?raw";

type Role = "admin" | "manager" | "front_desk";

/** The page as index.html makes it: jsdom's test document has neither a language nor a title. */
function asIndexHtml() {
  document.documentElement.lang = "en";
  document.title = "ClinicDesk";
}

beforeEach(() => {
  resetSession();
  shimMissingCommands();
  asIndexHtml();
  window.location.hash = "#/today";
});
afterEach(() => {
  keys.helpOpen = false;
  for (const k of Object.keys(tasks)) delete tasks[k];
  failures.last = null;
});

/** Let the screen's remaining reads land (they are answered at once by the fake backend). */
async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

describe("the checker", () => {
  it("reports an unlabeled field, a nameless button and an image without text", async () => {
    const box = document.createElement("div");
    box.innerHTML = `<form><input type="text" name="q"><button type="submit"></button></form><img src="x.png">`;
    document.body.appendChild(box);
    try {
      const found = await axeViolations(box);
      expect(found.map((v) => v.id).sort()).toEqual(["button-name", "image-alt", "label"]);
      const text = describeViolations(found);
      expect(text).toContain("[label] Form elements must have labels");
      expect(text).toContain('<input type="text" name="q">');
      await expect(expectNoAxeViolations(box)).rejects.toThrow(/3 WCAG 2.1 A\/AA violation\(s\)[\s\S]*\[button-name\]/);
    } finally {
      box.remove();
    }
  });

  it("reports page-level problems when given the document", async () => {
    document.documentElement.removeAttribute("lang");
    const found = await axeViolations(document);
    expect(found.map((v) => v.id)).toContain("html-has-lang");
  });

  it("cannot judge colour contrast in jsdom: it says so (incomplete), never passes it", async () => {
    const box = document.createElement("div");
    box.innerHTML = `<p style="color: #777; background: #888">Faint text</p>`;
    document.body.appendChild(box);
    try {
      const r = await axe.run(box, { runOnly: { type: "tag", values: WCAG_TAGS } });
      expect(r.passes.map((x) => x.id)).not.toContain("color-contrast");
      expect(r.violations.map((x) => x.id)).not.toContain("color-contrast");
      expect(r.incomplete.map((x) => x.id)).toContain("color-contrast");
    } finally {
      box.remove();
    }
  });

  it("the page it checks is index.html's: English, with a title", () => {
    expect(indexHtml).toMatch(/<html lang="en">/);
    expect(indexHtml).toMatch(/<title>ClinicDesk<\/title>/);
  });
});

/** What shows that a screen has drawn its data. */
const READY: Record<Screen, () => Promise<unknown>> = {
  schedule: () => screen.findByRole("button", { name: "09:45 Ann Smith with Robin Lee" }),
  today: async () => within(await screen.findByRole("table", { name: "Today's appointments" })).findByText("13:00"),
  waitlist: async () => within(await screen.findByRole("table", { name: "Waitlist entries" })).findByText("Ben Ode"),
  conflicts: () => screen.findByRole("article", { name: /Jane Doe/ }),
  reminders: async () => within(await screen.findByRole("table", { name: "Pending reminders" })).findByText("Ann Smith"),
  credentials: () => screen.findByRole("list", { name: "Credential expiry counts" }),
  roster: async () => within(await screen.findByRole("table", { name: "Shift roster" })).findAllByText(/Kim Wu/),
  cases: () => screen.findByRole("button", { name: "CGY-26-0001" }),
  kpis: () => screen.findByRole("table", { name: "KPI values" }),
  capacity: () => screen.findByRole("list", { name: "Latest capacity" }),
  admin: async () => {
    await screen.findByRole("navigation", { name: "Admin sections" });
    return screen.findAllByRole("cell"); // the first section's table, filled
  },
};

async function openApp(role: Role, screenName: Screen, rest = "", over: Parameters<typeof world>[1] = {}, ready = READY[screenName]) {
  window.location.hash = `#/${screenName}${rest}`;
  const fake = world(role, over);
  render(App);
  await screen.findByRole("navigation", { name: "Main" });
  await ready();
  await settle();
  // Every read was answered: the screen shows data, not a refusal of a missing fake.
  expect(fake.unanswered()).toEqual([]);
  return fake;
}

describe("every screen in the whole app, for each role", () => {
  for (const role of ["admin", "manager", "front_desk"] as const) {
    for (const n of navFor(sessionFor(role), CLINIC_ID)) {
      it(`${role}: ${n.label}`, async () => {
        await openApp(role, n.screen);
        await expectNoAxeViolations(document, `${n.label} (${role})`);
      });
    }
  }
});

const ADMIN_TABS: [string, () => Promise<unknown>][] = [
  ["users", () => screen.findByRole("cell", { name: "Alex Admin" })],
  ["clinics", () => screen.findByRole("cell", { name: "Calgary South" })],
  ["rooms", () => screen.findByRole("cell", { name: "Room 1" })],
  ["credential-types", () => screen.findByRole("cell", { name: "Licence" })],
  ["shifts", async () => within(await screen.findByRole("table", { name: "Shift templates" })).findByRole("cell", { name: "Day" })],
  ["appointment-types", () => screen.findByRole("cell", { name: "Physio" })],
  ["availability", async () => within(await screen.findByRole("table", { name: "Availability blocks" })).findByText("Staff meeting")],
  ["policy", () => screen.findByRole("form", { name: "Reminder policy and lock" })],
  ["backup", () => screen.findByRole("form", { name: "Backup" })],
  ["demo", () => screen.findByRole("form", { name: "Generate demo data" })],
  ["sync", () => screen.findByRole("region", { name: "Sync status" })],
  ["import", () => screen.findByRole("form", { name: "Import patients" })],
  ["interop", () => screen.findByRole("form", { name: "FHIR export" })],
  ["audit", () => screen.findByRole("cell", { name: "patients" })],
];

const tabReady = (tab: string) => ADMIN_TABS.find(([t]) => t === tab)![1];

describe("every Admin section", () => {
  for (const [tab, ready] of ADMIN_TABS) {
    it(tab, async () => {
      await openApp("admin", "admin", `/${tab}`, {}, ready);
      await expectNoAxeViolations(document, `Admin: ${tab}`);
    });
  }

  it("demo data written", async () => {
    await openApp("admin", "admin", "/demo", {
      generate_demo: () => ({ size: "small", rows_total: 612, rows_by_table: [["clinics", 1], ["patients", 500], ["appointments", 111]], seconds: 2.5, rows_per_second: 244.8, admin_username: "admin" }),
    }, tabReady("demo"));
    await fireEvent.click(screen.getByRole("radio", { name: /^Small:/ }));
    await fireEvent.input(screen.getByLabelText("Password for the demo users"), { target: { value: "demo-pass" } });
    await fireEvent.click(screen.getByRole("button", { name: "Generate demo data" }));
    await screen.findByRole("table", { name: "Demo rows by table" });
    await expectNoAxeViolations(document, "Admin: demo data written");
  });

  it("a patient import with bad rows", async () => {
    await openApp("manager", "admin", "/import", {
      import_patients: () => ({ rows: 150, imported: 0, skipped: 0, invalid: 120, errors: [{ line: 3, message: "date_of_birth: '1980-02-30' is not a valid date" }] }),
    }, tabReady("import"));
    await fireEvent.change(screen.getByLabelText("CSV file"), { target: { files: [new File(["legacy_id,first_name\nL-1,Ann\n"], "patients.csv", { type: "text/csv" })] } });
    await fireEvent.click(screen.getByRole("button", { name: "Import patients" }));
    await screen.findByRole("table", { name: "Rows with errors" });
    await expectNoAxeViolations(document, "Admin: import with errors");
  });

  it("closures generated, with the appointments on closed days", async () => {
    await openApp("manager", "admin", "/availability", {
      generate_closures: () => ({ created: [], already_closed: ["2027-12-26"], affected: [appointment({ id: "a9", start_at: Date.UTC(2027, 11, 25, 16, 0) })] }),
    }, tabReady("availability"));
    await fireEvent.input(screen.getByLabelText("Close from"), { target: { value: "2027-01-01" } });
    await fireEvent.input(screen.getByLabelText("Close until"), { target: { value: "2027-12-31" } });
    await fireEvent.click(screen.getByRole("button", { name: "Generate closures" }));
    await screen.findByRole("table", { name: "Appointments on closed days" });
    await expectNoAxeViolations(document, "Admin: closures");
  });

  it("the audit chain's verdict", async () => {
    await openApp("admin", "admin", "/audit", {}, tabReady("audit"));
    await fireEvent.click(screen.getByRole("button", { name: "Verify chain" }));
    await screen.findByText(/The audit chain is intact/);
    await expectNoAxeViolations(document, "Admin: audit verified");
  });
});

describe("the screens before the app", () => {
  const KEY = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01";
  const cases: [string, Record<string, (a: Record<string, unknown>) => unknown>, () => Promise<unknown>][] = [
    ["opening the database", { app_info: () => new Promise(() => {}) }, () => screen.findByText("Opening the clinic database…")],
    ["a database that cannot open", { app_info: () => refuse("storage_error", "the file is not a database") }, () => screen.findByRole("alert")],
    ["a missing database", { app_info: () => refuse("database_missing", "the database at /data/clinicdesk.db is missing") }, () => screen.findByRole("heading", { name: "The clinic database is missing" })],
    ["first-run setup", { app_info: () => ({ version: "0.1.0", database: "/data/c.db", initialised: false, device_id: "d" }) }, () => screen.findByRole("heading", { name: "Set up ClinicDesk" })],
    ["sign-in", { session_status: () => signedOut }, () => screen.findByRole("form", { name: "Sign in" })],
    ["the lock screen", { session_status: () => status("front_desk", true) }, () => screen.findByRole("heading", { name: "Locked" })],
  ];
  for (const [name, over, ready] of cases) {
    it(name, async () => {
      world("front_desk", over);
      render(App);
      await ready();
      await settle();
      await expectNoAxeViolations(document, name);
    });
  }

  it("a refused sign-in", async () => {
    world("front_desk", { session_status: () => signedOut, login: () => refuse("bad_credentials", "wrong username or password") });
    render(App);
    await fireEvent.input(await screen.findByLabelText("Username"), { target: { value: "desk" } });
    await fireEvent.input(screen.getByLabelText("Password"), { target: { value: "nope" } });
    await fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await screen.findByRole("alert");
    await expectNoAxeViolations(document, "sign-in refused");
  });

  it("the recovery key, shown once after setup", async () => {
    world("admin");
    render(App);
    await screen.findByRole("navigation", { name: "Main" });
    app.recoveryKey = KEY;
    app.auditKey = "ab".repeat(32);
    await screen.findByRole("heading", { name: "Your recovery key" });
    await expectNoAxeViolations(document, "recovery key notice");
  });
});

describe("the shell's menus, dialogs and messages", () => {
  it("the account menu, open", async () => {
    await openApp("manager", "today");
    const bar = screen.getByRole("navigation", { name: "Main" }).closest("header")!;
    await fireEvent.click(bar.querySelector("details.account summary")!);
    await within(bar).findByRole("group", { name: "Account" });
    await expectNoAxeViolations(document, "account menu");
  });

  it("changing one's password", async () => {
    await openApp("front_desk", "today");
    await fireEvent.click(screen.getByRole("button", { name: "My password" }));
    await screen.findByRole("dialog", { name: "Change my password" });
    await expectNoAxeViolations(document, "change password dialog");
  });

  it("one's own date and time format", async () => {
    await openApp("front_desk", "today");
    await fireEvent.click(screen.getByRole("button", { name: "Date and time format" }));
    await screen.findByRole("dialog", { name: "Date and time format" });
    await expectNoAxeViolations(document, "date and time format dialog");
  });

  it("the keyboard shortcuts", async () => {
    await openApp("front_desk", "schedule");
    await fireEvent.click(screen.getByRole("button", { name: "Keyboard shortcuts" }));
    await screen.findByRole("dialog", { name: "Keyboard shortcuts" });
    await expectNoAxeViolations(document, "help overlay");
  });

  it("a failure no screen caught, a running task's progress, and a second clinic to choose", async () => {
    const both = { ...sessionFor("admin"), roles: [{ clinic_id: CLINIC_ID, role: "admin" as const }, { clinic_id: SOUTH, role: "manager" as const }] };
    await openApp("admin", "today", "", { session_status: () => ({ ...status("admin"), user: both }) });
    reportFailure({ code: "storage_error", message: "the database is busy" });
    applyProgress({ task: "backup-1", stage: "backup", done: 3, total: 12 });
    await screen.findByRole("progressbar");
    await screen.findByRole("button", { name: "Dismiss" });
    expect(screen.getByRole("combobox", { name: "Clinic" })).toBeInTheDocument();
    await expectNoAxeViolations(document, "failure bar, progress and clinic choice");
  });
});

/** The dialog named `name`, once open. */
const dialog = (name: string | RegExp) => screen.findByRole("dialog", { name });

describe("the schedule's panels, dialogs and views", () => {
  async function openAppointment(name = "09:45 Ann Smith with Robin Lee") {
    await fireEvent.click(await screen.findByRole("button", { name }));
    return screen.findByRole("complementary", { name: "Ann Smith" });
  }

  it("an appointment's panel", async () => {
    await openApp("front_desk", "schedule");
    const panel = await openAppointment();
    await within(panel).findByText("Knee pain");
    await expectNoAxeViolations(document, "appointment panel");
  });

  it("cancelling one of a series", async () => {
    await openApp("front_desk", "schedule");
    const panel = await openAppointment("13:00 Ann Smith with Robin Lee");
    await fireEvent.click(await within(panel).findByRole("button", { name: "Cancel appointment" }));
    await within(panel).findByRole("group", { name: "Which appointments" });
    await expectNoAxeViolations(document, "cancel a series appointment");
  });

  it("moving one of a series", async () => {
    await openApp("manager", "schedule");
    const panel = await openAppointment("13:00 Ann Smith with Robin Lee");
    await fireEvent.click(await within(panel).findByRole("button", { name: "Move" }));
    await within(panel).findByRole("form", { name: "Move the appointment" });
    await expectNoAxeViolations(document, "move a series appointment");
  });

  it("a manager correcting a final status", async () => {
    await openApp("manager", "schedule");
    await fireEvent.click(await screen.findByRole("button", { name: "08:00 Ben Ode with Kim Wu" }));
    const panel = await screen.findByRole("complementary", { name: "Ben Ode" });
    await fireEvent.click(await within(panel).findByRole("button", { name: "Correct status" }));
    await within(panel).findByRole("form", { name: "Correct the status" });
    await expectNoAxeViolations(document, "correct status");
  });

  it("booking: the patient search open, free slots and a series with a conflict", async () => {
    await openApp("front_desk", "schedule", "", {
      preview_series: () => [
        { index: 0, local_start: "2026-03-10 09:00", start_at: 1, problem: null },
        { index: 1, local_start: "2026-03-12 09:00", start_at: 2, problem: "Robin Lee is blocked: Holiday" },
      ],
    });
    await fireEvent.click(screen.getByRole("button", { name: "Book appointment" }));
    const dlg = await dialog("Book appointment");
    await fireEvent.click(within(dlg).getByText("Free slots"));
    await fireEvent.click(within(dlg).getByRole("button", { name: "Find free slots" }));
    await within(dlg).findByRole("list", { name: "Free slots" });
    await fireEvent.click(within(dlg).getByLabelText("Repeat"));
    await fireEvent.click(within(dlg).getByRole("button", { name: "Check series" }));
    await within(dlg).findByRole("table", { name: "Series occurrences" });
    await fireEvent.input(within(dlg).getByRole("combobox", { name: "Patient" }), { target: { value: "smith" } });
    await within(dlg).findByRole("option", { name: /Smith, Ann/ });
    await expectNoAxeViolations(document, "booking dialog");
  });

  it("booking: registering a new patient, and a refusal a manager may override", async () => {
    await openApp("manager", "schedule", "", { book_appointment: () => refuse("conflict", "Robin Lee lacks a current CPR certificate (a manager may override with a reason)") });
    await fireEvent.click(screen.getByRole("button", { name: "Book appointment" }));
    const dlg = await dialog("Book appointment");
    await fireEvent.click(within(dlg).getByRole("button", { name: "Register new patient" }));
    await within(dlg).findByRole("group", { name: "New patient" });
    await fireEvent.click(within(dlg).getByRole("button", { name: "Book" }));
    await expectNoAxeViolations(document, "booking dialog, registering");
  });

  it("the week, by room", async () => {
    await openApp("front_desk", "schedule");
    await fireEvent.click(screen.getByRole("radio", { name: "Week" }));
    await fireEvent.click(screen.getByRole("radio", { name: "Rooms" }));
    await screen.findByRole("button", { name: /09:45 Ann Smith with Robin Lee/ });
    await settle();
    await expectNoAxeViolations(document, "week view by room");
  });

  it("today's list with an appointment open", async () => {
    await openApp("front_desk", "today");
    const table = screen.getByRole("table", { name: "Today's appointments" });
    await fireEvent.click(within(table).getAllByRole("button", { name: "Ann Smith" })[0]!);
    await screen.findByRole("complementary", { name: "Ann Smith" });
    await expectNoAxeViolations(document, "today with panel");
  });
});

describe("the other screens' forms, panels and dialogs", () => {
  it("waitlist: adding a patient", async () => {
    await openApp("front_desk", "waitlist");
    await fireEvent.click(screen.getByRole("button", { name: "Add to waitlist" }));
    await screen.findByRole("form", { name: "Add to waitlist" });
    await expectNoAxeViolations(document, "waitlist add form");
  });

  it("conflicts: suggested slots, the dismiss form and the history", async () => {
    await openApp("front_desk", "conflicts");
    await fireEvent.click(screen.getByRole("button", { name: "Rebook Jane Doe" }));
    await screen.findByRole("list", { name: "Free slots for Jane Doe" });
    await fireEvent.click(screen.getByRole("button", { name: "Dismiss conflict of Jane Doe" }));
    await screen.findByRole("form", { name: "Dismiss conflict of Jane Doe" });
    await fireEvent.click(screen.getByRole("checkbox", { name: "History" }));
    await within(await screen.findByRole("table", { name: "Resolved conflicts" })).findByText("patient cancelled");
    await expectNoAxeViolations(document, "conflicts inbox");
  });

  for (const [button, name] of [
    ["Record renewal for Robin Lee", /^Record renewal/],
    ["Record verification for Robin Lee", /^Record verification/],
    ["History for Robin Lee", /^History/],
  ] as const) {
    it(`credentials: ${button}`, async () => {
      await openApp("manager", "credentials");
      await fireEvent.click(await screen.findByRole("button", { name: button }));
      const dlg = await dialog(name);
      if (button.startsWith("History")) await within(dlg).findByRole("table", { name: "Verifications" });
      await expectNoAxeViolations(document, button);
    });
  }

  it("credentials: a staff member's credentials, an adverse action and an edit", async () => {
    await openApp("manager", "credentials");
    const staff = await screen.findByRole("table", { name: "Staff" });
    await fireEvent.click(await within(staff).findByRole("button", { name: "Credentials of Robin Lee" }));
    const panel = await screen.findByRole("region", { name: "Credentials of Robin Lee" });
    await within(panel).findByText("X1");
    await expectNoAxeViolations(document, "staff credentials panel");
    await fireEvent.click(within(panel).getByRole("button", { name: "Record adverse action on CPR" }));
    const adverse = await dialog(/^Record adverse action/);
    await expectNoAxeViolations(document, "adverse action dialog");
    await fireEvent.click(within(adverse).getByRole("button", { name: "Close" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    await fireEvent.click(within(staff).getByRole("button", { name: "Edit Robin Lee" }));
    await dialog(/^Edit staff member/);
    await expectNoAxeViolations(document, "edit staff dialog");
  });

  it("roster: a refusal to override, and cancelling a coverage need", async () => {
    await openApp("manager", "roster", "", { assign_shift: () => refuse("conflict", "Kim Wu lacks a current CPR certificate (a manager may override with a reason)") });
    const form = screen.getByRole("form", { name: "Assign a shift" });
    await waitFor(() => expect(within(form).getAllByRole("option", { name: "Kim Wu" })).toHaveLength(1));
    await fireEvent.change(within(form).getByLabelText("Staff member"), { target: { value: "s2" } });
    await fireEvent.change(within(form).getByLabelText("Shift"), { target: { value: "sh1" } });
    await fireEvent.input(within(form).getByLabelText("Shift date"), { target: { value: "2026-03-12" } });
    await fireEvent.click(within(form).getByRole("button", { name: "Assign" }));
    await screen.findByRole("form", { name: "Override: Assign" });
    await expectNoAxeViolations(document, "roster override prompt");
    await fireEvent.click(screen.getByRole("button", { name: "Cancel need 2026-03-12" }));
    await dialog("Cancel coverage need 2026-03-12");
    await expectNoAxeViolations(document, "cancel coverage need dialog");
  });

  it("cases: a case open with appointments to link, and opening a new case", async () => {
    await openApp("manager", "cases");
    await fireEvent.click(screen.getByRole("button", { name: "CGY-26-0001" }));
    const panel = await screen.findByRole("complementary", { name: "Case CGY-26-0001" });
    await within(panel).findByRole("table", { name: "Case appointments" });
    await fireEvent.click(within(panel).getByRole("button", { name: "Find appointments" }));
    await within(panel).findByRole("table", { name: /^Appointments on / });
    await expectNoAxeViolations(document, "case panel");
    await fireEvent.click(screen.getByRole("button", { name: "New case" }));
    await dialog("Open a case");
    await expectNoAxeViolations(document, "new case dialog");
  });
});
