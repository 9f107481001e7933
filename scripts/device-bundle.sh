#!/usr/bin/env bash
# Builds device-bundle/: a jlink'd JRE (as jre.tgz, unpacked by scripts/device-check.sh) plus the jars, for the GPU
# machine, which has no Java. Everything shipped there must stay small (40 MB for this folder), so the JRE has no
# java.desktop: the GPU benchmark plot is rendered back here from its JSON (scripts/bench.sh report).
# The native library is NOT bundled: scripts/device-check.sh builds it there against the machine's PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${JAVA_HOME:=/usr/lib/jvm/temurin-25-jdk-amd64}"
out=device-bundle
rm -rf "$out" && mkdir -p "$out/lib" "$out/test-lib"

"$JAVA_HOME/bin/jlink" --add-modules java.base,java.management,java.logging,java.xml,jdk.unsupported,jdk.incubator.vector \
  --compress=zip-9 --strip-debug --no-header-files --no-man-pages --output "$out/jre" 2>&1 | grep -v 'incubator modules' || true
tar czf "$out/jre.tgz" -C "$out" jre && rm -rf "$out/jre"

cp "$(ls target/projntk-*.jar | grep -v -e '-sources\.jar$' -e '-javadoc\.jar$' | head -1)" "$out/lib/projntk.jar"
cp target/lib/*.jar "$out/lib/"
[[ -e benchmarks/target/benchmarks.jar ]] && cp benchmarks/target/benchmarks.jar "$out/lib/benchmarks.jar.bench"
# gpu-tagged JUnit tests run with the console launcher
cp -r target/test-classes "$out/test-classes"
mvn -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.4 -DoutputDirectory="$out/test-lib" >/dev/null
du -sh "$out"
size=$(du -sm "$out" | cut -f1)
if (( size >= 40 )); then echo "device bundle is ${size} MB, over the 40 MB budget" >&2; exit 1; fi
