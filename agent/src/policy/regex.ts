// The policy's regular expressions, matched in time linear in the value. JavaScript's RegExp
// backtracks: a pattern such as (a+)+ takes seconds on a crafted 28-character exec_id, and the
// agent's one thread serves nothing meanwhile. re2js (RE2's engine, in plain JavaScript) runs an
// automaton instead and refuses what cannot be run that way (backreferences, lookaround) when
// the pattern is compiled, so such a pattern stops the policy from loading. The syntax is RE2's,
// as in upstream's Rego policies. (V8's own linear engine, RegExp's "l" flag, refuses the "u" and
// "i" flags and any count above 16, such as the [0-9a-f]{64} of a container id.)
//
// Loaded on first need, in a bundle chunk of its own: an agent whose policy has no regex, or no
// policy at all, never parses it.

type Engine = typeof import("re2js");

let engine: Engine | undefined;
let loading: Promise<Engine> | undefined;

/** Loads the engine; compileRegex may be called once this has resolved. */
export async function loadRegexEngine(): Promise<void> {
  loading ??= import("re2js");
  engine ??= await loading;
}

/** Whether a policy text may hold regex matchers (the engine is then loaded before parsing it). */
export function mentionsRegex(text: string): boolean {
  return text.includes("regex");
}

/** A test of whether the whole of a value matches `pattern`; throws RE2's reason for a bad one. */
export function compileRegex(pattern: string): (value: string) => boolean {
  if (!engine) throw new Error("the regular expression engine is not loaded yet (loadRegexEngine)");
  const re = engine.RE2JS.compile(pattern);
  return (value) => re.matches(value);
}
