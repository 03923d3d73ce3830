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
import { decodeBase64Text, encodeBase64Text } from "../kube/base64.ts";

/** The key of the password in the operator's Secret: what pods start with. */
export const passwordKey = "password";
/** The key of the password being rotated away. */
export const previousPasswordKey = "previous-password";

/** Builds the Secret holding `stored`. */
export function buildSecret(redis: Redis, stored: StoredPasswords): Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: ownedMetadata(redis, objectNames(redis.metadata?.name ?? "").base),
    type: "Opaque",
    data: {
      [passwordKey]: encodeBase64Text(stored.password),
      ...(stored.previous !== undefined
        ? { [previousPasswordKey]: encodeBase64Text(stored.previous) }
        : {}),
    },
  };
}

/** The passwords a copy holds, or undefined when it holds none. */
export function storedPasswords(secret: Secret | undefined): StoredPasswords | undefined {
  const password = secret?.data?.[passwordKey];
  if (password === undefined) return undefined;
  const previous = secret?.data?.[previousPasswordKey];
  return {
    password: decodeBase64Text(password),
    ...(previous !== undefined ? { previous: decodeBase64Text(previous) } : {}),
  };
}
