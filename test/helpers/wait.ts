/**
 * Waiting in tests. Wait for the event or state itself (`waitFor`, `TestClient.next`, an 'exit'
 * event); a deadline only bounds how long a failure takes to show, so it is generous for a loaded
 * 2-core CI machine and never shortens a passing run.
 */

/** Poll until `check` returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  if (await check()) return;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * A short "nothing else arrived" window, for assertions of absence (no second copy, nothing
 * outside the target room). It can only catch what arrives late within it, so a pass never
 * depends on its length; never use it to wait for something to happen.
 */
export const quietWindow = (ms = 300): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `promise`, or a failure naming `what` after `timeoutMs` (node:test has no default timeout). */
export function withDeadline<T>(promise: Promise<T>, what: string, timeoutMs = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
