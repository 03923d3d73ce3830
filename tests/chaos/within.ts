/**
 * A wait that names itself when it hangs.
 *
 * @module
 */

/**
 * Awaits `promise`; if it takes longer than `ms`, runs `onTimeout` and fails
 * with `what`, so a hang says which wait it was.
 */
export async function within<T>(
  what: string,
  ms: number,
  promise: Promise<T>,
  onTimeout = () => {},
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          onTimeout();
          reject(new Error(`${what}: no end after ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
