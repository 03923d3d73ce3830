/**
 * The operator's own copy of the password Secret, so pods depend on an object
 * the operator owns (and deletes with the Redis). During a rotation it also
 * holds the password being rotated away (see decide/password.ts).
 *
 * @module
 */
import type { Secret } from "kubernetes-types/core/v1.d.ts";
import { objectNames, ownedMetadata, type Redis } from "../api/redis.ts";
import type { StoredPasswords } from "../decide/password.ts";
import { decodeBase64Text, encodeBase64Text } from "../text/base64.ts";

/** The key of the password in the operator's Secret: what pods start with. */
export const passwordKey = "password";
/** The key of the password being rotated away. */
export const previousPasswordKey = "previous-password";

/** Builds the Secret holding `stored`; no password (`""`) is no key, so pods start without one. */
export function buildSecret(redis: Redis, stored: StoredPasswords): Secret {
  return ownedSecret(redis, objectNames(redis.metadata?.name ?? "").base, {
    ...(stored.password !== "" ? { [passwordKey]: encodeBase64Text(stored.password) } : {}),
    ...(stored.previous !== undefined
      ? { [previousPasswordKey]: encodeBase64Text(stored.previous) }
      : {}),
  });
}

/** An Opaque Secret `name` owned by `redis`, holding `data` (base64 already). */
export function ownedSecret(redis: Redis, name: string, data: Record<string, string>): Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: ownedMetadata(redis, name),
    type: "Opaque",
    data,
  };
}

/** The passwords a copy holds (`""` for none), or undefined when there is no copy. */
export function storedPasswords(secret: Secret | undefined): StoredPasswords | undefined {
  if (!secret) return undefined;
  const password = secret.data?.[passwordKey];
  const previous = secret.data?.[previousPasswordKey];
  return {
    password: password === undefined ? "" : decodeBase64Text(password),
    ...(previous !== undefined ? { previous: decodeBase64Text(previous) } : {}),
  };
}
