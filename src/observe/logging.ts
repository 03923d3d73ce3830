/**
 * JSON-lines logging on standard output through LogTape.
 *
 * @module
 */
import {
  configure,
  getConsoleSink,
  getLogger,
  jsonLinesFormatter,
  type Logger,
} from "@logtape/logtape";

/** Sends every record of the `redis-operator` category, at `level` and above, to stdout as JSON lines. */
export async function configureLogging(
  level: "debug" | "info" | "warning" = "info",
): Promise<void> {
  await configure({
    sinks: { stdout: getConsoleSink({ formatter: jsonLinesFormatter }) },
    loggers: [
      { category: ["redis-operator"], lowestLevel: level, sinks: ["stdout"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stdout"] },
    ],
  });
}

/** The logger of one part of the operator, e.g. `operatorLogger("health")`. */
export function operatorLogger(...category: string[]): Logger {
  return getLogger(["redis-operator", ...category]);
}
