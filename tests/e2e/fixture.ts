/**
 * The setup most end-to-end and chaos tests share: the operator deployed, a
 * namespace of the test's own, one Redis applied there and Ready; the
 * namespace is removed afterwards whatever happened.
 *
 * @module
 */
import type { Redis } from "../../src/api/redis.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { clusterClient, kubectl, testNamespace } from "../cluster/helpers.ts";
import { deployOperator, redisManifest, waitForReady } from "./operator.ts";

/** What a test body gets from {@linkcode withReadyRedis}. */
export interface RedisCase {
  readonly client: KubeClient;
  /** The test's own namespace. */
  readonly namespace: string;
  /** The Redis resource's name. */
  readonly name: string;
  /** The resource as it was when it first became Ready. */
  readonly ready: Redis;
}

/** Options of {@linkcode withReadyRedis}. */
export interface RedisCaseOptions {
  /** Spec fields beside the defaults of {@linkcode redisManifest}. */
  readonly spec?: Record<string, unknown>;
  /** Instances to wait for (3 by default). */
  readonly replicas?: number;
  /** How long Ready may take (a persistent Redis binds volumes first). */
  readonly readyTimeoutMs?: number;
}

/**
 * Deploys the operator, makes a namespace named after `prefix`, applies the
 * Redis `name` there, waits until it is Ready and runs `body`; removes the
 * namespace and closes the client afterwards.
 */
export async function withReadyRedis(
  prefix: string,
  name: string,
  body: (redis: RedisCase) => Promise<void>,
  options: RedisCaseOptions = {},
): Promise<void> {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace(prefix);
  try {
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest(name, options.spec));
    const ready = await waitForReady(
      client,
      ns.name,
      name,
      options.replicas,
      options.readyTimeoutMs,
    );
    await body({ client, namespace: ns.name, name, ready });
  } finally {
    await ns.remove();
    client.close();
  }
}
