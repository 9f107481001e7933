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

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.ProjntkException;

/**
 * Library lookup failures, checked in child JVMs so the library already loaded in this JVM is untouched. The child runs
 * from a copy of just the classes it needs, in an empty directory, so that no fallback candidate (next to the classes
 * directory, or build/native under the working directory) can find the real library.
 */
class NativeLibrariesTest {
    @TempDir Path tmp;

    private Path isolatedClasses() throws Exception {
        Path classes = tmp.resolve("app/classes");
        Path main = Path.of(NativeLibraries.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(main), "classes come from a jar: " + main);
        copyClasses(Path.of(NativeLibraries.class.getProtectionDomain().getCodeSource().getLocation().toURI()), classes,
                "org/projntk/internal/NativeLibraries", "org/projntk/ProjntkException");
        copyClasses(Path.of(LoadProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI()), classes,
                "org/projntk/internal/LoadProbe");
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
                        Files.copy(f, to);
                    }
                }
            }
        }
    }

    private record Outcome(int exit, String output) {}

    private Outcome probe(String nativeProperty) throws Exception {
        Path classes = isolatedClasses();
        Path work = Files.createDirectories(tmp.resolve("app/work"));
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx64m", "--enable-native-access=ALL-UNNAMED", "-cp", classes.toString()));
        if (nativeProperty != null) cmd.add("-Dprojntk.native=" + nativeProperty);
        cmd.add(LoadProbe.class.getName());
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true);
        pb.environment().remove("PROJNTK_NATIVE");
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "probe JVM did not finish");
        return new Outcome(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    @Test
    void missingLibraryListsEveryPathTried() throws Exception {
        // Guard the premise: no real library may sit under any parent of the temp dir (the cwd fallback walks up).
        for (Path d = tmp.toAbsolutePath(); d != null; d = d.getParent()) {
            assertFalse(Files.exists(d.resolve("build/native/libprojntk.so")), "a stray library at " + d + " would defeat this test");
        }
        Outcome o = probe("/nonexistent/libprojntk.so");
        assertEquals(3, o.exit(), o.output());
        assertTrue(o.output().contains("NativeLibraryException status=UNSUPPORTED"), o.output());
        String message = o.output().substring(o.output().indexOf("MESSAGE "));
        assertTrue(message.contains("not found"), message);
        assertTrue(message.contains("/nonexistent/libprojntk.so"), "the -Dprojntk.native path: " + message);
        Path app = tmp.resolve("app").toAbsolutePath();
        assertTrue(message.contains(app.resolve("native/libprojntk.so").toString()), "the next-to-the-jar path: " + message);
        assertTrue(message.contains(app.resolve("work/build/native/libprojntk.so").toString()), "the working-dir path: " + message);
        assertTrue(message.contains("/build/native/libprojntk.so"), message);
        assertTrue(message.contains("make native"), "how to fix it: " + message);
    }

    @Test
    void unloadableFileNamesThePathAndLibtorch() throws Exception {
        Path garbage = tmp.resolve("libprojntk.so");
        Files.write(garbage, "this is not an ELF file".getBytes(StandardCharsets.US_ASCII));
        Outcome o = probe(garbage.toString());
        assertEquals(3, o.exit(), o.output());
        String message = o.output().substring(o.output().indexOf("MESSAGE "));
        assertTrue(message.contains("could not be loaded"), message);
        assertTrue(message.contains(garbage.toString()), message);
        assertTrue(message.contains("libtorch"), message);
    }

    @Test
    void realLibraryLoadsInAChildFromTheProperty() throws Exception {
        String lib = System.getProperty("projntk.native");
        org.junit.jupiter.api.Assumptions.assumeTrue(lib != null && Files.isRegularFile(Path.of(lib)), "no -Dprojntk.native");
        Outcome o = probe(lib);
        assertEquals(0, o.exit(), o.output());
        assertTrue(o.output().contains("LOADED"), o.output());
    }
}
