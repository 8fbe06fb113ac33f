// Summarizes a V8 heap snapshot (`BENCH_HEAP_SNAPSHOT=<file> node out/bench/child.js ...` writes
// one of the built app, before synth): self size per kind of object, largest first, and the total.
//   node out/bench/heap-summary.js <file.heapsnapshot> [top=25]
// Objects are grouped by constructor name (V8's node name), strings and arrays by their type.
import * as fs from 'fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size (bytes) and count per group, largest first. */
export function heapGroups(s: Snapshot): { group: string; bytes: number; count: number }[] {
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const [TYPE, NAME, SIZE] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const types = s.snapshot.meta.node_types[0];
  const groups = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + TYPE]];
    const group = type === 'object' || type === 'closure' ? `${type} ${s.strings[s.nodes[i + NAME]]}` : type;
    const g = groups.get(group) ?? { bytes: 0, count: 0 };
    g.bytes += s.nodes[i + SIZE];
    g.count++;
    groups.set(group, g);
  }
  return [...groups.entries()].map(([group, g]) => ({ group, ...g })).sort((a, b) => b.bytes - a.bytes);
}

if (require.main === module) {
  const [file, topArg] = process.argv.slice(2);
  const groups = heapGroups(JSON.parse(fs.readFileSync(file, 'utf-8')));
  const total = groups.reduce((a, g) => a + g.bytes, 0);
  console.log(`${(total / 2 ** 20).toFixed(1)} MB in ${groups.reduce((a, g) => a + g.count, 0)} objects`);
  for (const g of groups.slice(0, Number(topArg ?? 25))) {
    console.log(`${(g.bytes / 2 ** 20).toFixed(1).padStart(8)} MB ${String(g.count).padStart(9)}  ${g.group}`);
  }
}
