package org.projntk.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place that loads native libraries. libprojntk.so carries an rpath to the libtorch it was built against, so
 * loading it loads libtorch too. Search order for libprojntk.so:
 * <ol>
 *   <li>system property {@code projntk.native} (a file path),</li>
 *   <li>environment variable {@code PROJNTK_NATIVE} (a file path),</li>
 *   <li>{@code native/libprojntk.so} next to the directory of the projntk jar (the device bundle layout),</li>
 *   <li>{@code build/native/libprojntk.so} under the working directory and its parents (a source checkout).</li>
 * </ol>
 * OpenBLAS (for the Gram kernels) is looked up in {@code projntk.blas} / {@code PROJNTK_BLAS}, then Debian's paths.
 */
public final class NativeLibraries {
    private NativeLibraries() {}

    private static volatile boolean projntkLoaded;
    private static volatile String blasPath;
    private static volatile boolean blasTried;

    /** Loads libprojntk.so once; throws with everything that was tried if it cannot. */
    public static synchronized void loadProjntk() {
        if (projntkLoaded) return;
        List<String> tried = new ArrayList<>();
        for (Path candidate : projntkCandidates()) {
            tried.add(candidate.toString());
            if (!Files.isRegularFile(candidate)) continue;
            try {
                System.load(candidate.toAbsolutePath().toString());
                projntkLoaded = true;
                return;
            } catch (UnsatisfiedLinkError e) {
                throw new NativeLibraryException("libprojntk.so at " + candidate + " could not be loaded: " + e.getMessage()
                        + " (is libtorch installed? `make deps` installs Debian's libtorch-dev; see README 'How libtorch is found')", e);
            }
        }
        throw new NativeLibraryException("libprojntk.so not found; tried: " + String.join(", ", tried)
                + ". Build it with `make native`, or point -Dprojntk.native / PROJNTK_NATIVE at it.", null);
    }

    /** Loads OpenBLAS once; returns its path, or null if none was found (callers fall back to Java). */
    public static synchronized String loadBlas() {
        if (blasTried) return blasPath;
        blasTried = true;
        for (Path candidate : blasCandidates()) {
            if (!Files.isRegularFile(candidate)) continue;
            try {
                System.load(candidate.toAbsolutePath().toString());
                blasPath = candidate.toString();
                return blasPath;
            } catch (UnsatisfiedLinkError ignored) {
                // try the next candidate
            }
        }
        return null;
    }

    private static List<Path> projntkCandidates() {
        List<Path> out = new ArrayList<>();
        String property = System.getProperty("projntk.native");
        if (property != null && !property.isBlank()) out.add(Path.of(property));
        String env = System.getenv("PROJNTK_NATIVE");
        if (env != null && !env.isBlank()) out.add(Path.of(env));
        try {
            var location = NativeLibraries.class.getProtectionDomain().getCodeSource().getLocation();
            Path jarDir = Path.of(location.toURI()).getParent();
            if (jarDir != null) out.add(jarDir.resolve("native/libprojntk.so"));
            if (jarDir != null && jarDir.getParent() != null) out.add(jarDir.getParent().resolve("build/native/libprojntk.so"));
        } catch (Exception ignored) {
            // no code source (e.g. embedded): skip this candidate
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            out.add(dir.resolve("build/native/libprojntk.so"));
        }
        return out;
    }

    private static List<Path> blasCandidates() {
        List<Path> out = new ArrayList<>();
        String property = System.getProperty("projntk.blas");
        if (property != null && !property.isBlank()) out.add(Path.of(property));
        String env = System.getenv("PROJNTK_BLAS");
        if (env != null && !env.isBlank()) out.add(Path.of(env));
        out.add(Path.of("/usr/lib/x86_64-linux-gnu/libopenblas.so.0"));
        out.add(Path.of("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"));
        out.add(Path.of("/usr/lib/x86_64-linux-gnu/libopenblas.so"));
        out.add(Path.of("/usr/lib64/libopenblas.so.0"));
        return out;
    }

    /** Thrown when a required native library is missing or fails to load. */
    public static final class NativeLibraryException extends org.projntk.ProjntkException {
        NativeLibraryException(String message, Throwable cause) {
            super(Status.UNSUPPORTED, message, cause);
        }
    }
}
