/**
 * Effects only while leading. A pass that began as leader may reach an
 * effect after its Lease ran out: the process was frozen past the renew
 * deadline, or an answer it awaited came late. The next leader may by then
 * own that Redis, so each effect asks first, at the moment it is sent, not
 * only where a pass happens to check: every command that changes an
 * instance and every write to the API server.
 *
 * @module
 */
import type { RestClient } from "../kube/client.ts";
import type { RedisNode } from "../redis/client.ts";

/** An effect not sent because this operator no longer leads. */
export class NotLeadingError extends Error {
  constructor(what: string) {
    super(`${what}: not sent, this operator no longer leads`);
    this.name = "NotLeadingError";
  }
}

/**
 * `client` whose writes (any method but GET) reject with
 * {@linkcode NotLeadingError} once `leading()` is false; reads and watches
 * pass, so caches stay whole for a later term.
 */
export function leadingOnlyWrites(
  client: RestClient,
  leading: () => boolean,
  onRefused: (what: string) => void = () => {},
): RestClient {
  return {
    request: (request) => {
      const method = request.method ?? "GET";
      if (method !== "GET" && !leading()) {
        onRefused(`${method} ${request.path}`);
        return Promise.reject(new NotLeadingError(`${method} ${request.path}`));
      }
      return client.request(request);
    },
    stream: (request) => client.stream(request),
  };
}

/**
 * `node` whose commands that change the instance reject with
 * {@linkcode NotLeadingError} once `leading()` is false. Each method is
 * listed, so a new one must be placed on one side or the other. A handover
 * promotes its target through the target's own `promote` (guarded too when
 * the target came from the same connect) and asks `leading` before its own
 * later steps.
 */
export function leadingOnlyNode(
  node: RedisNode,
  leading: () => boolean,
  onRefused: (what: string) => void = () => {},
): RedisNode {
  const refuse = (what: string) => {
    onRefused(what);
    return Promise.reject(new NotLeadingError(what));
  };
  const guard = <K extends keyof RedisNode>(key: K, what: string): RedisNode[K] => {
    const method = node[key] as unknown as (...args: unknown[]) => Promise<unknown>;
    const guarded = (...args: unknown[]) => leading() ? method.apply(node, args) : refuse(what);
    return guarded as unknown as RedisNode[K];
  };
  return {
    infoReplication: () => node.infoReplication(),
    aclList: () => node.aclList(),
    keyCount: () => node.keyCount(),
    uptimeSeconds: () => node.uptimeSeconds(),
    fencing: () => node.fencing(),
    servesStaleData: () => node.servesStaleData(),
    close: () => node.close(),
    replicaOf: guard("replicaOf", "REPLICAOF"),
    promote: guard("promote", "promotion"),
    handOver: (target, timeoutMs, min) =>
      leading() ? node.handOver(target, timeoutMs, min, leading) : refuse("handover"),
    acceptPassword: guard("acceptPassword", "ACL SETUSER default"),
    requireOnlyPassword: guard("requireOnlyPassword", "CONFIG SET requirepass"),
    useMasterPassword: guard("useMasterPassword", "CONFIG SET masterauth"),
    setUser: guard("setUser", "ACL SETUSER"),
    deleteUsers: guard("deleteUsers", "ACL DELUSER"),
    useMasterUser: guard("useMasterUser", "CONFIG SET masteruser"),
    setFencing: guard("setFencing", "CONFIG SET min-replicas"),
    setServeStaleData: guard("setServeStaleData", "CONFIG SET replica-serve-stale-data"),
    reloadTls: guard("reloadTls", "CONFIG SET tls-cert-file"),
    disconnectClients: guard("disconnectClients", "CLIENT KILL"),
  };
}
