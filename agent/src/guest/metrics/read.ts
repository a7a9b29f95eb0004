// Reads a procfs file for a scrape; a failure is noted and the scrape goes on without it.
import { readFile } from "node:fs/promises";

export async function readText(path: string, problems: string[]): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    problems.push(`${path}: ${(err as Error).message}`);
    return undefined;
  }
}
