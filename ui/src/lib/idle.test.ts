import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { IdleTimer } from "./idle";

describe("IdleTimer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const make = (timeoutMs = 15 * 60_000, pingEveryMs = 30_000) => {
    const onIdle = vi.fn();
    const onPing = vi.fn();
    const t = new IdleTimer({ timeoutMs, onIdle, onPing, pingEveryMs });
    return { t, onIdle, onPing };
  };

  it("locks after the idle time and not before", () => {
    const { t, onIdle } = make();
    t.start();
    vi.advanceTimersByTime(15 * 60_000 - 1);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onIdle).toHaveBeenCalledTimes(1);
    expect(t.isRunning).toBe(false);
    vi.advanceTimersByTime(60 * 60_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("activity restarts the idle time", () => {
    const { t, onIdle } = make(60_000);
    t.start();
    vi.advanceTimersByTime(50_000);
    t.activity();
    vi.advanceTimersByTime(50_000);
    expect(onIdle).not.toHaveBeenCalled();
    expect(t.remainingMs()).toBe(10_000);
    vi.advanceTimersByTime(10_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("tells the Rust side about activity at most once per ping interval", () => {
    const { t, onPing } = make(15 * 60_000, 30_000);
    t.start();
    for (let i = 0; i < 100; i++) {
      t.activity();
      vi.advanceTimersByTime(100);
    }
    expect(onPing).toHaveBeenCalledTimes(1); // 10 s of activity
    vi.advanceTimersByTime(30_000);
    t.activity();
    expect(onPing).toHaveBeenCalledTimes(2);
  });

  it("a shorter timeout set by the admin counts from the last activity", () => {
    const { t, onIdle } = make(15 * 60_000);
    t.start();
    vi.advanceTimersByTime(6 * 60_000);
    t.setTimeoutMs(5 * 60_000);
    vi.advanceTimersByTime(0);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("a stopped timer never fires and ignores activity", () => {
    const { t, onIdle, onPing } = make(1000);
    t.start();
    t.stop();
    t.activity();
    vi.advanceTimersByTime(10_000);
    expect(onIdle).not.toHaveBeenCalled();
    expect(onPing).not.toHaveBeenCalled();
  });
});
