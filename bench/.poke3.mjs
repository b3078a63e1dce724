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
  // go to a busy day first (Monday) without measuring
  for (let i = 0; i < 3; i++) await b.executeAsync((done) => { const on = () => { window.removeEventListener("cd:schedule-painted", on); setTimeout(done, 300); }; window.addEventListener("cd:schedule-painted", on); [...document.querySelectorAll("button")].find((x) => x.getAttribute("aria-label") === "Next day").click(); });
  const r = await b.executeAsync((done) => {
    const acc = {};
    let depth = 0;
    const wrap = (obj, name, label = name) => {
      const f = obj[name];
      if (typeof f !== "function") return;
      obj[name] = function (...a) { if (depth) return f.apply(this, a); depth++; const t = performance.now(); try { return f.apply(this, a); } finally { depth--; const c = (acc[label] ??= { n: 0, ms: 0 }); c.n++; c.ms += performance.now() - t; window.__opTimes.push(t); } };
    };
    window.__opTimes = [];
    const wrapSet = (proto, prop) => {
      const d = Object.getOwnPropertyDescriptor(proto, prop); if (!d || !d.set) return;
      Object.defineProperty(proto, prop, { ...d, set(v) { if (depth) return d.set.call(this, v); depth++; const t = performance.now(); try { d.set.call(this, v); } finally { depth--; const c = (acc["set " + prop] ??= { n: 0, ms: 0 }); c.n++; c.ms += performance.now() - t; } } });
    };
    const wrapGet = (proto, prop) => {
      const d = Object.getOwnPropertyDescriptor(proto, prop); if (!d || !d.get) return;
      Object.defineProperty(proto, prop, { ...d, get() { if (depth) return d.get.call(this); depth++; const t = performance.now(); try { return d.get.call(this); } finally { depth--; const c = (acc["get " + prop] ??= { n: 0, ms: 0 }); c.n++; c.ms += performance.now() - t; } } });
    };
    for (const m of ["insertBefore", "appendChild", "removeChild", "replaceChild", "cloneNode"]) wrap(Node.prototype, m);
    for (const m of ["remove", "before", "after", "append", "replaceWith", "setAttribute", "removeAttribute", "toggleAttribute", "getBoundingClientRect"]) wrap(Element.prototype, m);
    wrap(Document.prototype, "importNode"); wrap(Document.prototype, "createElement"); wrap(Document.prototype, "createTextNode");
    for (const m of ["add", "remove", "toggle"]) wrap(DOMTokenList.prototype, m, "classList." + m);
    wrap(CSSStyleDeclaration.prototype, "setProperty", "style.setProperty"); wrap(CSSStyleDeclaration.prototype, "removeProperty", "style.removeProperty");
    wrapSet(Node.prototype, "textContent"); wrapSet(Node.prototype, "nodeValue"); wrapSet(CharacterData.prototype, "data");
    wrapSet(Element.prototype, "className"); wrapSet(Element.prototype, "innerHTML"); wrapSet(HTMLElement.prototype, "innerText");
    wrapSet(HTMLInputElement.prototype, "value"); wrapSet(HTMLElement.prototype, "title");
    wrapSet(CSSStyleDeclaration.prototype, "cssText");
    for (const p of ["offsetHeight", "offsetWidth", "clientHeight", "clientWidth", "scrollTop", "offsetTop", "offsetLeft"]) { wrapGet(HTMLElement.prototype, p); wrapGet(Element.prototype, p); }
    const res = [];
    let k = 0;
    let gaps = [], last = performance.now(), rafs = [];
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { const now = performance.now(); if (now - last > 3) gaps.push([last, now]); last = now; ch.port2.postMessage(0); };
    ch.port2.postMessage(0);
    const rf = () => { rafs.push(performance.now()); requestAnimationFrame(rf); };
    requestAnimationFrame(rf);
    const next = () => {
      for (const key of Object.keys(acc)) delete acc[key];
      gaps = []; rafs = []; window.__opTimes = [];
      const btn = [...document.querySelectorAll("button")].find((x) => x.getAttribute("aria-label") === (k % 2 ? "Previous day" : "Next day"));
      const on = (e) => {
        window.removeEventListener("cd:schedule-painted", on);
        const d = e.detail;
        const tot = Object.values(acc).reduce((s, c) => s + c.ms, 0);
        res.push({ total: Math.round(d.at - t0), clickToLoad: Math.round(d.startedAt - t0), dataToDom: Math.round(d.domAt - d.dataAt), domToFrame: Math.round(d.frameAt - d.domAt), shown: d.shown, marks: { load: Math.round(d.startedAt - t0), data: Math.round(d.dataAt - t0), dom: Math.round(d.domAt - t0), frame: Math.round(d.frameAt - t0), at: Math.round(d.at - t0) }, busy: gaps.map(([a, b]) => `${Math.round(a - t0)}-${Math.round(b - t0)}`).join(" "), opsAfterDom: window.__opTimes.filter((x) => x > d.domAt).length, opsBeforeDom: window.__opTimes.filter((x) => x <= d.domAt).length, lastOp: Math.round(Math.max(...window.__opTimes) - t0), rafs: rafs.map((x) => Math.round(x - t0)).join(" "), domOpsMs: Math.round(tot), ops: Object.fromEntries(Object.entries(acc).filter(([, c]) => c.ms > 2).map(([n, c]) => [n, `${c.n}x ${c.ms.toFixed(0)}ms`])) });
        k++;
        if (k < 4) setTimeout(next, 300); else done(res);
      };
      window.addEventListener("cd:schedule-painted", on);
      const t0 = performance.now();
      btn.click();
    };
    next();
  });
  for (const x of r) console.log(JSON.stringify(x));
} finally {
  for (const a of [...running]) await a.close();
  out.end();
}
