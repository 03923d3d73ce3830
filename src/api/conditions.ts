/**
 * Condition types, reasons and Event reasons of the Redis resource, and the
 * pure update of a condition list.
 *
 * @module
 */
import type { RedisStatus } from "./redis.ts";

/** Condition types. */
export const ConditionType = {
  /** One master, every other ready instance its replica, all objects in place. */
  Ready: "Ready",
  /** The operator is changing something: creating objects, reconfiguring replication, failing over. */
  Progressing: "Progressing",
  /** Something needs a person: a missing Secret, a Redis that refuses a command. */
  Degraded: "Degraded",
} as const;

/** Reasons of conditions and Events: CamelCase, stable, for people and alerts. */
export const Reason = {
  Healthy: "ReplicationHealthy",
  Creating: "Creating",
  WaitingForInstances: "WaitingForInstances",
  Reconfiguring: "Reconfiguring",
  MasterElected: "MasterElected",
  MasterChanged: "MasterChanged",
  Failover: "Failover",
  ReplicaReattached: "ReplicaReattached",
  RollingUpdate: "RollingUpdate",
  SecretNotFound: "SecretNotFound",
  SecretKeyNotFound: "SecretKeyNotFound",
  ApplyFailed: "ApplyFailed",
  InvalidSpec: "InvalidSpec",
  SecretConflict: "SecretConflict",
  NameConflict: "NameConflict",
  MaxmemoryMismatch: "MaxmemoryMismatch",
  StorageChangeRefused: "StorageChangeRefused",
  ImageChangeRefused: "ImageChangeRefused",
  FencingRepaired: "FencingRepaired",
  ReplicaParked: "ReplicaParked",
  SecretUnreadable: "SecretUnreadable",
  AuthFailed: "AuthFailed",
  NodeUnavailable: "NodeUnavailable",
  SentinelNameConflict: "SentinelNameConflict",
  SwitchoverRefused: "SwitchoverRefused",
  RedisCommandFailed: "RedisCommandFailed",
  PasswordInvalid: "PasswordInvalid",
  TLSSecretNotFound: "TLSSecretNotFound",
  TLSSecretInvalid: "TLSSecretInvalid",
  PodCrashLooping: "PodCrashLooping",
  ImagePullFailed: "ImagePullFailed",
  ContainerNotCreated: "ContainerNotCreated",
  PodUnschedulable: "PodUnschedulable",
  ReadinessProbeFailing: "ReadinessProbeFailing",
  /** A pod that ran no Redis on an older template, deleted so it is recreated from the spec. */
  PodReplaced: "PodReplaced",
  PasswordRotating: "PasswordRotating",
  PasswordRotated: "PasswordRotated",
  /** Redis refused the rules of a user of spec.acl; the others are applied. */
  ACLRuleInvalid: "ACLRuleInvalid",
  /** Instances were brought in line with spec.acl (users added, changed or removed). */
  ACLUsersApplied: "ACLUsersApplied",
  AsExpected: "AsExpected",
} as const;

/** One condition of the status. */
export type Condition = NonNullable<RedisStatus["conditions"]>[number];

/**
 * Sets `condition` in `conditions`, keeping `lastTransitionTime` when the status
 * did not change, and returns a new list (types in a stable order).
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  condition: Omit<Condition, "lastTransitionTime">,
  now: string,
): Condition[] {
  const previous = conditions?.find((c) => c.type === condition.type);
  const lastTransitionTime = previous && previous.status === condition.status
    ? previous.lastTransitionTime
    : now;
  const others = (conditions ?? []).filter((c) => c.type !== condition.type);
  return [...others, { ...condition, lastTransitionTime }].sort((a, b) =>
    a.type.localeCompare(b.type)
  );
}
