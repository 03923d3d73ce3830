/**
 * The files of deploy/monitoring as the tests use them.
 *
 * @module
 */
import { parse, stringify } from "yaml";

/** The kustomize component's directory. */
export const monitoring = new URL("../../deploy/monitoring/", import.meta.url);

/** The PrometheusRule's groups as a plain rules file, as the Prometheus Operator hands them over. */
export async function alertRulesFile(): Promise<string> {
  const rule = parse(await Deno.readTextFile(new URL("prometheus_rule.yaml", monitoring)));
  return stringify({ groups: rule.spec.groups });
}

/** Every query of the dashboard, with its variables given values that match anything. */
export async function dashboardQueries(): Promise<string[]> {
  const dashboard = JSON.parse(await Deno.readTextFile(new URL("dashboard.json", monitoring)));
  return dashboard.panels.flatMap((panel: { targets: { expr: string }[] }) =>
    panel.targets.map((t) => t.expr.replaceAll("$namespace", ".*").replaceAll("$redis", ".*"))
  );
}
