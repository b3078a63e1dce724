// The UI's own idle timer. The Rust side enforces the lock (any command after the idle time
// answers `locked`); this timer only brings the lock screen up on time, and tells the Rust side
// about activity (throttled) so both clocks agree while the user works.

export type IdleOptions = {
  timeoutMs: number;
  /** Called once when the user has been idle for timeoutMs. */
  onIdle: () => void;
  /** Called at most once per pingEveryMs while the user is active (the `activity` command). */
  onPing?: () => void;
  pingEveryMs?: number;
  now?: () => number;
};

export class IdleTimer {
  private last = 0;
  private lastPing = -Infinity;
  private handle: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private opts: Required<Omit<IdleOptions, "onPing">> & { onPing?: () => void };

  constructor(opts: IdleOptions) {
    this.opts = { pingEveryMs: 30_000, now: () => Date.now(), ...opts };
  }

  get timeoutMs(): number {
    return this.opts.timeoutMs;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Start counting. `remainingMs` is what the Rust side says is left (its `seconds_until_lock`):
   * the idle time already spent there counts here too. Default: the whole timeout.
   */
  start(remainingMs: number = this.opts.timeoutMs): void {
    const left = Math.min(this.opts.timeoutMs, Math.max(0, remainingMs));
    this.running = true;
    this.last = this.opts.now() - (this.opts.timeoutMs - left);
    this.schedule(left);
  }

  stop(): void {
    this.running = false;
    if (this.handle !== null) clearTimeout(this.handle);
    this.handle = null;
  }

  /** The user did something: the idle time starts again. Cheap enough for every keypress. */
  activity(): void {
    if (!this.running) return;
    const now = this.opts.now();
    this.last = now;
    if (this.opts.onPing && now - this.lastPing >= this.opts.pingEveryMs) {
      this.lastPing = now;
      this.opts.onPing();
    }
  }

  /** A new timeout (the admin changed it): counts from the last activity. */
  setTimeoutMs(ms: number): void {
    this.opts.timeoutMs = ms;
    if (this.running) {
      const left = this.last + ms - this.opts.now();
      this.schedule(Math.max(0, left));
    }
  }

  /** Milliseconds until the lock, for a countdown. */
  remainingMs(): number {
    return Math.max(0, this.last + this.opts.timeoutMs - this.opts.now());
  }

  // One timer, re-armed when it fires early, instead of a clearTimeout per mouse move.
  private schedule(ms: number): void {
    if (this.handle !== null) clearTimeout(this.handle);
    this.handle = setTimeout(() => this.fire(), ms);
  }

  private fire(): void {
    this.handle = null;
    if (!this.running) return;
    const left = this.last + this.opts.timeoutMs - this.opts.now();
    if (left > 0) {
      this.schedule(left);
      return;
    }
    this.running = false;
    this.opts.onIdle();
  }
}
