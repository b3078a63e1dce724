// The UI's idle clock starts from what Rust says is left (`seconds_until_lock`), not from the
// whole timeout: at start (an open session), after signing in and after unlocking.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { waitFor } from "@testing-library/svelte";
import { IdleTimer } from "./idle";
import { app, boot, idleTimerRunning, resetSession, unlock } from "./session.svelte";
import { fakeBackend, shimMissingCommands } from "../test/ipc";
import { clinic, status } from "../test/fixtures";

describe("IdleTimer.start with the time left", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("fires when the given time is up and counts it as idle time already spent", () => {
    const onIdle = vi.fn();
    const t = new IdleTimer({ timeoutMs: 15 * 60_000, onIdle });
    t.start(90_000);
    expect(t.remainingMs()).toBe(90_000);
    vi.advanceTimersByTime(89_999);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("activity still restarts the whole timeout; the time left is capped at the timeout", () => {
    const onIdle = vi.fn();
    const t = new IdleTimer({ timeoutMs: 60_000, onIdle });
    t.start(10_000);
    vi.advanceTimersByTime(5_000);
    t.activity();
    expect(t.remainingMs()).toBe(60_000);
    t.stop();
    t.start(10 * 60_000);
    expect(t.remainingMs()).toBe(60_000);
    t.start(-5);
    expect(t.remainingMs()).toBe(0);
  });
});

describe("the session's idle clock follows Rust", () => {
  const info = { version: "0.1.0", database: "/tmp/c.db", initialised: true, device_id: "d" };
  const withLeft = (seconds: number, locked = false) => ({ ...status("front_desk", locked), seconds_until_lock: locked ? 0 : seconds });

  beforeEach(() => {
    resetSession();
    shimMissingCommands();
    vi.useFakeTimers();
  });
  afterEach(() => {
    resetSession();
    vi.useRealTimers();
  });

  it("at start, an open session with 2 minutes left locks after 2 minutes, not 15", async () => {
    const calls = fakeBackend({
      app_info: () => info, session_status: () => withLeft(120), list_clinics: () => [clinic], lock: () => withLeft(0, true),
    });
    await boot();
    expect(app.phase).toBe("app");
    expect(idleTimerRunning()).toBe(true);
    await vi.advanceTimersByTimeAsync(119_000);
    expect(app.phase).toBe("app");
    expect(calls.some((c) => c.cmd === "lock")).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(app.phase).toBe("locked");
    await waitFor(() => expect(calls.some((c) => c.cmd === "lock")).toBe(true));
  });

  it("after unlocking, the clock starts from what the unlock answered", async () => {
    fakeBackend({
      app_info: () => info, session_status: () => withLeft(0, true), list_clinics: () => [clinic],
      unlock: () => withLeft(300), lock: () => withLeft(0, true),
    });
    await boot();
    expect(app.phase).toBe("locked");
    const r = await unlock("pw");
    expect(r.ok).toBe(true);
    expect(app.phase).toBe("app");
    await vi.advanceTimersByTimeAsync(299_000);
    expect(app.phase).toBe("app");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(app.phase).toBe("locked");
  });
});
