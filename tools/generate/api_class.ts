/**
 * Renders the request contract and one typed API class per resource. Pure
 * string building; `tools/generate.ts` decides what to render.
 *
 * @module
 */

/** What the generator knows about a resource. */
export interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  readonly hasStatus: boolean;
  /** Module the kind's TypeScript type comes from. */
  readonly typesModule: string;
}

/** The contract every generated class is written against, and its option types. */
export function renderContract(): string {
  return `/** One HTTP request to the API server. */
export interface KubeRequest {
  readonly method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path below the server URL, e.g. \`/api/v1/namespaces/default/pods\`. */
  readonly path: string;
  readonly query?: Record<string, string | number | boolean | undefined>;
  readonly body?: unknown;
  /** Content type of the body; JSON unless a patch type is given. */
  readonly contentType?: string;
  readonly signal?: AbortSignal | undefined;
}

/** The transport the generated API classes use; \`src/kube/client.ts\` implements it. */
export interface RestClient {
  /** Sends a request and returns the decoded JSON body; throws for non-2xx answers. */
  request<T = unknown>(request: KubeRequest): Promise<T>;
  /** Sends a GET and returns the streaming response body, for watches. */
  stream(request: KubeRequest): Promise<ReadableStream<Uint8Array>>;
}

/** Options of every call. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

/** Options of list calls. */
export interface ListOptions extends CallOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** Options of server-side apply. */
export interface ApplyOptions extends CallOptions {
  readonly fieldManager: string;
  /** Take over fields other managers own (what a controller wants for the fields it manages). */
  readonly force?: boolean;
}

/** Options of patches. */
export interface PatchOptions extends CallOptions {
  /** merge (RFC 7386, the default), strategic or json (RFC 6902). */
  readonly type?: "merge" | "strategic" | "json";
  readonly fieldManager?: string;
}

/** Options of deletes. */
export interface DeleteOptions extends CallOptions {
  readonly gracePeriodSeconds?: number;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly propagationPolicy?: "Foreground" | "Background" | "Orphan";
}

/** A list answer. */
export interface List<T> {
  readonly items: T[];
  readonly metadata: { readonly resourceVersion?: string; readonly continue?: string };
}
`;
}

/** Renders the API class of one resource. */
export function renderApiClass(info: ResourceInfo, source: string): string {
  const base = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
  const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
  const ns = info.namespaced;
  const nsParam = ns ? "namespace: string, " : "";
  const nsArg = ns ? "namespace, " : "";
  const T = info.kind;
  const statusMethods = info.hasStatus
    ? `
  /** Patches the status subresource (merge patch unless \`type\` says otherwise). */
  patchStatus(${nsParam}name: string, patch: unknown, options: PatchOptions = {}): Promise<${T}> {
    return this.#patch(this.path(${nsArg}name) + "/status", patch, options);
  }

  /** Server-side apply of the status subresource. */
  applyStatus(${nsParam}body: ${T}, options: ApplyOptions): Promise<${T}> {
    return this.#apply(this.path(${nsArg}body.metadata?.name ?? "") + "/status", body, options);
  }
`
    : "";
  return `/**
 * ${T} (${info.plural}, ${apiVersion}, ${ns ? "namespaced" : "cluster-scoped"}): typed calls.
 * Generated from ${source}.
 */
export class ${T}Api {
  static readonly apiVersion = "${apiVersion}";
  static readonly kind = "${T}";
  static readonly plural = "${info.plural}";
  readonly #client: RestClient;

  constructor(client: RestClient) {
    this.#client = client;
  }

  /** Path of the collection${
    ns ? " (all namespaces when \`namespace\` is undefined)" : ""
  }, or of one object when \`name\` is given. */
  path(${ns ? "namespace?: string, " : ""}name?: string): string {
    const collection = ${
    ns
      ? `namespace === undefined ? "${base}/${info.plural}" : \`${base}/namespaces/\${namespace}/${info.plural}\``
      : `"${base}/${info.plural}"`
  };
    return name === undefined ? collection : \`\${collection}/\${name}\`;
  }

  /** Reads one object. */
  get(${nsParam}name: string, options: CallOptions = {}): Promise<${T}> {
    return this.#client.request({ path: this.path(${nsArg}name), signal: options.signal });
  }

  /** Lists objects. */
  list(${
    ns ? "namespace: string | undefined, " : ""
  }options: ListOptions = {}): Promise<List<${T}>> {
    return this.#client.request({
      path: this.path(${ns ? "namespace" : ""}),
      query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector },
      signal: options.signal,
    });
  }

  /** Creates an object. */
  create(${nsParam}body: ${T}, options: CallOptions = {}): Promise<${T}> {
    return this.#client.request({ method: "POST", path: this.path(${
    ns ? "namespace" : ""
  }), body: { apiVersion: "${apiVersion}", kind: "${T}", ...body }, signal: options.signal });
  }

  /** Server-side apply: the object becomes what \`body\` says for the fields \`fieldManager\` owns. */
  apply(${nsParam}body: ${T}, options: ApplyOptions): Promise<${T}> {
    return this.#apply(this.path(${nsArg}body.metadata?.name ?? ""), body, options);
  }

  /** Patches an object (merge patch unless \`type\` says otherwise). */
  patch(${nsParam}name: string, patch: unknown, options: PatchOptions = {}): Promise<${T}> {
    return this.#patch(this.path(${nsArg}name), patch, options);
  }

  /** Deletes an object. */
  delete(${nsParam}name: string, options: DeleteOptions = {}): Promise<unknown> {
    const { signal, ...deleteOptions } = options;
    return this.#client.request({
      method: "DELETE",
      path: this.path(${nsArg}name),
      body: { apiVersion: "v1", kind: "DeleteOptions", ...deleteOptions },
      signal,
    });
  }
${statusMethods}
  #apply(path: string, body: ${T}, options: ApplyOptions): Promise<${T}> {
    return this.#client.request({
      method: "PATCH",
      path,
      query: { fieldManager: options.fieldManager, force: options.force },
      contentType: "application/apply-patch+yaml",
      body: { apiVersion: "${apiVersion}", kind: "${T}", ...body },
      signal: options.signal,
    });
  }

  #patch(path: string, patch: unknown, options: PatchOptions): Promise<${T}> {
    const types = { merge: "application/merge-patch+json", strategic: "application/strategic-merge-patch+json", json: "application/json-patch+json" };
    return this.#client.request({
      method: "PATCH",
      path,
      query: { fieldManager: options.fieldManager },
      contentType: types[options.type ?? "merge"],
      body: patch,
      signal: options.signal,
    });
  }
}
`;
}
