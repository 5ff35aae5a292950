// `npm run bench:engine`: how fast the model engine (src/engine, pure TypeScript) is on this machine.
//   1. Machine info. The engine runs here in Node's V8, the JavaScript engine workerd uses too.
//   2. K-Means head to head with scikit-learn on 100,000 × 8 standardized features (a seeded mixture
//      of 6 Gaussian blobs, z-scored per column): k = 6, the same initial centres for both, Lloyd's
//      algorithm, the same number of iterations, both single-threaded. Target: ours within 1.5× of
//      scikit-learn's time, with the same inertia (relative difference < 1e-6).
//   3. The full model run, segmentCustomers (RFM, auto-k with silhouette, K-Means, BG/NBD, ABC,
//      embeddings), on the 23,570 CDNOW customers and on 50,000 generated ones: time (median of 3),
//      the chosen k, the BG/NBD fit, and the heap it needs (against the 128 MB of a Worker).
//   4. A model run at the Pro plan's 500,000 customers as the segmentation consumer does it, in a
//      worker isolate: pages of 10,000 generated customers into columns, fitSegmentation, then every
//      customer profiled page by page into the JSON written to D1 (D1 itself is not part of it). Wall
//      and CPU time per phase, and peak memory: JavaScript heap plus typed arrays (which a Worker's
//      128 MB counts too), sampled with the heap capped at 64 MB so that V8 must collect garbage.
//      Targets: under 60 s, peak under 100 MB.
//
//   PYTHON=/usr/bin/python3   the python with numpy, scikit-learn and threadpoolctl
//   CDNOW_FILE=…              default ../shared/data/cdnow/CDNOW_master.txt (section 3a is skipped if absent)
//   BENCH_REPEATS=5           timed K-Means repetitions per side
//   BENCH_HEAP_LIMIT_MB=128   heap cap of the worker isolate in the memory check
//   BENCH_LARGE_CUSTOMERS=500000   customers in section 4
//   BENCH_LARGE_HEAP_CAP_MB=64     heap cap in section 4's memory figure
//
// Exits non-zero if the run itself fails (python fails, results disagree in shape), not if a target
// is missed.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { setFlagsFromString } from "node:v8";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";
import { cdnowCustomers, gaussian, generatedCustomers } from "./lib/customers.mjs";
import { fmt, positiveInt, printMachine, root } from "./lib/server.mjs";

// The worker that measures memory needs gc() to take a clean baseline; V8 flags set now apply to the
// isolates created later (the worker's), so `npm run bench:engine` needs no extra node flags.
setFlagsFromString("--expose-gc");

const PYTHON = process.env.PYTHON || "/usr/bin/python3";
const CDNOW_FILE = process.env.CDNOW_FILE || join(root, "..", "shared", "data", "cdnow", "CDNOW_master.txt");
const REPEATS = positiveInt("BENCH_REPEATS", 5);
const WORKER_LIMIT_MB = positiveInt("BENCH_HEAP_LIMIT_MB", 128); // a Worker's memory limit

const N = 100_000;
const D = 8;
const K = 6;
const BLOBS = 6;
const MAX_ITER = 50; // sklearn's cap; ours then runs exactly as many iterations as sklearn reports
const DATA_SEED = 20_240_601;
const INIT_SEED = 7;
const TIME_TARGET = 1.5; // ours / sklearn, best of REPEATS
const INERTIA_TARGET = 1e-6; // relative difference
const SEGMENT_RUNS = 3;
const GENERATED_CUSTOMERS = 50_000;
const LARGE_CUSTOMERS = positiveInt("BENCH_LARGE_CUSTOMERS", 500_000); // the Pro plan's profiles
const LARGE_TIME_TARGET = 60; // seconds
const LARGE_MEMORY_TARGET_MB = 100;
const LARGE_HEAP_CAP_MB = positiveInt("BENCH_LARGE_HEAP_CAP_MB", 64); // JavaScript heap; typed arrays come on top

const execFileAsync = promisify(execFile);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (seconds) => `${fmt(seconds * 1000, 1)} ms`;
const mb = (bytes) => `${fmt(bytes / 1024 ** 2, 1)} MB`;
const yesNo = (ok) => (ok ? "MET" : "MISSED");

