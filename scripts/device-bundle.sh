#!/usr/bin/env bash
# Builds device-bundle/: a jlink'd JRE (as jre.tgz, unpacked by scripts/device-check.sh) plus the jars, for the GPU
# machine, which has no Java. What travels there (the source tree, this folder and shared/) must fit 64 MiB in all, so
# the JRE has no java.desktop (the GPU benchmark plot is rendered back here from its JSON, scripts/bench.sh report) and
# the jars lose the native libraries of other platforms, and the benchmark jar the classes lib/ already holds.
# The native library is NOT bundled: scripts/device-check.sh builds it there against the machine's PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${JAVA_HOME:=/usr/lib/jvm/temurin-25-jdk-amd64}"
out=device-bundle
limit_mib=64
rm -rf "$out" && mkdir -p "$out/lib" "$out/test-lib"

"$JAVA_HOME/bin/jlink" --add-modules java.base,java.management,java.logging,java.xml,jdk.unsupported,jdk.incubator.vector,jdk.zipfs \
  --compress=zip-9 --strip-debug --no-header-files --no-man-pages --output "$out/jre" 2>&1 | grep -v 'incubator modules' || true
tar czf "$out/jre.tgz" -C "$out" jre && rm -rf "$out/jre"

# thin_jar JAR PATH...: rewrites JAR without the entries under each PATH (JDK tools only: jar x, rm, jar c).
thin_jar() {
  local jar=$1 tmp
  shift
  tmp=$(mktemp -d)
  (cd "$tmp" && "$JAVA_HOME/bin/jar" xf "$OLDPWD/$jar")
  for p in "$@"; do rm -rf "${tmp:?}/$p"; done
  local manifest=()
  if [[ -f "$tmp/META-INF/MANIFEST.MF" ]]; then
    mv "$tmp/META-INF/MANIFEST.MF" "$tmp.mf"
    manifest=(--manifest "$tmp.mf")
  fi
  rm -f "$jar"
  "$JAVA_HOME/bin/jar" --create --file "$jar" "${manifest[@]}" -C "$tmp" .
  rm -rf "$tmp" "$tmp.mf"
}
# Native libraries the x86-64 Linux GPU machine never loads.
other_platforms=(native/lib/linux-aarch64 native/lib/osx-aarch64 native/lib/osx-x86_64 native/lib/win-x86_64
  com/sun/jna/aix-ppc com/sun/jna/aix-ppc64 com/sun/jna/darwin-aarch64 com/sun/jna/darwin-x86-64 com/sun/jna/dragonflybsd-x86-64
  com/sun/jna/freebsd-aarch64 com/sun/jna/freebsd-x86 com/sun/jna/freebsd-x86-64 com/sun/jna/linux-aarch64 com/sun/jna/linux-arm
  com/sun/jna/linux-armel com/sun/jna/linux-loongarch64 com/sun/jna/linux-mips64el com/sun/jna/linux-ppc com/sun/jna/linux-ppc64le
  com/sun/jna/linux-riscv64 com/sun/jna/linux-s390x com/sun/jna/linux-x86 com/sun/jna/openbsd-x86 com/sun/jna/openbsd-x86-64
  com/sun/jna/sunos-sparc com/sun/jna/sunos-sparcv9 com/sun/jna/sunos-x86 com/sun/jna/sunos-x86-64 com/sun/jna/win32-aarch64
  com/sun/jna/win32-x86 com/sun/jna/win32-x86-64)

cp "$(ls target/projntk-*.jar | grep -v -e '-sources\.jar$' -e '-javadoc\.jar$' | head -1)" "$out/lib/projntk.jar"
cp target/lib/*.jar "$out/lib/"
for jar in "$out"/lib/tokenizers-*.jar "$out"/lib/jna-*.jar; do [[ -e $jar ]] && thin_jar "$jar" "${other_platforms[@]}"; done
if [[ -e benchmarks/target/benchmarks.jar ]]; then
  # The GPU benchmarks never tokenize text: the shaded jar keeps JMH, projntk and its small dependencies only.
  cp benchmarks/target/benchmarks.jar "$out/lib/benchmarks.jar.bench"
  thin_jar "$out/lib/benchmarks.jar.bench" native ai/djl com/sun/jna "${other_platforms[@]}"
fi
# gpu-tagged JUnit tests run with the console launcher
cp -r target/test-classes "$out/test-classes"
# Test classes that use a module the JRE leaves out (java.desktop for PNG checks, java.compiler for the bindings
# generator) cannot even be discovered there: the launcher skips them by name (--exclude-classname, read from here).
(cd "$out/test-classes" && grep -rlE 'java/awt/|javax/imageio/|javax/tools/' --include='*.class' . \
  | sed -e 's|^\./||' -e 's|\$.*||' -e 's|\.class$||' -e 's|/|.|g' | sort -u) > "$out/test-excludes.txt"
mvn -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.4 -DoutputDirectory="$out/test-lib" >/dev/null

# What the device tool sends: tracked and untracked-not-ignored files, shared/ (when the checkout has one) and the
# carried bundle, 64 MiB in all.
tree_bytes=$(git ls-files -co --exclude-standard -z | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
bundle_bytes=$(du -sb "$out" | cut -f1)
shared_bytes=0
[[ -d shared ]] && shared_bytes=$(du -sb shared | cut -f1)
total=$(( tree_bytes + bundle_bytes + shared_bytes ))
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
echo "device payload: tree $(mib "$tree_bytes") MiB + $out $(mib "$bundle_bytes") MiB + shared $(mib "$shared_bytes") MiB = $(mib "$total") MiB of $limit_mib MiB"
if (( total > limit_mib * 1048576 )); then echo "device payload is over the $limit_mib MiB the device tool carries" >&2; exit 1; fi
