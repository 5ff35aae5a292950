// Worker side of the memory measurement in bench/kmeans-vs-sklearn.mjs: runs segmentCustomers once
// on the customers it is sent, in its own V8 isolate (as a Worker request has one), so its heap holds
// only the input, the model run and the result. The main thread samples this heap meanwhile
// (worker.getHeapStatistics()); this side reports the heap before, right after, and what stays live.
import { getHeapStatistics } from "node:v8";
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";

const { segmentCustomers } = await import(pathToFileURL(workerData.bundlePath).href);
// --expose-gc is set on the process before this worker starts; without it the numbers include garbage.
const collect = typeof globalThis.gc === "function" ? () => globalThis.gc() : () => {};
const used = () => getHeapStatistics().used_heap_size;

parentPort.once("message", ({ customers }) => {
  collect();
  const before = used();
  parentPort.postMessage({ type: "started" });
  const result = segmentCustomers(customers);
  const end = used(); // before any collection: everything allocated since the last GC is still counted
  collect();
  const retained = used(); // input + result
  parentPort.postMessage({ type: "done", before, end, retained, gcExposed: typeof globalThis.gc === "function", k: result.clusters.length });
});
