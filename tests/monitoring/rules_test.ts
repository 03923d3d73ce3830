/**
 * The shipped alerts and dashboard, checked with Prometheus's own promtool
 * (Debian's `prometheus` package): the PrometheusRule's groups pass
 * `promtool check rules` and the cases of deploy/monitoring/alerts_test.yaml
 * pass `promtool test rules`; every dashboard query parses as PromQL.
 */
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { alertRulesFile, dashboardQueries, monitoring } from "./files.ts";

/** Runs promtool in `cwd`; its exit code and output. */
async function promtool(cwd: string, ...args: string[]) {
  const output = await new Deno.Command("promtool", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return { code: output.code, text };
}

Deno.test("the PrometheusRule passes promtool check rules and its unit tests", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rules-" });
  try {
    await Deno.writeTextFile(`${dir}/alerts.rules.yaml`, await alertRulesFile());
    await Deno.copyFile(new URL("alerts_test.yaml", monitoring), `${dir}/alerts_test.yaml`);
    const check = await promtool(dir, "check", "rules", "alerts.rules.yaml");
    assert.equal(check.code, 0, check.text);
    assert.match(check.text, /SUCCESS: 6 rules found/);
    const test = await promtool(dir, "test", "rules", "alerts_test.yaml");
    assert.equal(test.code, 0, test.text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every dashboard query parses as PromQL", async () => {
  const queries = await dashboardQueries();
  assert.ok(queries.length >= 10);
  const dir = await Deno.makeTempDir({ prefix: "dashboard-" });
  try {
    // promtool parses a recording rule's expression; it has no other offline PromQL check.
    const rules = queries.map((expr, i) => ({ record: `dashboard:query_${i}`, expr }));
    await Deno.writeTextFile(`${dir}/q.yaml`, stringify({ groups: [{ name: "q", rules }] }));
    const check = await promtool(dir, "check", "rules", "q.yaml");
    assert.equal(check.code, 0, check.text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
