// `npm run bench:copilot`: how long the copilot's grammar (src/copilot/parser.ts, pure TypeScript)
// takes per prompt on this machine, in Node's V8 (the engine workerd uses too; inside workerd the clock
// stands still during synchronous code, so this cannot be timed in the tests).
//   1. Machine info.
//   2. Typical prompts (the English and Turkish examples and shorter ones): median µs per parse.
//   3. Adversarial prompts at the 1,000-character cap (repeated numbers, phrases, codes, quotes): median
//      and slowest parse each, and the slowest median's ratio to the typical median. Patterns are written so that none backtracks
//      exponentially; the worst case is a long run of separators around numbers (quadratic at worst).
//
//   BENCH_REPEATS=2000   parses per typical prompt (adversarial ones: a tenth of it)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { fmt, positiveInt, printMachine, root } from "./lib/server.mjs";

const REPEATS = positiveInt("BENCH_REPEATS", 2000);
const vocabulary = { extraKeys: ["country", "tier", "age", "city"] };

const typical = [
  "customers who spent more than 500 and ordered at least 3 times in the last 90 days with high churn risk in TR",
  "son 90 günde en az 3 sipariş veren, 500'den fazla harcayan, churn riski yüksek TR müşterileri",
  "customers in the Champions segment",
  "iade oranı %20'den fazla olan müşteriler",
  "customers who like cats",
];
const cap = (s) => s.repeat(Math.ceil(1000 / s.length)).slice(0, 1000);
const adversarial = ["1,", "1 ", "spent more than ", "TR or ", "son 90 ", "en az ", "tier is ", "' ", "%", "in the last ", "100 ile ", "a"].map(cap);

function timeEach(parsePrompt, prompt, repeats) {
  const samples = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    parsePrompt(prompt, vocabulary);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], max: samples.at(-1) };
}

async function main() {
  printMachine();
  const dir = mkdtempSync(join(tmpdir(), "copilot-bench-"));
  try {
    const outfile = join(dir, "parser.mjs");
    await build({ entryPoints: [join(root, "src/copilot/parser.ts")], bundle: true, format: "esm", platform: "neutral", outfile, logLevel: "warning" });
    const { parsePrompt } = await import(pathToFileURL(outfile).href);
    for (const p of [...typical, ...adversarial]) parsePrompt(p, vocabulary); // warm up the JIT
    console.log(`Typical prompts (median of ${fmt(REPEATS)} parses)`);
    const medians = typical.map((prompt) => {
      const { median } = timeEach(parsePrompt, prompt, REPEATS);
      console.log(`  ${fmt(median * 1000, 1).padStart(8)} µs  ${prompt.slice(0, 70)}`);
      return median;
    });
    const typicalMedian = medians.sort((a, b) => a - b)[Math.floor(medians.length / 2)];
    console.log(`\nAdversarial prompts of 1,000 characters (median and slowest of ${fmt(REPEATS / 10)} parses)`);
    let worst = { median: 0, prompt: "" };
    for (const prompt of adversarial) {
      const { median, max } = timeEach(parsePrompt, prompt, Math.max(1, Math.floor(REPEATS / 10)));
      console.log(`  ${fmt(median * 1000, 1).padStart(8)} µs median, ${fmt(max * 1000, 1).padStart(8)} µs slowest  ${JSON.stringify(prompt.slice(0, 12))}…`);
      if (median > worst.median) worst = { median, prompt };
    }
    // Medians compared: a single slowest parse on a shared machine is mostly a GC pause or a preemption.
    console.log(`\nSlowest adversarial median ${fmt(worst.median * 1000, 1)} µs (${JSON.stringify(worst.prompt.slice(0, 12))}…) = ${fmt(worst.median / typicalMedian, 1)}× the typical median (${fmt(typicalMedian * 1000, 1)} µs)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`\nbench failed: ${error.message}`);
  process.exitCode = 1;
});
