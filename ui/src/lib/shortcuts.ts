// Keyboard shortcuts: one table (shown by the "?" help overlay) and one handler. Shortcuts are
// single keys without modifiers, ignored while the user types in a field, so they never eat a
// letter of a patient's name.

export type Shortcut = {
  key: string;
  description: string;
  group: string;
  run: () => void;
  /** When false the key does nothing (e.g. no appointment selected). */
  enabled?: () => boolean;
};

/** The key as written in the table: "?", "i", "ArrowLeft", "Escape" … */
export function keyName(e: Pick<KeyboardEvent, "key">): string {
  return e.key.length === 1 ? e.key.toLowerCase() : e.key;
}

export function isTypingTarget(t: EventTarget | null): boolean {
  if (!t || typeof (t as HTMLElement).tagName !== "string") return false;
  const el = t as HTMLElement;
  const tag = el.tagName.toLowerCase();
  if (tag === "textarea" || tag === "select") return true;
  if (tag === "input") {
    const type = (el as HTMLInputElement).type;
    return !["button", "submit", "checkbox", "radio", "reset"].includes(type);
  }
  return el.isContentEditable === true;
}

/** Run the shortcut for the key, if any applies. Returns whether one ran. */
export function handleShortcut(e: KeyboardEvent, table: Shortcut[]): boolean {
  if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return false;
  if (e.key !== "Escape" && isTypingTarget(e.target)) return false;
  const k = keyName(e);
  const s = table.find((x) => x.key === k && (x.enabled?.() ?? true));
  if (!s) return false;
  e.preventDefault();
  s.run();
  return true;
}

/** The shortcut table grouped for the help overlay. */
export function groupShortcuts(table: Shortcut[]): { group: string; items: Shortcut[] }[] {
  const groups: { group: string; items: Shortcut[] }[] = [];
  for (const s of table) {
    let g = groups.find((x) => x.group === s.group);
    if (!g) groups.push((g = { group: s.group, items: [] }));
    g.items.push(s);
  }
  return groups;
}

export function keyLabel(key: string): string {
  return ({ ArrowLeft: "←", ArrowRight: "→", Escape: "Esc", " ": "Space" } as Record<string, string>)[key] ?? key;
}
