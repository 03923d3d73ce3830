/**
 * A pass that finds nothing to change writes nothing: every object the
 * builders make, read back as the API server stores it, matches what they
 * want (issue 8, item 11). For the default spec, the annotated example and
 * each optional field set once; a real change is still noticed.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { Redis, RedisSpec } from "../api/redis.ts";
import { keepClaimTemplates } from "../decide/claim_templates.ts";
import { matchesDesired } from "../decide/drift.ts";
import { buildConfigMap } from "./config_map.ts";
import { buildAclSecret } from "./acl_secret.ts";
import { buildMasterEndpointSlice } from "./master_endpoints.ts";
import { buildNetworkPolicy } from "./network_policy.ts";
import { buildPodDisruptionBudget } from "./pdb.ts";
import { buildSecret } from "./secret.ts";
import { buildServices } from "./services.ts";
import { buildStatefulSet } from "./stateful_set.ts";

/** Fields of these objects that are Go maps: entries are kept whatever their value. */
const maps = new Set(["annotations", "labels", "data", "nodeSelector", "matchLabels"]);
/** Maps of quantities: kept too, each value rewritten in canonical form. */
const quantityMaps = new Set(["limits", "requests"]);
/** Pointer fields these objects set to a zero value: a pointer keeps it. */
const pointers = new Set([
  "terminating",
  "runAsUser",
  "fsGroup",
  "runAsNonRoot",
  "allowPrivilegeEscalation",
  "optional",
  "storageClassName",
]);

/**
 * What the API server gives back for `value` once stored, as far as the fields
 * we sent go (the defaults it adds are extra fields, which matchesDesired
 * ignores). This models Go's encoding/json `omitempty` on Kubernetes' types:
 * a struct field holding a zero value (0, false, "") is left out, unless it is
 * a pointer; an empty list or map is left out (protobuf in etcd cannot tell
 * empty from nil); map entries, list items and structs (`emptyDir: {}`) are
 * kept. Dropping every zero would not be faithful: the ConfigMap's `master: ""`
 * before there is a master, `emptyDir: {}` and `terminating: false` are stored.
 * Checked against a JSON → Go → protobuf → Go → JSON round trip with
 * k8s.io/api v0.37.2 for every object of these tests.
 */
function asStored(value: unknown): unknown {
  return storeField(JSON.parse(JSON.stringify(value)), "");
}

function storeField(value: unknown, name: string): unknown {
  if (Array.isArray(value)) {
    return value.length ? value.map((item) => storeField(item, "")) : undefined;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (maps.has(name)) return entries.length ? value : undefined;
    if (quantityMaps.has(name)) {
      if (!entries.length) return undefined;
      return Object.fromEntries(entries.map(([k, v]) => [k, canonicalQuantity(v)]));
    }
    return Object.fromEntries(
      entries.map(([k, v]) => [k, storeField(v, k)]).filter(([, v]) => v !== undefined),
    );
  }
  const zero = value === 0 || value === false || value === "";
  return zero && name !== "" && !pointers.has(name) ? undefined : value;
}

/** The canonical form the server writes a quantity in, for the values of these tests. */
function canonicalQuantity(value: unknown): unknown {
  if (typeof value !== "number") return value;
  return Number.isInteger(value) ? String(value) : `${Math.round(value * 1000)}m`;
}

const metadata = { name: "cache", namespace: "prod", uid: "u-1" };
const exporterImage = "oliver006/redis_exporter:v1.62.0";

