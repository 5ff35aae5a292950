// Worker side of the large model run in bench/kmeans-vs-sklearn.mjs: one model run as the segmentation
// consumer does it, in its own V8 isolate (as a Worker invocation has one). Customers arrive a page at
// a time (generated here, standing in for D1 pages) and only what the consumer keeps stays live: the
// columns, then the model; each page's rows, profiles and the JSON written to D1 are garbage after it.
// Reports wall and CPU time per phase; the main thread samples this isolate's memory meanwhile.
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import { generatedCustomerPages } from "./customers.mjs";

const { CustomerColumnsBuilder, CustomerScorer, fitSegmentation } = await import(pathToFileURL(workerData.bundlePath).href);
const collect = typeof globalThis.gc === "function" ? () => globalThis.gc() : () => {};
// CPU time of this thread (Node ≥ 23.9), else null: on a shared machine wall time overstates CPU.
const cpu = () => (typeof process.threadCpuUsage === "function" ? (({ user, system }) => (user + system) / 1e6)(process.threadCpuUsage()) : null);
const WRITE_CHUNK = 500; // as services/model-runs.ts

parentPort.once("message", ({ n, seed, pageSize }) => {
  collect();
  parentPort.postMessage({ type: "started" });
  // Generating the pages stands in for waiting on D1: its time is taken out of the phases' times.
  const generating = { wall: 0, cpu: 0 };
  const pages = function* () {
    for (const it = generatedCustomerPages(n, seed, pageSize); ; ) {
      const [wall, cpuStart] = [performance.now(), cpu()];
      const { value, done } = it.next();
      generating.wall += (performance.now() - wall) / 1000;
      if (cpuStart !== null) generating.cpu += cpu() - cpuStart;
      if (done) return;
      yield value;
    }
  };
  const times = {};
  const phase = (name, run) => {
    const before = { ...generating };
    const [wall, cpuStart] = [performance.now(), cpu()];
    const result = run();
    times[name] = {
      wall: (performance.now() - wall) / 1000 - (generating.wall - before.wall),
      cpu: cpuStart === null ? null : cpu() - cpuStart - (generating.cpu - before.cpu),
    };
    return result;
  };
  // The columns are dropped once the model is fitted, as the consumer's are.
  const fitted = (() => {
    const columns = phase("read", () => {
      const builder = new CustomerColumnsBuilder(n);
      for (const page of pages()) for (const customer of page) builder.add(customer);
      return builder.finish();
    });
    return phase("fit", () => fitSegmentation(columns));
  })();
  let bytesWritten = 0;
  phase("profiles", () => {
    const scorer = new CustomerScorer(fitted);
    for (const page of pages()) {
      const profiles = page.map((c) => ({ customerId: c.customerId, profile: scorer.score(c) }));
      for (let start = 0; start < profiles.length; start += WRITE_CHUNK) {
        const rows = profiles.slice(start, start + WRITE_CHUNK).map(({ customerId, profile: p }) => [
          customerId, p.recencyDays, p.churnScore, p.churnRisk, p.expectedPurchases90d, p.abcCategory, fitted.clusters[p.cluster].label, JSON.stringify(p.embedding),
        ]);
        bytesWritten += JSON.stringify(rows).length;
      }
    }
    bytesWritten += JSON.stringify(fitted).length; // the checkpoint
  });
  parentPort.postMessage({
    type: "done",
    times,
    generating,
    k: fitted.clusters.length,
    clusters: fitted.clusters.map((c) => `${c.label} ${c.size}`),
    churnModel: fitted.churnModel,
    checkpointBytes: JSON.stringify(fitted).length,
    bytesWritten,
  });
});
