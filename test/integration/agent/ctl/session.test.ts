// kata-agent-ctl for people: several commands over one connection (-c, a script, --repeat), the
// run/exec shortcuts, readable output on a terminal, the interactive mode with its history, and
// the command-line conventions (--version, --help everywhere, "did you mean", exit codes).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctlBundle, type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { busyboxRootfs } from "../../../helpers/oci.js";

let a: RunningAgent;
let rootfs: string;
beforeAll(async () => {
  a = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: "runc" } });
  rootfs = busyboxRootfs();
});
afterAll(async () => {
  await a.stop();
});

const ctl = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) =>
  execa(process.execPath, [ctlBundle, "--addr", a.address, ...args], {
    reject: false,
    stripFinalNewline: false,
    ...(options.input !== undefined ? { input: options.input } : { stdin: "ignore" }),
    env: { NO_COLOR: "", ...options.env },
  });

/** The ctl on a pseudo-terminal (util-linux `script`), as a person at a shell runs it. */
const onTerminal = (args: string[], env: Record<string, string> = {}, input = "") => {
  const command = [process.execPath, ctlBundle, "--addr", a.address, ...args]
    .map((w) => `'${w.replace(/'/g, "'\\''")}'`)
    .join(" ");
  return execa("script", ["-qec", command, "/dev/null"], {
    reject: false,
    stripFinalNewline: false,
    input,
    env: { TERM: "xterm", NO_COLOR: "", ...env },
  });
};

/** Connections the agent accepted so far, once its log has caught up (it arrives on a pipe). */
async function connections(): Promise<number> {
  const count = () => a.logs().filter((r) => r.msg === "connection accepted").length;
  for (let seen = count(); ; ) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    if (count() === seen) return seen;
    seen = count();
  }
}