// ---------------------------------------------------------------------------------------------
// Setup: the engine bundled from src/ (extension-less TS imports), seeded randomness, .npy files

/** Bundles the engine entry points into one ESM file in `dir` and imports it. */
async function loadEngine(dir) {
  const outfile = join(dir, "engine.mjs");
  await build({
    stdin: {
      contents: [
        'export { kmeans, kmeansPlusPlus } from "./src/engine/kmeans";',
        'export { CustomerScorer, fitSegmentation, segmentCustomers } from "./src/engine/segmentation";',
        'export { CustomerColumnsBuilder } from "./src/engine/customer-columns";',
        'export { seededRandom } from "./src/engine/random";',
      ].join("\n"),
      resolveDir: root,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node22",
    outfile,
    logLevel: "warning",
  });
  return { path: outfile, ...(await import(pathToFileURL(outfile).href)) };
}

/** A .npy file (format 1.0, little-endian, C order) that numpy.load reads without any copy logic. */
function writeNpy(path, typed, shape) {
  const descr = typed instanceof Float64Array ? "<f8" : typed instanceof Int32Array ? "<i4" : null;
  if (!descr) throw new Error("writeNpy: Float64Array or Int32Array only");
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  // magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, ending in \n
  header = header.padEnd(Math.ceil((10 + header.length + 1) / 64) * 64 - 10 - 1, " ") + "\n";
  const prefix = Buffer.alloc(10);
  prefix.write("\x93NUMPY", 0, "latin1");
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, "latin1"), Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength)]));
}

// ---------------------------------------------------------------------------------------------
// 2. K-Means head to head

/**
 * n × d points from a mixture of `blobs` Gaussian blobs (unequal sizes and spreads, centres close
 * enough that they overlap, so Lloyd needs a realistic number of iterations), then each column
 * z-scored as the engine does with RFM features. Deterministic for the seed.
 */
function blobData(engine, n, d, blobs, seed) {
  const random = engine.seededRandom(seed);
  const normal = gaussian(random);
  const centres = Array.from({ length: blobs }, () => Array.from({ length: d }, () => (random() * 2 - 1) * 2.2));
  const spreads = Array.from({ length: blobs }, () => 0.6 + random() * 0.8);
  const weights = Array.from({ length: blobs }, (_, j) => 1 + j); // sizes 1:2:…:6
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let pick = random() * totalWeight;
    let blob = 0;
    while (pick >= weights[blob] && blob < blobs - 1) pick -= weights[blob++];
    for (let t = 0; t < d; t++) data[i * d + t] = centres[blob][t] + spreads[blob] * normal();
  }
  for (let t = 0; t < d; t++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += data[i * d + t];
    mean /= n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (data[i * d + t] - mean) ** 2;
    const sd = Math.sqrt(variance / n);
    for (let i = 0; i < n; i++) data[i * d + t] = (data[i * d + t] - mean) / sd;
  }
  return { data, n, d };
}

