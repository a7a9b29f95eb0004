// Every test file gets a scratch TMPDIR of its own, removed when the file is done: a suite that
// makes images and initrds must not leave gigabytes in /tmp (see scratch.ts).
import { afterAll } from "vitest";
import { useScratchTmpdir } from "./scratch.js";

const scratch = useScratchTmpdir("kata-test-");
afterAll(() => scratch.remove());
