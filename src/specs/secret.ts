/**
 * The operator's own copy of the password Secret, so pods depend on an object
 * the operator owns (and deletes with the Redis).
 *
 * @module
 */
import type { Secret } from "kubernetes-types/core/v1.d.ts";
import { objectNames, ownedMetadata, type Redis } from "../api/redis.ts";

/** The key of the password in the operator's Secret. */
export const passwordKey = "password";

/** Builds the Secret holding `password`. */
export function buildSecret(redis: Redis, password: string): Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: ownedMetadata(redis, objectNames(redis.metadata?.name ?? "").base),
    type: "Opaque",
    data: { [passwordKey]: btoa(password) },
  };
}
