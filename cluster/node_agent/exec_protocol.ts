/**
 * The Kubernetes remote-command channel protocol over WebSocket
 * (`v5.channel.k8s.io`), as kubectl exec speaks it: every binary message is a
 * channel byte followed by its payload. Pure.
 *
 * @module
 */

/** Channel numbers (k8s.io/apimachinery/pkg/util/remotecommand). */
export const channel = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  /** The final status, as a JSON metav1.Status. */
  error: 3,
  /** Terminal size changes, JSON `{"Width":W,"Height":H}`. */
  resize: 4,
  /** v5: `[255, n]` closes channel n (kubectl's stdin at EOF). */
  close: 255,
} as const;

/** What an exec request asks for. */
export interface ExecOptions {
  readonly command: string[];
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

/**
 * Reads the exec query (`command` repeated, `input`, `output`, `error`, `tty`
 * as `1`/`true`); a message when the request cannot be served. A TTY has no
 * separate stderr, as on a kubelet.
 */
export function execOptions(query: URLSearchParams): ExecOptions | string {
  const flag = (name: string) => ["1", "true"].includes(query.get(name) ?? "");
  const command = query.getAll("command");
  if (command.length === 0) return "missing command";
  const tty = flag("tty");
  const options = {
    command,
    stdin: flag("input"),
    stdout: flag("output"),
    stderr: flag("error") && !tty,
    tty,
  };
  if (!options.stdin && !options.stdout && !flag("error")) {
    return "you must specify at least 1 of stdin, stdout, stderr";
  }
  return options;
}

/** The channel of the first (empty) message, which tells the client the streams are open. */
export function streamsOpenedFirst(options: ExecOptions): number {
  return options.stdout ? channel.stdout : options.stderr ? channel.stderr : channel.error;
}

/** One message: the channel byte, then the payload. */
export function frame(id: number, payload: Uint8Array): Uint8Array {
  const message = new Uint8Array(payload.length + 1);
  message[0] = id;
  message.set(payload, 1);
  return message;
}

/**
 * The status sent on the error channel when the command has ended; kubectl
 * exits with the code it carries.
 */
export function execStatus(exitCode: number): Record<string, unknown> {
  if (exitCode === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: exit status ${exitCode}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(exitCode) }] },
  };
}
