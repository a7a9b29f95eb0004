// Checks that a package repository answers before a package manager is started against it,
// so an unreachable one is reported with its URL and the way out (--mirror).
import { access } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { BuildError } from "../util/errors.js";

/** Fetches `url` (or checks a file:// path); resolves to an error text, or undefined if fine. */
export async function probe(url: string, timeoutMs = 20_000): Promise<string | undefined> {
  if (url.startsWith("file://")) {
    try {
      await access(fileURLToPath(url));
      return undefined;
    } catch {
      return "no such file";
    }
  }
  try {
    const res = await fetch(url, {
      method: "GET",
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "follow",
    });
    await res.body?.cancel();
    return res.ok ? undefined : `HTTP ${res.status}`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? (err as Error).message;
  }
}

export async function requireReachable(what: string, url: string, hint: string): Promise<void> {
  const problem = await probe(url);
  if (problem) throw new BuildError(`${what} is unreachable: ${url} (${problem})`, hint);
}
