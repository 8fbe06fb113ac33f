// Preload behind a number in tools/bench/README.md: puts cdk8s's own YAML writer back for a bench child, by
// replacing Yaml.stringify with a wrapper of itself (the library's writer then stays out: it only
// swaps in when Yaml.stringify is cdk8s's own). Run from the repository root after `npm run bench`:
//   node --expose-gc -r ./tools/bench/experiments/cdk8s-writer.js out/tools/bench/child.js library 5000 tools/bench/.tmp/p5k tools/bench/.tmp/template.json
const { Yaml } = require('cdk8s');
const original = Yaml.stringify;
Yaml.stringify = function (...docs) {
  return original.apply(this, docs);
};
