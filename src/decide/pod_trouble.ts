/**
 * Trouble a Redis pod reports in its own status: a crash loop (with the end
 * of the container's log, where redis-server says why it will not start), an
 * image that cannot be pulled, a container that cannot be created, a pod no
 * node can take, a readiness probe that keeps failing. Shown as Degraded with
 * the pod's own words, so a user reads it on the Redis, not pod by pod.
 *
 * Also which troubled pods are replaced: the StatefulSet is OnDelete, so a
 * pod that never started on an old template keeps it until someone deletes
 * it. One that runs no Redis process holds nothing to lose.
 *
 * Pure: the clock comes in as `now`.
 *
 * @module
 */
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1.d.ts";
import { Reason } from "../api/conditions.ts";
import type { Problem } from "./status.ts";

/** What is wrong with one pod. */
export interface PodTrouble {
  readonly pod: string;
  readonly reason: string;
  readonly message: string;
  /** No Redis process runs in it (never scheduled, or its container is not running). */
  readonly idle: boolean;
}

/** A running container not ready for this long is reported (a slow start is not trouble). */
export const notReadyGraceMs = 60_000;

/** Characters of a container's last message kept in the status. */
const messageLimit = 600;

const imageReasons = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName"]);
const createReasons = new Set([
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
  "PreStartHookError",
]);

/** What is wrong with `pod`, if anything; a pod being deleted is never in trouble here. */
export function podTrouble(pod: Pod, now: Date): PodTrouble | undefined {
  if (pod.metadata?.deletionTimestamp) return undefined;
  const name = pod.metadata?.name ?? "";
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
    return {
      pod: name,
      reason: Reason.PodUnschedulable,
      message: `pod ${name} cannot be scheduled: ${scheduled.message ?? "no node fits it"}`,
      idle: true,
    };
  }
  // Redis runs only once the init containers that must finish have (a sidecar, an init
  // container with restartPolicy Always, runs beside it) and then in the `redis` container:
  // trouble elsewhere (an exporter's image) is reported, but the pod still holds Redis.
  const sidecars = new Set(
    pod.spec?.initContainers?.filter((c) => c.restartPolicy === "Always").map((c) => c.name),
  );
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []).map((s) => ({ s, blocks: !sidecars.has(s.name) })),
    ...(pod.status?.containerStatuses ?? []).map((s) => ({ s, blocks: s.name === redisContainer })),
  ].sort((a, b) => Number(b.blocks) - Number(a.blocks));
  for (const { s, blocks } of statuses) {
    const trouble = containerTrouble(name, s, blocks);
    if (trouble) return trouble;
  }
  return notReadyTrouble(pod, name, now);
}

/** The container that runs redis-server (specs/stateful_set.ts). */
const redisContainer = "redis";

function containerTrouble(
  pod: string,
  status: ContainerStatus,
  blocksRedis: boolean,
): PodTrouble | undefined {
  const waiting = status.state?.waiting;
  if (!waiting?.reason) return undefined;
  const container = `container ${status.name} of pod ${pod}`;
  if (waiting.reason === "CrashLoopBackOff") {
    const last = status.lastState?.terminated;
    const exit = last ? ` (last exit code ${last.exitCode})` : "";
    const said = last?.message?.trim() ? `: ${lastWords(last.message)}` : "";
    return {
      pod,
      reason: Reason.PodCrashLooping,
      message: `${container} keeps exiting${exit}${said}`,
      idle: blocksRedis,
    };
  }
  if (imageReasons.has(waiting.reason)) {
    // The kubelet alternates ErrImagePull and ImagePullBackOff: the reason word stays out,
    // so the message (and the Event it makes) changes only when the puller's does.
    return {
      pod,
      reason: Reason.ImagePullFailed,
      message: `${container} cannot start: image "${status.image}" cannot be pulled${
        waiting.message ? `: ${waiting.message}` : ""
      }`,
      idle: blocksRedis,
    };
  }
  if (createReasons.has(waiting.reason)) {
    return {
      pod,
      reason: Reason.ContainerNotCreated,
      message: `${container} cannot be created (${waiting.reason})${
        waiting.message ? `: ${waiting.message}` : ""
      }`,
      idle: blocksRedis,
    };
  }
  return undefined;
}

