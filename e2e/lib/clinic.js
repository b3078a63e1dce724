// Test data, made through the real `clinicdesk` CLI (the same app API as the desktop app)
// before the app starts, so every test begins from a known database.
import { execFileSync } from "node:child_process";
import { CLI_BIN } from "./paths.js";

/** Every user the fixtures create signs in with this (the app's minimum is 10 characters). */
export const PASSWORD = "e2e-password-123";

export const CLINIC = { name: "Riverside Physio", code: "RVS", timezone: "America/Edmonton", country: "CA" };

/** The CLI's environment: passwords set, no database/user/key from the caller's environment. */
function cliEnv() {
  const env = { ...process.env, CLINICDESK_PASSWORD: PASSWORD, CLINICDESK_NEW_PASSWORD: PASSWORD };
  for (const k of ["CLINICDESK_DB", "CLINICDESK_DB_KEY", "CLINICDESK_DB_KEY_FILE", "CLINICDESK_USER"]) delete env[k];
  return env;
}

/** Runs `clinicdesk --db … --key-file … [--user admin] --json ARGS`; returns the parsed JSON. */
export class Cli {
  constructor(db, key) {
    this.db = db;
    this.key = key;
  }
  run(args, { user = "admin", json = true } = {}) {
    const full = ["--db", this.db, "--key-file", this.key, ...(user ? ["--user", user] : []), ...(json ? ["--json"] : []), ...args];
    let out;
    try {
      out = execFileSync(CLI_BIN, full, {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        env: cliEnv(),
      });
    } catch (e) {
      throw new Error(`clinicdesk ${args.join(" ")} failed: ${(e.stderr || e.message).trim()}`);
    }
    return json && out.trim() ? JSON.parse(out) : out;
  }
  /** `--set k=v` for each entry. */
  static sets(fields) {
    return Object.entries(fields).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
  }
}

/** The local date `offsetDays` from today in `timeZone`, as YYYY-MM-DD. */
export function localDate(timeZone, offsetDays = 0) {
  const today = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  const d = new Date(`${today}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + offsetDays);
  return d.toISOString().slice(0, 10);
}

/** A new database with the clinic and its admin (`clinicdesk init`). */
export function initClinic(cli) {
  const r = cli.run(["init", "--clinic-name", CLINIC.name, "--clinic-code", CLINIC.code, "--timezone", CLINIC.timezone, "--admin", "admin"], { user: null });
  // A Canadian clinic with no format of its own: dates and times read as its country's (en-CA,
  // 12-hour: "9:00 a.m."), which the tests' names follow.
  cli.run(["clinic", "update", r.clinic.id, "--set", `country=${CLINIC.country}`]);
  return { clinicId: r.clinic.id, admin: { username: "admin", displayName: r.admin.display_name } };
}

/**
 * A front desk's day, dates relative to the clinic's local today (D0):
 *
 * - users `admin` (admin) and `frontdesk` ("Fran Desk", front desk), password PASSWORD;
 * - credential type "Physiotherapy licence" (required for physiotherapy);
 * - Maya Singh, physiotherapist, licence valid a year, Day shift 08:00–17:00 on D0, D1 and D2;
 * - Omar Haddad, physiotherapist, licence expiring on D0+30, a Day shift on D0+35 (assigned by
 *   a manager's override), so his credential is "expiring within 30 days" and that shift is at
 *   risk;
 * - patients Ann Lee (booked with Maya D1 09:00–09:30), Ben Okafor (nothing booked: the
 *   booking test books him), Cara Diaz (on the waitlist for Maya, D1–D7, 30 minutes), Dev
 *   Patel (booked with Maya today D0 11:00–11:30, for the check-in flow);
 * - the credential evaluator run once (alerts raised), as the app's housekeeping also does.
 */
export function clinicDay(cli) {
  const { clinicId } = initClinic(cli);
  const tz = CLINIC.timezone;
  const D = (n) => localDate(tz, n);
  const clinic = ["--clinic", clinicId];

  const desk = cli.run(["user", "create", ...Cli.sets({ username: "frontdesk", display_name: "Fran Desk" })]);
  cli.run(["role", "grant", "--user-id", desk.id, ...clinic, "--role", "front_desk"]);

  const licence = cli.run([
    "credential-type", "create",
    ...Cli.sets({ name: "Physiotherapy licence", code: "PTL", required_for_disciplines: "physiotherapy" }),
  ]);
  const staff = (first, last) =>
    cli.run(["staff", "create", ...clinic, ...Cli.sets({ first_name: first, last_name: last, discipline: "physiotherapy" })]);
  const maya = staff("Maya", "Singh");
  const omar = staff("Omar", "Haddad");
  const credential = (s, expiry) =>
    cli.run(["credential", "create", "--staff", s.id, ...Cli.sets({ credential_type_id: licence.id, expiry_date: expiry, credential_number: `PT-${s.first_name}` })]);
  credential(maya, D(365));
  const omarLicence = credential(omar, D(30));

  const day = cli.run(["shift-template", "create", ...clinic, ...Cli.sets({ name: "Day", start_time: "08:00", end_time: "17:00" })]);
  for (const n of [0, 1, 2]) {
    cli.run(["roster", "assign", ...clinic, ...Cli.sets({ staff_id: maya.id, shift_id: day.id, date: D(n) })]);
  }
  const atRiskShift = cli.run([
    "roster", "assign", ...clinic,
    ...Cli.sets({ staff_id: omar.id, shift_id: day.id, date: D(35), override_reason: "renewal in progress" }),
  ]);

  const patient = (first, last, phone) =>
    cli.run(["patient", "create", ...clinic, ...Cli.sets({ first_name: first, last_name: last, phone })]);
  const ann = patient("Ann", "Lee", "403 555 0101");
  const ben = patient("Ben", "Okafor", "403 555 0102");
  const cara = patient("Cara", "Diaz", "403 555 0103");
  const dev = patient("Dev", "Patel", "403 555 0104");

  const book = (p, start) =>
    cli.run(["appointment", "book", ...clinic, ...Cli.sets({ patient_id: p.id, provider_id: maya.id, start, duration_minutes: 30 })]);
  const annVisit = book(ann, `${D(1)} 09:00`);
  const devVisit = book(dev, `${D(0)} 11:00`);
  const waiting = cli.run([
    "waitlist", "add", ...clinic,
    ...Cli.sets({ patient_id: cara.id, earliest_date: D(1), latest_date: D(7), duration_minutes: 30, provider_ids: maya.id, priority: 1 }),
  ]);
  cli.run(["credential", "evaluate"]);

  return {
    clinicId,
    timezone: tz,
    dates: { today: D(0), tomorrow: D(1) },
    users: { admin: "admin", frontdesk: "frontdesk" },
    staff: { maya, omar },
    patients: { ann, ben, cara, dev },
    appointments: { annVisit, devVisit },
    waitlist: { cara: waiting },
    credentials: { omarLicence },
    shifts: { atRiskShift },
  };
}
