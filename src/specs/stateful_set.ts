/**
 * The StatefulSet of one Redis: the pods, their Redis container (and an
 * optional exporter sidecar), probes, volumes and scheduling settings.
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type {
  Container,
  EnvVar,
  PersistentVolumeClaim,
  Volume,
} from "kubernetes-types/core/v1.d.ts";
import {
  commonLabels,
  defaultRedisImage,
  objectNames,
  ownedMetadata,
  plainPortOpen,
  type Redis,
  redisPort,
  selectorLabels,
  servingPort,
  tlsDir,
  tlsPort,
} from "../api/redis.ts";
import { configDir, preStopScript, renderRedisConf, runDir, startScript } from "./config_map.ts";
import { fnv1a } from "./fnv.ts";
import { passwordKey } from "./secret.ts";
import { aclSecretKeys } from "./acl_secret.ts";
import { exporterUser } from "../decide/acl.ts";

/**
 * The pod's security context when the spec gives none: what the "restricted"
 * Pod Security Standard asks for, as the user the official redis image runs
 * redis-server as (999), so a Redis runs in a namespace that enforces it.
 */
export const restrictedPod = {
  runAsNonRoot: true,
  runAsUser: 999,
  runAsGroup: 999,
  fsGroup: 999,
  seccompProfile: { type: "RuntimeDefault" },
} as const;

/** Each container's security context when the spec gives none ("restricted"). */
export const restrictedContainer = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  readOnlyRootFilesystem: true,
};

/** Annotation holding a hash of redis.conf and the start script: a change rolls the pods. */
export const configHashAnnotation = "redis-operator.dev/config-hash";

/**
 * Builds the StatefulSet. `replicas` overrides spec.replicas while a
 * scale-down waits for the master to move off a pod that would be removed.
 */
