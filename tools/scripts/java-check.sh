#!/usr/bin/env bash
# The Java side of the package: jsii-pacmak builds the Maven artifacts into out/package/java/, and
# examples/java (the README's quickstart in Java) compiles against them, writes YAML byte-identical
# to examples/quickstart.ts, and gets the library's full message for a bad input.
#
# The Java bindings of cdk8s-plus-27 are not on the Maven mirror this machine reaches, so the
# dependencies' bindings (cdk8s, constructs, cdk8s-plus-27) are built once from their jsii
# assemblies (`jsii-pacmak -R`, about 10 minutes) and installed into the Maven repository cached in
# ~/.cache/cdk8s-stateful/m2, keyed by their versions. Later runs only rebuild this package's jar
# when its sources changed.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/scripts/lang-check.sh
. tools/scripts/lang-check.sh
m2="$cache/m2"
mvn=(mvn -q -B -Dstyle.color=never "-Dmaven.repo.local=$m2")
need_quickstart java-check

deps_key=$(deps_key)
if [ ! -f "$cache/java-deps/$deps_key" ]; then
  echo "java-check: building the Java bindings of the dependencies ($deps_key)"
  rm -rf "$cache/java-deps"
  npx jsii-pacmak -R --targets java --no-npmignore -o "$cache/java-deps" --maven-local-repository "$m2"
  for dep in "org/cdk8s/cdk8s/$(version cdk8s)/cdk8s-$(version cdk8s)" \
             "org/cdk8s/cdk8s-plus-27/$(version cdk8s-plus-27)/cdk8s-plus-27-$(version cdk8s-plus-27)" \
             "software/constructs/constructs/$(version constructs)/constructs-$(version constructs)"; do
    "${mvn[@]}" install:install-file "-Dfile=$cache/java-deps/java/$dep.jar" "-DpomFile=$cache/java-deps/java/$dep.pom"
  done
  touch "$cache/java-deps/$deps_key"
fi

. tools/scripts/inputs-hash.sh
pacmak_target java java-check --maven-local-repository "$m2"
ls out/package/java/invalid/cdk8s-stateful/cdk8s-stateful/*/*.jar

# the app resolves this package from out/package/java, never from a jar cached by an earlier run
rm -rf "$m2/invalid/cdk8s-stateful"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf examples/java/target
(cd examples/java && "${mvn[@]}" "-Dcdk8s.stateful.repository=file://$root/out/package/java" \
  compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt)
cp="examples/java/target/classes:$(cat examples/java/target/classpath.txt)"
CDK8S_OUTDIR="$tmp/java" java -cp "$cp" quickstart.Main
same_yaml java-check "$tmp/java"

# Java's message carries the JavaScript stack after the first line
java_message=$(java -cp "$cp" quickstart.BadInput | head -1)
same_error java-check Java "$java_message"
