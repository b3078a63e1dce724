import { describe, expect, it } from "vitest";
import { applySyncChanged, clockWarning, sync, syncLabel, touches } from "./sync.svelte";
import type { SyncStatusView } from "./types";

const base: SyncStatusView = {
  enrolled: true,
  server: "postgres://cd_dev_x@db.example.com:5432/clinicdesk",
  online: true,
  pending_changes: 0,
  last_ok_at: 1,
  last_error: null,
  clock_skew_ms: 40,
  clock_warning: null,
};

describe("sync status in the header", () => {
  it("says nothing for a PC that does not sync", () => {
    expect(syncLabel(null)).toBeNull();
    expect(syncLabel({ ...base, enrolled: false })).toBeNull();
  });
  it("says synced, offline with what waits, or why sync stopped", () => {
    expect(syncLabel(base)).toEqual({ text: "Synced", tone: "ok" });
    expect(syncLabel({ ...base, online: false, pending_changes: 3, last_error: { code: "sync_offline", message: "x", at: 2 } })).toEqual({
      text: "Offline · 3 waiting",
      tone: "warn",
    });
    const stopped = syncLabel({ ...base, online: false, pending_changes: 1, last_error: { code: "sync_revoked", message: "this PC's sync access was revoked", at: 2 } });
    expect(stopped?.tone).toBe("error");
    expect(stopped?.text).toContain("revoked");
  });
});

describe("a wrong clock", () => {
  const off = { ...base, clock_skew_ms: -300_000, clock_warning: "This PC's clock is about 5 min ahead of the server's" };
  it("is told to administrators past 2 minutes, and sync still says synced", () => {
    expect(clockWarning(off, true)).toContain("5 min ahead");
    expect(syncLabel(off)).toEqual({ text: "Synced", tone: "ok" });
  });
  it("is not told to other users, within 2 minutes, or on a PC that does not sync", () => {
    expect(clockWarning(off, false)).toBeNull();
    expect(clockWarning(base, true)).toBeNull();
    expect(clockWarning({ ...off, enrolled: false }, true)).toBeNull();
    expect(clockWarning(null, true)).toBeNull();
  });
});

describe("sync_changed", () => {
  it("counts changes and tells which tables they touched", () => {
    const before = sync.version;
    applySyncChanged(["patients", "appointments"]);
    expect(sync.version).toBe(before + 1);
    expect(touches(["appointments"])).toBe(true);
    applySyncChanged(["ops_credentials"]);
    expect(touches(["appointments", "patients"])).toBe(false);
  });
});
