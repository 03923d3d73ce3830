/**
 * An image change no replica could follow: Valkey (8.1 and 9.1 tried) cannot
 * load RDB format 12, which Redis writes from 7.4 on (Redis 8.0 tried), so a
 * Valkey replica can never copy such a master. Pure. A rolling update would
 * replace one replica with a Valkey pod that exits on every full copy, and
 * stop there; the operator keeps the live image instead and says why.
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";

/** The StatefulSet to apply, and why its image was not changed, if it was not. */
export interface ImageDecision {
  readonly statefulSet: StatefulSet;
  readonly refused?: string;
}

/** Kind and version of an image from its name and tag; no version for `latest` and the like. */
export function redisImageVersion(
  image: string,
): { flavor: string; major?: number; minor?: number } {
  const lastSegment = (image.split("@")[0] ?? "").split("/").pop() ?? "";
  const [flavor = "", tag = "latest"] = lastSegment.split(":");
  const match = tag.match(/^(\d+)(?:\.(\d+))?/);
  if (!match) return { flavor };
  return {
    flavor,
    major: Number(match[1]),
    ...(match[2] === undefined ? {} : { minor: Number(match[2]) }),
  };
}

/** Does this image write RDB format 12 or later (Redis 7.4 and later)? */
function writesRdb12(image: string): boolean {
  const { flavor, major, minor } = redisImageVersion(image);
  if (flavor !== "redis" || major === undefined) return false;
  return major > 7 || (major === 7 && minor !== undefined && minor >= 4);
}

/**
 * `desired`, with the live Redis image of `current` when the change would
 * move a Redis 7.4+ master to Valkey.
 *
 * @example
 * ```ts
 * const set = (image: string) => ({
 *   spec: { selector: {}, serviceName: "s", template: { spec: { containers: [{ name: "redis", image }] } } },
 * });
 * console.assert(keepReplicableImage(set("valkey/valkey:9"), set("redis:8.0")).refused !== undefined);
 * console.assert(keepReplicableImage(set("valkey/valkey:8"), set("redis:7.0")).refused === undefined);
 * ```
 */
export function keepReplicableImage(
  desired: StatefulSet,
  current: StatefulSet | undefined,
): ImageDecision {
  const imageOf = (set: StatefulSet | undefined) =>
    set?.spec?.template.spec?.containers.find((c) => c.name === "redis")?.image;
  const live = imageOf(current);
  const wanted = imageOf(desired);
  if (!live || !wanted || live === wanted) return { statefulSet: desired };
  if (!writesRdb12(live) || redisImageVersion(wanted).flavor !== "valkey") {
    return { statefulSet: desired };
  }
  const spec = desired.spec!;
  const containers = spec.template.spec!.containers.map((c) =>
    c.name === "redis" ? { ...c, image: live } : c
  );
  return {
    statefulSet: {
      ...desired,
      spec: {
        ...spec,
        template: { ...spec.template, spec: { ...spec.template.spec, containers } },
      },
    },
    refused:
      `spec.redis.image ${wanted} is not applied: Valkey cannot load RDB format 12, which ${live} writes (Redis 7.4 and later), so no Valkey replica could ever copy the master and the rolling update would stop at the first one. ${live} is kept; move to Valkey from Redis 7.2 or earlier, or set the image back`,
  };
}
