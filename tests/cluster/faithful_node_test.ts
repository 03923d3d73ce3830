/**
 * The local node behaves as a kubelet node with kube-proxy and cluster DNS
 * would (issue 9): pods find Services by name, reach them (and their own) by
 * ClusterIP, get the kubelet's Service variables and files, run the official
 * redis image's defaults, restart with the kubelet's back-off, and answer
 * `kubectl exec` and `kubectl logs` through the API server.
 */
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { podDirName } from "../../cluster/node_agent/pod_record.ts";
import { pathExists } from "../../src/files/exists.ts";
import {
  clusterClient,
  fault,
  kubectl,
  kubectlStatus,
  layout,
  redisCli,
  testNamespace,
  waitFor,
  withPortForward,
} from "./helpers.ts";

const isReady = (p: Pod) =>
  p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

Deno.test("the local node as a kubelet, kube-proxy and cluster DNS make it", async (t) => {
  const client = await clusterClient();
  const ns = await testNamespace("node");
  const n = ns.name;
  const pod = (name: string) =>
    client.request<Pod>({ path: `/api/v1/namespaces/${n}/pods/${name}` });
  const ready = (name: string) =>
    waitFor(`pod ${name} Ready`, async () => {
      const p = await pod(name);
      return isReady(p) ? p : undefined;
    });
  const exec = (name: string, ...command: string[]) =>
    kubectl(["-n", n, "exec", name, "--", ...command]);
  const podGone = async (name: string) =>
    (await kubectl(["-n", n, "get", "pod", name, "--ignore-not-found"])).trim() === "";
  try {
    // A Service created before the pods, so the kubelet's variables name it.
    await kubectl(
      ["-n", n, "apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [
          {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "plain-redis" },
            spec: { selector: { app: "plain" }, ports: [{ name: "redis", port: 6379 }] },
          },
          {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "plain-headless" },
            spec: { clusterIP: "None", selector: { app: "plain" }, ports: [{ port: 6379 }] },
          },
          {
            // Two pods behind one headless name: it resolves to both.
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "both-headless" },
            spec: { clusterIP: "None", selector: { headless: "both" }, ports: [{ port: 6379 }] },
          },
          {
            // As a new user would write it: the official image, no config file, only --save "".
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "plain", labels: { app: "plain", headless: "both" } },
            spec: {
              hostname: "plain",
              subdomain: "plain-headless",
              containers: [{
                name: "redis",
                image: "redis:7.2",
                args: ["--save", ""],
                readinessProbe: { tcpSocket: { port: 6379 }, periodSeconds: 1 },
              }],
            },
          },
          {
            // The same for the valkey image, whose program keeps its own name here.
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "plain-valkey", labels: { headless: "both" } },
            spec: {
              containers: [{
                name: "valkey",
                image: "valkey/valkey:8.1",
                // Naming the program, as the image's documentation does.
                args: ["valkey-server", "--save", ""],
                readinessProbe: { tcpSocket: { port: 6379 }, periodSeconds: 1 },
              }],
            },
          },
          {
            // Over its memory limit: the kernel kills it, reported as a kubelet does.
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "hog" },
            spec: {
              restartPolicy: "Never",
              containers: [{
                name: "hog",
                image: "redis:7.2",
                command: ["python3", "-c", "import time; a = bytearray(256 << 20); time.sleep(60)"],
                resources: { limits: { memory: "32Mi", cpu: "500m" } },
              }],
            },
          },
          {
            // A postStart hook that fails: the container is killed and restarted.
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "bad-hook" },
            spec: {
              containers: [{
                name: "shell",
                image: "redis:7.2",
                command: ["sleep", "infinity"],
                lifecycle: {
                  postStart: { exec: { command: ["sh", "-c", "echo no >&2; exit 3"] } },
                },
              }],
            },
          },
          {
            // A preStop hook that runs past the grace period and leaves a process behind
            // that holds its output open, as a redis-cli waiting on a frozen server does.
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "stuck-hook" },
            spec: {
              terminationGracePeriodSeconds: 3,
              containers: [{
                name: "shell",
                image: "redis:7.2",
                command: ["sleep", "infinity"],
                lifecycle: {
                  preStop: {
                    exec: {
                      command: [
                        "sh",
                        "-c",
                        `sleep ${stuckHookSleep} & exec sleep ${stuckHookSleep}`,
                      ],
                    },
                  },
                },
              }],
            },
          },
          {
            // Its preStop hook shows when the agent is ending it; its final delete is refused.
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "delete-retry" },
            spec: {
              terminationGracePeriodSeconds: 10,
              containers: [{
                name: "shell",
                image: "redis:7.2",
                command: ["sleep", "infinity"],
                lifecycle: {
                  preStop: { exec: { command: ["sleep", deleteRetryHookSleep] } },
                },
              }],
            },
          },
          {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "client" },
            spec: {
              securityContext: { runAsUser: 1234, runAsGroup: 1234 },
              volumes: [{ name: "shared", emptyDir: {} }],
              containers: [{
                name: "shell",
                image: "redis:7.2",
                command: ["sh", "-c", "while true; do echo tick; sleep 0.3; done"],
                volumeMounts: [{ name: "shared", mountPath: "/shared" }],
                // Hooks run as the container's user, as exec probes do.
                lifecycle: {
                  postStart: { exec: { command: ["sh", "-c", "id -u > /shared/post-start-uid"] } },
                  preStop: {
                    exec: {
                      command: ["sh", "-c", 'redis-cli -h plain-redis set pre-stop-uid "$(id -u)"'],
                    },
                  },
                },
                // Ready only if the probe runs as the container's user, as on a kubelet.
                readinessProbe: {
                  exec: { command: ["sh", "-c", 'test "$(id -u)" = 1234'] },
                  periodSeconds: 1,
                },
              }],
            },
          },
        ],
      }),
    );
    const plain = await ready("plain");
    const plainValkey = await ready("plain-valkey");
    const client = await ready("client");

    await t.step("the redis image runs as uid 999 in /data with protected-mode off", async () => {
      assert.equal((await exec("plain", "id", "-u")).trim(), "999");
      assert.equal((await exec("plain", "pwd")).trim(), "/data");
      // From another pod: a real image accepts it; the host's default would answer DENIED.
      assert.equal(
        (await exec("client", "redis-cli", "-h", plain.status!.podIP!, "ping")).trim(),
        "PONG",
      );
      // Valkey's image too (Debian's valkey-server defaults to protected mode, as Redis').
      const valkey = plainValkey.status!.podIP!;
      assert.equal((await exec("plain-valkey", "id", "-u")).trim(), "999");
      assert.equal((await exec("client", "redis-cli", "-h", valkey, "ping")).trim(), "PONG");
      assert.match(
        await exec("client", "redis-cli", "-h", valkey, "info", "server"),
        /^server_name:valkey/m,
        "the Valkey build runs the valkey image",
      );
    });

    await t.step("names resolve through cluster DNS; outside names do not", async () => {
      const resolv = await exec("client", "cat", "/etc/resolv.conf");
      assert.match(
        resolv,
        new RegExp(
          `^search ${n}\\.svc\\.cluster\\.local svc\\.cluster\\.local cluster\\.local$`,
          "m",
        ),
      );
      assert.match(resolv, /^options ndots:5$/m);
      const service = await exec("client", "getent", "hosts", "plain-redis");
      assert.match(service, /^198\.19\.\d+\.\d+\s+plain-redis\./);
      const member = await exec("client", "getent", "hosts", "plain.plain-headless");
      assert.match(member, new RegExp(`^${plain.status!.podIP!.replaceAll(".", "\\.")}\\s`));
      const hosts = await exec("plain", "cat", "/etc/hosts");
      assert.match(
        hosts,
        new RegExp(`\\tplain\\.plain-headless\\.${n}\\.svc\\.cluster\\.local\\tplain$`, "m"),
      );
      const outside = await kubectlStatus([
        "-n",
        n,
        "exec",
        "client",
        "--",
        "getent",
        "hosts",
        "example.com",
      ]);
      assert.notEqual(outside.code, 0, "a name outside cluster.local does not resolve");
      // It is answered with an error, not left to time out (no forwarding at all).
      const query = [
        "import socket, struct",
        "server = [l.split()[1] for l in open('/etc/resolv.conf') if l.startswith('nameserver')][0]",
        "name = b''.join(bytes([len(p)]) + p.encode() for p in 'example.com.'.split('.'))",
        "packet = struct.pack('>HHHHHH', 4242, 0x0100, 1, 0, 0, 0) + name + struct.pack('>HH', 1, 1)",
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
        "s.settimeout(5)",
        "s.sendto(packet, (server, 53))",
        "reply = s.recv(512)",
        "print(struct.unpack('>HH', reply[:4])[1] & 0xF, struct.unpack('>H', reply[6:8])[0])",
      ].join("\n");
      const [rcode, answers] = (await exec("client", "python3", "-c", query)).trim().split(" ");
      assert.notEqual(rcode, "0", "an error answer (REFUSED, NXDOMAIN or SERVFAIL)");
      assert.equal(answers, "0");
      // A headless Service's own name gives every ready pod's address.
      const both = await exec("client", "getent", "ahostsv4", "both-headless");
      const ips = new Set(both.trim().split("\n").map((line) => line.split(/\s+/)[0]));
      assert.deepEqual(
        [...ips].sort(),
        [plain.status!.podIP!, plainValkey.status!.podIP!].sort(),
        both,
      );
    });

    await t.step("ClusterIPs work from pods, also a pod's own Service (hairpin)", async () => {
      assert.equal(
        (await exec("client", "redis-cli", "-h", "plain-redis", "set", "k", "v")).trim(),
        "OK",
      );
      assert.equal((await exec("plain", "redis-cli", "-h", "plain-redis", "get", "k")).trim(), "v");
    });

    await t.step("containers get the kubelet's Service variables", async () => {
      const env = await exec("client", "env");
      assert.match(env, /^KUBERNETES_SERVICE_HOST=198\.19\.0\.1$/m);
      assert.match(env, /^KUBERNETES_SERVICE_PORT=443$/m);
      assert.match(env, /^PLAIN_REDIS_SERVICE_HOST=198\.19\.\d+\.\d+$/m);
      assert.match(env, /^PLAIN_REDIS_SERVICE_PORT_REDIS=6379$/m);
      assert.match(env, /^PLAIN_REDIS_PORT_6379_TCP_PROTO=tcp$/m);
      assert.doesNotMatch(env, /^PLAIN_HEADLESS_SERVICE_HOST=/m);
    });

    await t.step("kubectl exec: output, stdin, exit codes and a TTY with its size", async () => {
      assert.equal(
        await kubectl(["-n", n, "exec", "-i", "plain", "--", "cat"], "hello\n"),
        "hello\n",
      );
      const failed = await kubectlStatus([
        "-n",
        n,
        "exec",
        "plain",
        "--",
        "sh",
        "-c",
        "echo oops >&2; exit 7",
      ]);
      assert.equal(failed.code, 7);
      assert.match(failed.stderr, /oops/);
      // script(1) gives kubectl a terminal of a known size, as a user's shell would.
      const tty = await new Deno.Command("script", {
        args: [
          "-qec",
          `stty cols 101 rows 31; kubectl -n ${n} exec -it plain -- sh -c 'tty; stty size'`,
          "/dev/null",
        ],
        stdin: "null",
        stdout: "piped",
        signal: AbortSignal.timeout(30_000),
      }).output();
      const text = new TextDecoder().decode(tty.stdout);
      assert.match(text, /\/dev\/pts\/\d+/);
      assert.match(text, /31 101/);
    });

    await t.step("pods cannot use the kubelet API; only the API server can", async () => {
      // The kubelet of the pod's own node, which it reaches directly.
      const kubelet = `https://${client.status!.hostIP}:10250/healthz`;
      const probe = [
        "import ssl, urllib.request, urllib.error",
        "context = ssl._create_unverified_context()",
        "try:",
        `    urllib.request.urlopen('${kubelet}', context=context, timeout=5)`,
        "    print('open')",
        "except urllib.error.HTTPError as error:",
        "    print(error.code)",
      ].join("\n");
      assert.equal((await exec("client", "python3", "-c", probe)).trim(), "403");
    });

    await t.step("kubectl port-forward reaches the pod's port", async () => {
      const reply = await withPortForward(n, "pod/plain", "16379:6379", async () => {
        const first = await redisCli("127.0.0.1", "-p", "16379", "set", "forwarded", "yes");
        const second = await redisCli("127.0.0.1", "-p", "16379", "get", "forwarded");
        return [first, second];
      });
      assert.deepEqual(reply, ["OK", "yes"]);
    });

    await t.step("kubectl logs: --tail, -c, -f", async () => {
      const tail = await kubectl(["-n", n, "logs", "client", "-c", "shell", "--tail=2"]);
      assert.deepEqual(tail.trimEnd().split("\n"), ["tick", "tick"]);
      const follow = new Deno.Command("kubectl", {
        args: ["-n", n, "logs", "-f", "client", "--tail=0"],
        stdout: "piped",
        stderr: "null",
        signal: AbortSignal.timeout(2500),
      }).spawn();
      const output = await follow.output().catch(() => undefined);
      const followed = new TextDecoder().decode(output?.stdout ?? new Uint8Array());
      assert.ok(
        followed.split("\n").filter((l) => l === "tick").length >= 3,
        `logs -f follows new lines: ${JSON.stringify(followed)}`,
      );
    });

    await t.step(
      "a killed container restarts at once, then in CrashLoopBackOff; --previous shows the last one",
      async () => {
        const restarted = async (count: number) =>
          await waitFor(`restartCount ${count}`, async () => {
            const p = await pod("plain");
            return p.status?.containerStatuses?.[0]?.restartCount === count ? p : undefined;
          }, 30_000);
        await fault("kill", n, "plain");
        const first = await restarted(1);
        assert.equal(first.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 137);
        await ready("plain");
        const previous = await kubectl(["-n", n, "logs", "plain", "--previous"]);
        assert.match(previous, /Ready to accept connections/);
        await fault("kill", n, "plain");
        const waiting = await waitFor("CrashLoopBackOff", async () => {
          const state = (await pod("plain")).status?.containerStatuses?.[0]?.state;
          return state?.waiting?.reason === "CrashLoopBackOff" ? state.waiting : undefined;
        }, 10_000);
        assert.match(
          waiting.message ?? "",
          /^back-off 10s restarting failed container=redis pod=plain_/,
        );
        await restarted(2);
      },
    );

    await t.step("a container over its memory limit is OOMKilled", async () => {
      const terminated = await waitFor("hog terminated", async () => {
        const state = (await pod("hog")).status?.containerStatuses?.[0]?.state;
        return state?.terminated;
      }, 60_000);
      assert.equal(terminated.reason, "OOMKilled");
      assert.equal(terminated.exitCode, 137);
      assert.equal((await pod("hog")).status?.phase, "Failed");
    });

    await t.step(
      "lifecycle hooks run as the container's user; a failed postStart kills the container",
      async () => {
        assert.equal((await exec("client", "cat", "/shared/post-start-uid")).trim(), "1234");
        await waitFor("bad-hook restarted after its postStart failed", async () => {
          const p = await pod("bad-hook");
          return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
        }, 30_000);
        const events = await kubectl([
          "-n",
          n,
          "get",
          "events",
          "--field-selector",
          "involvedObject.name=bad-hook,reason=FailedPostStartHook",
          "-o",
          "jsonpath={.items[*].message}",
        ]);
        assert.match(events, /PostStartHook failed for shell: no/);
        // The preStop hook reports its user to the plain pod before the client goes.
        await ready("plain");
        await kubectl(["-n", n, "delete", "pod", "client", "--wait=true"]);
        assert.equal(
          (await redisCli(plain.status!.podIP!, "get", "pre-stop-uid")).trim(),
          "1234",
        );
      },
    );
    await t.step(
      "a preStop hook past the grace period neither keeps its pod nor leaves processes",
      async () => {
        await ready("stuck-hook");
        await kubectl(["-n", n, "delete", "pod", "stuck-hook", "--wait=false"]);
        // Grace 3 s, 2 s more for SIGTERM as a kubelet gives after a hook used the grace.
        await waitFor("stuck-hook deleted", async () => {
          return await podGone("stuck-hook") || undefined;
        }, 30_000);
        const leftovers = await new Deno.Command("pgrep", {
          args: ["-f", `^sleep ${stuckHookSleep}$`],
          stdout: "piped",
        }).output();
        assert.equal(
          new TextDecoder().decode(leftovers.stdout),
          "",
          "the hook's processes are gone",
        );
      },
    );
    await t.step(
      "a pod's final delete that the API server refuses is sent again until the pod is gone",
      async () => {
        await ready("delete-retry");
        // The API server refuses the agent's last delete (the one of a pod already
        // terminating) while the policy binding lasts, as a frozen API server or etcd times
        // it out (CI: a pod left Terminating for good after the control-plane tests).
        try {
          await kubectl(["apply", "-f", "-"], JSON.stringify(refuseFinalDelete(n)));
          try {
            await new Promise((r) => setTimeout(r, 2000)); // the policy takes effect
            await kubectl(["-n", n, "delete", "pod", "delete-retry", "--wait=false"]);
            const hookRuns = () =>
              new Deno.Command("pgrep", { args: ["-f", `^sleep ${deleteRetryHookSleep}$`] })
                .output().then((o) => o.success);
            await waitFor(
              "the delete-retry preStop hook running",
              async () => await hookRuns() || undefined,
              10_000,
            );
            await waitFor(
              "the delete-retry preStop hook over",
              async () => !await hookRuns() || undefined,
              10_000,
            );
            await new Promise((r) => setTimeout(r, 3000));
            assert.equal(
              await podGone("delete-retry"),
              false,
              "the refused delete left the pod (the policy works)",
            );
          } finally {
            await kubectl([
              "delete",
              "validatingadmissionpolicybinding",
              refusalName(n),
              "--ignore-not-found",
            ]);
          }
          await waitFor(
            "delete-retry deleted",
            async () => await podGone("delete-retry") || undefined,
            30_000,
          );
        } finally {
          await kubectl([
            "delete",
            "validatingadmissionpolicy",
            refusalName(n),
            "--ignore-not-found",
          ]);
        }
      },
    );
    await t.step(
      "a pod deleted at once and created again under its name leaves no sandbox behind",
      async () => {
        // It ignores SIGTERM, so its process ends 2 s after the delete, when the new pod of
        // its name exists: the old worker's last status patch is refused (422, another uid).
        const reborn = JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "reborn" },
          spec: {
            containers: [{
              name: "shell",
              image: "redis:7.2",
              command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done"],
            }],
          },
        });
        await kubectl(["-n", n, "apply", "-f", "-"], reborn);
        const first = await ready("reborn");
        const firstDir = `${layout.stateDir}/nodes/${first.spec!.nodeName}/pods/${
          podDirName(n, "reborn", first.metadata!.uid!)
        }`;
        assert.equal(await pathExists(firstDir), true, "the first pod's folder exists");
        await kubectl(["-n", n, "delete", "pod", "reborn", "--grace-period=0", "--force"]);
        await kubectl(["-n", n, "apply", "-f", "-"], reborn);
        await waitFor(
          "the first reborn pod's sandbox removed",
          async () => !await pathExists(firstDir) || undefined,
          20_000,
        );
        await ready("reborn");
      },
    );
  } finally {
    await ns.remove();
    client.close();
  }
});

