package org.projntk.internal;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import org.projntk.bindings.projntk_h;

/**
 * The one place that loads native libraries, each with {@link SymbolLookup#libraryLookup} (no class-loader ties), and
 * the symbol source of every generated binding class ({@link #symbols}).
 *
 * <p>libprojntk.so is taken from, in order:
 * <ol>
 *   <li>system property {@code projntk.native} (a file path),</li>
 *   <li>environment variable {@code PROJNTK_NATIVE} (a file path),</li>
 *   <li>the jar: resource {@value #RESOURCE}, extracted once to a versioned cache directory
 *       ({@code projntk.cache} / {@code PROJNTK_CACHE}, else {@code $XDG_CACHE_HOME/projntk} or
 *       {@code ~/.cache/projntk}) named after the library's content hash.</li>
 * </ol>
 * The library carries no path to libtorch when built against Debian's, so the system loader finds libtorch.
 * Once opened, the library must report the ABI version the bindings were generated from; a stale or foreign
 * library is refused with a {@link NativeLibraryException}, before any other call is made.
 *
 * <p>OpenBLAS (for the Gram kernels) is looked up in {@code projntk.blas} / {@code PROJNTK_BLAS}, then Debian's paths.
 */
public final class NativeLibraries {
    private NativeLibraries() {}

    static final String RESOURCE = "/org/projntk/native/linux-x86_64/libprojntk.so";
    private static final SymbolLookup NOTHING = name -> Optional.empty();

    private static SymbolLookup projntk;
    private static Path projntkPath;
    private static SymbolLookup blas;
    private static String blasPath;
    private static boolean blasTried;

    /**
     * The symbols behind a generated binding class (the generator emits a call to this per class). For CUDA, the
     * libraries that {@link Cuda} loaded; a library that is not there gives a lookup that finds nothing, so a call
     * fails with UnsatisfiedLinkError (callers check availability first).
     */
    public static SymbolLookup symbols(String headerClass) {
        return switch (headerClass) {
            case "projntk_h" -> loadProjntk();
            case "cblas_h" -> {
                loadBlas();
                yield blas == null ? NOTHING : blas;
            }
            case "cudart_h", "cublas_h", "curand_h" -> Cuda.symbols();
            default -> throw new IllegalArgumentException("no native library for bindings class " + headerClass);
        };
    }

    /** Loads libprojntk.so once and checks its ABI version; throws with everything that was tried if it cannot. */
    public static synchronized SymbolLookup loadProjntk() {
        if (projntk != null) return projntk;
        List<String> tried = new ArrayList<>();
        Path file = explicitPath("projntk.native", "PROJNTK_NATIVE", tried);
        if (file == null) file = extractFromJar(tried);
        if (file == null) {
            throw new NativeLibraryException("libprojntk.so not found; tried: " + String.join(", ", tried)
                    + ". Use a projntk jar that carries it (`make install`), or point -Dprojntk.native / PROJNTK_NATIVE"
                    + " at one built with `make native`.", null);
        }
        keepUcxOffJvmSignals();
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(file, Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException e) {
            throw new NativeLibraryException("libprojntk.so at " + file + " could not be loaded: " + loaderDiagnostic(file, e)
                    + " (is libtorch installed, and is it the version this library was built against? `make deps` installs"
                    + " Debian's libtorch-dev 1.13; see README 'How libtorch is found')", e);
        }
        checkAbi(lookup, file);
        projntk = lookup;
        projntkPath = file;
        Runtime.getRuntime().addShutdownHook(new Thread(NativeLibraries::quiesceForExit, "projntk-quiesce"));
        return lookup;
    }

    /** How long the JVM's exit waits for native calls already running (a training step, a batch's gradients). */
    static final long EXIT_WAIT_MILLIS = 10_000;

    /**
     * The shutdown hook: exit() runs libtorch's and oneDNN's static destructors, and a thread still inside libtorch
     * then crashes the JVM (SIGSEGV in libdnnl when Ctrl-C stops a training run). Later native calls fail with
     * {@code EXITING}, and the exit waits for the running ones to return.
     */
    static void quiesceForExit() {
        int status = projntk_h.projntk_quiesce(EXIT_WAIT_MILLIS, MemorySegment.NULL);
        if (status != projntk_h.PROJNTK_OK()) System.err.println("projntk: projntk_quiesce failed with status " + status);
    }

    /**
     * libtorch builds linked with MPI (Debian 13's libtorch 2.6 is) load UCX, whose library constructor installs
     * handlers for SIGSEGV, SIGBUS, SIGILL and SIGFPE. The JVM raises SIGSEGV on purpose (implicit null checks,
     * safepoint polls) and handles it itself; UCX's handler takes it first and kills the process. UCX reads
     * {@code UCX_ERROR_SIGNALS} when it loads, so it is set to the empty list (no signals) before libtorch is loaded,
     * unless the user set it. This is the one process-wide setting the library makes; it is documented in the README.
     */
    static void keepUcxOffJvmSignals() {
        if (System.getenv("UCX_ERROR_SIGNALS") != null) return;
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle setenv = linker.downcallHandle(linker.defaultLookup().find("setenv").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            try (Arena arena = Arena.ofConfined()) {
                int rc = (int) setenv.invokeExact(arena.allocateFrom("UCX_ERROR_SIGNALS"), arena.allocateFrom(""), 0);
                if (rc != 0) throw new IllegalStateException("setenv returned " + rc);
            }
        } catch (Throwable e) {
            throw new NativeLibraryException("cannot set UCX_ERROR_SIGNALS before loading libtorch (set it to an empty"
                    + " value in the environment): " + e, e);
        }
    }

