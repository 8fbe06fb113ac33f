// What holds the objects of one group of a heap snapshot: self size by (retainer's name, edge name),
// largest first; and the largest single nodes of the group with their first retainers.
//   node --max-old-space-size=4000 tools/bench/experiments/retainers.js <file.heapsnapshot> <type> [name] [top=20]
// e.g. `string`, or `object Object`, or `closure produce`.
const fs = require('fs');
const [file, type, name, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 20);
const s = JSON.parse(fs.readFileSync(file, 'utf-8'));
const nf = s.snapshot.meta.node_fields, ef = s.snapshot.meta.edge_fields;
const NW = nf.length, EW = ef.length;
const T = nf.indexOf('type'), N = nf.indexOf('name'), S = nf.indexOf('self_size'), EC = nf.indexOf('edge_count');
const ET = ef.indexOf('type'), EN = ef.indexOf('name_or_index'), ETO = ef.indexOf('to_node');
const ntypes = s.snapshot.meta.node_types[0], etypes = s.snapshot.meta.edge_types[0];
const count = s.nodes.length / NW;
const retainers = Array.from({ length: count }, () => []);
let e = 0;
for (let i = 0; i < count; i++) {
  for (let k = 0; k < s.nodes[i * NW + EC]; k++, e += EW) {
    const et = etypes[s.edges[e + ET]];
    if (et === 'weak') continue;
    const edgeName = et === 'element' || et === 'hidden' ? `[${et}]` : s.strings[s.edges[e + EN]];
    retainers[s.edges[e + ETO] / NW].push([i, edgeName]);
  }
}
const label = (i) => { const t = ntypes[s.nodes[i * NW + T]]; return t === 'object' || t === 'closure' ? `${t} ${s.strings[s.nodes[i * NW + N]]}` : t; };
const match = (i) => { const t = ntypes[s.nodes[i * NW + T]]; return t === type && (!name || s.strings[s.nodes[i * NW + N]] === name); };
const groups = new Map();
const big = [];
for (let i = 0; i < count; i++) {
  if (!match(i)) continue;
  const size = s.nodes[i * NW + S];
  const r = retainers[i].slice(0, 2).map(([p, en]) => `${label(p)}.${en}`).join(' | ') || '(none)';
  const g = groups.get(r) ?? { bytes: 0, n: 0 };
  g.bytes += size; g.n++;
  groups.set(r, g);
  big.push([size, i]);
}
for (const [r, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) console.log(`${(g.bytes / 1e6).toFixed(2)} MB ${g.n}\t${r}`);
console.log('largest:');
for (const [size, i] of big.sort((a, b) => b[0] - a[0]).slice(0, 10)) {
  const chain = [];
  let at = i;
  for (let d = 0; d < 6 && retainers[at].length; d++) { const [p, en] = retainers[at][0]; chain.push(`${label(p)}.${en}`); at = p; }
  console.log(`${(size / 1e6).toFixed(2)} MB ${JSON.stringify(s.strings[s.nodes[i * NW + N]].slice(0, 60))} <- ${chain.join(' <- ')}`);
}
