import { describe, expect, it, vi } from "vitest";
import { commands } from "../bindings";
import { ApiError, attempt, call, has, onSessionLoss, pending, toErrorBody } from "./api";
import { fakeBackend, refuse } from "../test/ipc";

describe("api wrapper", () => {
  it("unwraps an ok result into its data", async () => {
    fakeBackend({ app_info: () => ({ version: "0.1.0", database: "/tmp/x.db", initialised: true, device_id: "d1" }) });
    await expect(call(commands.appInfo())).resolves.toMatchObject({ version: "0.1.0", initialised: true });
  });

  it("throws the API's refusal as an ApiError with its code and message", async () => {
    fakeBackend({ login: () => refuse("bad_credentials", "wrong username or password") });
    const e = await call(commands.login("ann", "nope")).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).code).toBe("bad_credentials");
    expect((e as ApiError).message).toBe("wrong username or password");
  });

  it("attempt never throws and keeps the API's words", async () => {
    fakeBackend({ login: () => refuse("account_locked", "this account is locked after repeated failed sign-ins") });
    const r = await attempt(commands.login("ann", "x"));
    expect(r).toEqual({ ok: false, error: { code: "account_locked", message: "this account is locked after repeated failed sign-ins" } });
  });

  it("routes `locked` and `not_signed_in` to the session listeners, other codes not", async () => {
    const seen: string[] = [];
    const off = onSessionLoss((code) => seen.push(code));
    const results = [
      refuse("locked", "the session is locked after inactivity"),
      refuse("not_signed_in", "sign in first"),
      refuse("conflict", "Dr Lee already has an appointment"),
    ];
    let i = 0;
    fakeBackend({ app_info: () => results[i++] });
    for (let n = 0; n < 3; n++) await attempt(commands.appInfo());
    off();
    expect(seen).toEqual(["locked", "not_signed_in"]);
  });

  it("turns an IPC failure (a plain string rejection) into an ipc_error body", async () => {
    expect(toErrorBody("command foo not found")).toEqual({ code: "ipc_error", message: "command foo not found" });
    expect(toErrorBody(new Error("boom"))).toEqual({ code: "ipc_error", message: "boom" });
    const r = await attempt(Promise.reject("ipc down"));
    expect(r).toEqual({ ok: false, error: { code: "ipc_error", message: "ipc down" } });
  });

  it("passes through values of commands generated without a result wrapper", async () => {
    const status = { signed_in: false, locked: false, user: null, idle_timeout_minutes: 15, seconds_until_lock: 0 };
    await expect(call(Promise.resolve(status))).resolves.toEqual(status);
    // An appointment has a `status` field but is not a result.
    await expect(call(Promise.resolve({ id: "a", status: "pending" }))).resolves.toEqual({ id: "a", status: "pending" });
  });

  it("answers not_available for a command the bindings do not have", async () => {
    expect(has("noSuchCommandEver")).toBe(false);
    const r = await attempt(pending("noSuchCommandEver", 1));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe("not_available");
      expect(r.error.message).toContain("no_such_command_ever");
    }
  });

  it("calls a pending command through the bindings once it exists", async () => {
    const c = commands as unknown as Record<string, unknown>;
    const spy = vi.fn(async (a: number) => ({ status: "ok" as const, data: a * 2 }));
    c.temporaryTestCommand = spy;
    try {
      await expect(call(pending<number>("temporaryTestCommand", 21))).resolves.toBe(42);
      expect(spy).toHaveBeenCalledWith(21);
    } finally {
      delete c.temporaryTestCommand;
    }
  });
});