/** scikit-learn's fit, single-threaded, in a child python; data and centres go through .npy files. */
async function runSklearn(dir, points, init) {
  const dataPath = join(dir, "points.npy");
  const initPath = join(dir, "init.npy");
  const labelsPath = join(dir, "sklearn-labels.bin");
  writeNpy(dataPath, points.data, [points.n, points.d]);
  writeNpy(initPath, init.data, [init.n, init.d]);
  const env = { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  // Set on some processors for old OpenBLAS builds; they slow a current numpy, so not for this command.
  const unset = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"].filter((name) => name in env);
  for (const name of unset) delete env[name];
  const script = join(root, "bench", "lib", "sklearn_kmeans.py");
  let stdout;
  try {
    ({ stdout } = await execFileAsync(PYTHON, [script, dataPath, initPath, labelsPath, String(MAX_ITER), String(REPEATS)], { env, maxBuffer: 16 * 1024 * 1024 }));
  } catch (error) {
    throw new Error(`${PYTHON} ${script} failed: ${error.message}\n${error.stderr ?? ""}`);
  }
  const result = JSON.parse(stdout.trim().split("\n").at(-1));
  // Copied into a fresh buffer: a Buffer's own may be shared and not 4-byte aligned.
  const labels = new Int32Array(new Uint8Array(readFileSync(labelsPath)).buffer);
  if (labels.length !== points.n) throw new Error(`scikit-learn returned ${labels.length} labels for ${points.n} points`);
  return { ...result, labels, unset };
}

/** Ours: the same centres and iterations, tolerance 0; a few untimed runs first so V8 has optimized. */
function runOurs(engine, points, init, iterations) {
  const options = { initialCentroids: init, maxIterations: iterations, tolerance: 0 };
  for (let i = 0; i < 2; i++) engine.kmeans(points, K, options);
  const times = [];
  let result;
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    result = engine.kmeans(points, K, options);
    times.push((performance.now() - start) / 1000);
  }
  // Where the time goes: a 1-iteration fit is the fixed cost (scaling, copy, final assignment and
  // inertia) plus one iteration; the rest of the difference is Lloyd's iterations.
  const oneIteration = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    engine.kmeans(points, K, { ...options, maxIterations: 1 });
    oneIteration.push((performance.now() - start) / 1000);
  }
  const best = Math.min(...times);
  const perIteration = iterations > 1 ? (best - Math.min(...oneIteration)) / (iterations - 1) : best;
  return { ...result, times, best, median: median(times), perIteration, fixed: Math.max(0, best - perIteration * iterations) };
}

async function benchKmeans(engine, dir) {
  console.log(`K-Means head to head: ${fmt(N)} × ${D} standardized features (${BLOBS} seeded Gaussian blobs), k = ${K}`);
  const points = blobData(engine, N, D, BLOBS, DATA_SEED);
  // One set of initial centres for both sides: the engine's greedy k-means++ with a fixed seed.
  const init = engine.kmeansPlusPlus(points, K, engine.seededRandom(INIT_SEED));

  const sk = await runSklearn(dir, points, init);
  console.log(`  scikit-learn ${sk.sklearn}, numpy ${sk.numpy}, python ${sk.python}; KMeans(init=<array>, n_init=1, algorithm="lloyd", max_iter=${MAX_ITER}, tol=0)`);
  console.log(`  threads      OMP/OPENBLAS/MKL_NUM_THREADS=1 and threadpool_limits(1); KMeans used ${sk.kmeans_n_threads ?? "?"} thread(s)`);
  for (const pool of sk.threadpools) {
    const kernel = pool.architecture ? `, kernel ${pool.architecture}` : "";
    console.log(`  threadpool   ${pool.user_api}: ${pool.prefix} ${pool.version ?? ""} (${pool.internal_api}${kernel}), num_threads=${pool.num_threads}`);
  }
  console.log(`  OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE ${sk.unset.length ? `were set (${sk.unset.join(", ")}): unset for the python command only` : "not set here"}`);

  // sklearn decides the iteration count (tol=0: it stops early only when labels stop changing);
  // ours runs the same count, and would stop at the same point on its own (centres then move exactly 0).
  const ours = runOurs(engine, points, init, sk.n_iter);
  let agree = 0;
  for (let i = 0; i < N; i++) if (ours.labels[i] === sk.labels[i]) agree++;

  const ratioBest = ours.best / sk.best;
  const ratioMedian = ours.median / sk.median;
  const inertiaDiff = Math.abs(ours.inertia - sk.inertia) / Math.abs(sk.inertia);
  const sameIterations = ours.iterations === sk.n_iter;
  console.log("");
  console.log(`                    best of ${REPEATS}     median    iterations   inertia`);
  console.log(`  scikit-learn   ${ms(sk.best).padStart(12)} ${ms(sk.median).padStart(10)} ${String(sk.n_iter).padStart(11)}   ${sk.inertia.toFixed(6)}`);
  console.log(`  ours (V8)      ${ms(ours.best).padStart(12)} ${ms(ours.median).padStart(10)} ${String(ours.iterations).padStart(11)}   ${ours.inertia.toFixed(6)}`);
  console.log(`  ours / sklearn ${`${ratioBest.toFixed(2)}×`.padStart(12)} ${`${ratioMedian.toFixed(2)}×`.padStart(10)}`);
  console.log(`  per iteration  sklearn ${ms(sk.best / sk.n_iter)} (all of fit() / n_iter_); ours ${ms(ours.perIteration)} per Lloyd iteration + ${ms(ours.fixed)} fixed (setup, final assignment, inertia)`);
  console.log(`  inertia relative difference ${inertiaDiff.toExponential(2)}; labels identical for ${fmt((100 * agree) / N, 3)} % of points`);
  if (!sameIterations) console.log(`  NOTE: iteration counts differ (sklearn ${sk.n_iter}, ours ${ours.iterations}): the times are not like for like`);
  const timeMet = ratioBest <= TIME_TARGET;
  const inertiaMet = inertiaDiff < INERTIA_TARGET && sameIterations;
  console.log(`  target: time within ${TIME_TARGET}× of scikit-learn: ${yesNo(timeMet)} (${ratioBest.toFixed(2)}×); same inertia (< ${INERTIA_TARGET}) in the same iterations: ${yesNo(inertiaMet)}`);
  console.log("");
  return { timeMet, inertiaMet, ratioBest };
}

