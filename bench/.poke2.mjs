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
  const r = await b.executeAsync(async (done) => {
    const inv = window.__TAURI_INTERNALS__.invoke;
    const st = await inv("session_status", {});
    const clinicId = st.user.roles[0].clinic_id;
    const date = "2026-11-24";
    const res = { clinicId };
    const time = async (name, cmd, args, n = 10) => {
      const ts = []; let bytes = 0;
      for (let i = 0; i < n; i++) { const t = performance.now(); const r = await inv(cmd, args); ts.push(performance.now() - t); bytes = JSON.stringify(r).length; }
      ts.sort((a, b) => a - b);
      res[name] = { p50: ts[Math.floor(n / 2)], min: ts[0], max: ts[n - 1], kb: Math.round(bytes / 1024) };
    };
    await time("session_status", "session_status", {});
    await time("day_schedule", "day_schedule", { clinicId, date, providerId: null });
    await time("list_roster", "list_roster", { clinicId, from: date, to: date, staffId: null });
    await time("list_availability_blocks", "list_availability_blocks", { clinicId, from: date, to: date, providerId: null });
    await time("search_patients smi", "search_patients", { query: "smi", limit: 20 });
    await time("search_patients tremb", "search_patients", { query: "tremb", limit: 20 });
    await time("list_staff", "list_staff", { query: { clinic_id: clinicId, include_deleted: false, limit: null, offset: null } }, 3).catch((e) => (res.list_staff = String(e)));
    done(res);
  });
  console.log(JSON.stringify(r, null, 1));
  // busy timeline of one navigation
  const tl = await b.executeAsync((done) => {
    const gaps = [];
    let last = performance.now();
    let stop = false;
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { const now = performance.now(); if (now - last > 4) gaps.push([Math.round(last), Math.round(now)]); last = now; if (!stop) ch.port2.postMessage(0); };
    const frames = [];
    const f = (t) => { frames.push(Math.round(performance.now())); if (!stop) requestAnimationFrame(f); };
    requestAnimationFrame(f);
    const counts = {};
    const wrapGetter = (proto, prop) => { const d = Object.getOwnPropertyDescriptor(proto, prop); if (!d || !d.get) return; Object.defineProperty(proto, prop, { ...d, get() { const t = performance.now(); const v = d.get.call(this); const c = (counts[prop] ??= { n: 0, ms: 0 }); c.n++; c.ms += performance.now() - t; return v; } }); };
    for (const p of ["offsetHeight", "offsetWidth", "clientHeight", "clientWidth", "scrollTop", "scrollHeight"]) { wrapGetter(HTMLElement.prototype, p); wrapGetter(Element.prototype, p); }
    const gbcr = Element.prototype.getBoundingClientRect;
    Element.prototype.getBoundingClientRect = function () { const t = performance.now(); const v = gbcr.call(this); const c = (counts.gbcr ??= { n: 0, ms: 0 }); c.n++; c.ms += performance.now() - t; return v; };
    const gcs = window.getComputedStyle;
    window.getComputedStyle = function (...a) { const c = (counts.gcs ??= { n: 0, ms: 0 }); c.n++; return gcs.apply(this, a); };
    setTimeout(() => {
      const btn = [...document.querySelectorAll("button")].find((x) => x.getAttribute("aria-label") === "Next day");
      const want = "2026-11-24";
      // navigate to 11-23 first? just click next repeatedly until want
      let t0;
      const onPaint = (e) => {
        window.removeEventListener("cd:schedule-painted", onPaint);
        setTimeout(() => { stop = true; done({ t0: Math.round(t0), d: Object.fromEntries(Object.entries(e.detail).map(([k, v]) => [k, typeof v === "number" ? Math.round(v) : v])), gaps, frames, counts }); }, 300);
      };
      window.addEventListener("cd:schedule-painted", onPaint);
      t0 = performance.now();
      btn.click();
    }, 500);
    ch.port2.postMessage(0);
  });
  console.log(JSON.stringify(tl));
} finally {
  for (const a of [...running]) await a.close();
  out.end();
}
