// execa, loaded on first use. Parsing execa and the Node modules it pulls in is a large share
// of the agent's start-up (seconds under TCG emulation), and nothing needs it before the first
// RPC that runs a program; Health.Check must not wait for it.
import type { Options, ResultPromise } from "execa";

let loading: Promise<typeof import("execa")> | undefined;

const load = () => {
  loading ??= import("execa");
  return loading;
};

/** Runs a program to completion, as execa(file, args, options) does. */
export async function execa<const O extends Options>(file: string, args: readonly string[], options: O) {
  const { execa: run } = await load();
  return run(file, args, options);
}

/** Starts a program and hands back execa's subprocess (for its pid), wrapped so it is not awaited. */
export async function spawn<const O extends Options>(
  file: string,
  args: readonly string[],
  options: O,
): Promise<{ subprocess: ResultPromise<{} & O> }> {
  const { execa: run } = await load();
  return { subprocess: run(file, args, options) };
}
