/**
 * Which Redis or Valkey build runs a container's image: the builds that
 * cluster/build/redis_versions.sh caches, chosen by the image's tag, as a
 * registry would give the image of that tag. `redis:8.0` runs the newest 8.0
 * build, `valkey/valkey:8` the newest Valkey 8, `redis:8.0.2` exactly that
 * one, and `latest` (or no tag) the newest of its kind. A tag no build matches
 * (`redis:7.2`) runs the host's redis-server, Debian's 7.0, as before builds
 * existed: the agent logs which build it chose.
 *
 * @module
 */

/** One build: its kind, version and the folder with its programs. */
export interface RedisBuild {
  readonly flavor: "redis" | "valkey";
  /** `8.0.6`. */
  readonly version: string;
  /** Holds `<flavor>-server`, `<flavor>-cli` (and `redis-*` links for Valkey). */
  readonly binDir: string;
}

/** The repository (`redis`, `valkey`) and tag (`latest` when none) of an image. */
export function imageTag(image: string): { repository: string; tag: string } {
  const withoutDigest = image.split("@")[0] ?? "";
  const lastSegment = withoutDigest.split("/").pop() ?? "";
  const [repository = "", tag = "latest"] = lastSegment.split(":");
  return { repository, tag };
}

/** Compares dotted versions numerically: negative when `a` is older. */
function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/**
 * The build that runs `image`, or undefined for the host's redis-server.
 * The version is the tag's leading `N[.N[.N]]` (`7.2-alpine` is 7.2).
 *
 * @example
 * ```ts
 * const builds = [{ flavor: "redis" as const, version: "8.0.6", binDir: "/b/redis-8.0.6/bin" }];
 * console.assert(buildForImage("redis:8.0", builds)?.version === "8.0.6");
 * console.assert(buildForImage("redis:7.2", builds) === undefined);
 * ```
 */
export function buildForImage(
  image: string,
  builds: readonly RedisBuild[],
): RedisBuild | undefined {
  const { repository, tag } = imageTag(image);
  if (repository !== "redis" && repository !== "valkey") return undefined;
  const ofFlavor = builds.filter((b) => b.flavor === repository)
    .sort((a, b) => compareVersions(b.version, a.version));
  if (tag === "latest" || tag === "alpine") return ofFlavor[0];
  const version = tag.match(/^\d+(\.\d+){0,2}/)?.[0];
  if (!version) return undefined;
  return ofFlavor.find((b) => b.version === version || b.version.startsWith(`${version}.`));
}

/** The builds under `dir` (`<flavor>-<version>/bin`); none when it does not exist. */
export function findRedisBuilds(dir: string | undefined): RedisBuild[] {
  if (!dir) return [];
  const builds: RedisBuild[] = [];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      const match = entry.name.match(/^(redis|valkey)-(\d+\.\d+\.\d+)$/);
      if (!match) continue;
      const flavor = match[1] as RedisBuild["flavor"];
      const binDir = `${dir}/${entry.name}/bin`;
      try {
        Deno.statSync(`${binDir}/${flavor}-server`);
        builds.push({ flavor, version: match[2]!, binDir });
      } catch {
        // An unfinished build: redis_versions.sh moves a folder into place only when done.
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return builds;
}
