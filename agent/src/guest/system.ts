// The system calls GuestManager makes through the native addon, behind an interface so tests can
// run the manager's logic without changing this machine's clock or swap.
import { native } from "../native/index.js";

export interface GuestSystem {
  settimeofday(sec: number, usec: number): void;
  swapon(path: string, flags: number): void;
  /** Mixes bytes into the kernel's entropy pool, credits them and reseeds the CRNG. */
  addRandomEntropy(data: Uint8Array): void;
}

/** The real calls, loading the addon on first use. */
export const nativeSystem: GuestSystem = {
  settimeofday: (sec, usec) => native().settimeofday(sec, usec),
  swapon: (path, flags) => native().swapon(path, flags),
  addRandomEntropy: (data) => native().addRandomEntropy(data),
};
