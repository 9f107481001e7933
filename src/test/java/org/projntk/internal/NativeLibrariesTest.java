package org.projntk.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How libprojntk.so is found, extracted from the jar, and checked, each in child JVMs so that the library already
 * loaded in this JVM is untouched. The child runs from a copy of just the classes it needs (plus, where a test says
 * so, the library as a jar resource), in an empty working directory, with PROJNTK_NATIVE removed.
 */
class NativeLibrariesTest {
    @TempDir Path tmp;

    private static Path realLibrary() {
        String lib = System.getProperty("projntk.native");
        Assumptions.assumeTrue(lib != null && Files.isRegularFile(Path.of(lib)), "no -Dprojntk.native");
        return Path.of(lib);
    }

    private Path isolatedClasses(boolean withLibraryResource) throws Exception {
        Path classes = tmp.resolve("app/classes");
        Path main = Path.of(NativeLibraries.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Assumptions.assumeTrue(Files.isDirectory(main), "classes come from a jar: " + main);
        copyClasses(main, classes, "org/projntk/internal/NativeLibraries", "org/projntk/ProjntkException",
                "org/projntk/bindings/projntk_h");
        copyClasses(Path.of(LoadProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI()), classes,
                "org/projntk/internal/LoadProbe");
        if (withLibraryResource) {
            Path resource = classes.resolve(NativeLibraries.RESOURCE.substring(1));
            Files.createDirectories(resource.getParent());
            Files.copy(realLibrary(), resource);
        }
        return classes;
    }

    private static void copyClasses(Path root, Path target, String... prefixes) throws IOException {
        for (String prefix : prefixes) {
            Path dir = root.resolve(prefix).getParent();
            String base = Path.of(prefix).getFileName().toString();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    String name = f.getFileName().toString();
                    if (name.equals(base + ".class") || name.startsWith(base + "$")) {
                        Path to = target.resolve(prefix).getParent().resolve(name);
                        Files.createDirectories(to.getParent());
                        if (!Files.exists(to)) Files.copy(f, to);
                    }
                }
            }
        }
    }

    private record Outcome(int exit, String output) {
        String message() {
            int i = output.indexOf("MESSAGE ");
            return i < 0 ? output : output.substring(i);
        }
    }

    private Process start(Path classes, String nativeProperty, Path cache) throws IOException {
        Path work = Files.createDirectories(tmp.resolve("app/work"));
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx64m", "--enable-native-access=ALL-UNNAMED", "-cp", classes.toString()));
        if (nativeProperty != null) cmd.add("-Dprojntk.native=" + nativeProperty);
        cmd.add("-Dprojntk.cache=" + cache);
        cmd.add(LoadProbe.class.getName());
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true);
        pb.environment().remove("PROJNTK_NATIVE");
        pb.environment().remove("PROJNTK_CACHE");
        return pb.start();
    }

    private static Outcome finish(Process p) throws Exception {
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe JVM did not finish");
        return new Outcome(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private Outcome probe(String nativeProperty, boolean withLibraryResource) throws Exception {
        return finish(start(isolatedClasses(withLibraryResource), nativeProperty, tmp.resolve("cache")));
    }

    @Test
    void noLibraryAnywhereSaysWhatWasTriedAndHowToFixIt() throws Exception {
        Outcome o = probe(null, false);
        assertEquals(3, o.exit(), o.output());
        assertTrue(o.output().contains("NativeLibraryException status=UNSUPPORTED"), o.output());
        assertTrue(o.message().contains("not found"), o.message());
        assertTrue(o.message().contains(NativeLibraries.RESOURCE), "the jar resource: " + o.message());
        assertTrue(o.message().contains("make install") && o.message().contains("make native"), o.message());
    }

    @Test
    void missingExplicitPathIsNamed() throws Exception {
        Outcome o = probe("/nonexistent/libprojntk.so", true);
        assertEquals(3, o.exit(), o.output());
        assertTrue(o.message().contains("/nonexistent/libprojntk.so") && o.message().contains("-Dprojntk.native"), o.message());
    }

    @Test
    void unloadableFileNamesThePathAndLibtorch() throws Exception {
        Path garbage = tmp.resolve("libprojntk.so");
        Files.write(garbage, "this is not an ELF file".getBytes(StandardCharsets.US_ASCII));
        Outcome o = probe(garbage.toString(), false);
        assertEquals(3, o.exit(), o.output());
        assertTrue(o.message().contains("could not be loaded"), o.message());
        assertTrue(o.message().contains(garbage.toString()), o.message());
        assertTrue(o.message().contains("libtorch"), o.message());
    }

    /** Builds a shared library from C source with the system compiler (skipped where there is none). */
    private Path compile(String name, String source) throws Exception {
        Path c = tmp.resolve(name + ".c");
        Files.writeString(c, source);
        Path so = tmp.resolve(name + ".so");
        Process p;
        try {
            p = new ProcessBuilder("cc", "-shared", "-fPIC", "-o", so.toString(), c.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("no C compiler: " + e.getMessage());
            throw e;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return so;
    }

    @Test
    void foreignLibraryIsRefusedBeforeAnyCall() throws Exception {
        Path foreign = compile("foreign", "int some_other_function(void) { return 7; }\n");
        Outcome o = probe(foreign.toString(), false);
        assertEquals(3, o.exit(), o.output());
        assertTrue(o.message().contains("stale or foreign") && o.message().contains(foreign.toString()), o.message());
    }

    @Test
    void staleAbiVersionIsRefused() throws Exception {
        Path stale = compile("stale", """
                #include <stdint.h>
                int projntk_abi_version(int32_t *out) { *out = 1; return 0; }
                """);
        Outcome o = probe(stale.toString(), false);
        assertEquals(3, o.exit(), o.output());
        assertTrue(o.message().contains("ABI version 1") && o.message().contains("needs " + org.projntk.bindings.projntk_h.PROJNTK_ABI_VERSION()),
                o.message());
    }

    @Test
    void realLibraryLoadsFromTheProperty() throws Exception {
        Path lib = realLibrary();
        Outcome o = probe(lib.toString(), false);
        assertEquals(0, o.exit(), o.output());
        assertTrue(o.output().contains("LOADED " + lib), o.output());
    }

    @Test
    void jarResourceIsExtractedOnceIntoAVersionedCacheByConcurrentJvms() throws Exception {
        Path classes = isolatedClasses(true);
        Path cache = tmp.resolve("cache");
        List<Process> jvms = new ArrayList<>();
        for (int i = 0; i < 3; i++) jvms.add(start(classes, null, cache));
        List<String> loadedFrom = new ArrayList<>();
        for (Process p : jvms) {
            Outcome o = finish(p);
            assertEquals(0, o.exit(), o.output());
            loadedFrom.add(o.output().trim().replace("LOADED ", ""));
        }
        assertEquals(1, loadedFrom.stream().distinct().count(), "every JVM uses the same extracted file: " + loadedFrom);
        Path extracted = Path.of(loadedFrom.get(0));
        assertTrue(extracted.startsWith(cache), extracted.toString());
        assertTrue(extracted.getParent().getFileName().toString().matches("(dev|[0-9.]+.*)-[0-9a-f]{16}"), extracted.toString());
        assertArrayEquals(Files.readAllBytes(realLibrary()), Files.readAllBytes(extracted));
        try (Stream<Path> files = Files.list(extracted.getParent())) {
            assertEquals(List.of("libprojntk.so"), files.map(f -> f.getFileName().toString()).toList(), "no temporary files left");
        }
    }

    @Test
    void corruptCachedCopyIsReplaced() throws Exception {
        Path classes = isolatedClasses(true);
        Path cache = tmp.resolve("cache");
        Outcome first = finish(start(classes, null, cache));
        assertEquals(0, first.exit(), first.output());
        Path extracted = Path.of(first.output().trim().replace("LOADED ", ""));
        Files.write(extracted, new byte[] {1, 2, 3}); // a truncated or tampered copy
        Outcome second = finish(start(classes, null, cache));
        assertEquals(0, second.exit(), second.output());
        assertArrayEquals(Files.readAllBytes(realLibrary()), Files.readAllBytes(extracted));
    }

    /**
     * UCX (loaded by MPI-linked libtorch builds such as Debian 13's) would take SIGSEGV from the JVM: by the time
     * libprojntk is loaded, the C environment must tell UCX to leave the JVM's signals alone, unless the user chose.
     */
    @Test
    void ucxErrorSignalsAreOffOnceLoaded() throws Throwable {
        NativeLibraries.loadProjntk();
        var linker = java.lang.foreign.Linker.nativeLinker();
        var getenv = linker.downcallHandle(linker.defaultLookup().find("getenv").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.ADDRESS, java.lang.foreign.ValueLayout.ADDRESS));
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var value = (java.lang.foreign.MemorySegment) getenv.invokeExact(arena.allocateFrom("UCX_ERROR_SIGNALS"));
            assertNotEquals(0L, value.address(), "UCX_ERROR_SIGNALS is not set in the C environment");
            String expected = System.getenv("UCX_ERROR_SIGNALS") == null ? "" : System.getenv("UCX_ERROR_SIGNALS");
            assertEquals(expected, value.reinterpret(4096).getString(0));
        }
    }
}
