/**
 * The kubelet API of the node agent, on port 10250 with a serving certificate
 * from the cluster CA: what kube-apiserver calls for `kubectl logs` and
 * `kubectl exec`.
 *
 * - `GET /containerLogs/{namespace}/{pod}/{container}` with `follow`,
 *   `previous`, `tailLines` and `limitBytes`, as plain text.
 * - `/exec/{namespace}/{pod}/{container}?command=...` over WebSocket with the
 *   `v5.channel.k8s.io` subprotocol (and v4).
 * - `/portForward/{namespace}/{pod}` over WebSocket with
 *   `SPDY/3.1+portforward.k8s.io`: SPDY frames tunnelled in WebSocket messages.
 *
 * The Node declares `ExtendWebSocketsToKubelet`, so kube-apiserver v1.37 passes
 * kubectl's WebSockets through as they are instead of translating exec to SPDY
 * or unwrapping port-forward into a raw SPDY upgrade; the agent serves only the
 * WebSocket forms.
 *
 * It does not authenticate callers by certificate; it answers only connections
 * from the node's own address, which is where kube-apiserver (in the cluster
 * namespace) comes from, and refuses pods with 403.
 *
 * @module
 */
import { enterContainerArgs, type RunningContainer, untilInOwnRoot } from "./container_process.ts";
import { logSlice } from "./log_slice.ts";
import { PortForwardSession } from "./port_forward.ts";
import { signalNumber } from "./signals.ts";
import {
  channel,
  type ExecOptions,
  execOptions,
  execStatus,
  frame,
  streamsOpenedFirst,
} from "./exec_protocol.ts";

/** What the server needs to know of one pod. */
export interface PodHandle {
  hasContainer(name: string): boolean;
  containerLog(
    name: string,
    previous: boolean,
  ): { path: string; running: () => boolean } | undefined;
  runningContainer(name: string): RunningContainer | undefined;
  readonly podIP: string | undefined;
}

/** Finds the pod a request names. */
export type PodFinder = (namespace: string, name: string) => PodHandle | undefined;

/** Where the server listens and with which certificate. */
export interface KubeletServerOptions {
  readonly hostname: string;
  readonly port: number;
  /** The only address a request may come from: the API server's. */
  readonly apiServerAddress: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly signal: AbortSignal;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
}

const ptyHelper = new URL("./pty_exec.py", import.meta.url).pathname;
const followPollMs = 200;

/** Serves the kubelet API until `options.signal` aborts. */
export function serveKubeletApi(findPod: PodFinder, options: KubeletServerOptions): void {
  Deno.serve({
    hostname: options.hostname,
    port: options.port,
    cert: Deno.readTextFileSync(options.certFile),
    key: Deno.readTextFileSync(options.keyFile),
    signal: options.signal,
    onListen: () => {},
  }, (request, info) => {
    // Only the API server may call (a kubelet checks its client certificate; its address
    // does here): pods reach the node's address too, and would exec into any pod unchecked.
    if (info.remoteAddr.hostname !== options.apiServerAddress) {
      return text(403, "the kubelet API answers the API server only");
    }
    return route(request, findPod, options);
  });
}

async function route(
  request: Request,
  findPod: PodFinder,
  options: KubeletServerOptions,
): Promise<Response> {
  const url = new URL(request.url);
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === "healthz") return text(200, "ok");
    if (parts[0] === "containerLogs" && parts.length === 4) {
      return await serveLogs(findPod, parts[1]!, parts[2]!, parts[3]!, url.searchParams, request);
    }
    if (parts[0] === "exec" && (parts.length === 4 || parts.length === 5)) {
      // `/exec/{ns}/{pod}/{container}` or with the pod UID before the container.
      return await serveExec(
        findPod,
        parts[1]!,
        parts[2]!,
        parts.at(-1)!,
        url.searchParams,
        request,
        options.log,
      );
    }
    if (parts[0] === "portForward" && (parts.length === 3 || parts.length === 4)) {
      return servePortForward(findPod, parts[1]!, parts[2]!, request, options.log);
    }
    return text(404, `${url.pathname} is not served by the local node agent`);
  } catch (error) {
    options.log("kubelet API request failed", { path: url.pathname, error: String(error) });
    return text(500, String(error));
  }
}

