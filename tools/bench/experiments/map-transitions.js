// V8's limit of transitions per map, behind item 9 of tools/bench/README.md:
//   node --allow-natives-syntax tools/bench/experiments/map-transitions.js 1500   (true; 1540: false)
// after N live objects each with a first key of its own, do two objects built alike share a hidden class?
const keep = [];
const n = Number(process.argv[2]);
for (let i = 0; i < n; i++) { const o = {}; o[`k-${i}`] = i; keep.push(o); }
const make = () => { const o = {}; o.mountPathX = 'a'; o.nameX = 'b'; return o; };
console.log(n, 'unique first keys: same map', %HaveSameMap(make(), make()));
