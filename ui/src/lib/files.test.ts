import { describe, expect, it } from "vitest";
import { fakeBackend } from "../test/ipc";
import { BACKUP, chooseOpenPath, chooseSavePath, CSV, readText } from "./files";

describe("file pickers", () => {
  it("ask the dialog plugin with the kind's filter and return the chosen path", async () => {
    const calls = fakeBackend({ "plugin:dialog|save": () => "/home/desk/reminders.csv" });
    await expect(chooseSavePath("Export reminders", "reminders.csv", CSV)).resolves.toBe("/home/desk/reminders.csv");
    const opts = calls[0]!.args.options as { defaultPath: string; filters: unknown };
    expect(opts.defaultPath).toBe("reminders.csv");
    expect(opts.filters).toEqual([CSV]);
  });

  it("return null when the user cancels, so the typed path stays", async () => {
    fakeBackend({ "plugin:dialog|save": () => null, "plugin:dialog|open": () => null });
    await expect(chooseSavePath("Back up to", "b.db", BACKUP)).resolves.toBeNull();
    await expect(chooseOpenPath("Restore from", BACKUP)).resolves.toBeNull();
  });

  it("open a single existing file", async () => {
    const calls = fakeBackend({ "plugin:dialog|open": () => "/media/usb/b.db" });
    await expect(chooseOpenPath("Restore from", BACKUP)).resolves.toBe("/media/usb/b.db");
    expect(calls[0]!.args.options).toMatchObject({ multiple: false, directory: false });
  });
});

describe("reading a picked file", () => {
  it("returns its text (UTF-8)", async () => {
    const f = new File(["legacy_id,first_name,last_name\nL-1,Zoë,Lee\n"], "patients.csv", { type: "text/csv" });
    await expect(readText(f)).resolves.toBe("legacy_id,first_name,last_name\nL-1,Zoë,Lee\n");
  });
});
