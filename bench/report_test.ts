import assert from "node:assert/strict";
import { type BenchReport, renderMarkdown, sectionTable, writeReport } from "./report.ts";

const report: BenchReport = {
  generatedAt: "2026-11-28T12:00:00Z",
  command: "deno task bench 2",
  environment: { CPU: "2 cores", Redis: "7.0.15" },
  sections: [{
    id: "failover",
    title: "kill -9 of the master",
    unit: "ms",
    samples: [
      { method: "baseline: redis-sentinel", value: 1000 },
      { method: "baseline: redis-sentinel", value: 2000 },
      { method: "operator", value: 100 },
      { method: "operator", value: 300 },
    ],
  }],
  curves: [{
    id: "scale-memory",
    title: "operator memory",
    xLabel: "Redis resources",
    yLabel: "MB",
    series: [{ name: "idle", points: [[1, 50], [10, 62.5]] }],
  }],
  notes: ["fault mix, seed 7: Ok"],
};

Deno.test("sectionTable() puts the baseline first with ratio 1 and the others as ratios of medians", () => {
  const lines = sectionTable(report.sections[0]!).split("\n");
  assert.match(
    lines[2]!,
    /^\| baseline: redis-sentinel \| 2 \| 1000 \| 1000 – 2000 \| 2000 \| 1\.000 \|$/,
  );
  assert.match(lines[3]!, /^\| operator \| 2 \| 100 \| 100 – 300 \| 300 \| 0\.100 \|$/);
});

Deno.test("renderMarkdown() states the command, the machine, every section, curve and note", () => {
  const text = renderMarkdown(report);
  assert.match(text, /`deno task bench 2`/);
  assert.match(text, /\| Redis \| 7\.0\.15 \|/);
  assert.match(text, /!\[kill -9 of the master\]\(bench\/failover\.svg\)/);
  assert.match(text, /\| 10 \| 62\.5 \|/);
  assert.match(text, /- fault mix, seed 7: Ok/);
});

Deno.test("writeReport() writes the Markdown, one plot per section and curve, and the raw JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeReport(report, dir);
    const files = [...Deno.readDirSync(`${dir}/bench`)].map((e) => e.name).sort();
    assert.deepEqual(files, ["failover.svg", "results.json", "scale-memory.svg"]);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/bench/results.json`)), report);
    assert.match(await Deno.readTextFile(`${dir}/BENCHMARKS.md`), /^# Benchmarks/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
