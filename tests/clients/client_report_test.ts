import assert from "node:assert/strict";
import {
  errorKind,
  errorSamples,
  parseWriterOutput,
  renderTable,
  reportWindow,
} from "./client_report.ts";

Deno.test("parseWriterOutput() reads ok and err lines and skips the rest", () => {
  assert.deepEqual(parseWriterOutput("ok 1 1000\nnoise\nerr 2 1010 READONLY You can't write\n"), [
    { ok: true, n: 1, at: 1000 },
    { ok: false, n: 2, at: 1010, message: "READONLY You can't write" },
  ]);
});

Deno.test("errorKind() sorts the libraries' messages", () => {
  assert.equal(errorKind("connect ECONNREFUSED 198.19.0.7:6379"), "refused");
  assert.equal(
    errorKind("ConnectionError: Error 111 connecting to x:6379. Connection refused."),
    "refused",
  );
  assert.equal(errorKind("read: connection reset by peer"), "reset");
  assert.equal(errorKind("ConnectionError: Connection closed by server."), "reset");
  assert.equal(errorKind("READONLY You can't write against a read only replica."), "READONLY");
  assert.equal(
    errorKind("ReadOnlyError: You can't write against a read only replica."),
    "READONLY",
  );
  assert.equal(
    errorKind("ResponseError: NOREPLICAS Not enough good replicas to write."),
    "NOREPLICAS",
  );
  assert.equal(errorKind("i/o timeout"), "timeout");
  assert.equal(errorKind("TimeoutError: Timeout reading from socket"), "timeout");
  assert.equal(errorKind("something else"), "other");
});

Deno.test("reportWindow() measures the longest pause across the fault and counts errors", () => {
  const events = parseWriterOutput(
    [
      "ok 1 990",
      "ok 2 1000",
      "err 3 1200 connect ECONNREFUSED",
      "err 4 1300 ECONNREFUSED",
      "ok 5 1700",
      "ok 6 1710",
      "ok 7 5000",
    ]
      .join("\n"),
  );
  assert.deepEqual(reportWindow(events, 1005, 2000), {
    longestPauseMs: 700,
    errors: { refused: 2 },
    resumed: true,
  });
  assert.deepEqual(reportWindow(events, 1800, 2000), {
    longestPauseMs: 290,
    errors: {},
    resumed: false,
  });
  // Stuck after its last write: the silence until the window's end is the pause.
  assert.equal(
    reportWindow(events.filter((e) => e.at < 5000), 1005, 4000).longestPauseMs,
    4000 - 1710,
  );
});

Deno.test("errorSamples() keeps one message per kind; renderTable() frames the rows", () => {
  const events = parseWriterOutput(
    "err 1 10 READONLY You can't write\nerr 2 11 READONLY again\nerr 3 12 weird thing\nok 4 13",
  );
  assert.deepEqual(errorSamples("lib", events), [
    "  lib READONLY: READONLY again",
    "  lib other: weird thing",
  ]);
  assert.equal(
    renderTable("t:", ["a", "b"], ["| 1 | 2 |"], ["  x"]),
    "t:\n| a | b |\n|---|---|\n| 1 | 2 |\nerrors seen, one of each kind:\n  x",
  );
});
