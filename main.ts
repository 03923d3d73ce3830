/**
 * The redis-operator entry point. Wiring only: reads flags and environment,
 * turns SIGTERM into an AbortController, runs the controller while elected.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runController } from "./src/controller/controller.ts";
import { KubeClient } from "./src/kube/client.ts";
import { loadClusterConfig } from "./src/kube/config.ts";
import { leadWhileElected } from "./src/kube/leader_election.ts";
import { parseLeaseTimings } from "./src/kube/lease_timings.ts";
import { fieldManager } from "./src/api/redis.ts";
import { serveHealth } from "./src/observe/health_server.ts";
import { watchEventLoopLag } from "./src/observe/event_loop_lag.ts";
import { configureLogging, operatorLogger } from "./src/observe/logging.ts";
import { OperatorMetrics } from "./src/observe/metrics.ts";
import { connectRedis } from "./src/redis/client.ts";
import { runSentinelEndpoint } from "./src/sentinel/endpoint.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    "health-port": { type: "string", default: Deno.env.get("HEALTH_PORT") ?? "8080" },
    kubeconfig: { type: "string" },
    "log-level": { type: "string", default: Deno.env.get("LOG_LEVEL") ?? "info" },
    "leader-elect": { type: "boolean", default: true },
    "no-leader-elect": { type: "boolean", default: false },
    "lease-namespace": { type: "string", default: Deno.env.get("POD_NAMESPACE") },
    "lease-name": { type: "string", default: "redis-operator" },
    // Seconds; see src/kube/lease_timings.ts for the defaults and why. The variables serve
    // `kubectl set env`, which changes them without editing the Deployment's arguments.
    "lease-duration": { type: "string", default: Deno.env.get("LEASE_DURATION") ?? "" },
    "renew-deadline": { type: "string", default: Deno.env.get("RENEW_DEADLINE") ?? "" },
    "retry-period": { type: "string", default: Deno.env.get("RETRY_PERIOD") ?? "" },
    // Redis resources reconciled at once. A pass mostly waits on Redis and the API server,
    // and every failover is a pass: with all masters lost at once (a zone), the last one
    // waits for N / concurrency passes. 8 made the last of 50 wait 15 s (docs/BENCHMARKS.md).
    concurrency: { type: "string", default: "64" },
    // The Sentinel-compatible endpoint (src/sentinel); 0 turns it off.
    "sentinel-port": { type: "string", default: "26379" },
    // Connections each replica's endpoint takes at once (a few KB each).
    "sentinel-max-clients": { type: "string", default: "2000" },
  },
});

await configureLogging(flags["log-level"] as "debug" | "info" | "warning");
const log = operatorLogger("main");
watchEventLoopLag((lateMs) => log.warn("event loop stalled", { lateMs: Math.round(lateMs) }));
const leaseTimings = parseLeaseTimings({
  ...(flags["lease-duration"] ? { leaseDuration: flags["lease-duration"] } : {}),
  ...(flags["renew-deadline"] ? { renewDeadline: flags["renew-deadline"] } : {}),
  ...(flags["retry-period"] ? { retryPeriod: flags["retry-period"] } : {}),
});
if (typeof leaseTimings === "string") {
  log.error("invalid leader election flags", { error: leaseTimings });
  Deno.exit(2);
}
const stop = new AbortController();
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, () => stop.abort(new Error(`received ${signal}`)));
}

const config = await loadClusterConfig(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {});
const metrics = new OperatorMetrics();
const client = new KubeClient(config, {
  onRequest: (method, path) => metrics.countRequest(method, path),
});
// Unique per candidacy: a replica that lost its Lease comes back as a new candidate, never
// as the old leader resumed.
const candidate = () =>
  `${Deno.env.get("POD_NAME") ?? Deno.hostname()}_${crypto.randomUUID().slice(0, 8)}`;
let identity = candidate();
let state = "starting";
const server = serveHealth(Number(flags["health-port"]), {
  // Followers are ready too: readiness says the process works, not that it leads.
  // Not on the Sentinel endpoint: without permission to watch, or without the CRD, it never
  // listens, and the replica must still be Ready to lead.
  notReadyReason: () => state === "starting" ? "not started" : undefined,
  metrics: () => metrics.render(),
}, stop.signal);
log.info("redis-operator starting", { server: config.server, identity });

// Every replica serves Sentinel clients, leader or not, for as long as the process runs.
const sentinel = Number(flags["sentinel-port"]) > 0
  ? runSentinelEndpoint({
    client,
    port: Number(flags["sentinel-port"]),
    maxClients: Number(flags["sentinel-max-clients"]),
    identity: Deno.env.get("POD_NAME") ?? Deno.hostname(),
    metrics,
    log: operatorLogger("sentinel"),
    signal: stop.signal,
  }).catch((error) => {
    log.error("the Sentinel endpoint stopped", { error: String(error) });
  })
  : Promise.resolve();

const controller = (signal: AbortSignal, stillLeading?: () => boolean) =>
  runController({
    client,
    connect: connectRedis,
    metrics,
    log: operatorLogger("controller"),
    concurrency: Number(flags.concurrency),
    signal,
    ...(stillLeading ? { stillLeading } : {}),
    // A chaos-test hook only: never set in deploy/.
    pauseAfterIntentMs: Number(Deno.env.get("REDIS_OPERATOR_TEST_PAUSE_AFTER_INTENT_MS") ?? "0"),
    operatorNamespace: flags["lease-namespace"] ?? config.namespace ?? "redis-operator",
  });

if (flags["no-leader-elect"]) {
  state = "leading";
  metrics.leader.set({}, 1);
  await controller(stop.signal);
} else {
  state = "following";
  // A leader that loses its Lease stops its controller, waits until the controller has
  // stopped, and follows again as a new candidate. Everything the controller knew lived in
  // that one run of it, so the next term starts afresh, as a new process would. It does
  // not exit for that: the kubelet restarts a container after 10 s, 20 s, 40 s... once it
  // has exited before, and after a few API server outages both replicas could be waiting
  // out their back-off at once, leaving no leader and no failover for minutes.
  // The Lease has connections of its own: a controller request that times out replaces the
  // controller's pool and ends every request on it, and a Lease renewal caught in that would
  // fail for no fault of its own; 64 passes at once also queue on one HTTP/2 connection.
  const leaseClient = new KubeClient(config, {
    onRequest: (method, path) => metrics.countRequest(method, path),
  });
  while (!stop.signal.aborted) {
    const outcome = await leadWhileElected(leaseClient, {
      namespace: flags["lease-namespace"] ?? config.namespace,
      name: flags["lease-name"],
      identity,
      // A leader that cannot renew for the renew deadline stops; followers wait the lease
      // duration after the last change they saw, so the two never overlap.
      leaseDurationMs: leaseTimings.leaseDurationMs,
      renewDeadlineMs: leaseTimings.renewDeadlineMs,
      renewIntervalMs: leaseTimings.retryPeriodMs,
      retryIntervalMs: leaseTimings.retryPeriodMs,
      // A hung renewal gives up in time for two more tries before the renew deadline.
      attemptTimeoutMs: Math.floor(leaseTimings.renewDeadlineMs / 3),
      fieldManager,
      signal: stop.signal,
      onLeadershipChange: (leading) => {
        metrics.leader.set({}, leading ? 1 : 0);
        // A follower's view of each Redis is not kept current: only the leader reports one.
        if (!leading) metrics.forgetRedis();
        log.info(leading ? "became the leader" : "no longer the leader", { identity });
      },
      onError: (error) => log.warn("leader election error", { error: String(error) }),
      // A renewal that is slow or fails says so: under load these come before a lost Lease.
      onRenewal: (attemptMs, renewed) => {
        if (!renewed || attemptMs > leaseTimings.retryPeriodMs / 2) {
          log.info("lease renewal slow", { attemptMs: Math.round(attemptMs), renewed });
        }
      },
    }, controller);
    if (outcome !== "lost") break;
    const lost = identity;
    identity = candidate();
    log.error("leadership lost: the controller has stopped; following again", {
      lost,
      identity,
    });
  }
  leaseClient.close();
}
await server.finished;
await sentinel;
client.close();
log.info("redis-operator stopped", { reason: String(stop.signal.reason) });
