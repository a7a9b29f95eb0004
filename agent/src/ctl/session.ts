// One connection to the agent shared by every command of a ctl run: a single RPC, the lines
// given with -c or in a script, an interactive session. Connected on first use.

import { UsageError } from "../cli/index.js";
import { type Address, type AgentClient, connect } from "../client/index.js";
import type { Io } from "./io.js";
import type { OutputMode } from "./render.js";

export interface SessionSettings {
  /** Where the agent is; a command needing it fails with a usage error when unset. */
  address?: Address;
  connectTimeoutMs: number;
  /** Deadline sent with each call unless a command gives its own (0: none). */
  timeoutMs: number;
  output: OutputMode;
  /** Print no replies (errors still go to stderr). */
  quiet: boolean;
  /** Whether commands may read the process's stdin (not while it carries the script). */
  stdinFree: boolean;
}

export class Session {
  private connecting: Promise<AgentClient> | undefined;

  constructor(
    readonly settings: SessionSettings,
    readonly io: Io,
  ) {}

  /** The connection, dialled on first use (with retries for connectTimeoutMs). */
  client(): Promise<AgentClient> {
    const address = this.settings.address;
    if (!address) {
      return Promise.reject(new UsageError("no agent address: pass --addr or set KATA_AGENT_ADDR"));
    }
    this.connecting ??= connect(address, { timeoutMs: this.settings.connectTimeoutMs });
    // A failed dial is not kept: the next command dials again.
    this.connecting.catch(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    const pending = this.connecting;
    this.connecting = undefined;
    (await pending?.catch(() => undefined))?.close();
  }
}
