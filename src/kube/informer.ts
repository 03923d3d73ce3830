/**
 * A watch-fed cache of one kind: reads come from memory, every change is
 * passed on, and `synced` resolves once the first list has arrived.
 *
 * @module
 */
import type { RestClient } from "./client.ts";
import { type KubeObject, listWatch } from "./watch.ts";

/** What changed; after a re-list every object is reported as `LIST`. */
export type ChangeType = "LIST" | "ADDED" | "MODIFIED" | "DELETED";

/** A cache of the objects at one collection path. */
export class Informer<T extends KubeObject> {
  readonly #objects = new Map<string, T>();
  readonly #client: RestClient;
  readonly #path: string;
  readonly #labelSelector: string | undefined;
  readonly #idleTimeoutMs: number | undefined;
  readonly #onChange: (object: T, type: ChangeType) => void;
  #markSynced!: () => void;
  /** Resolves after the first complete list. */
  readonly synced: Promise<void> = new Promise((resolve) => this.#markSynced = resolve);

  constructor(
    client: RestClient,
    path: string,
    options: {
      labelSelector?: string;
      /** Restart a watch that stays silent this long (see `listWatch`). */
      idleTimeoutMs?: number;
      onChange: (object: T, type: ChangeType) => void;
    },
  ) {
    this.#client = client;
    this.#path = path;
    this.#labelSelector = options.labelSelector;
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#onChange = options.onChange;
  }

  /** Runs the list-watch until `signal` aborts. */
  async run(signal: AbortSignal, onError: (error: unknown) => void): Promise<void> {
    for await (
      const event of listWatch<T>(this.#client, this.#path, {
        signal,
        onError,
        ...(this.#labelSelector ? { labelSelector: this.#labelSelector } : {}),
        ...(this.#idleTimeoutMs === undefined ? {} : { idleTimeoutMs: this.#idleTimeoutMs }),
      })
    ) {
      if (event.type === "LIST") {
        const previous = new Map(this.#objects);
        this.#objects.clear();
        for (const item of event.items) this.#objects.set(keyOf(item), item);
        this.#markSynced();
        for (const item of event.items) this.#onChange(item, "LIST");
        for (const [key, gone] of previous) {
          if (!this.#objects.has(key)) this.#onChange(gone, "DELETED");
        }
      } else {
        if (event.type === "DELETED") this.#objects.delete(keyOf(event.object));
        else this.#objects.set(keyOf(event.object), event.object);
        this.#onChange(event.object, event.type);
      }
    }
  }

  /** The cached object, if any. */
  get(namespace: string, name: string): T | undefined {
    return this.#objects.get(`${namespace}/${name}`);
  }

  /** Cached objects of a namespace that match `filter`. */
  list(namespace: string, filter: (object: T) => boolean = () => true): T[] {
    return [...this.#objects.values()].filter((o) =>
      o.metadata?.namespace === namespace && filter(o)
    );
  }

  /** Every cached object. */
  all(): T[] {
    return [...this.#objects.values()];
  }
}

/** `namespace/name` of an object. */
export function keyOf(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}