// ---------------------------------------------------------------------------------------------
// 3. The full model run

/** A worker's resourceLimits for a heap cap (V8 splits its heap into a young and an old generation: the cap is their sum). */
function heapLimits(limitMb) {
  if (!limitMb) return undefined;
  const young = Math.min(16, Math.floor(limitMb / 4));
  return { maxOldGenerationSizeMb: limitMb - young, maxYoungGenerationSizeMb: young };
}

/**
 * Heap of one run in a fresh worker isolate: sampled from here while it runs (a lower bound of the
 * true peak: samples are some ms apart) and read by the worker right after the run (an upper bound
 * of what was live, if no GC ran). With `limitMb`, the worker's heap is capped there instead, and
 * the answer is whether the run completes within it.
 */
async function measureHeap(engine, customers, limitMb) {
  const worker = new Worker(join(root, "bench", "lib", "segment-worker.mjs"), { workerData: { bundlePath: engine.path }, resourceLimits: heapLimits(limitMb) });
  try {
    const run = await sampleIsolateMemory(worker, () => worker.postMessage({ customers }));
    if (!run.ok && !limitMb) throw new Error(run.error);
    return run.ok ? { ...run, peak: Math.max(run.peak.heap, run.end) } : run;
  } finally {
    await worker.terminate();
  }
}

async function benchSegmentation(engine, name, customers) {
  console.log(`Full model run (segmentCustomers): ${name}, ${fmt(customers.length)} customers`);
  const times = [];
  let result;
  for (let run = 0; run < SEGMENT_RUNS; run++) {
    const start = performance.now();
    result = engine.segmentCustomers(customers);
    times.push((performance.now() - start) / 1000);
  }
  const ks = result.kSelection;
  console.log(`  time          median ${ms(median(times))} (runs: ${times.map(ms).join(", ")})`);
  console.log(`  k             ${result.clusters.length} (knee ${ks?.knee ?? "-"}, curve on ${fmt(ks?.sampleSize ?? 0)} points, silhouette on ${fmt(ks?.silhouetteSampleSize ?? 0)})`);
  console.log(`  segments      ${result.clusters.map((c) => `${c.label} ${fmt(c.size)}`).join(", ")}`);
  const cm = result.churnModel;
  if (cm) {
    console.log(`  BG/NBD        r ${cm.r}, alpha ${cm.alpha}, a ${cm.a}, b ${cm.b}; log-likelihood ${fmt(cm.log_likelihood, 1)}; converged: ${cm.converged ? "yes" : "NO"} (${fmt(cm.customers)} customers)`);
  } else {
    console.log(`  BG/NBD        not fitted: ${result.churnNote}`);
  }
  console.log(`  embedding     ${result.embeddingFeatures.length} dims: ${result.embeddingFeatures.join(", ")}`);
  result = null; // free the last result before measuring memory

  const heap = await measureHeap(engine, customers);
  const capped = await measureHeap(engine, customers, WORKER_LIMIT_MB);
  console.log(
    `  heap          input ${mb(heap.before)}; peak ${mb(heap.peak)} (+${mb(heap.peak - heap.before)} during the run, ${heap.samples} samples); ` +
      `result kept ${mb(heap.retained - heap.before)}${heap.gcExposed ? "" : " (gc() unavailable: figures include garbage)"}`,
  );
  console.log(`  ${WORKER_LIMIT_MB} MB check   a worker isolate capped at ${WORKER_LIMIT_MB} MB heap: ${capped.ok ? "completes" : `FAILS (${capped.error})`}`);
  console.log("");
  return { name, median: median(times), heapOk: capped.ok };
}

