// Colour for people, never for programs: only when writing to a terminal, never when NO_COLOR
// is set to anything (no-color.org) or the terminal is "dumb".

export interface Stream {
  isTTY?: boolean;
}

export function colourEnabled(stream: Stream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

export interface Styles {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const sgr = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
const plain = (text: string) => text;

/** SGR styles when `enabled`, else functions that return their text unchanged. */
export function styles(enabled: boolean): Styles {
  if (!enabled) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };
  return {
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
  };
}

/** Styles for a stream, decided by colourEnabled(). */
export function stylesFor(stream: Stream, env: NodeJS.ProcessEnv = process.env): Styles {
  return styles(colourEnabled(stream, env));
}