    /** Where libprojntk.so was loaded from (loading it if needed). */
    public static synchronized Path projntkPath() {
        loadProjntk();
        return projntkPath;
    }

    /**
     * libraryLookup only says that dlopen failed; System.load of the same file fails the same way but carries the
     * loader's reason (a missing libtorch.so, an undefined symbol of another libtorch version).
     */
    private static String loaderDiagnostic(Path file, RuntimeException failure) {
        try {
            System.load(file.toAbsolutePath().toString());
            return failure.getMessage();
        } catch (UnsatisfiedLinkError e) {
            return e.getMessage();
        }
    }

    private static void checkAbi(SymbolLookup lookup, Path file) {
        int expected = projntk_h.PROJNTK_ABI_VERSION();
        MemorySegment symbol = lookup.find("projntk_abi_version").orElseThrow(() -> new NativeLibraryException(
                file + " is not a projntk library of ABI version " + expected + " (it has no projntk_abi_version):"
                        + " a stale or foreign libprojntk.so; rebuild it with `make native`", null));
        MethodHandle abi = Linker.nativeLinker().downcallHandle(symbol,
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        int actual;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            int status = (int) abi.invokeExact(out);
            if (status != 0) throw new NativeLibraryException(file + ": projntk_abi_version failed with status " + status, null);
            actual = out.get(ValueLayout.JAVA_INT, 0);
        } catch (NativeLibraryException e) {
            throw e;
        } catch (Throwable e) {
            throw new NativeLibraryException(file + ": calling projntk_abi_version failed: " + e, e);
        }
        if (actual != expected) {
            throw new NativeLibraryException(file + " has ABI version " + actual + " but this projntk jar needs " + expected
                    + ": the library and the jar come from different builds (a stale -Dprojntk.native / PROJNTK_NATIVE?)", null);
        }
    }

    private static Path explicitPath(String property, String env, List<String> tried) {
        for (String value : new String[] {System.getProperty(property), System.getenv(env)}) {
            if (value == null || value.isBlank()) continue;
            Path path = Path.of(value);
            if (!Files.isRegularFile(path)) {
                String origin = value.equals(System.getProperty(property)) ? "-D" + property : env;
                throw new NativeLibraryException("libprojntk.so not found at " + path.toAbsolutePath() + " (from " + origin
                        + "); build it with `make native` or unset " + origin, null);
            }
            tried.add(path.toString());
            return path;
        }
        return null;
    }

    /**
     * Copies the jar's library to {@code CACHE/<version>-<sha256 prefix>/libprojntk.so} unless an identical copy is
     * there. The copy is written to a unique temporary file in that directory and renamed into place atomically, so
     * JVMs starting together never load a half-written file; whichever rename lands last leaves the same bytes.
     */
    static Path extractFromJar(List<String> tried) {
        tried.add("jar resource " + RESOURCE);
        byte[] bytes;
        try (InputStream in = NativeLibraries.class.getResourceAsStream(RESOURCE)) {
            if (in == null) return null;
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new NativeLibraryException("reading " + RESOURCE + " from the projntk jar: " + e.getMessage(), e);
        }
        String hash = sha256(bytes).substring(0, 16);
        Path dir = cacheRoot().resolve(projntkVersion() + "-" + hash);
        Path target = dir.resolve("libprojntk.so");
        try {
            if (Files.isRegularFile(target) && sha256(Files.readAllBytes(target)).startsWith(hash)) return target;
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "libprojntk-", ".so.tmp");
            try {
                Files.write(tmp, bytes);
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    throw new IOException("the cache directory " + dir + " does not support atomic rename", e);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new NativeLibraryException("extracting libprojntk.so to " + dir + ": " + e.getMessage()
                    + " (set -Dprojntk.cache or PROJNTK_CACHE to a writable directory)", e);
        }
    }

    static Path cacheRoot() {
        String property = System.getProperty("projntk.cache");
        if (property != null && !property.isBlank()) return Path.of(property);
        String env = System.getenv("PROJNTK_CACHE");
        if (env != null && !env.isBlank()) return Path.of(env);
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) return Path.of(xdg, "projntk");
        return Path.of(System.getProperty("user.home"), ".cache", "projntk");
    }

    private static String projntkVersion() {
        String v = NativeLibraries.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Loads OpenBLAS once; returns its path, or null if none was found (callers fall back to Java). */
    public static synchronized String loadBlas() {
        if (blasTried) return blasPath;
        blasTried = true;
        for (Path candidate : blasCandidates()) {
            if (!Files.isRegularFile(candidate)) continue;
            try {
                blas = SymbolLookup.libraryLookup(candidate, Arena.global());
                blasPath = candidate.toString();
                return blasPath;
            } catch (IllegalArgumentException ignored) {
                // try the next candidate
            }
        }
        return null;
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

    /** Thrown when a required native library is missing, fails to load, or is not the version this jar needs. */
    public static final class NativeLibraryException extends org.projntk.ProjntkException {
        NativeLibraryException(String message, Throwable cause) {
            super(Status.UNSUPPORTED, message, cause);
        }
    }
}
