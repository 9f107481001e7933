#!/usr/bin/env bash
# Builds and runs examples/embedding the way an embedder would: a copy of it outside this checkout, depending on
# org.projntk:projntk from the local Maven repository (`make install` first), on the module path, with
# --enable-native-access=org.projntk and no native-path setting (the library comes out of the jar).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$root/examples/embedding" "$work/embedding"
cd "$work/embedding"
mvn -B -q package dependency:copy-dependencies -DoutputDirectory=target/modules
unset PROJNTK_NATIVE
"$JAVA_HOME/bin/java" --enable-native-access=org.projntk -Djava.awt.headless=true \
  --module-path target/embedding-example.jar:target/modules -m org.projntk.example/org.projntk.example.Embed "$@"