async function serveLogs(
  findPod: PodFinder,
  namespace: string,
  podName: string,
  container: string,
  query: URLSearchParams,
  request: Request,
): Promise<Response> {
  const pod = findPod(namespace, podName);
  if (!pod) return text(404, `pod "${podName}" does not exist`);
  if (!pod.hasContainer(container)) {
    return text(404, `container "${container}" not found in pod "${podName}"`);
  }
  const previous = query.get("previous") === "true";
  const log = pod.containerLog(container, previous);
  if (!log) {
    return text(
      400,
      previous
        ? `previous terminated container "${container}" in pod "${podName}" not found`
        : `container "${container}" in pod "${podName}" is waiting to start`,
    );
  }
  const tailLines = numberParam(query, "tailLines") ?? numberParam(query, "tail");
  const limitBytes = numberParam(query, "limitBytes");
  const content = await Deno.readFile(log.path).catch(() => new Uint8Array());
  const first = logSlice(content, { tailLines, limitBytes });
  if (query.get("follow") !== "true") return new Response(first.slice(), { headers: plain });
  let offset = content.length;
  let sent = first.length;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(first);
    },
    // Follows the file as the instance writes it; ends when the instance has exited
    // and all it wrote is sent, when the limit is reached, or when the caller leaves.
    async pull(controller) {
      while (!request.signal.aborted) {
        const running = log.running();
        const now = await Deno.readFile(log.path).catch(() => new Uint8Array());
        if (now.length > offset) {
          let chunk = now.subarray(offset);
          offset = now.length;
          if (limitBytes !== undefined) chunk = chunk.subarray(0, Math.max(limitBytes - sent, 0));
          sent += chunk.length;
          if (chunk.length) controller.enqueue(chunk);
          if (limitBytes !== undefined && sent >= limitBytes) break;
          return;
        }
        if (!running) break;
        await new Promise((resolve) => setTimeout(resolve, followPollMs));
      }
      controller.close();
    },
  });
  return new Response(stream, { headers: plain });
}

async function serveExec(
  findPod: PodFinder,
  namespace: string,
  podName: string,
  containerName: string,
  query: URLSearchParams,
  request: Request,
  log: KubeletServerOptions["log"],
): Promise<Response> {
  const pod = findPod(namespace, podName);
  if (!pod) return text(404, `pod "${podName}" does not exist`);
  if (!pod.hasContainer(containerName)) {
    return text(404, `container "${containerName}" not found in pod "${podName}"`);
  }
  const options = execOptions(query);
  if (typeof options === "string") return text(400, options);
  const container = pod.runningContainer(containerName);
  if (!container) return text(400, `container "${containerName}" is not running`);
  const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) =>
    p.trim()
  );
  const protocol = ["v5.channel.k8s.io", "v4.channel.k8s.io"].find((p) => offered.includes(p));
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket" || !protocol) {
    return text(
      400,
      "the local node agent serves exec over WebSocket (v5.channel.k8s.io) only, not SPDY",
    );
  }
  // Before the upgrade: the client's first frames (stdin) come as soon as it is open.
  try {
    await untilInOwnRoot(container.pid, 10_000);
  } catch (error) {
    return text(500, `container "${containerName}" is not ready for exec: ${error}`);
  }
  const { socket, response } = Deno.upgradeWebSocket(request, { protocol });
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    runExec(socket, container, options).catch((error) => {
      log("exec failed", { pod: podName, container: containerName, error: String(error) });
      socket.close(1011);
    });
  };
  return response;
}

/** The tunnelled port-forward protocol: SPDY/3.1 frames inside WebSocket messages. */
const portForwardProtocol = "SPDY/3.1+portforward.k8s.io";

