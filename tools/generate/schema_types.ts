/**
 * Renders TypeScript interfaces from a CRD's OpenAPI v3 schema. Pure.
 * Fields kept as free-form objects (`x-kubernetes-preserve-unknown-fields`)
 * get their Kubernetes type from {@linkcode knownTypes}.
 *
 * @module
 */

interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  enum?: unknown[];
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

/** Free-form fields that are Kubernetes core/v1 types, by path below the root. */
const knownTypes: Record<string, string> = {
  "spec.securityContext": "PodSecurityContext",
  "spec.affinity": "Affinity",
  "spec.tolerations": "Toleration[]",
  "spec.dataVolumeClaimTemplate": "PersistentVolumeClaim",
  "spec.volumes": "Volume[]",
  "spec.initContainers": "Container[]",
  "spec.redis.resources": "ResourceRequirements",
  "spec.redis.securityContext": "SecurityContext",
  "spec.exporter.resources": "ResourceRequirements",
  "spec.exporter.securityContext": "SecurityContext",
};

/** Renders the root interface `kind` and one interface per nested object. */
export function renderSchemaTypes(kind: string, root: unknown, apiVersion: string): string {
  const interfaces: string[] = [];
  const usedKnown = new Set<string>();

  const typeOf = (schema: Schema, name: string, path: string): string => {
    const known = knownTypes[path];
    if (known) {
      usedKnown.add(known.replace("[]", ""));
      return known;
    }
    if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
    switch (schema.type) {
      case "string":
        return "string";
      case "integer":
      case "number":
        return "number";
      case "boolean":
        return "boolean";
      case "array":
        return `Array<${typeOf(schema.items ?? {}, `${name}Item`, `${path}[]`)}>`;
      case "object":
        if (schema.properties) {
          renderInterface(schema, name, path);
          return name;
        }
        if (typeof schema.additionalProperties === "object") {
          return `Record<string, ${
            typeOf(schema.additionalProperties, `${name}Value`, `${path}{}`)
          }>`;
        }
        return "Record<string, unknown>";
      default:
        return "unknown";
    }
  };

  const renderInterface = (schema: Schema, name: string, path: string) => {
    const lines: string[] = [];
    if (schema.description) lines.push(`/** ${schema.description} */`);
    lines.push(`export interface ${name} {`);
    for (const [field, child] of Object.entries(schema.properties ?? {})) {
      const childPath = path ? `${path}.${field}` : field;
      const childName = name + field[0]!.toUpperCase() + field.slice(1);
      let type = typeOf(child, childName, childPath);
      if (path === "" && field === "metadata") {
        usedKnown.add("ObjectMeta");
        type = "ObjectMeta";
      }
      if (path === "" && field === "apiVersion") type = `"${apiVersion}"`;
      if (path === "" && field === "kind") type = `"${kind}"`;
      if (child.description) lines.push(`  /** ${child.description} */`);
      const optional = schema.required?.includes(field) && path !== "" ? "" : "?";
      lines.push(`  ${field}${optional}: ${type};`);
    }
    lines.push("}");
    interfaces.push(lines.join("\n"));
  };

  renderInterface(root as Schema, kind, "");
  const metaImport = usedKnown.delete("ObjectMeta")
    ? `import type { ObjectMeta } from "kubernetes-types/meta/v1.d.ts";\n`
    : "";
  const coreImport = usedKnown.size
    ? `import type { ${[...usedKnown].sort().join(", ")} } from "kubernetes-types/core/v1.d.ts";\n`
    : "";
  return `${coreImport}${metaImport}\n${interfaces.reverse().join("\n\n")}\n`;
}
