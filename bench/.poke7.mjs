// scratch (deleted before hand-off): typeahead latency with CSS injected (POKE_CSS)
import { createWriteStream } from "node:fs";
import { launch, running, signInForm, typeInto, installHelpers, timeSignIn, installKeyRecorder, waitKey, clearPatient, stats } from "./lib.mjs";
const out = createWriteStream("/tmp/bench-ui-dev/poke.log");
const css = process.env.POKE_CSS ?? "";
try {
  const app = await launch({ app: "/work/main/target/bench-ui/clinicdesk-app", db: "/dev/shm/bench-ui-dev/large.db", key: "/dev/shm/bench-ui-dev/large.key", out, label: "poke" });
  const b = app.browser;
  await b.setTimeout({ script: 120000 });
  await signInForm(b);
  await typeInto(b, "Username", "frontdesk");
  await typeInto(b, "Password", "clinicdesk-demo");
  await b.execute(installHelpers);
  await b.executeAsync(timeSignIn);
  await b.execute(() => { const btn = [...document.querySelectorAll("button")].find((x) => x.getAttribute("aria-label") === "Next day"); btn.click(); });
  await new Promise((r) => setTimeout(r, 1500));
  if (css) await b.execute((css) => { const s = document.createElement("style"); s.textContent = css; document.head.append(s); }, css);
  await b.execute(() => [...document.querySelectorAll("button")].find((x) => x.textContent.trim() === "Book appointment").click());
  const box = await b.$('[role="dialog"] input[role="combobox"]');
  await box.waitForExist({ timeout: 10000 });
  await box.click();
  await b.execute(installKeyRecorder);
  let n = 0;
  for (const w of ["smith", "brown", "tremblay", "wilson", "campbell", "anderson"]) {
    await b.execute(clearPatient);
    for (const ch of w) {
      if (process.env.POKE_SYNTH) {
        await b.execute((ch) => {
          const box = document.querySelector('[role="dialog"] input[role="combobox"]');
          box.dispatchEvent(new KeyboardEvent("keydown", { key: ch, bubbles: true }));
          box.value += ch;
          box.dispatchEvent(new Event("input", { bubbles: true }));
        }, ch);
      } else await b.keys(ch);
      await b.executeAsync(waitKey, n++);
    }
  }
  // One more keystroke with a busy timeline of the main thread.
  await b.execute(clearPatient);
  await b.execute((ch) => { const box = document.querySelector('[role="dialog"] input[role="combobox"]'); box.value = "mart"; box.dispatchEvent(new Event("input", { bubbles: true })); });
  await new Promise((r) => setTimeout(r, 800));
  const tl = await b.executeAsync((done) => {
    let gaps = [], last = performance.now(), rafs = [], stop = false;
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { const now = performance.now(); if (now - last > 3) gaps.push([last, now]); last = now; if (!stop) ch.port2.postMessage(0); };
    ch.port2.postMessage(0);
    const rf = () => { rafs.push(performance.now()); if (!stop) requestAnimationFrame(rf); };
    requestAnimationFrame(rf);
    setTimeout(() => {
      const box = document.querySelector('[role="dialog"] input[role="combobox"]');
      const on = (e) => { window.removeEventListener("cd:typeahead-painted", on); const d = e.detail; setTimeout(() => { stop = true; const r = (x) => Math.round(x - t0); done({ data: r(d.dataAt), dom: r(d.domAt), frame: r(d.frameAt), at: r(d.at), busy: gaps.map(([a, b]) => `${r(a)}..${r(b)}`).join(" "), rafs: rafs.map(r).join(" ") }); }, 400); };
      window.addEventListener("cd:typeahead-painted", on);
      const t0 = performance.now();
      box.value += "i"; box.dispatchEvent(new Event("input", { bubbles: true }));
    }, 300);
  });
  console.log("timeline", JSON.stringify(tl));
  const keys = await b.execute(() => window.__benchKeys.keys);
  const ks = keys.filter((k) => (k.value ?? "").trim().length >= 2);
  const s = stats(ks.map((k) => k.paintAt - k.t0));
  console.log(JSON.stringify(css).slice(0, 90), "n", s.n, "p50", s.p50.toFixed(0), "p95", s.p95.toFixed(0), "max", s.max.toFixed(0));
} finally {
  for (const a of [...running]) await a.close();
  out.end();
}
