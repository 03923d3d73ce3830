/**
 * A dynamic provisioner of host-folder PersistentVolumes, so StatefulSet
 * `volumeClaimTemplates` bind and data survives pod deletion: each pending
 * claim of our StorageClass gets a PV with a folder below the cluster's state,
 * and a released PV of ours is deleted with its folder.
 *
 * Every node's agent runs it; the PV's name is the claim's uid, so the first
 * wins and the others get a conflict. The folders are on the one machine every
 * node shares, so the volumes have no node affinity: like network storage, a
 * volume follows its pod to another node (after a node is lost, for one).
 *
 * @module
 */
import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1.d.ts";
import { isConflict, isNotFound, type RestClient } from "../../src/kube/client.ts";
import { listWatch } from "../../src/kube/watch.ts";

/** Name of the default StorageClass and of the provisioner behind it. */
export const storageClassName = "local-path";
export const provisionerName = "redis-operator.dev/local-path";

/** Creates the default StorageClass if it does not exist. */
export async function ensureStorageClass(client: RestClient): Promise<void> {
  try {
    await client.request({
      method: "POST",
      path: "/apis/storage.k8s.io/v1/storageclasses",
      body: {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: {
          name: storageClassName,
          annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        },
        provisioner: provisionerName,
        reclaimPolicy: "Delete",
        volumeBindingMode: "Immediate",
      },
    });
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
}

/** Provisions volumes for pending claims until `signal` aborts. */
export async function provisionClaims(
  client: RestClient,
  volumesDir: string,
  signal: AbortSignal,
  log: (message: string, fields: Record<string, unknown>) => void,
): Promise<void> {
  const handle = async (claim: PersistentVolumeClaim) => {
    if (claim.spec?.volumeName || claim.status?.phase === "Bound") return;
    if ((claim.spec?.storageClassName ?? storageClassName) !== storageClassName) return;
    try {
      await createVolume(client, claim, volumesDir);
    } catch (error) {
      if (!isConflict(error)) {
        log("provisioning failed", { claim: claim.metadata?.name, error: String(error) });
      }
    }
  };
  for await (
    const event of listWatch<PersistentVolumeClaim>(client, "/api/v1/persistentvolumeclaims", {
      signal,
    })
  ) {
    if (event.type === "LIST") { for (const claim of event.items) await handle(claim); }
    else if (event.type !== "DELETED") await handle(event.object);
  }
}

/** Deletes released volumes of ours, and their folders, until `signal` aborts. */
export async function reclaimVolumes(
  client: RestClient,
  signal: AbortSignal,
  log: (message: string, fields: Record<string, unknown>) => void,
): Promise<void> {
  const handle = async (volume: PersistentVolume) => {
    const ours =
      volume.metadata?.annotations?.["pv.kubernetes.io/provisioned-by"] === provisionerName;
    if (!ours || volume.status?.phase !== "Released") return;
    if (volume.spec?.persistentVolumeReclaimPolicy !== "Delete") return;
    try {
      if (volume.spec.hostPath?.path) {
        await Deno.remove(volume.spec.hostPath.path, { recursive: true }).catch(() => {});
      }
      await client.request({
        method: "DELETE",
        path: `/api/v1/persistentvolumes/${volume.metadata?.name}`,
      });
    } catch (error) {
      // Another node's agent reclaimed it first.
      if (isNotFound(error)) return;
      log("volume reclaim failed", { volume: volume.metadata?.name, error: String(error) });
    }
  };
  for await (
    const event of listWatch<PersistentVolume>(client, "/api/v1/persistentvolumes", { signal })
  ) {
    if (event.type === "LIST") { for (const volume of event.items) await handle(volume); }
    else if (event.type !== "DELETED") await handle(event.object);
  }
}

async function createVolume(
  client: RestClient,
  claim: PersistentVolumeClaim,
  volumesDir: string,
): Promise<void> {
  const name = `pvc-${claim.metadata?.uid}`;
  const path = `${volumesDir}/${name}`;
  await Deno.mkdir(path, { recursive: true });
  await Deno.chmod(path, 0o777);
  await client.request({
    method: "POST",
    path: "/api/v1/persistentvolumes",
    body: {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name, annotations: { "pv.kubernetes.io/provisioned-by": provisionerName } },
      spec: {
        capacity: { storage: claim.spec?.resources?.requests?.storage ?? "1Gi" },
        accessModes: claim.spec?.accessModes ?? ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: "Delete",
        storageClassName,
        volumeMode: claim.spec?.volumeMode ?? "Filesystem",
        hostPath: { path, type: "DirectoryOrCreate" },
        claimRef: {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          namespace: claim.metadata?.namespace,
          name: claim.metadata?.name,
          uid: claim.metadata?.uid,
        },
      },
    },
  });
}