/** The stuck preStop hook's sleep, a number no other process on the machine sleeps. */
const stuckHookSleep = 597;

/** The delete-retry pod's preStop hook sleeps this long (s), a number nothing else sleeps. */
const deleteRetryHookSleep = "2.5";

/** The admission policy and binding of {@linkcode refuseFinalDelete} in namespace `n`. */
const refusalName = (n: string) => `${n}-refuse-final-delete`;

/**
 * A ValidatingAdmissionPolicy that refuses every delete of the delete-retry pod in
 * `namespace` once it is terminating: `kubectl delete` passes, the node agent's final
 * delete (grace 0) does not.
 */
function refuseFinalDelete(namespace: string) {
  const name = refusalName(namespace);
  return {
    apiVersion: "v1",
    kind: "List",
    items: [{
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          resourceRules: [{
            apiGroups: [""],
            apiVersions: ["v1"],
            operations: ["DELETE"],
            resources: ["pods"],
          }],
        },
        validations: [{
          expression:
            "!(oldObject.metadata.name == 'delete-retry' && has(oldObject.metadata.deletionTimestamp))",
          message: "the test refuses the final delete of delete-retry",
        }],
      },
    }, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name },
      spec: {
        policyName: name,
        validationActions: ["Deny"],
        matchResources: {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
        },
      },
    }],
  };
}
