/**
 * The benchmark report: `docs/BENCHMARKS.md` with a table per measurement
 * (median, spread, worst, ratio to the baseline measured in the same run),
 * the raw samples as JSON beside it, and an SVG plot per measurement and per
 * curve. Rendering is pure; {@linkcode writeReport} writes the files.
 *
 * @module
 */
import { curveSvg, distributionSvg, type Series } from "./svg.ts";
import { quantile, type Sample } from "./stats.ts";

/** One measurement: samples of one or more methods, the baseline's name starting "baseline". */
export interface ReportSection {
  /** File-name safe id, used for the plot. */
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly samples: readonly Sample[];
  /** What was measured and how, in a sentence or two. */
  readonly note?: string;
}

/** A cost against a size (for example memory against the number of Redis resources). */
export interface ReportCurve {
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly note?: string;
}

/** Everything one `deno task bench` run measured, and where. */
export interface BenchReport {
  readonly generatedAt: string;
  readonly command: string;
  /** Machine and software, name to value (CPU, memory, kernel, Deno, Redis, Kubernetes...). */
  readonly environment: Readonly<Record<string, string>>;
  readonly sections: readonly ReportSection[];
  readonly curves: readonly ReportCurve[];
  /** Outcomes that are not samples (a fault mix's verdict, a run that did not complete). */
  readonly notes: readonly string[];
}

/** Where the plots and raw results go, relative to the Markdown file. */
export const assetDir = "bench";

const fixed = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

/** The Markdown table of one section: one row per method, the baseline first. */
export function sectionTable(section: ReportSection): string {
  const methods = [...new Set(section.samples.map((s) => s.method))].sort((a, b) =>
    Number(b.startsWith("baseline")) - Number(a.startsWith("baseline"))
  );
  const values = (m: string) => section.samples.filter((s) => s.method === m).map((s) => s.value);
  const baseline = methods.find((m) => m.startsWith("baseline"));
  const baselineMedian = baseline ? quantile(values(baseline), 0.5) : undefined;
  const rows = methods.map((m) => {
    const v = values(m);
    const median = quantile(v, 0.5);
    const ratio = baselineMedian ? (median / baselineMedian).toFixed(3) : "–";
    return `| ${m} | ${v.length} | ${fixed(median)} | ${fixed(quantile(v, 0.1))} – ${
      fixed(quantile(v, 0.9))
    } | ${fixed(Math.max(...v))} | ${ratio} |`;
  });
  return [
    `| method | n | median (${section.unit}) | p10 – p90 | worst | ratio of medians to the baseline |`,
    "|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** The whole Markdown file. */
export function renderMarkdown(report: BenchReport): string {
  const lines = [
    "# Benchmarks",
    "",
    `Written by \`${report.command}\` on ${report.generatedAt}; rerun it to reproduce. Every`,
    "figure comes from that one run: medians with the 10th–90th percentile spread and the worst,",
    "and each method's median as a ratio of its baseline's, measured beside it. The raw samples are",
    `in [${assetDir}/results.json](${assetDir}/results.json).`,
    "",
    "## Machine and versions",
    "",
    "| | |",
    "|---|---|",
    ...Object.entries(report.environment).map(([k, v]) => `| ${k} | ${v} |`),
    "",
  ];
  for (const section of report.sections) {
    lines.push(`## ${section.title}`, "");
    if (section.note) lines.push(section.note, "");
    lines.push(sectionTable(section), "", `![${section.title}](${assetDir}/${section.id}.svg)`, "");
  }
  for (const curve of report.curves) {
    lines.push(`## ${curve.title}`, "");
    if (curve.note) lines.push(curve.note, "");
    const xs = [...new Set(curve.series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) =>
      a - b
    );
    lines.push(
      `| ${curve.xLabel} | ${curve.series.map((s) => s.name).join(" | ")} |`,
      `|---|${curve.series.map(() => "---").join("|")}|`,
      ...xs.map((x) =>
        `| ${x} | ${
          curve.series.map((s) => {
            const point = s.points.find(([px]) => px === x);
            return point ? fixed(point[1]) : "–";
          }).join(" | ")
        } |`
      ),
      "",
      `![${curve.title}](${assetDir}/${curve.id}.svg)`,
      "",
    );
  }
  if (report.notes.length) {
    lines.push("## Other outcomes", "", ...report.notes.map((n) => `- ${n}`), "");
  }
  return lines.join("\n");
}

/** Writes BENCHMARKS.md into `dir`, and its plots and results.json into `dir/bench/`. */
export async function writeReport(report: BenchReport, dir: string): Promise<string> {
  await Deno.mkdir(`${dir}/${assetDir}`, { recursive: true });
  for (const section of report.sections) {
    await Deno.writeTextFile(
      `${dir}/${assetDir}/${section.id}.svg`,
      distributionSvg(section.title, section.unit, section.samples),
    );
  }
  for (const curve of report.curves) {
    await Deno.writeTextFile(
      `${dir}/${assetDir}/${curve.id}.svg`,
      curveSvg(curve.title, curve.xLabel, curve.yLabel, curve.series),
    );
  }
  await Deno.writeTextFile(
    `${dir}/${assetDir}/results.json`,
    JSON.stringify(report, null, 2) + "\n",
  );
  const file = `${dir}/BENCHMARKS.md`;
  await Deno.writeTextFile(file, renderMarkdown(report));
  // Wrapped as the repository's `deno fmt --check` wants it (its config, wherever the bench
  // runs from), so a committed report passes CI.
  const formatted = await new Deno.Command(Deno.execPath(), {
    args: [
      "fmt",
      "--quiet",
      `--config=${new URL("../deno.json", import.meta.url).pathname}`,
      file,
      // The plots too: deno fmt wraps SVG like any markup.
      `${dir}/${assetDir}`,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!formatted.success) console.error(`deno fmt failed on ${file}: format it before committing`);
  return file;
}
