// Kernel command line words: `name`, `name=value`, with double quotes grouping spaces
// (e.g. dm-mod.create="dm-verity,,,ro,0 8 verity ...").

export interface Param {
  name: string;
  /** undefined for a bare word. */
  value?: string;
}

export function parseCmdline(text: string): Param[] {
  const words: string[] = [];
  let word = "";
  let quoted = false;
  let inWord = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
      inWord = true;
    } else if (!quoted && /\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words.map((w) => {
    const eq = w.indexOf("=");
    return eq < 0 ? { name: w } : { name: w.slice(0, eq), value: w.slice(eq + 1) };
  });
}
