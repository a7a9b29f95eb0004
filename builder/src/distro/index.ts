// The registry of distribution strategies.
import { azurelinux } from "./azurelinux.js";
import { debian } from "./debian.js";
import type { Distro } from "./types.js";

export const distros: Record<string, Distro> = { azurelinux, debian };
export const distroNames = Object.keys(distros);
