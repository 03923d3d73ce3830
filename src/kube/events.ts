/**
 * Records core/v1 Events about an object, the way `kubectl describe` shows them.
 *
 * @module
 */
import type { RestClient } from "./client.ts";

/** The object an Event is about. */
export interface EventSubject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

/** One Event to record. */
export interface EventRecord {
  readonly type: "Normal" | "Warning";
  /** CamelCase, machine-readable, e.g. `Started`, `MasterChanged`. */
  readonly reason: string;
  /** Sentence for people; never secrets. */
  readonly message: string;
}

/**
 * Creates an Event; failures are returned, not thrown, because a lost Event
 * must never stop the work it describes.
 */
export async function recordEvent(
  client: RestClient,
  component: string,
  subject: EventSubject,
  event: EventRecord,
  now = new Date(),
): Promise<unknown | undefined> {
  const timestamp = now.toISOString();
  try {
    await client.request({
      method: "POST",
      path: `/api/v1/namespaces/${subject.namespace}/events`,
      body: {
        apiVersion: "v1",
        kind: "Event",
        metadata: { generateName: `${subject.name}.`, namespace: subject.namespace },
        involvedObject: {
          apiVersion: subject.apiVersion,
          kind: subject.kind,
          namespace: subject.namespace,
          name: subject.name,
          ...(subject.uid ? { uid: subject.uid } : {}),
        },
        type: event.type,
        reason: event.reason,
        message: event.message,
        source: { component },
        reportingComponent: component,
        reportingInstance: Deno.hostname(),
        firstTimestamp: timestamp,
        lastTimestamp: timestamp,
        count: 1,
      },
    });
    return undefined;
  } catch (error) {
    return error;
  }
}
