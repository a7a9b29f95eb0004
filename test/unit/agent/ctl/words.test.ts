import { describe, expect, it } from "vitest";
import { parseGlobals, timingSummary } from "../../../../agent/src/ctl/main.js";
import { splitWords } from "../../../../agent/src/ctl/words.js";

describe("a ctl line split into words", () => {
  it("splits as a shell splits a simple command, with no expansion", () => {
    expect(splitWords("  Check   --service x ")).toEqual(["Check", "--service", "x"]);
    expect(splitWords(`run --container-id c1 -- sh -c 'echo "hi there"; exit 3'`)).toEqual([
      "run",
      "--container-id",
      "c1",
      "--",
      "sh",
      "-c",
      'echo "hi there"; exit 3',
    ]);
    expect(splitWords(`WriteStdin --data "a \\"quoted\\" \\$HOME"`)).toEqual([
      "WriteStdin",
      "--data",
      'a "quoted" $HOME',
    ]);
    expect(splitWords("echo a\\ b ''")).toEqual(["echo", "a b", ""]);
    expect(splitWords("Check # the health")).toEqual(["Check"]);
    expect(splitWords("# only a comment")).toEqual([]);
    expect(splitWords("x#y")).toEqual(["x#y"]);
  });

  it("refuses an unterminated quote", () => {
    expect(() => splitWords("echo 'open")).toThrow(/unterminated ' quote/);
    expect(() => splitWords('echo "open')).toThrow(/unterminated " quote/);
  });
});

describe("the ctl's own options", () => {
  it("takes options before the command, and the connection's anywhere before --", () => {
    const g = parseGlobals([
      "-q",
      "--repeat=3",
      "-c",
      "Check",
      "CreateContainer",
      "--container-id",
      "c1",
      "--addr",
      "unix:///a.sock",
      "--raw",
    ]);
    expect(g).toMatchObject({ quiet: true, repeat: 3, lines: ["Check"], addr: "unix:///a.sock" });
    // --raw after the command is the command's own (per-call) flag.
    expect(g.command).toEqual(["CreateContainer", "--container-id", "c1", "--raw"]);
    const run = parseGlobals(["run", "-i", "--container-id", "c", "--", "sh", "--addr", "x"]);
    expect(run.interactive).toBe(false);
    expect(run.addr).toBeUndefined();
    expect(run.command).toEqual(["run", "-i", "--container-id", "c", "--", "sh", "--addr", "x"]);
  });

  it("suggests the option meant and refuses a bad count", () => {
    expect(() => parseGlobals(["--repaet", "3", "Check"])).toThrow(
      "unknown option '--repaet' (did you mean '--repeat'?)",
    );
    expect(() => parseGlobals(["--repeat", "0", "Check"])).toThrow("--repeat takes a count, not '0'");
    expect(() => parseGlobals(["--addr"])).toThrow("--addr needs a value");
  });

  it("summarises repeated runs", () => {
    expect(timingSummary([1, 2, 3, 4], 1)).toBe(
      "4 runs in 0.01 s: mean 2.50 ms, p50 3.00 ms, p99 4.00 ms, max 4.00 ms\n",
    );
  });
});
