// scratch (deleted before hand-off): every event's box with and without the events-grid override
import { createWriteStream } from "node:fs";
import { launch, running, signInForm, typeInto, installHelpers, timeSignIn } from "./lib.mjs";
const out = createWriteStream("/tmp/bench-ui-dev/poke.log");
const css = ".ec-time-grid .ec-body > .ec-events { grid-template: minmax(0, 1fr) / repeat(var(--ec-grid-cols), var(--ec-col-width, minmax(0, 1fr))) !important; }";
const mode = process.env.POKE_MODE ?? "add"; // add: inject the override; remove: neutralise it (app has it built in)
try {
  const app = await launch({ app: "/work/main/target/bench-ui/clinicdesk-app", db: process.env.POKE_DB, key: process.env.POKE_KEY, out, label: "poke" });
  const b = app.browser;
  await b.setTimeout({ script: 120000 });
  await signInForm(b);
  await typeInto(b, "Username", "frontdesk");
  await typeInto(b, "Password", "clinicdesk-demo");
  await b.execute(installHelpers);
  await b.executeAsync(timeSignIn);
  await b.execute(() => { const btn = [...document.querySelectorAll("button")].find((x) => x.getAttribute("aria-label") === "Next day"); btn.click(); btn.click(); btn.click(); });
  await new Promise((r) => setTimeout(r, 2000));
  const check = (label) =>
    b.execute((css, mode) => {
      const rects = () => [...document.querySelectorAll(".calendar .ec-event, .calendar .ec-now-indicator, .calendar .ec-day")].map((e) => { const r = e.getBoundingClientRect(); return [e.className, r.x, r.y, r.width, r.height]; });
      const a = rects();
      const s = document.createElement("style");
      s.textContent = mode === "add" ? css : ".ec-time-grid .ec-body > .ec-events { grid-template: subgrid / subgrid !important; }";
      document.head.append(s);
      const c = rects();
      s.remove();
      let maxd = 0;
      for (let i = 0; i < Math.max(a.length, c.length); i++) {
        const x = a[i], y = c[i];
        if (!x || !y || x[0] !== y[0]) { maxd = Infinity; continue; }
        for (let k = 1; k < 5; k++) maxd = Math.max(maxd, Math.abs(x[k] - y[k]));
      }
      return { elements: a.length, events: a.filter((x) => String(x[0]).includes("ec-event")).length, maxDiffPx: maxd, first: a.find((x) => String(x[0]).includes("ec-event ")) };
    }, css, mode).then((r) => console.log(label, JSON.stringify(r)));
  await check("day/providers");
  await b.execute(() => [...document.querySelectorAll("input[type=radio]")].find((x) => x.value === "week").click());
  await new Promise((r) => setTimeout(r, 5000));
  await check("week/providers");
  await b.execute(() => [...document.querySelectorAll("input[type=radio]")].find((x) => x.value === "room").click());
  await new Promise((r) => setTimeout(r, 4000));
  await check("week/rooms");
  await b.execute(() => [...document.querySelectorAll("input[type=radio]")].find((x) => x.value === "day").click());
  await new Promise((r) => setTimeout(r, 3000));
  await check("day/rooms");
} finally {
  for (const a of [...running]) await a.close();
  out.end();
}
