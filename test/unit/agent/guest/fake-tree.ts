// Builds directory trees that imitate sysfs/procfs/cgroupfs for the guest manager's tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface FakeTree {
  root: string;
  /** Writes files (creating directories); a value of null makes an empty directory. */
  write(files: Record<string, string | null>): void;
  path(rel: string): string;
  remove(): void;
}

export function fakeTree(prefix = "kata-guest-fake-"): FakeTree {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const tree: FakeTree = {
    root,
    write(files) {
      for (const [rel, content] of Object.entries(files)) {
        const path = join(root, rel);
        if (content === null) {
          mkdirSync(path, { recursive: true });
        } else {
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, content);
        }
      }
    },
    path: (rel) => join(root, rel),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  return tree;
}