/**
 * A container that runs but has not passed its readiness probe for a while.
 * It still runs Redis, so it is never replaced for this.
 */
function notReadyTrouble(pod: Pod, name: string, now: Date): PodTrouble | undefined {
  if (pod.status?.phase !== "Running") return undefined;
  const ready = pod.status.conditions?.find((c) => c.type === "Ready");
  if (!ready || ready.status === "True") return undefined;
  for (const status of pod.status.containerStatuses ?? []) {
    const startedAt = status.state?.running?.startedAt;
    if (status.ready || !startedAt) continue;
    // Since the later of its start and the pod turning unready: a restart starts the count again.
    const since = [startedAt, ready.lastTransitionTime ?? startedAt].sort().at(-1)!;
    if (now.getTime() - Date.parse(since) < notReadyGraceMs) continue;
    return {
      pod: name,
      reason: Reason.ReadinessProbeFailing,
      message:
        `container ${status.name} of pod ${name} runs but has not been ready since ${since}: its readiness probe fails (kubectl describe pod ${name} shows the probe's output)`,
      idle: false,
    };
  }
  return undefined;
}

/**
 * Lines of a log that may hold a secret: Redis quotes the config line it
 * refuses (`>>> 'requirepass "..."'`), and auth.conf holds passwords.
 */
const secretLine = /pass|auth|user|secret|token|key/i;

/**
 * The end of a container's last message on one line, at most `messageLimit`
 * characters; a line that may hold a password is replaced, since the message
 * goes into the status, an Event and the log.
 */
function lastWords(message: string): string {
  const text = message.trim().split("\n").map((line) => line.trim()).filter((line) => line)
    .map((line) => secretLine.test(line) ? "[a line that may hold a secret, not shown]" : line)
    .join(" | ");
  return text.length <= messageLimit ? text : `...${text.slice(-messageLimit)}`;
}

/** One problem naming every troubled pod (by name), the first one's reason; undefined for none. */
export function podTroubleProblem(troubles: readonly PodTrouble[]): Problem | undefined {
  const sorted = [...troubles].sort((a, b) => a.pod.localeCompare(b.pod));
  if (sorted.length === 0) return undefined;
  return { reason: sorted[0]!.reason, message: sorted.map((t) => t.message).join("; ") };
}

/**
 * The troubled pod to delete this pass so the StatefulSet recreates it from
 * its current template: an idle one (no Redis runs in it: its `redis`
 * container or an init container it waits for is stuck, or it is not
 * scheduled) on an older template revision; never the master's pod, never
 * one whose instance answered this pass (`answered`: the cache may be a
 * moment behind), and one at a time. A fixed spec then reaches a pod that
 * crash-loops or cannot pull its image on the old one, where an OnDelete
 * StatefulSet would leave it for good.
 */
export function idleOutdatedPod(
  pods: readonly Pod[],
  troubles: readonly PodTrouble[],
  updateRevision: string | undefined,
  masterPod: string | undefined,
  answered: ReadonlySet<string>,
): Pod | undefined {
  if (!updateRevision) return undefined;
  const idle = new Set(troubles.filter((t) => t.idle).map((t) => t.pod));
  return pods.filter((pod) => {
    const name = pod.metadata?.name ?? "";
    return idle.has(name) && name !== masterPod && !answered.has(name) &&
      !pod.metadata?.deletionTimestamp &&
      pod.metadata?.labels?.["controller-revision-hash"] !== updateRevision;
  }).sort((a, b) => (b.metadata?.name ?? "").localeCompare(a.metadata?.name ?? ""))[0];
}
