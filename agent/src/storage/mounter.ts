// The mount(2)/umount2(2) calls storage makes, behind an interface so that unit tests can record
// the arguments drivers build (9p and virtio-fs cannot be mounted on a test host).
import { native } from "../native/index.js";
import { MS } from "./mount-options.js";
import { isMountPoint } from "./mountinfo.js";

export interface MountCall {
  source: string;
  target: string;
  fstype: string;
  flags: number;
  data: string;
}

export interface Mounter {
  mount(call: MountCall): Promise<void>;
  /** umount2(target, flags). */
  unmount(target: string, flags: number): Promise<void>;
  isMountPoint(path: string): Promise<boolean>;
}

/** MNT_DETACH and UMOUNT_NOFOLLOW (Linux ABI). */
export const MNT_DETACH = 0x2;
export const UMOUNT_NOFOLLOW = 0x8;

/** The real thing, through the N-API addon. */
export const kernelMounter: Mounter = {
  async mount({ source, target, fstype, flags, data }) {
    native().mount(source, target, fstype, flags, data);
  },
  async unmount(target, flags) {
    native().umount(target, flags);
  },
  isMountPoint,
};

/**
 * Mounts, then applies what needs calls of its own: read-only for bind mounts (the kernel
 * ignores MS_RDONLY on the first bind call) and a propagation change.
 */
export async function mountWithFollowUps(
  mounter: Mounter,
  call: MountCall,
  propagation: number,
): Promise<void> {
  await mounter.mount(call);
  if (call.flags & MS.BIND && call.flags & MS.RDONLY && !(call.flags & MS.REMOUNT)) {
    await mounter.mount({
      source: "",
      target: call.target,
      fstype: "",
      flags: call.flags | MS.REMOUNT,
      data: "",
    });
  }
  if (propagation)
    await mounter.mount({ source: "", target: call.target, fstype: "", flags: propagation, data: "" });
}
