// scratch (deleted before hand-off)
import { createWriteStream } from "node:fs";
import { launch, running, signInForm, typeInto, installHelpers, timeSignIn } from "./lib.mjs";
const out = createWriteStream("/tmp/bench-ui-dev/poke.log");
try {
  const app = await launch({ app: process.env.BENCH_APP ?? "/work/main/target/bench-ui/clinicdesk-app", db: "/tmp/bench-ui-dev/large.db", key: "/tmp/bench-ui-dev/large.key", out, label: "poke" });
  const b = app.browser;
  await signInForm(b);
  await typeInto(b, "Username", "frontdesk");
  await typeInto(b, "Password", "clinicdesk-demo");
  await b.execute(installHelpers);
  console.log("signin", JSON.stringify((await b.executeAsync(timeSignIn)).ms));
  const r = await b.execute(() => {
    const res = {};
    const f = new Intl.DateTimeFormat("en-CA", { timeZone: "America/Edmonton", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    let t = performance.now();
    for (let i = 0; i < 1000; i++) f.formatToParts(new Date(1.7e12 + i * 60000));
    res.formatToParts1000 = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < 1000; i++) f.format(new Date(1.7e12 + i * 60000));
    res.format1000 = performance.now() - t;
    const fr = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    t = performance.now();
    for (let i = 0; i < 300; i++) fr.formatRange(new Date(1.7e12 + i * 60000), new Date(1.7e12 + i * 60000 + 1800000));
    res.formatRange300 = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < 100; i++) new Intl.DateTimeFormat("en-CA", { timeZone: "America/Edmonton", hour: "2-digit" });
    res.newDTF100 = performance.now() - t;
    t = performance.now();
    let x = 0; for (let i = 0; i < 1e6; i++) x += Math.sqrt(i);
    res.loop1e6 = performance.now() - t;
    t = performance.now();
    document.body.style.paddingTop = "1px"; void document.body.offsetHeight; document.body.style.paddingTop = "";  void document.body.offsetHeight;
    res.forcedLayout2 = performance.now() - t;
    res.nodes = document.getElementsByTagName("*").length;
    res.resources = document.querySelectorAll(".ec-resource").length;
    res.classes = [...new Set([...document.querySelectorAll(".calendar *")].map((e) => e.className).filter((c) => typeof c === "string"))].slice(0, 40);
    return res;
  });
  console.log(JSON.stringify(r, null, 1));
} finally {
  for (const a of [...running]) await a.close();
  out.end();
}