/** One Redis per spec: the YAML a person writes, numbers where YAML gives numbers. */
const specs: Array<[string, Record<string, unknown>]> = [
  ["the default spec", { replicas: 3 }],
  ["config", { config: { maxmemory: "64mb", save: "" } }],
  ["password", { password: { secretKeyRef: { name: "pw", key: "k" } } }],
  ["annotations", { annotations: { "example.com/team": "platform", "example.com/flag": "" } }],
  ["securityContext", { securityContext: { runAsUser: 999, runAsGroup: 999, fsGroup: 999 } }],
  ["securityContext as root", {
    securityContext: { runAsUser: 0, fsGroup: 0, runAsNonRoot: false },
  }],
  ["affinity", {
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{
          weight: 100,
          podAffinityTerm: {
            topologyKey: "kubernetes.io/hostname",
            labelSelector: { matchLabels: { redis: "cache" } },
          },
        }],
      },
    },
  }],
  ["an empty affinity", { affinity: {} }],
  ["nodeSelector", { nodeSelector: { "kubernetes.io/os": "linux" } }],
  ["an empty nodeSelector", { nodeSelector: {} }],
  ["tolerations", {
    tolerations: [
      { key: "dedicated", operator: "Equal", value: "redis", effect: "NoSchedule" },
      { key: "", operator: "Exists", effect: "" },
    ],
  }],
  ["no tolerations", { tolerations: [] }],
  ["serviceAccountName", { serviceAccountName: "redis" }],
  ["imagePullSecrets", { imagePullSecrets: [{ name: "registry" }] }],
  ["priorityClassName", { priorityClassName: "high" }],
  ["dataVolumeClaimTemplate", {
    dataVolumeClaimTemplate: {
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    },
  }],
  ["dataVolumeClaimTemplate without a storage class", {
    dataVolumeClaimTemplate: {
      metadata: { labels: {} },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "",
        resources: { requests: { storage: 1073741824 } },
      },
    },
  }],
  ["volumes", {
    volumes: [
      { name: "scratch", emptyDir: {} },
      { name: "extra", configMap: { name: "extra", items: [], optional: false } },
    ],
  }],
  ["initContainers", {
    initContainers: [{
      name: "init",
      image: "busybox",
      command: ["sh", "-c", "true"],
      args: [],
      env: [{ name: "EMPTY", value: "" }],
      resources: { requests: { cpu: 0.1 } },
    }],
  }],
  ["failover", {
    failover: { detectionWindowMs: 5000, minReplicasToWrite: 0, minReplicasMaxLagSeconds: 10 },
  }],
  ["redis.image", { redis: { image: "redis:7.2" } }],
  ["redis.resources", {
    redis: {
      resources: { requests: { cpu: 0.5, memory: 134217728 }, limits: { memory: "256Mi" } },
    },
  }],
  ["redis.securityContext", {
    redis: {
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"], add: [] },
      },
    },
  }],
  ["redis.initialDelaySeconds 0", { redis: { initialDelaySeconds: 0 } }],
  ["redis.initialDelaySeconds 10", { redis: { initialDelaySeconds: 10 } }],
  ["exporter.image", { exporter: { image: exporterImage } }],
  ["exporter.resources", {
    exporter: { image: exporterImage, resources: { limits: { cpu: 1, memory: "64Mi" } } },
  }],
  ["exporter.securityContext", {
    exporter: { image: exporterImage, securityContext: { runAsNonRoot: true, runAsUser: 59000 } },
  }],
  ["exporter.initialDelaySeconds", { exporter: { image: exporterImage, initialDelaySeconds: 0 } }],
  ["tls", { tls: { secretName: "certs" } }],
  ["tls with the plain port kept", { tls: { secretName: "certs", plaintext: true } }],
  ["acl", {
    acl: {
      users: [{
        name: "app",
        rules: "on ~* +@all",
        password: { secretKeyRef: { name: "app-password", key: "password" } },
      }],
    },
  }],
  ["acl with the default user off", { acl: { disableDefaultUser: true, users: [] } }],
  ["an empty networkPolicy", { networkPolicy: {} }],
  ["networkPolicy peers", {
    networkPolicy: {
      from: [{ ipBlock: { cidr: "10.0.0.0/8", except: [] } }, { podSelector: {} }],
      metricsFrom: [],
    },
  }],
  ["networkPolicy for the exporter", {
    exporter: { image: exporterImage },
    networkPolicy: { from: [], metricsFrom: [{ namespaceSelector: { matchLabels: { a: "b" } } }] },
  }],
  ["sentinel", { sentinel: { masterName: "mymaster" } }],
];

const example = parse(
  await Deno.readTextFile(new URL("../../example/redis.yaml", import.meta.url)),
) as Redis;
const redises: Array<[string, Redis]> = [
  ["the annotated example", { ...example, metadata: { ...example.metadata, ...metadata } }],
  ...specs.map(([what, spec]): [string, Redis] => [what, {
    metadata,
    spec: { replicas: 3, ...spec } as RedisSpec,
  }]),
];

const masterPod: Pod = {
  metadata: { name: "redis-cache-0", namespace: "prod", uid: "p-0" },
  spec: { containers: [], nodeName: "node-1" },
};

