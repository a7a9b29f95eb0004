// Bench results: each figure next to the reference measured in the same run, as a ratio, and
// the goal the issue set for it.

export interface Figure {
  /** What was measured, e.g. "Health.Check p50 (20,000 sequential calls)". */
  name: string;
  unit: string;
  ours: number;
  /** The reference measured in the same run (Go ttrpc server, bare runc, bare node...). */
  reference?: { name: string; value: number };
  /** e.g. { max: 1.5, of: "ratio" } or { max: 150, of: "ours" }. */
  goal?: { of: "ratio" | "ours"; max?: number; min?: number };
  note?: string;
}

export interface Section {
  title: string;
  figures: Figure[];
}

export function ratio(f: Figure): number | undefined {
  return f.reference && f.reference.value > 0 ? f.ours / f.reference.value : undefined;
}

export function meetsGoal(f: Figure): boolean | undefined {
  if (!f.goal) return undefined;
  const value = f.goal.of === "ratio" ? ratio(f) : f.ours;
  if (value === undefined) return undefined;
  return (
    (f.goal.max === undefined || value <= f.goal.max) && (f.goal.min === undefined || value >= f.goal.min)
  );
}

const fmt = (n: number) =>
  Math.abs(n) >= 1000
    ? n.toFixed(0)
    : Math.abs(n) >= 100
      ? n.toFixed(1)
      : Math.abs(n) >= 1
        ? n.toFixed(2)
        : n.toFixed(3);

export function renderSection(section: Section): string {
  const rows = section.figures.map((f) => {
    const r = ratio(f);
    const goal = f.goal
      ? `${f.goal.of === "ratio" ? "ratio" : "ours"} ${f.goal.max !== undefined ? `<= ${f.goal.max}` : `>= ${f.goal.min}`}`
      : "";
    const ok = meetsGoal(f);
    return [
      f.name,
      `${fmt(f.ours)} ${f.unit}`,
      f.reference ? `${fmt(f.reference.value)} ${f.unit} (${f.reference.name})` : "-",
      r === undefined ? "-" : `${r.toFixed(2)}x`,
      goal ? `${goal} ${ok ? "met" : "MISSED"}` : "",
    ];
  });
  const header = ["figure", "ours", "reference (same run)", "ratio", "goal"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const notes = section.figures.filter((f) => f.note).map((f) => `  * ${f.name}: ${f.note}`);
  return [
    `## ${section.title}`,
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    ...notes,
    "",
  ].join("\n");
}
