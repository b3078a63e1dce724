// The schedule grid made plain for assistive technology (calendarA11y.ts): the library's table
// roles, column indexes and spans and its column heads' names come off; the appointments stay
// buttons with their names; it keeps up as the calendar redraws.
import { describe, expect, it } from "vitest";
import { plainCalendar } from "./calendarA11y";

const GRID = `
  <div class="ec" role="table">
    <nav class="ec-toolbar"><div class="ec-start"></div></nav>
    <section class="ec-main">
      <header class="ec-header"><aside class="ec-sidebar"></aside>
        <div role="row" class="ec-grid">
          <div class="ec-col-head" role="columnheader" aria-colindex="1" aria-colspan="2"><time datetime="2026-03-09" aria-label="Monday, March 9, 2026">Mon 3/9</time></div>
        </div>
      </header>
      <div role="rowgroup" class="ec-body"><aside aria-hidden="true" class="ec-sidebar"></aside>
        <div role="row" class="ec-grid"><div class="ec-day" role="cell"></div></div>
        <div class="ec-events"><article class="ec-event" role="button" tabindex="0">09:45 Ann Smith</article></div>
      </div>
    </section>
  </div>`;

describe("plainCalendar", () => {
  it("takes the table roles and empty landmarks off and keeps the appointments' buttons", async () => {
    const box = document.createElement("div");
    box.innerHTML = GRID;
    const action = plainCalendar(box);
    expect(box.querySelectorAll("[role=table], [role=rowgroup], [role=row], [role=columnheader], [role=cell]")).toHaveLength(0);
    expect(box.querySelectorAll("[aria-colindex], [aria-colspan], time[aria-label]")).toHaveLength(0);
    expect(box.querySelector(".ec-toolbar")).toHaveAttribute("role", "none");
    expect(box.querySelector("header aside")).toHaveAttribute("role", "none");
    expect(box.querySelector(".ec-body aside")).not.toHaveAttribute("role");
    expect(box.querySelector("article")).toHaveAttribute("role", "button");
    // The scrolling time grid takes the keyboard's focus (a day may have nothing to tab to).
    expect(box.querySelector(".ec-main")).toHaveAttribute("tabindex", "0");
    expect(box.querySelector(".ec-main")).toHaveAttribute("role", "group");
    expect(box.querySelector(".ec-main")).toHaveAttribute("aria-label", "Time grid");
    expect(box.querySelector(".ec-col-head")).toHaveTextContent("Mon 3/9");

    // A redraw brings the roles back: they come off again.
    const row = document.createElement("div");
    row.setAttribute("role", "row");
    row.innerHTML = `<div role="columnheader" aria-colindex="3"><span aria-label="Tuesday, Room 1">Room 1</span></div>`;
    box.querySelector(".ec-header")!.append(row);
    box.querySelector(".ec-day")!.setAttribute("role", "cell");
    await new Promise((r) => setTimeout(r, 0));
    expect(box.querySelectorAll("[role=row], [role=columnheader], [role=cell], [aria-colindex], span[aria-label]")).toHaveLength(0);
    action.destroy();
  });
});
