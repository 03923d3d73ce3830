/**
 * Base64 for the `data` fields of Secrets, ConfigMaps and kubeconfigs.
 *
 * @module
 */

/**
 * Decodes base64 into bytes.
 *
 * @example
 * ```ts
 * console.assert(decodeBase64("aGk=").length === 2);
 * ```
 */
export function decodeBase64(data: string): Uint8Array {
  return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
}

/** Decodes base64 into UTF-8 text. */
export function decodeBase64Text(data: string): string {
  return new TextDecoder().decode(decodeBase64(data));
}

/** Encodes UTF-8 text as base64 (`btoa` alone refuses characters beyond Latin-1). */
export function encodeBase64Text(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}
