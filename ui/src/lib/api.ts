// The one door from the UI to the Rust commands. The generated bindings (../bindings.ts) return
// `{status: "ok", data}` or `{status: "error", error: ErrorBody}`; this module unwraps them,
// turns anything else (an IPC failure, a command this build does not have) into an ErrorBody,
// and tells the session store when the Rust side says the session is locked or gone, so the
// lock or sign-in screen comes up whatever screen made the call.

import { commands, type ErrorBody } from "../bindings";

export type Result<T> = { status: "ok"; data: T } | { status: "error"; error: ErrorBody };

/** Codes the Rust side uses for "no usable session": they switch screens, not show inline. */
export const SESSION_CODES = ["locked", "not_signed_in"] as const;
export type SessionCode = (typeof SESSION_CODES)[number];

/** An API refusal, thrown by `call`. `message` is the API's own wording, shown as it is. */
export class ApiError extends Error {
  readonly code: string;
  readonly body: ErrorBody;
  constructor(body: ErrorBody) {
    super(body.message);
    this.name = "ApiError";
    this.code = body.code;
    this.body = body;
  }
}

type SessionListener = (code: SessionCode, body: ErrorBody) => void;
const sessionListeners = new Set<SessionListener>();

/** Be told when any command answers `locked` or `not_signed_in`. Returns the unsubscribe. */
export function onSessionLoss(l: SessionListener): () => void {
  sessionListeners.add(l);
  return () => sessionListeners.delete(l);
}

/** Any rejection or error value as an ErrorBody (strings from the IPC layer, JS errors, …). */
export function toErrorBody(e: unknown): ErrorBody {
  if (e instanceof ApiError) return e.body;
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    const o = e as { code: unknown; message: unknown };
    return { code: String(o.code), message: String(o.message) };
  }
  if (e instanceof Error) return { code: "ipc_error", message: e.message };
  if (typeof e === "string") return { code: "ipc_error", message: e };
  return { code: "ipc_error", message: "The request failed." };
}

function isResult<T>(r: unknown): r is Result<T> {
  if (!r || typeof r !== "object" || !("status" in r)) return false;
  const o = r as { status: unknown };
  return (o.status === "ok" && "data" in r) || (o.status === "error" && "error" in r);
}

function isSessionCode(code: string): code is SessionCode {
  return (SESSION_CODES as readonly string[]).includes(code);
}

/** Unwrap a command's result: the data, or an ApiError thrown (session codes also notify). */
export async function call<T>(p: Promise<Result<T> | T>): Promise<T> {
  let r: Result<T> | T;
  try {
    r = await p;
  } catch (e) {
    throw new ApiError(toErrorBody(e));
  }
  // Commands that cannot fail (session_status, logout) are generated without the result
  // wrapper: their value is the data.
  if (!isResult(r)) return r as T;
  if (r.status === "ok") return r.data;
  const body = toErrorBody(r.error);
  if (isSessionCode(body.code)) for (const l of sessionListeners) l(body.code, body);
  throw new ApiError(body);
}

export type Outcome<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

/** Like `call`, but never throws: for forms that show the refusal inline. */
export async function attempt<T>(p: Promise<Result<T> | T>): Promise<Outcome<T>> {
  try {
    return { ok: true, data: await call<T>(p) };
  } catch (e) {
    return { ok: false, error: toErrorBody(e) };
  }
}

/** The first failure among outcomes read together (null: all succeeded), so a screen that reads
 *  several lists shows a failure of any of them, not only of the first. */
export function firstError(rs: readonly ({ ok: true } | { ok: false; error: ErrorBody })[]): ErrorBody | null {
  for (const r of rs) if (!r.ok) return r.error;
  return null;
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Whether this build's bindings have the command (camelCase name, as in bindings.ts). */
export function has(name: string): boolean {
  return typeof (commands as Record<string, unknown>)[name] === "function";
}

/**
 * A command the Rust side is still adding: called through the bindings when they have it,
 * otherwise answered with `not_available`, so a screen shows why it cannot work yet instead of
 * failing the typecheck. Once the command lands, replace the call with `commands.name(...)`.
 */
export function pending<T>(name: string, ...args: unknown[]): Promise<Result<T>> {
  const f = (commands as Record<string, unknown>)[name];
  if (typeof f !== "function") {
    return Promise.resolve({
      status: "error",
      error: {
        code: "not_available",
        message: `This build of ClinicDesk has no “${snake(name)}” command yet.`,
      },
    });
  }
  return (f as (...a: unknown[]) => Promise<Result<T>>)(...args);
}

/**
 * Form values as the API's field map (name → text): numbers from number inputs become text,
 * empty and missing values are left out (the API then uses its default).
 */
export function toFields(values: Record<string, string | number | boolean | null | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined) continue;
    const t = String(v).trim();
    if (t !== "") out[k] = t;
  }
  return out;
}
