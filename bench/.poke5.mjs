// scratch (deleted before hand-off)
import { createWriteStream, writeFileSync } from "node:fs";
import { launch, running, signInForm, typeInto, installHelpers, timeSignIn, timeNavigations, stats } from "./lib.mjs";
const out = createWriteStream("/tmp/bench-ui-dev/poke.log");
const css = process.env.POKE_CSS ?? ".ec-time-grid .ec-events { position: relative; } .ec-time-grid .ec-event { position: absolute; }";
try {
  const app = await launch({ app: "/work/main/target/bench-ui/clinicdesk-app", db: "/tmp/bench-ui-dev/large.db", key: "/tmp/bench-ui-dev/large.key", out, label: "poke" });
  const b = app.browser;
  await b.setTimeout({ script: 120000 });
  await signInForm(b);
  await typeInto(b, "Username", "frontdesk");
  await typeInto(b, "Password", "clinicdesk-demo");
  await b.execute(installHelpers);
  console.log("signin", JSON.stringify((await b.executeAsync(timeSignIn)).ms));
  const lay = () => b.execute(() => { const cal = document.querySelector(".calendar"); const ms = []; for (let i = 0; i < 3; i++) { cal.style.display = "none"; void document.body.offsetHeight; cal.style.display = ""; const t = performance.now(); void document.body.offsetHeight; ms.push(Math.round(performance.now() - t)); } return ms.join(" "); });
  const nav = async (label) => {
    const dirs = Array.from({ length: 14 }, (_, i) => (i < 7 ? 1 : -1));
    const r = await b.executeAsync(timeNavigations, dirs);
    const s = stats(r.samples.filter((x) => x.shown > 200).map((x) => x.ms));
    console.log(label, "busy-day navs p50", s.p50, "max", s.max, "n", s.n, "ok", r.samples.every((x) => x.ok));
  };
  await b.execute(() => { const btn = [...document.querySelectorAll("button")].find((x) => x.getAttribute("aria-label") === "Next day"); btn.click(); btn.click(); btn.click(); });
  await new Promise((r) => setTimeout(r, 1500));
  console.log("layout default:", await lay());
  await nav("default");
  writeFileSync("/tmp/bench-ui-dev/before.png", Buffer.from(await b.takeScreenshot(), "base64"));
  await b.execute((css) => { const s = document.createElement("style"); s.textContent = css; document.head.append(s); }, css);
  await new Promise((r) => setTimeout(r, 500));
  console.log("layout with css:", await lay());
  await nav("with css");
  writeFileSync("/tmp/bench-ui-dev/after.png", Buffer.from(await b.takeScreenshot(), "base64"));
} finally {
  for (const a of [...running]) await a.close();
  out.end();
}
