// gpg: reads the fingerprint of a repository signing key file (without importing it anywhere).
import { runTool } from "./run.js";

/** Primary-key fingerprints in an armored or binary key file. */
export async function keyFingerprints(keyFile: string): Promise<{ ok: boolean; fingerprints: string[] }> {
  const result = await runTool("gpg", "read the repository signing key", [
    "--batch",
    "--with-colons",
    "--import-options",
    "show-only",
    "--import",
    keyFile,
  ]);
  const fingerprints: string[] = [];
  let afterPub = false;
  for (const line of result.stdout.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === "pub") afterPub = true;
    else if (fields[0] === "fpr" && afterPub) {
      fingerprints.push(fields[9] ?? "");
      afterPub = false;
    } else if (fields[0] === "sub") afterPub = false;
  }
  return { ok: result.ok, fingerprints };
}