describe("several commands over one connection", () => {
  it("runs the -c lines in order over one connection", async () => {
    const before = await connections();
    const r = await ctl([
      "-c",
      "Check",
      "-c",
      `run --container-id one --rootfs ${rootfs} -- sh -c 'echo from one'`,
      "-c",
      "Version",
    ]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\{\n {2}"status": "SERVING"\n\}\nfrom one\n\{\n {2}"grpc_version"/);
    expect((await connections()) - before).toBe(1);
  });

  it("runs a script (comments, quoting), stops at the first failure, or goes on with --keep-going", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ctl-script-"));
    const script = path.join(dir, "pod.ctl");
    writeFileSync(
      script,
      [
        "# a pod, step by step",
        `run --detach --container-id sleeper --rootfs ${rootfs} -- sleep 300`,
        "exec --container-id sleeper -e WHO=script -- sh -c 'echo \"hello $WHO\"'",
        "SignalProcess --container-id nope --signal 9   # fails: no such container",
        "exec --container-id sleeper -- echo not reached",
        "",
      ].join("\n"),
    );
    const stopped = await ctl(["-f", script]);
    expect(stopped.exitCode).toBe(1);
    expect(stopped.stdout).toBe("sleeper\nhello script\n");
    expect(stopped.stderr).toMatch(/SignalProcess failed: INVALID_ARGUMENT \(3\)/);
    const goingOn = await ctl(["--keep-going", "-f", "-"], {
      input: "SignalProcess --container-id nope --signal 9\nexec --container-id sleeper -- echo reached\n",
    });
    expect(goingOn.exitCode).toBe(1);
    expect(goingOn.stdout).toBe("reached\n");
    expect((await ctl(["RemoveContainer", "--container-id", "sleeper"])).exitCode).toBe(0);
  });

  it("repeats a call N times over one connection and prints the timings", async () => {
    const before = await connections();
    const r = await ctl(["--repeat", "50", "-q", "Check"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^50 runs in \d+\.\d\d s: mean [\d.]+ ms, p50 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms\n$/,
    );
    expect((await connections()) - before).toBe(1);
  });
});

describe("run and exec", () => {
  it("runs a container from a command line and exits with its status", async () => {
    const r = await ctl([
      "run",
      "--container-id",
      "r1",
      "--rootfs",
      rootfs,
      "-e",
      "GREETING=hi",
      "--cwd",
      "/tmp",
      "--",
      "sh",
      "-c",
      'echo "$GREETING from $(pwd)"; echo oops >&2; exit 7',
    ]);
    expect(r.stdout).toBe("hi from /tmp\n");
    expect(r.stderr).toBe("oops\n");
    expect(r.exitCode).toBe(7);
    // Removed afterwards: the id is free again.
    expect((await ctl(["run", "--container-id", "r1", "--rootfs", rootfs, "--", "true"])).exitCode).toBe(0);
  });

  it("sets capabilities and the user, and feeds stdin with -i", async () => {
    const caps = await ctl([
      "run",
      "--container-id",
      "caps",
      "--rootfs",
      rootfs,
      "--cap-drop",
      "ALL",
      "--cap",
      "NET_ADMIN",
      "--",
      "grep",
      "CapBnd",
      "/proc/self/status",
    ]);
    // CAP_NET_ADMIN is capability 12.
    expect(caps.stdout).toBe("CapBnd:\t0000000000001000\n");
    const user = await ctl([
      "run",
      "--container-id",
      "user",
      "--rootfs",
      rootfs,
      "-u",
      "1000:100",
      "--",
      "id",
    ]);
    expect(user.stdout).toMatch(/^uid=1000 gid=100/);
    const cat = await ctl(["run", "-i", "--container-id", "cat", "--rootfs", rootfs, "--", "cat"], {
      input: "through stdin\n",
    });
    expect(cat.stdout).toBe("through stdin\n");
    expect(cat.exitCode).toBe(0);
  });

  it("gives a terminal with -t, and execs into a detached container", async () => {
    const tty = await ctl([
      "run",
      "-t",
      "--container-id",
      "tty",
      "--rootfs",
      rootfs,
      "--",
      "sh",
      "-c",
      "tty; echo e >&2",
    ]);
    expect(tty.stdout).toBe("/dev/pts/0\r\ne\r\n");
    expect(tty.stderr).toBe("");
    expect(
      (await ctl(["run", "-d", "--container-id", "bg", "--rootfs", rootfs, "--", "sleep", "300"])).stdout,
    ).toBe("bg\n");
    const ps = await ctl(["exec", "--container-id", "bg", "--exec-id", "ps1", "--", "ps", "-o", "args"]);
    expect(ps.exitCode).toBe(0);
    expect(ps.stdout).toContain("sleep 300");
    expect(ps.stdout).toContain("ps -o args");
    expect((await ctl(["RemoveContainer", "--container-id", "bg"])).exitCode).toBe(0);
  });

  it("says what is missing", async () => {
    const noCommand = await ctl(["run", "--container-id", "x", "--rootfs", rootfs]);
    expect(noCommand.exitCode).toBe(2);
    expect(noCommand.stderr).toContain("run needs a command after --");
    const noRoot = await ctl(["run", "--container-id", "x", "--", "true"]);
    expect(noRoot.stderr).toContain("run needs --rootfs DIR");
    const typo = await ctl(["exec", "--container-id", "x", "--evn", "A=b", "--", "true"]);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain("unknown option '--evn' (did you mean '--env'?)");
    const badUser = await ctl(["run", "--container-id", "x", "--rootfs", rootfs, "-u", "root", "--", "true"]);
    expect(badUser.exitCode).toBe(2);
    expect(badUser.stderr).toContain("must be UID or UID:GID");
  });
});

describe("readable output", () => {
  it("shows ReadStdout data as text on a terminal, JSON when piped, and --text/--raw on request", async () => {
    const start = [
      "run",
      "-d",
      "--container-id",
      "out",
      "--rootfs",
      rootfs,
      "--",
      "sh",
      "-c",
      "printf 'ab\\ncd\\nef\\ngh'; sleep 300",
    ];
    expect((await ctl(start)).exitCode).toBe(0);
    const read = ["ReadStdout", "--container-id", "out", "--exec-id", "out", "--len", "3"];
    const piped = await ctl(read);
    expect(JSON.parse(piped.stdout)).toEqual({ data: Buffer.from("ab\n").toString("base64") });
    // A terminal's line discipline shows the newline as \r\n.
    expect((await onTerminal(read)).stdout).toBe("cd\r\n");
    expect((await ctl([...read, "--raw"])).stdout).toBe("ef\n");
    // The last piece has no newline of its own: text output ends the line.
    expect((await ctl([...read, "--text"])).stdout).toBe("gh\n");
    expect((await ctl(["RemoveContainer", "--container-id", "out"])).exitCode).toBe(0);
  });

  it("colours errors only on a terminal, and never with NO_COLOR", async () => {
    const red = await onTerminal(["chek"]);
    expect(red.stdout).toContain("\x1b[31m");
    expect(red.stdout).toContain("did you mean 'Check'?");
    const plain = await onTerminal(["chek"], { NO_COLOR: "1" });
    expect(plain.stdout).not.toContain("\x1b[");
    expect((await ctl(["chek"])).stderr).not.toContain("\x1b[");
  });
});

describe("interactive mode", () => {
  it("runs each line, goes on after an error, and keeps the history", async () => {
    const history = path.join(mkdtempSync(path.join(tmpdir(), "ctl-history-")), "history");
    const env = { KATA_AGENT_CTL_HISTORY: history };
    const piped = await ctl(["-i"], {
      input: "Check\nchek\nrun --container-id i1 --rootfs " + rootfs + " -- echo inside\nquit\nCheck\n",
      env,
    });
    expect(piped.exitCode).toBe(0);
    expect(piped.stdout).toContain('"status": "SERVING"');
    expect(piped.stdout).toContain("inside\n");
    expect(piped.stderr).toContain("unknown RPC 'chek' (did you mean 'Check'?)");
    expect(readFileSync(history, "utf8")).toBe(
      `Check\nchek\nrun --container-id i1 --rootfs ${rootfs} -- echo inside\n`,
    );
    // On a terminal, the up arrow brings back the last command of the earlier session.
    const again = await onTerminal(["-i"], env, "\x1b[A\x1b[A\x1b[A\r\x04");
    expect(again.stdout).toContain("> Check");
    expect(again.stdout).toContain('"status": "SERVING"');
  });
});

describe("conventions", () => {
  it("prints its version, help for every command, and exits 2 on usage errors", async () => {
    const version = await ctl(["--version"]);
    expect(version.stdout).toMatch(/^kata-agent-ctl \d+\.\d+\.\d+ \(agent API 0\.0\.1, node v\d+/);
    for (const command of ["run", "exec", "list", "console", "bridge", "help", "Check", "create-container"]) {
      const help = await ctl([command, "--help"]);
      expect(help.exitCode, command).toBe(0);
      expect(help.stdout, command).toMatch(/^Usage: kata-agent-ctl /);
    }
    expect((await ctl(["-h"])).stdout).toContain("-c, --command LINE");
    const unknown = await ctl(["--verison", "Check"]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--verison' (did you mean '--version'?)");
    const field = await ctl(["SignalProcess", "--container-id", "c", "--singal", "9"]);
    expect(field.exitCode).toBe(2);
    expect(field.stderr).toContain("SignalProcess has no field '--singal' (did you mean '--signal'?)");
    const alone = await ctl(["-c", "Check", "console", "unix:///x"]);
    expect(alone.exitCode).toBe(2);
    expect(alone.stderr).toContain("'console' runs alone");
  });
});
