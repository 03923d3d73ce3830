/**
 * How the API server stores a field of a built-in object, by the field's
 * name. Pure. Built-in objects go through their Go types (and protobuf in
 * etcd) on the way in, so what is read back is not always what was sent:
 * - a field tagged `omitempty` whose value is a zero value (0, false, "")
 *   is left out, unless the field is a pointer, which keeps an explicit zero;
 * - an empty list or map is nil after protobuf: left out, or `null`;
 * - entries of a map and items of a list are kept whatever their value;
 * - a quantity is rewritten in canonical form (`"0.1"` and the number 0.1
 *   both become `"100m"`).
 *
 * The names below were read from the json tags of k8s.io/api v0.37.2 (core,
 * apps, policy, discovery) for the objects the operator writes, including
 * what users pass through (pod settings, volumes, init containers).
 *
 * @module
 */

/**
 * What a field is, as far as storage goes:
 * - `plain`: a zero value is left out (a non-pointer `omitempty` field);
 * - `keptZero`: a pointer whose zero is stored and means something else than no value;
 * - `map`, `quantityMap`: a map (its entries are kept), of quantities for the latter;
 * - `selector`: a Service's selector (a map) or a label selector (a struct);
 * - `quantity`: a single quantity.
 */
export type FieldKind = "plain" | "keptZero" | "map" | "quantityMap" | "selector" | "quantity";

const kinds = new Map<string, FieldKind>([
  // Maps of strings: an entry with an empty value (`master: ""`, a label "") is kept.
  ...[
    "annotations",
    "labels",
    "data",
    "binaryData",
    "stringData",
    "nodeSelector",
    "matchLabels",
    "volumeAttributes",
    "options",
    "deprecatedTopology",
  ].map((name) => [name, "map"] as const),
  ...["limits", "requests", "overhead"].map((name) => [name, "quantityMap"] as const),
  ["selector", "selector"],
  ["sizeLimit", "quantity"],
  ["divisor", "quantity"],
  // Pointers where zero is a setting of its own: runAsUser 0 is root, not the image's user;
  // tolerationSeconds 0 evicts at once, none never; storageClassName "" asks for no class,
  // none for the default one; ready nil means "ready". An absent live field is then a change.
  // (Pointers whose zero means the same as no value, like privileged or optional, need no entry.)
  ...[
    "replicas",
    "terminationGracePeriodSeconds",
    "activeDeadlineSeconds",
    "runAsUser",
    "runAsGroup",
    "fsGroup",
    "allowPrivilegeEscalation",
    "automountServiceAccountToken",
    "enableServiceLinks",
    "hostUsers",
    "tolerationSeconds",
    "defaultMode",
    "mode",
    "storageClassName",
    "maxUnavailable",
    "minAvailable",
    "ready",
    "serving",
    // Not a pointer, but without omitempty: a preStop sleep of 0 seconds is stored.
    "seconds",
  ].map((name) => [name, "keptZero"] as const),
]);

/**
 * The kind of the field called `name`; `plain` for every field not listed.
 *
 * @example
 * ```ts
 * console.assert(fieldKind("initialDelaySeconds") === "plain");
 * console.assert(fieldKind("annotations") === "map");
 * ```
 */
export function fieldKind(name: string): FieldKind {
  return kinds.get(name) ?? "plain";
}
