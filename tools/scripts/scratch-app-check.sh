#!/usr/bin/env bash
# The packed library as a new user meets it: a scratch cdk8s app outside the repository (mktemp),
# the npm tarball from `npm run package` installed beside the app's own cdk8s, constructs and
# cdk8s-plus, compiled with `strict`, synthesized, every object validated against the Kubernetes
# 1.27 schema. Twice:
#   plus27: cdk8s-plus-27 on the oldest cdk8s and constructs the peer ranges allow (an app on an
#           older cdk8s than the repository's used to get
#           a second cdk8s inside the library and fail tsc and synth)
#   plus33: cdk8s-plus-33, which `cdk8s init typescript-app` scaffolds
# Each app passes a Deployment, a StatefulSet and Secrets of its line to every parameter that takes
# a workload, a pod selector, a network peer or a Secret (the library's, and cdk8s-plus's with the
# database as peer), and the rendered NetworkPolicy selectors are compared with the labels the
# synthesized workloads carry.
# The apps' own dependencies are installed once per version set under ~/.cache/cdk8s-stateful/scratch.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
tarball=$(find "$root"/out/package/js -maxdepth 1 -name 'cdk8s-stateful@*.jsii.tgz' 2>/dev/null | sort | head -1 || true)
[ -n "$tarball" ] || { echo "scratch-app-check: no tarball in out/package/js: run 'npm run package' first" >&2; exit 1; }
[ -f out/test/util.js ] || { echo "scratch-app-check: out/test/util.js missing: run 'npx tsc' first" >&2; exit 1; }
typescript=$(node -p 'require("typescript/package.json").version')
types_node=$(node -p 'require("@types/node/package.json").version')

# the lowest version a peer range allows: ^2.68.11 -> 2.68.11
peer() { node -p "require('./package.json').peerDependencies['$1'].replace(/^\\^/, '')"; }

check() { # flavor kplus-package deps...
  local flavor=$1 plus=$2; shift 2
  local app; app=$(mktemp -d "${TMPDIR:-/tmp}/cdk8s-stateful-scratch-$flavor.XXXXXX")
  # the app's own dependencies, installed once per version set and copied into each fresh app
  local key; key=$(echo "$* typescript@$typescript @types/node@$types_node $(node --version)" | sha256sum | cut -c1-16)
  local base="$HOME/.cache/cdk8s-stateful/scratch/$flavor-$key"
  if [ ! -f "$base/.complete" ]; then
    rm -rf "$base" && mkdir -p "$base"
    echo "{ \"name\": \"scratch-$flavor\", \"version\": \"0.0.0\", \"private\": true }" > "$base/package.json"
    (cd "$base" && npm install --no-audit --no-fund --prefer-offline --loglevel=error "$@" "typescript@$typescript" "@types/node@$types_node" >/dev/null)
    touch "$base/.complete"
  fi
  cp -a "$base/." "$app/" && rm "$app/.complete"
  cd "$app"
  cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "commonjs", "lib": ["ES2022"], "strict": true,
    "noImplicitReturns": true, "noUnusedLocals": true, "outDir": "out" }, "include": ["main.ts"] }
JSON
  # the library as a user adds it: npm resolves its peer dependencies against the app's
  npm install --no-audit --no-fund --prefer-offline --loglevel=error "$tarball" >/dev/null
  # the library must use the app's cdk8s, not a copy of its own
  if [ -d node_modules/cdk8s-stateful/node_modules/cdk8s ]; then
    echo "scratch-app-check[$flavor]: the library brought its own cdk8s" >&2; exit 1
  fi
  # the same app on every line: a Deployment, a StatefulSet and Secrets of the app's cdk8s-plus go
  # to every parameter that takes a workload, a pod selector, a network peer or a Secret
  cat > main.ts <<TS
import { App, Chart, Size } from 'cdk8s';
import * as kplus from '$plus';
import {
  DatabaseEngine, PostgresVersion, StatefulConfigError, StatefulDatabase, StorageClassFast, StorageProvider,
} from 'cdk8s-stateful';

const app = new App({ outdir: 'dist' });
const chart = new Chart(app, 'orders', { namespace: 'shop' });
const fast = new StorageClassFast(chart, 'fast', { provider: StorageProvider.aws() });
const db = new StatefulDatabase(chart, 'orders', {
  engine: DatabaseEngine.postgresql({ version: PostgresVersion.VER_17_2 }),
  replicas: 3,
  credentials: { secret: kplus.Secret.fromSecretName(chart, 'Credentials', 'orders-credentials') },
  imagePullSecrets: [kplus.Secret.fromSecretName(chart, 'Pull', 'registry-login')],
  storage: { storageClass: fast, size: Size.gibibytes(50) },
  env: { TZ: kplus.EnvValue.fromValue('UTC') },
});
const container = { image: 'nginxinc/nginx-unprivileged:1.27.3', portNumber: 8080, securityContext: { user: 101 } };
const api = new kplus.Deployment(chart, 'api', { containers: [container] });
const worker = new kplus.StatefulSet(chart, 'worker', { containers: [container] });
// the library's parameters: the line's workloads
db.connections?.allowFrom(api);
db.connections?.allowFrom(worker);
// the line's parameters: the database as a peer and a pod selector
api.connections.allowTo(db, { ports: [kplus.NetworkPolicyPort.tcp(5432)] });
worker.connections.allowFrom(db, { ports: [kplus.NetworkPolicyPort.tcp(8080)] });
new kplus.NetworkPolicy(chart, 'orders-policy', { selector: db });

