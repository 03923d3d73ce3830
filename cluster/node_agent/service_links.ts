/**
 * The Service environment variables a kubelet gives every container
 * (`enableServiceLinks`): `NAME_SERVICE_HOST`, `NAME_SERVICE_PORT` and the
 * Docker-link style `NAME_PORT_6379_TCP...`. Pure.
 *
 * @module
 */
import type { Pod, Service } from "kubernetes-types/core/v1.d.ts";

/**
 * Which Services a pod's containers see: those of its namespace when
 * `enableServiceLinks` is on (the default), and always the API server's own
 * `kubernetes` Service, so in-cluster clients find it.
 */
export function linkedServices(pod: Pod, inNamespace: Service[], apiServer?: Service): Service[] {
  const byName = new Map<string, Service>();
  if (apiServer) byName.set(apiServer.metadata?.name ?? "", apiServer);
  // A Service of the pod's own namespace wins over the API server's of the same name.
  if (pod.spec?.enableServiceLinks !== false) {
    for (const service of inNamespace) byName.set(service.metadata?.name ?? "", service);
  }
  return [...byName.values()];
}

/**
 * The variables for `services`, skipping those without a ClusterIP (headless,
 * ExternalName). Names are upper-cased with `-` turned into `_`.
 *
 * @example
 * ```ts
 * serviceLinkEnv([{ metadata: { name: "redis-main" },
 *   spec: { clusterIP: "198.19.0.7", ports: [{ name: "redis", port: 6379 }] } }]);
 * // { REDIS_MAIN_SERVICE_HOST: "198.19.0.7", REDIS_MAIN_SERVICE_PORT: "6379",
 * //   REDIS_MAIN_SERVICE_PORT_REDIS: "6379", REDIS_MAIN_PORT: "tcp://198.19.0.7:6379", ... }
 * ```
 */
export function serviceLinkEnv(services: Service[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const service of services) {
    const ip = service.spec?.clusterIP;
    if (!ip || ip === "None") continue;
    const name = envName(service.metadata?.name ?? "");
    const ports = service.spec?.ports ?? [];
    env[`${name}_SERVICE_HOST`] = ip;
    if (ports[0]) env[`${name}_SERVICE_PORT`] = String(ports[0].port);
    for (const port of ports) {
      if (port.name) env[`${name}_SERVICE_PORT_${envName(port.name)}`] = String(port.port);
    }
    if (ports[0]) {
      env[`${name}_PORT`] = `${(ports[0].protocol ?? "TCP").toLowerCase()}://${ip}:${
        ports[0].port
      }`;
    }
    for (const port of ports) {
      const protocol = port.protocol ?? "TCP";
      const prefix = `${name}_PORT_${port.port}_${protocol.toUpperCase()}`;
      env[prefix] = `${protocol.toLowerCase()}://${ip}:${port.port}`;
      env[`${prefix}_PROTO`] = protocol.toLowerCase();
      env[`${prefix}_PORT`] = String(port.port);
      env[`${prefix}_ADDR`] = ip;
    }
  }
  return env;
}

function envName(name: string): string {
  return name.toUpperCase().replace(/-/g, "_");
}
