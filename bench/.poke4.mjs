// scratch (deleted before hand-off)
import { createWriteStream } from "node:fs";
import { launch, running, signInForm, typeInto, installHelpers, timeSignIn } from "./lib.mjs";
const out = createWriteStream("/tmp/bench-ui-dev/poke.log");
try {
  const app = await launch({ app: process.env.BENCH_APP ?? "/work/main/target/bench-ui/clinicdesk-app", db: "/tmp/bench-ui-dev/large.db", key: "/tmp/bench-ui-dev/large.key", out, label: "poke" });
  const b = app.browser;
  await b.setTimeout({ script: 120000 });
  await signInForm(b);
  await typeInto(b, "Username", "frontdesk");
  await typeInto(b, "Password", "clinicdesk-demo");
  await b.execute(installHelpers);
  console.log("signin", JSON.stringify((await b.executeAsync(timeSignIn)).ms));
  for (let i = 0; i < 3; i++) await b.executeAsync((done) => { const on = () => { window.removeEventListener("cd:schedule-painted", on); setTimeout(done, 300); }; window.addEventListener("cd:schedule-painted", on); [...document.querySelectorAll("button")].find((x) => x.getAttribute("aria-label") === "Next day").click(); });
  const r = await b.execute(() => {
    const res = {};
    res.colHeads = document.querySelectorAll(".ec-col-head").length;
    res.days = document.querySelectorAll(".ec-day").length;
    res.slots = document.querySelectorAll(".ec-slot").length;
    res.events = document.querySelectorAll(".ec-event").length;
    res.bg = document.querySelectorAll(".ec-bg-event").length;
    res.nodes = document.getElementsByTagName("*").length;
    const cal = document.querySelector(".calendar");
    const ev = document.querySelector(".ec-event");
    res.eventStyle = ev?.getAttribute("style");
    res.eventParentClass = ev?.parentElement?.className;
    const lay = [];
    for (let i = 0; i < 5; i++) {
      cal.style.width = i % 2 ? "" : "calc(100% - 1px)";
      const t = performance.now();
      void document.body.offsetHeight;
      lay.push(Math.round(performance.now() - t));
    }
    res.forcedRelayoutMs = lay.join(" ");
    const sty = [];
    for (let i = 0; i < 5; i++) {
      cal.classList.toggle("x-bench");
      const t = performance.now();
      void getComputedStyle(ev).color; void document.body.offsetHeight;
      sty.push(Math.round(performance.now() - t));
    }
    res.classToggleStyleLayoutMs = sty.join(" ");
    // Hide the calendar: how long does layout of the rest take?
    cal.style.display = "none"; let t = performance.now(); void document.body.offsetHeight; res.hideCal = Math.round(performance.now() - t);
    cal.style.display = ""; t = performance.now(); void document.body.offsetHeight; res.showCalFull = Math.round(performance.now() - t);
    return res;
  });
  console.log(JSON.stringify(r, null, 1));
} finally {
  for (const a of [...running]) await a.close();
  out.end();
}
