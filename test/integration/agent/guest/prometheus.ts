// A strict reader of the Prometheus text format (0.0.4) for the tests: it fails on any line
// that is not a comment, HELP, TYPE or sample, on samples before their family's TYPE, and on
// repeated HELP/TYPE lines.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  help: string;
  type: string;
  samples: Sample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)/;

export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  text
    .slice(0, -1)
    .split("\n")
    .forEach((line, i) => {
      const at = `line ${i + 1} ${JSON.stringify(line)}`;
      const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (meta) {
        const [, kind, name = "", rest = ""] = meta;
        if (!new RegExp(`^${NAME}$`).test(name)) throw new Error(`${at}: bad metric name`);
        const family = families.get(name) ?? { help: "", type: "", samples: [] };
        families.set(name, family);
        if (kind === "HELP") {
          if (family.help) throw new Error(`${at}: second HELP`);
          family.help = rest;
        } else {
          if (family.type) throw new Error(`${at}: second TYPE`);
          if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest))
            throw new Error(`${at}: bad type`);
          family.type = rest;
        }
        return;
      }
      if (line.startsWith("#")) return;
      const sample = SAMPLE.exec(line);
      if (!sample) throw new Error(`${at}: not a sample`);
      const [, name = "", labelText = "", valueText = ""] = sample;
      const family = families.get(name);
      if (!family?.type) throw new Error(`${at}: sample before its family's TYPE`);
      const labels: Record<string, string> = {};
      let rest = labelText;
      while (rest !== "") {
        const label = LABEL.exec(rest);
        if (!label) throw new Error(`${at}: bad labels`);
        labels[label[1] as string] = (label[2] as string).replace(/\\(["\\n])/g, (_, c: string) =>
          c === "n" ? "\n" : c,
        );
        rest = rest.slice(label[0].length);
      }
      const value = valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : Number(valueText);
      if (valueText !== "NaN" && Number.isNaN(value)) throw new Error(`${at}: bad value`);
      family.samples.push({ name, labels, value });
    });
  return families;
}

/** The value of the one sample of `family` whose labels include `labels`. */
export function sampleValue(
  families: Map<string, Family>,
  family: string,
  labels: Record<string, string> = {},
): number {
  const matches = (families.get(family)?.samples ?? []).filter((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (matches.length !== 1)
    throw new Error(`${matches.length} samples of ${family} with ${JSON.stringify(labels)}`);
  return (matches[0] as Sample).value;
}
