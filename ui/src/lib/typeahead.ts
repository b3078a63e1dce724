// Search for typeaheads (patients, staff): keeps only the answer to the latest query, so a slow
// answer to "smi" never replaces the one to "smith" that came back first. Searches read the
// local database (well under a millisecond), so by default every keystroke searches at once
// (results within the 100 ms a typist notices); `delayMs` debounces for slower sources.

export type TypeaheadOptions<T> = {
  search: (q: string) => Promise<T[]>;
  onResults: (results: T[], q: string) => void;
  onError?: (e: unknown, q: string) => void;
  onBusy?: (busy: boolean) => void;
  delayMs?: number;
  minLength?: number;
};

export type Typeahead = {
  /** The text changed. */
  input(q: string): void;
  /** Search now (Enter), without waiting for the pause. */
  flush(): void;
  /** Forget pending input and any answer still on its way. */
  cancel(): void;
};

export function createTypeahead<T>(o: TypeaheadOptions<T>): Typeahead {
  const delay = o.delayMs ?? 0;
  const min = o.minLength ?? 2;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let seq = 0;
  let pendingQ: string | null = null;

  const run = (q: string) => {
    const mine = ++seq;
    o.onBusy?.(true);
    o.search(q).then(
      (results) => {
        if (mine !== seq) return;
        o.onBusy?.(false);
        o.onResults(results, q);
      },
      (e) => {
        if (mine !== seq) return;
        o.onBusy?.(false);
        o.onError?.(e, q);
      },
    );
  };

  const clear = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };

  return {
    input(q: string) {
      clear();
      const t = q.trim();
      if (t.length < min) {
        seq++; // anything in flight is now stale
        pendingQ = null;
        o.onBusy?.(false);
        o.onResults([], t);
        return;
      }
      if (delay <= 0) {
        run(t);
        return;
      }
      pendingQ = t;
      timer = setTimeout(() => {
        timer = null;
        pendingQ = null;
        run(t);
      }, delay);
    },
    flush() {
      if (pendingQ === null) return;
      clear();
      const t = pendingQ;
      pendingQ = null;
      run(t);
    },
    cancel() {
      clear();
      pendingQ = null;
      seq++;
      o.onBusy?.(false);
    },
  };
}
