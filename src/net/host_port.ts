/**
 * Network addresses as text. Pure; shared by the Kubernetes client and the
 * Redis client, so neither depends on the other.
 *
 * @module
 */

/**
 * Joins host and port, bracketing IPv6 literals.
 *
 * @example
 * ```ts
 * console.assert(hostPort("fd00::1", 6379) === "[fd00::1]:6379");
 * ```
 */
export function hostPort(host: string, port: string | number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
