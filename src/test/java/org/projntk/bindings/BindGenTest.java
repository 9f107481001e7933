package org.projntk.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the generator (scripts/bindgen/BindGen.java) as `make bindings` does, in a child JVM. */
class BindGenTest {

    /** As scripts/find-libclang.sh finds it: $LIBCLANG, else the newest Debian libclang. */
    static final Path LIBCLANG = findLibclang();

    static Path findLibclang() {
        String env = System.getenv("LIBCLANG");
        if (env != null && !env.isBlank()) return Path.of(env);
        try (var dirs = Files.list(Path.of("/usr/lib"))) {
            return dirs.filter(d -> d.getFileName().toString().matches("llvm-\\d+"))
                    .max(java.util.Comparator.comparingInt(d -> Integer.parseInt(d.getFileName().toString().substring(5))))
                    .map(d -> d.resolve("lib/libclang.so.1")).orElse(Path.of("/usr/lib/llvm/lib/libclang.so.1"));
        } catch (java.io.IOException e) {
            return Path.of("/usr/lib/llvm/lib/libclang.so.1");
        }
    }

    /** As BindGen checks it: the runtime package alone (libclang1-N) lacks stddef.h and cannot parse any header. */
    static boolean hasBuiltinHeaders(Path libclang) {
        try (var versions = Files.list(libclang.getParent().resolve("clang"))) {
            return versions.anyMatch(v -> Files.isRegularFile(v.resolve("include/stddef.h")));
        } catch (IOException e) {
            return false;
        }
    }

    @TempDir
    static Path classes;

    /** Compiled once here: a source-launcher start per run would cost seconds each. */
    @BeforeAll
    static void compileGenerator() {
        assumeTrue(Files.isRegularFile(LIBCLANG) && hasBuiltinHeaders(LIBCLANG),
                "libclang or its built-in headers not installed (make bindings-deps installs Debian libclang-dev)");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertEquals(0, javac.run(null, null, null, "-d", classes.toString(), "scripts/bindgen/BindGen.java"));
    }

    record Result(int exitCode, String output) {}

    static Result run(List<String> command) throws IOException, InterruptedException {
        return run(new ProcessBuilder(command));
    }

    static Result run(ProcessBuilder pb) throws IOException, InterruptedException {
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.waitFor(), out);
    }

    static Result bindgen(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", classes.toString(), "BindGen"));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    static void assertSameTree(Path expected, Path actual) throws IOException {
        List<Path> want, got;
        try (Stream<Path> s = Files.walk(expected)) { want = s.filter(Files::isRegularFile).map(expected::relativize).sorted().toList(); }
        try (Stream<Path> s = Files.walk(actual)) { got = s.filter(Files::isRegularFile).map(actual::relativize).sorted().toList(); }
        assertEquals(want, got);
        for (Path f : want) {
            assertEquals(Files.readString(expected.resolve(f)), Files.readString(actual.resolve(f)), f + " drifted: run `make bindings`");
        }
    }

    /** The same check as `make check-bindings`: the committed bindings are what the headers generate today. */
    @Test
    void committedBindingsAreUpToDate(@TempDir Path tmp) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "scripts/bindings.sh", tmp.toString());
        pb.environment().put("PROJNTK_BINDGEN", "builtin"); // bindings/java is BindGen's output, even where jextract exists
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Result r = run(pb);
        assertEquals(0, r.exitCode(), r.output());
        assertSameTree(Path.of("bindings/java"), tmp);
    }

    @Test
    void mapsCTypesAndFiltersDeclarations(@TempDir Path tmp) throws Exception {
        Path header = tmp.resolve("t.h");
        Files.writeString(header, """
                #include <stdint.h>
                #include <stddef.h>
                struct pair { int a; int b; };
                enum big { BIG = 0x100000000, SMALL = -3 };
                enum mode { MODE_A = 7 };
                typedef enum mode mode_t2;
                typedef void (*cb)(int32_t code, const char *msg);
                void f(signed char a, unsigned short b, unsigned long long c, _Bool d, double e, float arr[4],
                       size_t n, mode_t2 m, cb callback);
                struct pair by_value(struct pair p);
                int printf_like(const char *fmt, ...);
                """);
        Path out = tmp.resolve("out");
        // Unfiltered, the struct-by-value and variadic functions cannot be bound: a clear error naming both.
        Result bad = bindgen("--out", out.toString(), "--header", header.toString(), "--class", "t_h");
        assertEquals(2, bad.exitCode(), bad.output());
        assertTrue(bad.output().contains("function by_value") && bad.output().contains("structs by value"), bad.output());
        assertTrue(bad.output().contains("function printf_like: variadic"), bad.output());

        Result ok = bindgen("--out", out.toString(), "--package", "p.q", "--header", header.toString(), "--class", "t_h",
                "--include-function", "f", "--include-constant", "BIG", "--include-constant", "SMALL",
                "--include-constant", "MODE_A", "--include-typedef", "cb");
        assertEquals(0, ok.exitCode(), ok.output());
        String java = Files.readString(out.resolve("p/q/t_h.java"));
        assertTrue(java.contains("public static void f(byte a, short b, long c, boolean d, double e, MemorySegment arr, "
                + "long n, int m, MemorySegment callback)"), java);
        assertTrue(java.contains("t_h.C_LONG_LONG,"), "unsigned long long is C_LONG_LONG");
        assertTrue(java.contains("public static long BIG() {\n        return 4294967296L;"), java);
        assertTrue(java.contains("public static long SMALL() {\n        return -3L;"), java);
        assertTrue(java.contains("public static int MODE_A() {\n        return 7;"), java);
        assertTrue(!java.contains("by_value") && !java.contains("printf_like"), "filtered out");
        String cb = Files.readString(out.resolve("p/q/cb.java"));
        assertTrue(cb.contains("void apply(int code, MemorySegment msg);"), cb);
    }

    /** libclang1-N without libclang-common-N-dev: one line naming the package, not a wall of include errors. */
    @Test
    void libclangWithoutBuiltinHeadersIsNamed(@TempDir Path tmp) throws Exception {
        Path lonely = Files.createSymbolicLink(tmp.resolve("libclang.so.1"), LIBCLANG.toRealPath());
        Path header = Files.writeString(tmp.resolve("t.h"), "#include <stddef.h>\nsize_t f(void);\n");
        Result r = bindgen("--out", tmp.resolve("out").toString(), "--libclang", lonely.toString(),
                "--header", header.toString(), "--class", "t_h");
        assertEquals(2, r.exitCode(), r.output());
        assertEquals("bindgen: libclang at " + lonely + " has no built-in headers (clang/*/include/stddef.h beside it):"
                + " install libclang-dev (make bindings-deps)", r.output().strip());
    }

    @Test
    void reportsMissingIncludesAndBrokenHeaders(@TempDir Path tmp) throws Exception {
        Path header = tmp.resolve("t.h");
        Files.writeString(header, "int good(int x);\n");
        Result missing = bindgen("--out", tmp.toString(), "--header", header.toString(), "--class", "t_h",
                "--include-function", "good", "--include-function", "nosuch");
        assertEquals(2, missing.exitCode(), missing.output());
        assertTrue(missing.output().contains("included but not declared there: function nosuch"), missing.output());

        Files.writeString(header, "#include \"absent.h\"\nint good(int x);\n");
        Result broken = bindgen("--out", tmp.toString(), "--header", header.toString(), "--class", "t_h");
        assertEquals(2, broken.exitCode(), broken.output());
        assertTrue(broken.output().contains("does not compile") && broken.output().contains("absent.h"), broken.output());
    }
}
