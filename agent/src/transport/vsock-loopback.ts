// Who may connect to a vsock listener. The guest kernel has vsock loopback (VSOCKETS_LOOPBACK), and
// the agent listens on every CID, so a process inside the VM, a container's included, could open
// the agent API (or the debug console, or the log port) over CID 1 or the guest's own CID. Those
// peers are refused unless loopback is explicitly allowed; the host (CID 2) and other CIDs pass.
// Refusals are logged, at most once a minute per listener, with the count since the last line.
import type { VsockPeer } from "../native/index.js";

/** VMADDR_CID_LOCAL: the loopback CID, whoever in this machine connects through loopback. */
export const VMADDR_CID_LOCAL = 1;

/** A peer on this very machine: the loopback CID, or our own CID. */
export function isLocalPeer(peerCid: number, localCid: number | undefined): boolean {
  return peerCid === VMADDR_CID_LOCAL || (localCid !== undefined && peerCid === localCid);
}

export interface LoopbackGuardOptions {
  /** Admit local peers too (`agent.allow_vsock_loopback`). */
  allow: boolean;
  /** This machine's CID, when it has one (IOCTL_VM_SOCKETS_GET_LOCAL_CID). */
  localCid: number | undefined;
  /** The listener, for the log line. */
  address: string;
  warn(message: string, fields: Record<string, unknown>): void;
  /** At most one refusal line per this many ms. Default 60 s. */
  intervalMs?: number;
  now?: () => number;
}

export class LoopbackGuard {
  private refusedSinceLog = 0;
  private lastLogAt: number | undefined;

  constructor(private readonly options: LoopbackGuardOptions) {}

  /** True when `peer` may use the listener; a refused peer is counted and logged (rate-limited). */
  admit(peer: VsockPeer): boolean {
    if (this.options.allow || !isLocalPeer(peer.cid, this.options.localCid)) return true;
    this.refusedSinceLog++;
    const now = (this.options.now ?? Date.now)();
    const interval = this.options.intervalMs ?? 60_000;
    if (this.lastLogAt === undefined || now - this.lastLogAt >= interval) {
      this.options.warn(
        "refused a vsock connection from inside this VM (vsock loopback); set agent.allow_vsock_loopback to allow it",
        {
          address: this.options.address,
          peer: `${peer.cid}:${peer.port}`,
          localCid: this.options.localCid,
          refused: this.refusedSinceLog,
        },
      );
      this.lastLogAt = now;
      this.refusedSinceLog = 0;
    }
    return false;
  }
}
