// The Prometheus text exposition format (version 0.0.4), as the Kata runtime and its
// kata-monitor expect from GetMetrics: per family one "# HELP" and one "# TYPE" line, then its
// samples. Families without samples are left out, as the Prometheus client libraries do.

export type MetricType = "counter" | "gauge";
export type Labels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface Family {
  type: MetricType;
  help: string;
  samples: string[];
}

export class Exposition {
  private readonly families = new Map<string, Family>();

  /** Declares a family and returns a function that adds samples to it. */
  family(name: string, type: MetricType, help: string): (value: number, labels?: Labels) => void {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    if (this.families.has(name)) throw new Error(`metric family ${name} declared twice`);
    const family: Family = { type, help, samples: [] };
    this.families.set(name, family);
    return (value, labels) => {
      family.samples.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    };
  }

  toString(): string {
    const out: string[] = [];
    for (const [name, family] of this.families) {
      if (family.samples.length === 0) continue;
      out.push(
        `# HELP ${name} ${escapeHelp(family.help)}`,
        `# TYPE ${name} ${family.type}`,
        ...family.samples,
      );
    }
    return out.length === 0 ? "" : `${out.join("\n")}\n`;
  }
}

function formatLabels(labels: Labels | undefined): string {
  if (!labels) return "";
  const pairs = Object.entries(labels).map(([key, value]) => {
    if (!LABEL_NAME.test(key) || key.startsWith("__"))
      throw new Error(`invalid label name ${JSON.stringify(key)}`);
    return `${key}="${escapeLabelValue(value)}"`;
  });
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

/** Go-style float text: integers without exponent up to 2^53, "NaN", "+Inf", "-Inf". */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}
