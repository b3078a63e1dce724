// scratch (deleted before hand-off): the frame latency floor: a tiny DOM change → next frame → task
import { createWriteStream } from "node:fs";
import { launch, running, signInForm, typeInto, installHelpers, timeSignIn, stats } from "./lib.mjs";
const out = createWriteStream("/tmp/bench-ui-dev/poke.log");
try {
  const app = await launch({ app: "/work/main/target/bench-ui/clinicdesk-app", db: process.env.POKE_DB ?? "/dev/shm/bench-ui-dev/large.db", key: process.env.POKE_KEY ?? "/dev/shm/bench-ui-dev/large.key", out, label: "poke" });
  const b = app.browser;
  await b.setTimeout({ script: 120000 });
  await signInForm(b);
  const floor = (label) =>
    b.executeAsync((done) => {
      const el = document.querySelector("h1") ?? document.body;
      const res = { change: [], none: [] };
      let i = 0;
      const one = () => {
        if (i >= 40) return done(res);
        const change = i % 2 === 0;
        const t0 = performance.now();
        if (change) el.textContent = el.textContent.endsWith(".") ? el.textContent.slice(0, -1) : el.textContent + ".";
        requestAnimationFrame(() => setTimeout(() => { (change ? res.change : res.none).push(performance.now() - t0); i++; setTimeout(one, 150); }, 0));
      };
      one();
    }).then((r) => {
      const f = (xs) => { const s = stats(xs); return `p50 ${s.p50.toFixed(0)} p95 ${s.p95.toFixed(0)} max ${s.max.toFixed(0)}`; };
      console.log(`${label}: heading text changed → painted ${f(r.change)}; nothing changed → rAF+task ${f(r.none)}`);
    });
  await floor("sign-in page");
  await typeInto(b, "Username", "frontdesk");
  await typeInto(b, "Password", "clinicdesk-demo");
  await b.execute(installHelpers);
  await b.executeAsync(timeSignIn);
  await new Promise((r) => setTimeout(r, 1000));
  await floor("schedule (today)");
  await b.execute(() => [...document.querySelectorAll("button")].find((x) => x.getAttribute("aria-label") === "Next day").click());
  await new Promise((r) => setTimeout(r, 1500));
  await floor("schedule (weekday)");
} finally {
  for (const a of [...running]) await a.close();
  out.end();
}