// bad input: the library's error, caught by type
try {
  new StatefulDatabase(new Chart(new App(), 'bad'), 'bad', { engine: DatabaseEngine.postgresql(), replicas: -1 });
  throw new Error('replicas -1 was accepted');
} catch (e) {
  if (!(e instanceof StatefulConfigError)) throw e;
  console.log(\`caught: \${e.message}\`);
}
app.synth();
TS
  npx tsc -p .
  node out/main.js
  cd "$root"
  # JavaScript in single quotes: its $ are the program's, not the shell's
  # shellcheck disable=SC2016
  node -e '
const fs = require("fs"), path = require("path"), { parseAllDocuments } = require("yaml");
const { schemaErrors } = require("./out/test/util");
const dir = process.argv[1], flavor = process.argv[2];
const objects = fs.readdirSync(dir).flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), "utf-8")).map((d) => d.toJS()));
const kinds = objects.map((o) => o.kind);
for (const kind of ["StatefulSet", "Service", "PodDisruptionBudget", "NetworkPolicy", "StorageClass", "Deployment"]) {
  if (!kinds.includes(kind)) { console.error(`scratch-app-check[${flavor}]: no ${kind} in the output`); process.exit(1); }
}
const errors = objects.flatMap(schemaErrors);
if (errors.length) { console.error(errors.join("\n")); process.exit(1); }
// the selectors against the labels the workloads carry
const fail = (m) => { console.error(`scratch-app-check[${flavor}]: ${m}`); process.exit(1); };
const one = (kind, pick) => { const found = objects.filter((o) => o.kind === kind && pick(o)); if (found.length !== 1) fail(`expected one ${kind}, found ${found.length}`); return found[0]; };
// cdk8s-plus names its objects <chart>-<id>-<hash>; the database is <name>
const podsOf = (kind, name) => one(kind, (o) => o.metadata.name === name || o.metadata.name.startsWith(`${name}-c8`)).spec.template.metadata.labels;
const selects = (selector, labels) => selector !== undefined && Object.keys(selector.matchLabels ?? {}).length > 0 && !selector.matchExpressions
  && Object.entries(selector.matchLabels).every(([k, v]) => labels[k] === v);
const inShop = (peer) => peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "shop";
const [apiPods, workerPods, dbPods] = [podsOf("Deployment", "orders-api"), podsOf("StatefulSet", "orders-worker"), podsOf("StatefulSet", "orders")];
const policies = objects.filter((o) => o.kind === "NetworkPolicy");
const own = one("NetworkPolicy", (o) => o.metadata.name === "orders");
if (!selects(own.spec.podSelector, dbPods)) fail(`the policy of the database does not select its pods: ${JSON.stringify(own.spec.podSelector)} vs ${JSON.stringify(dbPods)}`);
const clients = own.spec.ingress[1]?.from ?? [];
for (const [what, pods, other] of [["Deployment", apiPods, workerPods], ["StatefulSet", workerPods, apiPods]]) {
  if (!clients.some((p) => selects(p.podSelector, pods) && !selects(p.podSelector, other) && inShop(p))) fail(`allowFrom(${what}): no client rule selects its pods ${JSON.stringify(pods)}: ${JSON.stringify(clients)}`);
}
const peers = policies.flatMap((p) => [...(p.spec.egress ?? []).flatMap((r) => r.to ?? []), ...(p.spec.ingress ?? []).flatMap((r) => r.from ?? [])]);
const dbPeers = peers.filter((p) => selects(p.podSelector, dbPods) && inShop(p)).length;
if (dbPeers < 2) fail(`allowTo(db) / allowFrom(db): ${dbPeers} peer rules select the pods of the database, expected 2 or more`);
const selectingDb = policies.filter((p) => p !== own && selects(p.spec.podSelector, dbPods)).length;
if (selectingDb < 2) fail(`NetworkPolicy({ selector: db }) and allowTo(db): ${selectingDb} policies select the pods of the database, expected 2 or more`);
const pod = one("StatefulSet", (o) => o.metadata.name === "orders").spec.template.spec;
if (!pod.volumes.some((v) => v.secret?.secretName === "orders-credentials")) fail("the credentials Secret is not mounted");
if (JSON.stringify(pod.imagePullSecrets) !== JSON.stringify([{ name: "registry-login" }])) fail(`imagePullSecrets: ${JSON.stringify(pod.imagePullSecrets)}`);
console.log(`scratch-app-check[${flavor}]: ${objects.length} objects (${policies.length} NetworkPolicies), all valid against the 1.27 schema;`
  + ` ${clients.length} client rules, ${dbPeers} peer rules and ${selectingDb + 1} policies select the pods the workloads carry; both Secrets named`);
' "$app/dist" "$flavor"
  rm -rf "$app"
}

check plus27 cdk8s-plus-27 "cdk8s@$(peer cdk8s)" "cdk8s-plus-27@$(peer cdk8s-plus-27)" "constructs@$(peer constructs)"
check plus33 cdk8s-plus-33 cdk8s@2.70.106 cdk8s-plus-33@2.5.57 constructs@10.8.1
echo "scratch-app-check: ok"
