// One-off experiment behind a number in tools/bench/README.md (run from the repository root after `npm run bench`
// has written tools/bench/.tmp/template.json):
//   node --allow-natives-syntax tools/bench/experiments/spread-hidden-classes.js   objects built by a spread over
//   eight GVK objects, and property by property: how many share the map of the previous one of their kind.
const gvks = Array.from({ length: 8 }, (_, i) => ({ apiVersion: 'v' + i, kind: 'K' + i }));
function viaSpread(g, body) { return { ...g, metadata: {}, ...body }; }
function viaExplicit(g, body) { const o = { apiVersion: g.apiVersion, kind: g.kind, metadata: {} }; return Object.assign(o, body); }
for (const f of [viaSpread, viaExplicit]) {
  const objs = [];
  for (let i = 0; i < 800; i++) objs.push(f(gvks[i % 8], { spec: { a: 1 } }));
  const same = objs.filter((o, i) => i >= 8 && %HaveSameMap(o, objs[i - 8])).length;
  console.log(f.name, 'same map as the previous object of its kind:', same, 'of', 792);
}