/** Every object the operator applies for `redis`, in the shapes it takes over a Redis's life. */
function ownedObjects(
  redis: Redis,
): Array<[string, { kind?: string; metadata?: { name?: string } }]> {
  return [
    ...[buildStatefulSet(redis), ...buildServices(redis), buildPodDisruptionBudget(redis)]
      .map((o): [string, typeof o] => ["", o]),
    ["before a master", buildConfigMap(redis, "")],
    ["with a master", buildConfigMap(redis, "198.18.0.7")],
    ["with a password", buildSecret(redis, { password: "s3cret" })],
    ["after the password was removed", buildSecret(redis, { password: "" })],
    ["while rotating", buildSecret(redis, { password: "new", previous: "old" })],
    ["with a master", buildMasterEndpointSlice(redis, { pod: masterPod, ip: "198.18.0.7" })],
    ["without a master", buildMasterEndpointSlice(redis, undefined)],
    ...optional("", buildNetworkPolicy(redis, "redis-operator")),
    ...optional(
      "",
      redis.spec?.acl
        ? buildAclSecret(redis, {
          passwords: { operator: "o", replication: "r", exporter: "e" },
          startup: "user app on",
          users: [],
        })
        : undefined,
    ),
  ];
}

/** `[shape, object]` when the object exists. */
function optional<T extends { kind?: string; metadata?: { name?: string } }>(
  shape: string,
  object: T | undefined,
): Array<[string, T]> {
  return object ? [[shape, object]] : [];
}

for (const [what, redis] of redises) {
  Deno.test(`every owned object, as the server stores it, needs no write: ${what}`, () => {
    const appliedAgain = ownedObjects(redis)
      .filter(([, desired]) => !matchesDesired(desired, asStored(desired)))
      .map(([shape, o]) => `${o.kind} ${o.metadata?.name} ${shape}`.trim());
    assert.deepEqual(appliedAgain, [], "applied again on every pass");
    const set = buildStatefulSet(redis);
    assert.equal(
      keepClaimTemplates(set, asStored(set) as typeof set).refused,
      undefined,
      "the claim templates read back as unchanged",
    );
  });
}

Deno.test("the default spec's StatefulSet is not stored as it is sent", () => {
  const set = buildStatefulSet({ metadata, spec: { replicas: 3 } });
  const probe = (asStored(set) as typeof set).spec?.template.spec?.containers[0]?.readinessProbe;
  assert.equal(set.spec?.template.spec?.containers[0]?.readinessProbe?.initialDelaySeconds, 0);
  assert.equal(probe?.initialDelaySeconds, undefined, "omitempty leaves out the 0");
  assert.equal(probe?.periodSeconds, 2);
});

Deno.test("a stored object that differs from the desired one is still applied", () => {
  const redis: Redis = { metadata, spec: { replicas: 3, tolerations: [] } };
  const set = buildStatefulSet(redis);
  const changes: Array<[string, (stored: typeof set) => void]> = [
    ["another image", (s) => s.spec!.template.spec!.containers[0]!.image = "redis:6"],
    ["a readiness delay", (s) => {
      s.spec!.template.spec!.containers[0]!.readinessProbe!.initialDelaySeconds = 10;
    }],
    ["another replica count", (s) => s.spec!.replicas = 4],
    ["a toleration where none is wanted", (s) => {
      s.spec!.template.spec!.tolerations = [{ operator: "Exists" }];
    }],
    ["no config hash", (s) => delete s.spec!.template.metadata!.annotations],
    ["another kind of data volume", (s) => {
      s.spec!.template.spec!.volumes![2] = { name: "data", hostPath: { path: "/srv" } };
    }],
  ];
  for (const [what, change] of changes) {
    const stored = asStored(set) as typeof set;
    change(stored);
    assert.equal(matchesDesired(set, stored), false, what);
  }
  const resources = buildStatefulSet({
    metadata,
    spec: { redis: { resources: { requests: { cpu: "500m" } } } },
  });
  const stored = asStored(resources) as typeof resources;
  stored.spec!.template.spec!.containers[0]!.resources!.requests!.cpu = "250m";
  assert.equal(matchesDesired(resources, stored), false, "another CPU request");
  const secret = buildSecret(redis, { password: "" });
  assert.equal(
    matchesDesired(secret, { ...secret, data: { password: "b2xk" } }),
    true,
    "an extra key is no drift to matchesDesired; sync_objects compares the Secret's passwords itself",
  );
});
