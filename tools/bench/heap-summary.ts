// Summarizes a V8 heap snapshot (`BENCH_HEAP_SNAPSHOT=<file> node out/tools/bench/child.js ...` writes
// one of the built app, before synth): self size per kind of object, largest first, and the total.
//   node out/tools/bench/heap-summary.js <file.heapsnapshot> [top=25]
//   node out/tools/bench/heap-summary.js <file.heapsnapshot> --maps [top=25]
// Objects are grouped by constructor name (V8's node name), strings and arrays by their type.
// --maps: the hidden classes (V8 maps) that only one object uses, grouped by that object's
// constructor and first property names: many of one group means objects that never share a shape.
import * as fs from 'fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
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

/** Maps used by a single object, grouped by the object's name and first properties (numbers masked). */
export function singleUseMaps(s: Snapshot): { group: string; count: number }[] {
  const nf = s.snapshot.meta.node_fields;
  const ef = s.snapshot.meta.edge_fields;
  const [NW, EW] = [nf.length, ef.length];
  const [TYPE, NAME, EDGES] = ['type', 'name', 'edge_count'].map((f) => nf.indexOf(f));
  const [ETYPE, ENAME, ETO] = ['type', 'name_or_index', 'to_node'].map((f) => ef.indexOf(f));
  const types = s.snapshot.meta.node_types[0];
  const etypes = s.snapshot.meta.edge_types[0];
  const users = new Map<number, { count: number; sample: string }>();
  for (let i = 0, e = 0; i < s.nodes.length; i += NW) {
    const end = e + s.nodes[i + EDGES] * EW;
    if (types[s.nodes[i + TYPE]] === 'object') {
      const props: string[] = [];
      let map = -1;
      for (let j = e; j < end; j += EW) {
        const et = etypes[s.edges[j + ETYPE]];
        if (et === 'internal' && s.strings[s.edges[j + ENAME]] === 'map') map = s.edges[j + ETO];
        if (et === 'property' && props.length < 4) props.push(s.strings[s.edges[j + ENAME]]);
      }
      if (map >= 0) {
        const u = users.get(map) ?? { count: 0, sample: `${s.strings[s.nodes[i + NAME]]} {${props.join(', ')}}`.replace(/[0-9]+/g, '#') };
        u.count++;
        users.set(map, u);
      }
    }
    e = end;
  }
  const groups = new Map<string, number>();
  for (const u of users.values()) if (u.count === 1) groups.set(u.sample, (groups.get(u.sample) ?? 0) + 1);
  return [...groups.entries()].map(([group, count]) => ({ group, count })).sort((a, b) => b.count - a.count);
}

if (require.main === module) {
  const [file, topArg, mapsTop] = process.argv.slice(2);
  if (topArg === '--maps') {
    const maps = singleUseMaps(JSON.parse(fs.readFileSync(file, 'utf-8')));
    console.log(`${maps.reduce((a, g) => a + g.count, 0)} maps used by one object each`);
    for (const g of maps.slice(0, Number(mapsTop ?? 25))) console.log(`${String(g.count).padStart(8)}  ${g.group}`);
    process.exit(0);
  }
  const groups = heapGroups(JSON.parse(fs.readFileSync(file, 'utf-8')));
  const total = groups.reduce((a, g) => a + g.bytes, 0);
  console.log(`${(total / 2 ** 20).toFixed(1)} MB in ${groups.reduce((a, g) => a + g.count, 0)} objects`);
  for (const g of groups.slice(0, Number(topArg ?? 25))) {
    console.log(`${(g.bytes / 2 ** 20).toFixed(1).padStart(8)} MB ${String(g.count).padStart(9)}  ${g.group}`);
  }
}
