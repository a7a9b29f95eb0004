// The interface every distribution strategy implements (mkosi's distribution modules, in
// miniature): where packages come from, how they are installed into a root, and how the
// installed set is listed afterwards.
import type { InstalledPackage } from "../formats/spdx.js";
import type { Progress } from "../util/progress.js";

export type InitMode = "systemd" | "agent";

export interface DistroOptions {
  /** The rootfs/ data directory. */
  data: string;
  /** Target root directory (empty). */
  root: string;
  /** Scratch directory for configuration files. */
  work: string;
  /** Shared package cache for this distribution. */
  cache: string;
  /** A local directory or URL that replaces the official repositories. */
  mirror?: string;
  /** Signing key file (Azure Linux). */
  gpgKey?: string;
  /** Whether repository metadata signatures are checked (Azure Linux). */
  repoGpgcheck: boolean;
  /** mmdebstrap variant (Debian). */
  variant?: string;
  /** SOURCE_DATE_EPOCH of the build, handed to the package manager's scripts. */
  epoch: number;
  /** Refresh package metadata now and install afresh (no reuse of a cached base tree). */
  refresh: boolean;
  signal?: AbortSignal;
  progress: Progress;
}

/** What a strategy records about the sources it used (goes into the manifest). */
export interface SourcesRecord {
  manager: string;
  release: string;
  repositories: Array<{ id: string; url: string }>;
  gpg?: { keyFile: string; fingerprints: string[] };
}

/** What an install records in the manifest (how the packages got there). */
export interface InstallRecord {
  [field: string]: unknown;
}

export interface Distro {
  readonly name: string;
  /** Checks that the repositories answer and writes the package manager's configuration. */
  setup(options: DistroOptions): Promise<SourcesRecord>;
  /** Installs `packages` into `options.root`. */
  install(options: DistroOptions, packages: readonly string[]): Promise<InstallRecord | undefined>;
  /** Lists the packages installed in `root` (read from its package database). */
  installedPackages(root: string): Promise<InstalledPackage[]>;
  /** The paths (inside the root) the named packages installed, from its package database. */
  packageFiles(root: string, packages: readonly string[]): Promise<string[]>;
  /** Package database and package-manager state, relative to the root, removed unless kept. */
  readonly packageDbPaths: readonly string[];
}