function servePortForward(
  findPod: PodFinder,
  namespace: string,
  podName: string,
  request: Request,
  log: KubeletServerOptions["log"],
): Response {
  const pod = findPod(namespace, podName);
  if (!pod?.podIP) return text(404, `pod "${podName}" does not exist or has no IP yet`);
  const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) =>
    p.trim()
  );
  if (
    request.headers.get("upgrade")?.toLowerCase() !== "websocket" ||
    !offered.includes(portForwardProtocol)
  ) {
    return text(
      400,
      `the local node agent serves port-forward over WebSocket (${portForwardProtocol}) only`,
    );
  }
  const { socket, response } = Deno.upgradeWebSocket(request, { protocol: portForwardProtocol });
  socket.binaryType = "arraybuffer";
  const session = new PortForwardSession(pod.podIP, (bytes) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(bytes);
  }, log);
  socket.onmessage = (event) => session.receive(new Uint8Array(event.data as ArrayBuffer));
  socket.onclose = () => session.close();
  socket.onerror = () => session.close();
  return response;
}

/** Runs the command for an open exec WebSocket and relays its streams. */
async function runExec(
  socket: WebSocket,
  container: RunningContainer,
  options: ExecOptions,
): Promise<void> {
  const inner = enterContainerArgs(container, options.command);
  const env = options.tty ? { TERM: "xterm", ...container.env } : container.env;
  const child = new Deno.Command(options.tty ? "python3" : "nsenter", {
    args: options.tty ? [ptyHelper, "nsenter", ...inner] : inner,
    clearEnv: true,
    env,
    stdin: options.stdin || options.tty ? "piped" : "null",
    stdout: options.stdout ? "piped" : "null",
    stderr: options.stderr && !options.tty ? "piped" : "null",
  }).spawn();
  // Deno throws on reading a stream that is not piped, so each is taken only when asked for.
  const stdin = options.stdin || options.tty ? child.stdin.getWriter() : undefined;
  // The client waits for the first message on the lowest channel it asked for.
  socket.send(frame(streamsOpenedFirst(options), new Uint8Array()));
  socket.onmessage = (event) => {
    const data = new Uint8Array(event.data as ArrayBuffer);
    if (!stdin || data.length === 0) return;
    const write = (kind: number, payload: Uint8Array) => {
      if (!options.tty) return stdin.write(payload);
      const header = new Uint8Array(5);
      header[0] = kind;
      new DataView(header.buffer).setUint32(1, payload.length);
      return stdin.write(new Uint8Array([...header, ...payload]));
    };
    if (data[0] === channel.stdin) write(0, data.subarray(1)).catch(() => {});
    else if (data[0] === channel.resize && options.tty) write(1, data.subarray(1)).catch(() => {});
    else if (data[0] === channel.close && data[1] === channel.stdin) {
      (options.tty ? write(2, new Uint8Array()) : stdin.close()).catch(() => {});
    }
  };
  socket.onclose = () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  };
  const relay = async (stream: ReadableStream<Uint8Array> | null, id: number) => {
    if (!stream) return;
    for await (const chunk of stream) {
      if (socket.readyState === WebSocket.OPEN) socket.send(frame(id, chunk));
    }
  };
  const [status] = await Promise.all([
    child.status,
    relay(options.stdout ? child.stdout : null, channel.stdout),
    relay(options.stderr && !options.tty ? child.stderr : null, channel.stderr),
  ]);
  if (socket.readyState !== WebSocket.OPEN) return;
  const code = status.signal ? 128 + signalNumber(status.signal) : status.code;
  socket.send(frame(channel.error, new TextEncoder().encode(JSON.stringify(execStatus(code)))));
  socket.close(1000);
}

const plain = { "content-type": "text/plain; charset=utf-8" };

function text(status: number, body: string): Response {
  return new Response(`${body}\n`, { status, headers: plain });
}

function numberParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === "" || value === "all") return undefined;
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed >= 0 ? parsed : undefined;
}
