/**
 * Small SVG plots for the benchmark report, written by hand (no plotting
 * library is reachable here). Pure.
 *
 * @module
 */
import { quantile, type Sample } from "./stats.ts";

const width = 640;
const rowHeight = 36;
const left = 220;
const right = 30;
const top = 30;
const axisHeight = 40;

/** Escapes text for SVG. */
function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Round tick values covering 0..max, about five of them. */
export function ticks(max: number): number[] {
  if (!(max > 0)) return [0];
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const values: number[] = [];
  for (let v = 0;; v = Number((v + step).toPrecision(12))) {
    values.push(v);
    if (v >= max) return values;
  }
}

/**
 * The distribution of each method's samples: one row per method, a dot per
 * sample, a bar at the median and a thin line from the 10th to the 90th percentile.
 *
 * @example
 * ```ts
 * const svg = distributionSvg("failover", "ms", [{ method: "a", value: 1 }]);
 * console.assert(svg.startsWith("<svg"));
 * ```
 */
export function distributionSvg(title: string, unit: string, samples: readonly Sample[]): string {
  const methods = [...new Set(samples.map((s) => s.method))];
  const max = Math.max(0, ...samples.map((s) => s.value));
  const scale = ticks(max);
  const top_ = scale.at(-1)! || 1;
  const x = (v: number) => left + (v / top_) * (width - left - right);
  const height = top + methods.length * rowHeight + axisHeight;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const [row, method] of methods.entries()) {
    const y = top + row * rowHeight + rowHeight / 2;
    const values = samples.filter((s) => s.method === method).map((s) => s.value);
    parts.push(`<text x="${left - 8}" y="${y + 4}" text-anchor="end">${esc(method)}</text>`);
    parts.push(
      `<line x1="${x(quantile(values, 0.1))}" x2="${
        x(quantile(values, 0.9))
      }" y1="${y}" y2="${y}" stroke="#888"/>`,
    );
    for (const v of values) {
      parts.push(`<circle cx="${x(v)}" cy="${y}" r="3" fill="#3465a4" fill-opacity="0.6"/>`);
    }
    const median = x(quantile(values, 0.5));
    parts.push(
      `<line x1="${median}" x2="${median}" y1="${y - 10}" y2="${
        y + 10
      }" stroke="#cc0000" stroke-width="2"/>`,
    );
  }
  const axisY = top + methods.length * rowHeight + 6;
  parts.push(
    `<line x1="${left}" x2="${width - right}" y1="${axisY}" y2="${axisY}" stroke="#000"/>`,
  );
  for (const t of scale) {
    parts.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${axisY}" y2="${axisY + 4}" stroke="#000"/>`,
      `<text x="${x(t)}" y="${axisY + 16}" text-anchor="middle">${t}</text>`,
    );
  }
  parts.push(
    `<text x="${(left + width - right) / 2}" y="${axisY + 32}" text-anchor="middle">${
      esc(unit)
    }</text>`,
    "</svg>",
  );
  return parts.join("\n") + "\n";
}

/** One line of a curve plot: y against x. */
export interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

const palette = ["#3465a4", "#cc0000", "#4e9a06", "#c4a000", "#75507b"];

/**
 * Lines of y against x (for example a cost against the number of Redis
 * resources), each series with its own colour and a legend.
 *
 * @example
 * ```ts
 * const svg = curveSvg("memory", "resources", "MB", [{ name: "rss", points: [[1, 50], [10, 60]] }]);
 * console.assert(svg.includes("<polyline"));
 * ```
 */
export function curveSvg(
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly Series[],
): string {
  const plotLeft = 70;
  const height = 320;
  const bottom = 50;
  const all = series.flatMap((s) => s.points);
  const xTicks = ticks(Math.max(0, ...all.map(([px]) => px)));
  const yTicks = ticks(Math.max(0, ...all.map(([, py]) => py)));
  const xMax = xTicks.at(-1)! || 1;
  const yMax = yTicks.at(-1)! || 1;
  const x = (v: number) => plotLeft + (v / xMax) * (width - plotLeft - 160);
  const y = (v: number) => height - bottom - (v / yMax) * (height - bottom - top);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${plotLeft}" x2="${x(xMax)}" y1="${y(0)}" y2="${y(0)}" stroke="#000"/>`,
    `<line x1="${plotLeft}" x2="${plotLeft}" y1="${y(0)}" y2="${y(yMax)}" stroke="#000"/>`,
  ];
  for (const t of xTicks) {
    parts.push(`<text x="${x(t)}" y="${y(0) + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of yTicks) {
    parts.push(`<text x="${plotLeft - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`);
  }
  parts.push(
    `<text x="${x(xMax / 2)}" y="${height - 12}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="14" y="${y(yMax / 2)}" text-anchor="middle" transform="rotate(-90 14 ${
      y(yMax / 2)
    })">${esc(yLabel)}</text>`,
  );
  for (const [i, s] of series.entries()) {
    const colour = palette[i % palette.length];
    const points = [...s.points].sort((a, b) => a[0] - b[0]);
    parts.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${
        points.map(([px, py]) => `${x(px)},${y(py)}`).join(" ")
      }"/>`,
    );
    for (const [px, py] of points) {
      parts.push(`<circle cx="${x(px)}" cy="${y(py)}" r="3" fill="${colour}"/>`);
    }
    parts.push(
      `<text x="${width - 150}" y="${top + 16 * i}" fill="${colour}">${esc(s.name)}</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
