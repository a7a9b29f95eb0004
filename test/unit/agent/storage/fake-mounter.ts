// A Mounter that records calls instead of mounting, for drivers whose filesystems a test host
// cannot mount (9p, virtio-fs) and for reference-count bookkeeping.
import type { MountCall, Mounter } from "../../../../agent/src/storage/index.js";

export class RecordingMounter implements Mounter {
  readonly calls: MountCall[] = [];
  readonly unmounts: string[] = [];
  readonly mounted = new Set<string>();
  /** Make the next mount of this target fail with this errno code. */
  failNext: { target: string; code: string } | undefined;

  async mount(call: MountCall): Promise<void> {
    if (this.failNext && this.failNext.target === call.target) {
      const code = this.failNext.code;
      this.failNext = undefined;
      throw Object.assign(new Error(`mount: ${code} (test)`), { code, syscall: "mount" });
    }
    this.calls.push(call);
    this.mounted.add(call.target);
  }

  async unmount(target: string): Promise<void> {
    this.unmounts.push(target);
    this.mounted.delete(target);
  }

  async isMountPoint(path: string): Promise<boolean> {
    return this.mounted.has(path);
  }
}
