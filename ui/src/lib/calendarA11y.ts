// The schedule grid (@event-calendar) for assistive technology. The library marks its grid as an
// ARIA table (root role="table", its body role="rowgroup", rows, column heads and cells), but puts
// its toolbar (a <nav>) and the appointments (role="button") straight inside the table and the
// row group, outside any row or cell: not a table a screen reader can walk (axe-core:
// aria-required-children, WCAG 1.3.1). Its cells are empty boxes under the events; the grid says
// nothing a table would add. So the grid is made plain: the library's table roles and column
// indexes and spans come off, and so do the landmarks it draws empty (the toolbar's <nav> with no
// buttons, the time column's <aside>) and the names it gives its column heads' <time> and <span>
// (a name on a plain element is not allowed, and it only restates the text shown: the day, the
// provider or room). What stays: each appointment a button named by its time, status and
// patient, the column heads' provider (or room) names and loads as text, all inside the
// "Appointments grid" region; the list "Appointments in view" says the same in reading order.

const TABLE_ROLES = new Set(["table", "grid", "rowgroup", "row", "columnheader", "rowheader", "cell", "gridcell"]);

/** Take the table roles and empty landmarks off a calendar's DOM (see above). */
export function plainGrid(root: Element): void {
  for (const el of root.querySelectorAll("[role]")) {
    if (TABLE_ROLES.has(el.getAttribute("role") ?? "")) {
      for (const a of ["role", "aria-colindex", "aria-colspan", "aria-rowindex"]) el.removeAttribute(a);
    }
  }
  for (const el of root.querySelectorAll("time[aria-label], span[aria-label]")) el.removeAttribute("aria-label");
  // The time grid scrolls (06:00–22:00 is taller than the window): keyboard users scroll it by
  // focusing it, also on a day with no appointment to tab to (axe: scrollable-region-focusable,
  // found by the e2e run in WebKit; jsdom lays nothing out).
  for (const el of root.querySelectorAll(".ec-main")) {
    if (el.getAttribute("tabindex") === null) {
      el.setAttribute("tabindex", "0");
      el.setAttribute("role", "group");
      el.setAttribute("aria-label", "Time grid");
    }
  }
  for (const el of root.querySelectorAll(".ec-toolbar, aside")) {
    if (el.getAttribute("aria-hidden") === "true" || el.getAttribute("role") === "none") continue;
    if (!el.querySelector("button, a, input, select")) el.setAttribute("role", "none");
  }
}

/** Svelte action: keep the calendar inside `node` plain while it redraws. */
export function plainCalendar(node: HTMLElement): { destroy: () => void } {
  plainGrid(node);
  const watch = new MutationObserver(() => plainGrid(node));
  watch.observe(node, { subtree: true, childList: true, attributes: true, attributeFilter: ["role", "aria-label", "aria-colspan", "aria-colindex"] });
  return { destroy: () => watch.disconnect() };
}
