/**
 * Benchmark samples and their summary: per method the median, 90th
 * percentile and worst, and each method's median as a ratio of the
 * baseline's (the method whose name starts with "baseline").
 *
 * @module
 */

/** One measurement of one method. */
export interface Sample {
  readonly method: string;
  readonly value: number;
}

/** The value at quantile `q` (0..1) of `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** A text table: one line per method, the baseline first. */
export function summarize(title: string, samples: readonly Sample[]): string {
  const methods = [...new Set(samples.map((s) => s.method))].sort((a, b) =>
    Number(b.startsWith("baseline")) - Number(a.startsWith("baseline"))
  );
  const values = (method: string) => samples.filter((s) => s.method === method).map((s) => s.value);
  const baseline = methods.find((m) => m.startsWith("baseline"));
  const baselineMedian = baseline ? quantile(values(baseline), 0.5) : undefined;
  const lines = [title];
  for (const method of methods) {
    const v = values(method);
    const median = quantile(v, 0.5);
    const ratio = baselineMedian ? ` ratio ${(median / baselineMedian).toFixed(3)}` : "";
    lines.push(
      `  ${method.padEnd(28)} n=${v.length} median ${median.toFixed(1)} p90 ${
        quantile(v, 0.9).toFixed(1)
      } worst ${Math.max(...v).toFixed(1)}${ratio}`,
    );
  }
  return lines.join("\n");
}
