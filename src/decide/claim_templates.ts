/**
 * A StatefulSet's volume claim templates cannot change: the API server refuses
 * the whole update (422). Pure. The operator keeps the live templates, so every
 * other change of the spec still goes through, and says what it refused.
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { PersistentVolumeClaim } from "kubernetes-types/core/v1.d.ts";
import { matchesDesired } from "./drift.ts";

/** The StatefulSet to apply, and why its claim templates were not changed, if they were not. */
export interface ClaimTemplateDecision {
  readonly statefulSet: StatefulSet;
  readonly refused?: string;
}

/**
 * `desired`, with the live claim templates of `current` when they differ.
 *
 * @example
 * ```ts
 * const set = { spec: { selector: {}, template: {}, serviceName: "s" } };
 * console.assert(keepClaimTemplates(set, undefined).refused === undefined);
 * ```
 */
export function keepClaimTemplates(
  desired: StatefulSet,
  current: StatefulSet | undefined,
): ClaimTemplateDecision {
  if (!current?.spec || !desired.spec) return { statefulSet: desired };
  const wanted = desired.spec.volumeClaimTemplates ?? [];
  const live = current.spec.volumeClaimTemplates ?? [];
  if (wanted.length === live.length && matchesDesired(wanted, live)) {
    return { statefulSet: desired };
  }
  const { volumeClaimTemplates: _, ...rest } = desired.spec;
  // /data comes from the claim when there is one, else from an emptyDir of the same name.
  const claimed = new Set(live.map((t) => t.metadata?.name));
  const volumes = (rest.template.spec?.volumes ?? []).filter((v) => !claimed.has(v.name));
  if (!claimed.has("data") && !volumes.some((v) => v.name === "data")) {
    volumes.push({ name: "data", emptyDir: {} });
  }
  const template = {
    ...rest.template,
    spec: { containers: [], ...rest.template.spec, volumes },
  };
  return {
    statefulSet: {
      ...desired,
      spec: { ...rest, template, ...(live.length ? { volumeClaimTemplates: live } : {}) },
    },
    refused: describeRefusal(wanted[0], live[0]),
  };
}

function describeRefusal(
  wanted: PersistentVolumeClaim | undefined,
  live: PersistentVolumeClaim | undefined,
): string {
  const size = (claim: PersistentVolumeClaim | undefined) =>
    claim?.spec?.resources?.requests?.storage;
  const what = !live
    ? "a data volume claim template was added"
    : !wanted
    ? "the data volume claim template was removed"
    : size(wanted) !== size(live)
    ? `the data volume claim asks for ${size(wanted)} instead of ${size(live)}`
    : "the data volume claim template changed";
  return `spec.dataVolumeClaimTemplate cannot change on a running Redis (${what}): a StatefulSet's volume claim templates are immutable, so the existing claims are kept and every other change is applied. To grow the volumes, expand each PersistentVolumeClaim data-<pod> where its StorageClass allows it (allowVolumeExpansion), and set the template back to what it was`;
}
