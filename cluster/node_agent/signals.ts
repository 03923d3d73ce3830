/**
 * Linux signal numbers, for exit codes as a kubelet reports them (128 + signal).
 *
 * @module
 */

const numbers: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGSYS: 31,
};

/** The number of `signal` on Linux x86_64 and arm64 (1 for one not listed). */
export function signalNumber(signal: Deno.Signal): number {
  return numbers[signal] ?? 1;
}
