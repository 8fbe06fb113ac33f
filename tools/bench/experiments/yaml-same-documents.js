// One-off experiment behind a number in tools/bench/README.md (run from the repository root after `npm run bench`
// has written tools/bench/.tmp/template.json):
//   node --expose-gc tools/bench/experiments/yaml-same-documents.js   the same documents from the library and from raw
//   cdk8s, serialized in one process: CPU ms of each, 5 rounds.
const { performance } = require('perf_hooks');
const { ApiObject } = require('cdk8s');
const { libraryApp } = require('../../../out/tools/bench/fixture');
const { rawCdk8sApp, readTemplate, cdk8sYaml } = require('../../../out/tools/bench/baselines');
const { dbName } = require('../../../out/tools/bench/names');
const YAML = cdk8sYaml();
const n = 1000;
const objs = (app) => app.node.findAll().filter((c) => c instanceof ApiObject).map((o) => o.toJson());
const lib = objs(libraryApp(n, 'tools/bench/.tmp/experiments'));
const raw = objs(rawCdk8sApp(readTemplate('tools/bench/.tmp/template.json'), n, 'tools/bench/.tmp/experiments', dbName));
const mapStrings = (v, f) => typeof v === 'string' ? f(v) : Array.isArray(v) ? v.map((x) => mapStrings(x, f)) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, f)])) : v;
const libClone = JSON.parse(JSON.stringify(lib));
const libSameShapes = mapStrings(lib, (s) => s);               // rebuilt objects, same string objects
const libFlat = mapStrings(lib, (s) => Buffer.from(s).toString()); // rebuilt objects, flat new strings
let kinds = { cons: 0, other: 0 };
const counts = { lib, raw, libClone, libSameShapes, libFlat };
const t = (docs) => { global.gc(); const c0 = process.cpuUsage(); docs.map((d) => YAML.stringify(d, { keepUndefined: true, lineWidth: 0, version: '1.1' })).join('---\n'); const c = process.cpuUsage(c0); return (c.user + c.system) / 1000; };
const r = Object.fromEntries(Object.keys(counts).map((k) => [k, []]));
for (let i = 0; i < 5; i++) for (const k of Object.keys(r)) r[k].push(t(counts[k]));
for (const k of Object.keys(r)) console.log(k.padEnd(14), 'CPU ms', r[k].map((x) => x.toFixed(0)).join(' '), 'min', Math.min(...r[k]).toFixed(0));
