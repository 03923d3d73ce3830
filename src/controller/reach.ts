/**
 * How the operator reaches the instances of a Redis this pass: the port, and
 * with spec.tls the CA from the TLS Secret; and the periodic reload that makes
 * running instances serve a renewed certificate.
 *
 * @module
 */
import { Reason } from "../api/conditions.ts";
import { type Redis, servingPort } from "../api/redis.ts";
import type { Problem } from "../decide/status.ts";
import { decodeBase64Text } from "../text/base64.ts";
import { isNotFound } from "../kube/client.ts";
import type { TlsSettings } from "../redis/client.ts";
import type { ReconcileDeps } from "./deps.ts";

/** The port and, with TLS, the CA every connection of a pass uses. */
export interface Reach {
  readonly port: number;
  readonly tls?: TlsSettings;
}

/** The keys the TLS Secret must hold (cert-manager's names). */
export const tlsSecretKeys = ["tls.crt", "tls.key", "ca.crt"] as const;

/**
 * The CAs read for each Redis (by uid), newest first, at most
 * {@linkcode keptCas}: the operator trusts them all. When the CA is rotated,
 * instances serve their old certificate until they load the new one (the
 * kubelet writes it into the pods up to a minute or so later), and must not
 * look unreachable meanwhile; and a TLS Secret that cannot be read for a while
 * (deleted by mistake, an API server hiccup) does not blind the operator.
 */
const knownCas = new Map<string, string[]>();
const keptCas = 3;

/**
 * How to reach `redis`'s instances, and what is wrong with its TLS Secret.
 * `reach` is undefined only when TLS is asked for and no CA has ever been
 * read: the instances cannot be observed, so nothing is decided about them.
 */
export async function readReach(
  deps: Pick<ReconcileDeps, "apis">,
  redis: Redis,
): Promise<{ reach?: Reach; problem?: Problem }> {
  const port = servingPort(redis);
  const tls = redis.spec?.tls;
  if (!tls) return { reach: { port } };
  const uid = redis.metadata?.uid ?? "";
  const name = tls.secretName;
  let problem: Problem | undefined;
  try {
    const secret = await deps.apis.secrets.get(redis.metadata!.namespace!, name);
    const missing = tlsSecretKeys.filter((key) => !secret.data?.[key]);
    if (missing.length) {
      problem = {
        reason: Reason.TLSSecretInvalid,
        message: `Secret ${name} (spec.tls.secretName) has no ${
          missing.join(", ")
        }: it must hold tls.crt, tls.key and ca.crt`,
      };
    } else {
      const ca = decodeBase64Text(secret.data!["ca.crt"]!).trim();
      const known = knownCas.get(uid) ?? [];
      knownCas.set(uid, [ca, ...known.filter((c) => c !== ca)].slice(0, keptCas));
    }
  } catch (error) {
    problem = {
      reason: isNotFound(error) ? Reason.TLSSecretNotFound : Reason.SecretUnreadable,
      message: isNotFound(error)
        ? `Secret ${name} not found (spec.tls.secretName)`
        : `Cannot read Secret ${name} (spec.tls.secretName): ${
          error instanceof Error ? error.message : error
        }`,
    };
  }
  const cas = knownCas.get(uid);
  return {
    ...(cas ? { reach: { port, tls: { ca: cas.join("\n") } } } : {}),
    ...(problem ? { problem } : {}),
  };
}

/** Forgets what was read for a Redis that is gone. */
export function forgetReach(uid: string): void {
  knownCas.delete(uid);
  lastReload.delete(uid);
}

/**
 * The kubelet writes a renewed certificate into running pods up to a minute
 * or so after the Secret changes; Redis reads its files only when told. So
 * every instance is told this often: a renewal is served within this time of
 * reaching the pod, with no restart and no failover.
 */
export const tlsReloadIntervalMs = 15_000;

const lastReload = new Map<string, number>();

/** Is it time to have the instances of `redis` load their certificate files again? */
export function tlsReloadDue(redis: Redis, nowMs: number): boolean {
  if (!redis.spec?.tls) return false;
  const uid = redis.metadata?.uid ?? "";
  const last = lastReload.get(uid);
  if (last !== undefined && nowMs - last < tlsReloadIntervalMs) return false;
  lastReload.set(uid, nowMs);
  return true;
}