export function buildStatefulSet(redis: Redis, replicas?: number): StatefulSet {
  const name = redis.metadata?.name ?? "";
  const names = objectNames(name);
  const spec = redis.spec ?? {};
  const env: EnvVar[] = [{
    name: "POD_IP",
    valueFrom: { fieldRef: { fieldPath: "status.podIP" } },
  }];
  // From the operator's Secret, optional, with or without spec.password: adding or removing
  // a password then changes no pod template (the operator does it live, decide/password.ts),
  // and a pod started without a key starts without a password.
  const fromSecret = {
    valueFrom: { secretKeyRef: { name: names.base, key: passwordKey, optional: true } },
  };
  // REDISCLI_AUTH lets the probes' redis-cli authenticate without the password on its command line.
  env.push({ name: "REDIS_PASSWORD", ...fromSecret }, { name: "REDISCLI_AUTH", ...fromSecret });
  // spec.acl's users, the same way: present only while spec.acl is (specs/acl_secret.ts).
  env.push(
    ...([["REDIS_ACL_CONF", aclSecretKeys.startup], [
      "REDIS_DEFAULT_USER",
      aclSecretKeys.defaultUser,
    ]]
      .map(([name, key]) => ({
        name: name!,
        valueFrom: { secretKeyRef: { name: names.acl, key: key!, optional: true } },
      }))),
  );
  // The scripts (specs/config_map.ts) and the probes reach Redis on its own port, inside the
  // pod. Without checking its certificate: it is their own process, and the CA file changes
  // under them when the CA is rotated (a check then would fail the liveness probe and restart
  // every instance, as the kubelet writes the new CA before Redis has loaded its new certificate).
  const tls = spec.tls ? ["--tls", "--insecure"] : [];
  env.push({ name: "REDIS_PORT", value: String(servingPort(redis)) });
  if (tls.length) env.push({ name: "REDIS_CLI_TLS", value: tls.join(" ") });
  const ping = {
    exec: { command: ["redis-cli", ...tls, "-p", String(servingPort(redis)), "ping"] },
  };
  const redisContainer: Container = {
    name: "redis",
    image: spec.redis?.image || defaultRedisImage,
    command: ["sh", `${configDir}/start.sh`],
    lifecycle: { preStop: { exec: { command: ["sh", `${configDir}/pre-stop.sh`] } } },
    // Redis writes why it will not start (a config error, a bad data file) to its log,
    // never to a termination file: the log's end becomes the container's last message,
    // which the operator shows in the status (decide/pod_trouble.ts).
    terminationMessagePolicy: "FallbackToLogsOnError",
    env,
    ports: [
      ...(plainPortOpen(redis)
        ? [{ name: "redis", containerPort: redisPort, protocol: "TCP" }]
        : []),
      ...(spec.tls ? [{ name: "redis-tls", containerPort: tlsPort, protocol: "TCP" }] : []),
    ],
    readinessProbe: {
      ...ping,
      initialDelaySeconds: spec.redis?.initialDelaySeconds ?? 0,
      periodSeconds: 2,
      failureThreshold: 2,
      timeoutSeconds: 1,
    },
    livenessProbe: {
      ...ping,
      initialDelaySeconds: spec.redis?.initialDelaySeconds ?? 5,
      periodSeconds: 5,
      failureThreshold: 3,
      timeoutSeconds: 2,
    },
    volumeMounts: [
      { name: "config", mountPath: configDir, readOnly: true },
      { name: "run", mountPath: runDir },
      { name: "data", mountPath: "/data" },
      ...(spec.tls ? [{ name: "tls", mountPath: tlsDir, readOnly: true }] : []),
    ],
    ...(spec.redis?.resources ? { resources: spec.redis.resources } : {}),
    securityContext: spec.redis?.securityContext ?? restrictedContainer,
  };
  const containers: Container[] = [redisContainer];
  if (spec.exporter?.image) {
    containers.push({
      name: "exporter",
      image: spec.exporter.image,
      env: [
        {
          name: "REDIS_ADDR",
          value: `${spec.tls ? "rediss" : "redis"}://127.0.0.1:${servingPort(redis)}`,
        },
        // With spec.acl as its own user, which reads no key; else as the default user.
        ...(spec.acl
          ? [{ name: "REDIS_USER", value: exporterUser }, {
            name: "REDIS_PASSWORD",
            valueFrom: { secretKeyRef: { name: names.acl, key: aclSecretKeys.exporter } },
          }]
          : env.filter((e) => e.name === "REDIS_PASSWORD")),
        // Inside the pod, to 127.0.0.1: the certificate names the pods, not localhost.
        ...(spec.tls ? [{ name: "REDIS_EXPORTER_SKIP_TLS_VERIFICATION", value: "true" }] : []),
      ],

      ports: [{ name: "metrics", containerPort: 9121, protocol: "TCP" }],
      terminationMessagePolicy: "FallbackToLogsOnError",
      ...(spec.exporter.resources ? { resources: spec.exporter.resources } : {}),
      securityContext: spec.exporter.securityContext ?? restrictedContainer,
    });
  }
  const volumes: Volume[] = [
    { name: "config", configMap: { name: names.base } },
    { name: "run", emptyDir: { medium: "Memory" } },
    ...(spec.dataVolumeClaimTemplate ? [] : [{ name: "data", emptyDir: {} }]),
    // Updated in place when the Secret changes; the operator has Redis load it (tls_reload.ts).
    ...(spec.tls ? [{ name: "tls", secret: { secretName: spec.tls.secretName } }] : []),
    ...(spec.volumes ?? []),
  ];
  const claimTemplates: PersistentVolumeClaim[] = spec.dataVolumeClaimTemplate
    ? [{
      ...spec.dataVolumeClaimTemplate,
      metadata: { ...spec.dataVolumeClaimTemplate.metadata, name: "data" },
    }]
    : [];
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: ownedMetadata(redis, names.base),
    spec: {
      replicas: replicas ?? spec.replicas ?? 3,
      // The operator replaces pods itself, replicas first and the master after a
      // handover, so a template change never takes the master away unannounced.
      updateStrategy: { type: "OnDelete" },
      serviceName: names.headless,
      // Pods start and stop together: the operator, not the StatefulSet, orders replication.
      podManagementPolicy: "Parallel",
      selector: { matchLabels: selectorLabels(redis) },
      template: {
        metadata: {
          labels: commonLabels(redis),
          annotations: { ...spec.annotations, [configHashAnnotation]: configHash(redis) },
        },
        spec: {
          containers,
          volumes,
          terminationGracePeriodSeconds: 30,
          ...(spec.initContainers?.length ? { initContainers: spec.initContainers } : {}),
          securityContext: spec.securityContext ?? restrictedPod,
          affinity: spec.affinity ?? spreadAcrossNodes(redis),
          ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
          ...(spec.tolerations ? { tolerations: spec.tolerations } : {}),
          ...(spec.serviceAccountName ? { serviceAccountName: spec.serviceAccountName } : {}),
          ...(spec.imagePullSecrets ? { imagePullSecrets: spec.imagePullSecrets } : {}),
          ...(spec.priorityClassName ? { priorityClassName: spec.priorityClassName } : {}),
        },
      },
      ...(claimTemplates.length ? { volumeClaimTemplates: claimTemplates } : {}),
    },
  };
}

/**
 * The default affinity: pods of one Redis prefer different nodes and different
 * zones. A node (or zone) that holds the master and a replica takes both when
 * it fails, and one survivor alone is never reconfigured
 * (decide/replication.ts, minimumFailoverSize). Preferred, not required: a
 * cluster with fewer nodes than pods still runs every pod, and a pod recreated
 * while a node is lost (out of service, or drained) finds a place on the
 * nodes that remain. `spec.affinity` replaces it.
 */
export function spreadAcrossNodes(redis: Redis) {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [{
        weight: 100,
        podAffinityTerm: {
          labelSelector: { matchLabels: selectorLabels(redis) },
          topologyKey: "kubernetes.io/hostname",
        },
      }, {
        weight: 100,
        podAffinityTerm: {
          labelSelector: { matchLabels: selectorLabels(redis) },
          topologyKey: "topology.kubernetes.io/zone",
        },
      }],
    },
  };
}

/**
 * A short, stable hash (FNV-1a) of what the pods read at start. The number of
 * instances is left out: the default fencing follows it (majorityFence), and a
 * scale must not replace every pod. Running instances get the new value live,
 * from the fencing repair of the next pass.
 */
export function configHash(redis: Redis): string {
  const anySize = { ...redis, spec: { ...redis.spec, replicas: 3 } };
  return fnv1a(renderRedisConf(anySize) + startScript + preStopScript);
}