// ---------------------------------------------------------------------------------------------
// 4. A model run at the Pro plan's 500,000 customers, as the segmentation consumer does it

/**
 * Samples a worker isolate's memory every few ms while `start` runs in it: the JavaScript heap, and
 * with it the memory outside it that the isolate owns (typed arrays' buffers), which a Worker's 128 MB
 * limit counts as well. A lower bound of the true peak (samples are some ms apart). `ok: false` when
 * the isolate ran out of memory.
 */
async function sampleIsolateMemory(worker, start) {
  const peak = { total: 0, heap: 0, external: 0 };
  let samples = 0;
  let running = false;
  const finished = new Promise((resolve, reject) => {
    worker.on("message", (message) => {
      if (message.type === "started") running = true;
      else if (message.type === "done") resolve(message);
    });
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`worker exited with code ${code} before finishing`)));
  });
  let done = false;
  finished.then(() => (done = true), () => (done = true));
  start();
  while (!done) {
    try {
      const stats = await worker.getHeapStatistics();
      if (running) {
        peak.total = Math.max(peak.total, stats.used_heap_size + stats.external_memory);
        peak.heap = Math.max(peak.heap, stats.used_heap_size);
        peak.external = Math.max(peak.external, stats.external_memory);
        samples++;
      }
    } catch {
      // not started yet, or gone: `done` says which
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  try {
    return { ok: true, ...(await finished), peak, samples };
  } catch (error) {
    if (error.code === "ERR_WORKER_OUT_OF_MEMORY" || /memory/i.test(error.message)) return { ok: false, error: error.message, peak, samples };
    throw error;
  }
}

/** One large run in a fresh isolate, its JavaScript heap capped at `heapMb` if given. */
async function largeRun(engine, heapMb) {
  const worker = new Worker(join(root, "bench", "lib", "model-run-worker.mjs"), { workerData: { bundlePath: engine.path }, resourceLimits: heapLimits(heapMb) });
  try {
    const run = await sampleIsolateMemory(worker, () => worker.postMessage({ n: LARGE_CUSTOMERS, seed: 99, pageSize: 10_000 }));
    if (!run.ok && !heapMb) throw new Error(run.error);
    return run;
  } finally {
    await worker.terminate();
  }
}

async function benchLargeRun(engine) {
  console.log(`Model run as the consumer does it: ${fmt(LARGE_CUSTOMERS)} generated customers, read in pages of 10,000 into columns,`);
  console.log("fitted, then profiled page by page into the JSON written to D1 (D1 itself not included: see README)");
  const run = await largeRun(engine);
  const { times } = run;
  const cpuOf = (t) => (t.cpu === null ? "" : `, CPU ${ms(t.cpu)}`);
  const wall = times.read.wall + times.fit.wall + times.profiles.wall;
  const cpu = times.read.cpu === null ? null : times.read.cpu + times.fit.cpu + times.profiles.cpu;
  console.log(`  read          ${ms(times.read.wall)}${cpuOf(times.read)} (pages into columns; generating them took another ${ms(run.generating.wall)}, not counted)`);
  console.log(`  fit           ${ms(times.fit.wall)}${cpuOf(times.fit)} (RFM, auto-k, K-Means on every customer, BG/NBD, ABC boundaries)`);
  console.log(`  profiles      ${ms(times.profiles.wall)}${cpuOf(times.profiles)} (${fmt(run.bytesWritten / 1024 ** 2, 1)} MB of JSON for D1; checkpoint ${fmt(run.checkpointBytes / 1024, 1)} KB)`);
  console.log(`  total         ${ms(wall)}${cpu === null ? " (CPU time needs Node ≥ 23.9: process.threadCpuUsage)" : `, CPU ${ms(cpu)}`}`);
  console.log(`  k             ${run.k}: ${run.clusters.join(", ")}`);
  const cm = run.churnModel;
  if (cm) console.log(`  BG/NBD        r ${cm.r}, alpha ${cm.alpha}, a ${cm.a}, b ${cm.b}; converged: ${cm.converged ? "yes" : "NO"}`);
  // Uncapped, V8 lets garbage (each page's rows and JSON) pile up before collecting: the peak then
  // says little about what the run needs. Capped, it must collect; what it then holds is the figure.
  // Still an overstatement: freed typed arrays are released on a background thread, and counted
  // until then.
  console.log(`  uncapped      peak heap ${mb(run.peak.heap)} (garbage included: V8 collects lazily), typed arrays ${mb(run.peak.external)}`);
  const capped = await largeRun(engine, LARGE_HEAP_CAP_MB);
  console.log(
    `  heap capped   at ${LARGE_HEAP_CAP_MB} MB: ${capped.ok ? "completes" : `FAILS (${capped.error})`}; peak heap + typed arrays ${mb(capped.peak.total)} ` +
      `(heap ${mb(capped.peak.heap)}, typed arrays ${mb(capped.peak.external)}, ${capped.samples} samples)`,
  );
  const timeMet = wall < LARGE_TIME_TARGET;
  const memoryMet = capped.ok && capped.peak.total < LARGE_MEMORY_TARGET_MB * 1024 ** 2;
  console.log(`  target: under ${LARGE_TIME_TARGET} s ${yesNo(timeMet)}; peak under ${LARGE_MEMORY_TARGET_MB} MB ${yesNo(memoryMet)}`);
  console.log("");
  return { wall, cpu, peak: capped.peak.total, timeMet, memoryMet };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "segmento-bench-engine-"));
  try {
    printMachine();
    const engine = await loadEngine(dir);
    const workerd = readJson(join(root, "node_modules", "workerd", "package.json"))?.version;
    console.log(`JavaScript engine: V8 ${process.versions.v8} in Node ${process.version}; workerd${workerd ? ` ${workerd}` : ""} runs the same V8 engine,`);
    console.log("so these times indicate what a Worker (one isolate, one thread) spends on the same code.");
    console.log("");

    // A failing python side (missing package, say) still lets the model-run timings below be taken.
    let km = null;
    try {
      km = await benchKmeans(engine, dir);
    } catch (error) {
      console.error(`K-Means comparison failed: ${error.stack ?? error}\n`);
      process.exitCode = 1;
    }

    const runs = [];
    if (existsSync(CDNOW_FILE)) runs.push(await benchSegmentation(engine, "CDNOW", cdnowCustomers(CDNOW_FILE)));
    else console.log(`CDNOW file not found at ${CDNOW_FILE}: section 3a skipped\n`);
    runs.push(await benchSegmentation(engine, "generated", generatedCustomers(GENERATED_CUSTOMERS, 99)));
    const large = await benchLargeRun(engine);

    console.log("Summary");
    if (km) console.log(`  K-Means       ${km.ratioBest.toFixed(2)}× scikit-learn's time: within ${TIME_TARGET}× ${yesNo(km.timeMet)}; same inertia in the same iterations ${yesNo(km.inertiaMet)}`);
    else console.log("  K-Means       comparison failed (see above)");
    for (const run of runs) {
      console.log(`  ${run.name.padEnd(13)} model run ${ms(run.median)} (median), within a ${WORKER_LIMIT_MB} MB heap: ${run.heapOk ? "yes" : "NO"}`);
    }
    console.log(
      `  ${fmt(LARGE_CUSTOMERS)}       model run ${ms(large.wall)}${large.cpu === null ? "" : ` (CPU ${ms(large.cpu)})`}: under ${LARGE_TIME_TARGET} s ${yesNo(large.timeMet)}; ` +
        `peak memory ${mb(large.peak)}: under ${LARGE_MEMORY_TARGET_MB} MB ${yesNo(large.memoryMet)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
