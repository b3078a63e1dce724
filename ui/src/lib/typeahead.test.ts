import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createTypeahead } from "./typeahead";

type Deferred = { q: string; resolve: (r: string[]) => void; reject: (e: unknown) => void };

describe("typeahead", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup(delayMs = 200) {
    const pending: Deferred[] = [];
    const search = vi.fn((q: string) => new Promise<string[]>((resolve, reject) => pending.push({ q, resolve, reject })));
    const results: { r: string[]; q: string }[] = [];
    const errors: unknown[] = [];
    const ta = createTypeahead<string>({ search, delayMs, onResults: (r, q) => results.push({ r, q }), onError: (e) => errors.push(e) });
    return { ta, search, pending, results, errors };
  }

  it("by default searches on every keystroke, at once, and still keeps only the latest answer", async () => {
    const pending: Deferred[] = [];
    const search = vi.fn((q: string) => new Promise<string[]>((resolve, reject) => pending.push({ q, resolve, reject })));
    const results: { r: string[]; q: string }[] = [];
    const ta = createTypeahead<string>({ search, onResults: (r, q) => results.push({ r, q }) });
    ta.input("sm");
    ta.input("smi");
    expect(search.mock.calls.map((c) => c[0])).toEqual(["sm", "smi"]);
    pending[1]!.resolve(["Smith"]);
    pending[0]!.resolve(["Small", "Smith"]);
    await Promise.resolve();
    await Promise.resolve();
    expect(results).toEqual([{ r: ["Smith"], q: "smi" }]);
  });

  it("waits for a pause in typing and searches once", () => {
    const { ta, search } = setup();
    ta.input("sm");
    vi.advanceTimersByTime(100);
    ta.input("smi");
    vi.advanceTimersByTime(100);
    ta.input("smit");
    vi.advanceTimersByTime(199);
    expect(search).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(search).toHaveBeenCalledTimes(1);
    expect(search).toHaveBeenCalledWith("smit");
  });

  it("ignores an answer that arrives after a newer query's", async () => {
    const { ta, pending, results } = setup();
    ta.input("smi");
    vi.advanceTimersByTime(200);
    ta.input("smith");
    vi.advanceTimersByTime(200);
    expect(pending.map((p) => p.q)).toEqual(["smi", "smith"]);
    pending[1]!.resolve(["Smith, Ann"]);
    await vi.runAllTimersAsync();
    pending[0]!.resolve(["Smith, Ann", "Smithers, Bo"]); // slow, stale
    await vi.runAllTimersAsync();
    expect(results).toEqual([{ r: ["Smith, Ann"], q: "smith" }]);
  });

  it("ignores a stale failure too", async () => {
    const { ta, pending, results, errors } = setup();
    ta.input("ab");
    vi.advanceTimersByTime(200);
    ta.input("abc");
    vi.advanceTimersByTime(200);
    pending[0]!.reject(new Error("old"));
    pending[1]!.resolve(["Abc"]);
    await vi.runAllTimersAsync();
    expect(errors).toEqual([]);
    expect(results.at(-1)?.r).toEqual(["Abc"]);
  });

  it("clears results below the minimum length and drops answers in flight", async () => {
    const { ta, pending, results, search } = setup();
    ta.input("jo");
    vi.advanceTimersByTime(200);
    ta.input("j");
    expect(results.at(-1)).toEqual({ r: [], q: "j" });
    pending[0]!.resolve(["Jones"]);
    await vi.runAllTimersAsync();
    expect(results.at(-1)).toEqual({ r: [], q: "j" });
    expect(search).toHaveBeenCalledTimes(1);
  });

  it("flush searches at once (Enter)", () => {
    const { ta, search } = setup(1000);
    ta.input("lee");
    ta.flush();
    expect(search).toHaveBeenCalledWith("lee");
    vi.advanceTimersByTime(2000);
    expect(search).toHaveBeenCalledTimes(1);
  });
});
