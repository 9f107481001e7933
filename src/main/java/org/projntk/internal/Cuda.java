package org.projntk.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.projntk.ProjntkException;
import org.projntk.bindings.cudart_h;

/**
 * The CUDA runtime, cuBLAS and cuRAND, loaded at run time (nothing links against them), plus device buffers.
 *
 * <p>Each library is looked up, in this order, in:
 * <ol>
 *   <li>the directories of system property {@code projntk.cuda.lib} (colon-separated),</li>
 *   <li>the directories of environment variable {@code PROJNTK_CUDA_LIB} (colon-separated),</li>
 *   <li>the NVIDIA wheels of the {@code python3} on PATH: {@code nvidia/*&#47;lib} under each of its site-packages
 *       (this covers both {@code nvidia/cublas/lib} (CUDA 12 wheels) and {@code nvidia/cu13/lib} (CUDA 13 wheels)),</li>
 *   <li>{@code /usr/local/cuda/lib64}.</li>
 * </ol>
 * The libraries are loaded with {@link System#load}; the generated bindings find their symbols through {@link #symbols}.
 * Loading happens once per JVM; {@link #available()} never throws, {@link #require()} explains what was tried.
 *
 * <p>All work goes to the legacy default stream, so a device-to-host {@code cudaMemcpy} waits for every kernel
 * queued before it; nothing here needs an explicit synchronisation for correctness.
 */
public final class Cuda {
    private Cuda() {}

    public static final String PROPERTY = "projntk.cuda.lib";
    public static final String ENV = "PROJNTK_CUDA_LIB";
    static final Path DEFAULT_DIR = Path.of("/usr/local/cuda/lib64");
    /** Loaded in this order; cublasLt is not listed: it is loaded from cublas's directory when it is there. */
    static final List<String> LIBRARIES = List.of("libcudart", "libcublas", "libcurand");
    private static final long PYTHON_TIMEOUT_SECONDS = 15;
    private static final String PYTHON_SITES = "import site, sys\n"
            + "dirs = list(getattr(site, 'getsitepackages', lambda: [])())\n"
            + "dirs.append(site.getusersitepackages())\n"
            + "dirs += [p for p in sys.path if p.endswith(('site-packages', 'dist-packages'))]\n"
            + "print('\\n'.join(dirs))\n";

    private static State state;

    /** The outcome of the one load attempt: either the loaded libraries and device count, or why not. */
    private record State(String problem, Map<String, Path> libraries, int devices, int runtimeVersion) {}

    /** A place libraries are looked for: a label for messages, and its directories (computed on demand). */
    record Source(String label, Supplier<List<Path>> dirs, Supplier<String> detail) {
        Source(String label, Supplier<List<Path>> dirs) {
            this(label, dirs, () -> "");
        }
    }

    /** Where each library was found (name to file), and every location that was looked at, as text. */
    record Discovery(Map<String, Path> found, List<String> searched) {
        List<String> missing() {
            return LIBRARIES.stream().filter(l -> !found.containsKey(l)).toList();
        }
    }

    /** The symbols of the libraries {@link #load} opened (System.load, into this class's loader). */
    static java.lang.foreign.SymbolLookup symbols() {
        return java.lang.foreign.SymbolLookup.loaderLookup();
    }

    /** True when the three libraries load and at least one device is visible. Never throws. */
    public static boolean available() {
        return state().problem() == null;
    }

    /** Why CUDA is not available, or null when it is. */
    public static String unavailableReason() {
        return state().problem();
    }

    /** Throws ProjntkException(UNSUPPORTED) naming every location tried, unless {@link #available()}. */
    public static void require() {
        String problem = state().problem();
        if (problem != null) throw new ProjntkException(ProjntkException.Status.UNSUPPORTED, problem);
    }

    /**
     * Makes GPU {@code ordinal} the calling thread's current device (cudaSetDevice), for the buffers, handles and
     * kernels it makes next.
     *
     * @throws ProjntkException UNSUPPORTED when CUDA is unavailable, INVALID_ARGUMENT naming the ordinal when this
     *         machine has no such GPU
     */
    public static void useDevice(int ordinal) {
        require();
        int devices = state().devices();
        if (ordinal < 0 || ordinal >= devices) {
            throw new ProjntkException(ProjntkException.Status.INVALID_ARGUMENT, "device cuda:" + ordinal
                    + " requested but this machine has " + devices + " CUDA device(s) (ordinals 0.." + (devices - 1) + ")");
        }
        check(cudart_h.cudaSetDevice(ordinal), "cudaSetDevice(" + ordinal + ")");
    }

    /** One line for `projntk version`: runtime version, device count and library paths, or why CUDA is unavailable. */
    public static String describe() {
        State s = state();
        if (s.problem() != null) return "CUDA unavailable: " + s.problem();
        return "CUDA runtime " + s.runtimeVersion() / 1000 + "." + (s.runtimeVersion() % 1000) / 10 + ", "
                + s.devices() + " device(s); " + s.libraries();
    }

    private static synchronized State state() {
        if (state == null) {
            State s;
            try {
                s = load(discover(defaultSources()));
            } catch (RuntimeException | LinkageError e) {
                s = new State("CUDA could not be initialised: " + e, Map.of(), 0, 0);
            }
            state = s;
        }
        return state;
    }

    static List<Source> defaultSources() {
        return sources(System.getProperty(PROPERTY), System.getenv(ENV), "python3", DEFAULT_DIR);
    }

    static List<Source> sources(String property, String env, String python, Path defaultDir) {
        List<Source> out = new ArrayList<>();
        out.add(new Source("-D" + PROPERTY + "=" + (property == null ? "(unset)" : property), () -> splitDirs(property)));
        out.add(new Source(ENV + "=" + (env == null ? "(unset)" : env), () -> splitDirs(env)));
        List<Path> sites = new ArrayList<>();
        out.add(new Source("NVIDIA wheels (nvidia/*/lib) under the site-packages of " + python, () -> {
            sites.addAll(pythonSitePackages(python));
            return nvidiaWheelDirs(sites);
        }, () -> " " + (sites.isEmpty() ? "(none found)" : sites.toString())));
        out.add(new Source("the default location", () -> List.of(defaultDir)));
        return out;
    }

    private static List<Path> splitDirs(String value) {
        List<Path> dirs = new ArrayList<>();
        if (value == null) return dirs;
        for (String part : value.split(":")) {
            if (part.isBlank()) continue;
            Path p = Path.of(part.trim());
            // a file names the directory it is in
            dirs.add(Files.isRegularFile(p) && p.getParent() != null ? p.getParent() : p);
        }
        return dirs;
    }

    /** The site-packages directories of a Python interpreter, or an empty list if it cannot be run in time. */
    static List<Path> pythonSitePackages(String python) {
        Process p;
        try {
            p = new ProcessBuilder(python, "-c", PYTHON_SITES)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
        try {
            if (!p.waitFor(PYTHON_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return List.of();
            }
            if (p.exitValue() != 0) return List.of();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            List<Path> dirs = new ArrayList<>();
            for (String line : text.split("\n")) {
                if (line.isBlank()) continue;
                Path d = Path.of(line.trim());
                if (!dirs.contains(d)) dirs.add(d);
            }
            return dirs;
        } catch (IOException | RuntimeException e) {
            return List.of();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    /** nvidia/NAME/lib and nvidia/NAME/lib64 under each site directory, in name order. */
    static List<Path> nvidiaWheelDirs(List<Path> sites) {
        List<Path> dirs = new ArrayList<>();
        for (Path site : sites) {
            Path nvidia = site.resolve("nvidia");
            if (!Files.isDirectory(nvidia)) continue;
            List<Path> packages = new ArrayList<>();
            try (DirectoryStream<Path> stream = Files.newDirectoryStream(nvidia)) {
                stream.forEach(packages::add);
            } catch (IOException e) {
                continue;
            }
            packages.sort(Comparator.naturalOrder());
            for (Path pkg : packages) {
                for (String lib : List.of("lib", "lib64")) {
                    Path d = pkg.resolve(lib);
                    if (Files.isDirectory(d)) dirs.add(d);
                }
            }
        }
        return dirs;
    }

    /**
     * Looks for each library in the sources, in order, and stops as soon as all are found (so Python is only run
     * when the earlier sources are not enough). Each library comes from the first directory that holds it.
     */
    static Discovery discover(List<Source> sources) {
        Map<String, Path> found = new LinkedHashMap<>();
        List<String> searched = new ArrayList<>();
        for (Source source : sources) {
            if (found.size() == LIBRARIES.size()) break;
            List<Path> dirs = source.dirs().get();
            searched.add(source.label() + source.detail().get() + (dirs.isEmpty() ? " (no directories)" : ": " + dirs));
            for (Path dir : dirs) {
                for (String lib : LIBRARIES) {
                    if (found.containsKey(lib)) continue;
                    Path file = findLibrary(dir, lib);
                    if (file != null) found.put(lib, file);
                }
            }
        }
        return new Discovery(found, searched);
    }

    /** NAME.so or NAME.so.* in dir, preferring the shortest name (the unversioned or major-version link). */
    static Path findLibrary(Path dir, String name) {
        if (!Files.isDirectory(dir)) return null;
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> {
                String n = f.getFileName().toString();
                return (n.equals(name + ".so") || n.startsWith(name + ".so.")) && Files.isRegularFile(f);
            }).min(Comparator.comparingInt((Path f) -> f.getFileName().toString().length())
                    .thenComparing(f -> f.getFileName().toString())).orElse(null);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String howToFix() {
        return " Point -D" + PROPERTY + "=DIR[:DIR] or " + ENV + " at the directories holding libcudart.so, libcublas.so"
                + " and libcurand.so, or install the NVIDIA wheels (nvidia-cuda-runtime, nvidia-cublas, nvidia-curand).";
    }

    static String notFoundMessage(Discovery d) {
        List<String> names = d.missing().stream().map(l -> l + ".so*").toList();
        return "CUDA libraries not found: " + String.join(", ", names) + " (found: " + d.found()
                + "); searched " + String.join("; ", d.searched()) + "." + howToFix();
    }

    /** Loads what discover found, then asks the runtime for a device. Never throws. */
    private static State load(Discovery d) {
        if (!d.missing().isEmpty()) return new State(notFoundMessage(d), Map.of(), 0, 0);
        String loadProblem = loadLibraries(d.found());
        if (loadProblem != null) {
            return new State(loadProblem + "; searched " + String.join("; ", d.searched()) + "." + howToFix(), Map.of(), 0, 0);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            int err = cudart_h.cudaGetDeviceCount(count);
            if (err != cudart_h.cudaSuccess()) {
                String message = errorString(err);
                cudart_h.cudaGetLastError(); // clear it, so that it does not surface at a later call
                return new State("CUDA libraries loaded (" + d.found() + ") but cudaGetDeviceCount failed: " + message
                        + " (cudaError " + err + "); is there a GPU and an NVIDIA driver?", Map.of(), 0, 0);
            }
            int devices = count.get(ValueLayout.JAVA_INT, 0);
            if (devices < 1) {
                return new State("CUDA libraries loaded (" + d.found() + ") but no CUDA device is visible", Map.of(), 0, 0);
            }
            MemorySegment version = arena.allocate(ValueLayout.JAVA_INT);
            int runtime = cudart_h.cudaRuntimeGetVersion(version) == cudart_h.cudaSuccess() ? version.get(ValueLayout.JAVA_INT, 0) : 0;
            return new State(null, Map.copyOf(d.found()), devices, runtime);
        }
    }

    /** System.load each library (cublasLt first when it sits beside cublas); returns a problem or null. */
    static String loadLibraries(Map<String, Path> found) {
        for (String lib : LIBRARIES) {
            Path file = found.get(lib);
            if (lib.equals("libcublas")) {
                // libcublas needs libcublasLt; loading it first from the same directory satisfies that dependency
                // whether or not the directory is on the loader's search path
                Path lt = findLibrary(file.getParent(), "libcublasLt");
                if (lt != null) {
                    String problem = loadOne("libcublasLt", lt);
                    if (problem != null) return problem;
                }
            }
            String problem = loadOne(lib, file);
            if (problem != null) return problem;
        }
        return null;
    }

    private static String loadOne(String lib, Path file) {
        try {
            System.load(file.toAbsolutePath().toString());
            return null;
        } catch (UnsatisfiedLinkError | SecurityException e) {
            return lib + " at " + file + " could not be loaded: " + e.getMessage();
        }
    }

    // ---- status checks (only valid once the libraries are loaded) ----

    /** cudaError != 0 becomes ProjntkException(CUDA) with the runtime's message. */
    public static void check(int err, String what) {
        if (err == cudart_h.cudaSuccess()) return;
        throw new ProjntkException(ProjntkException.Status.CUDA, what + " failed: " + errorString(err) + " (cudaError " + err + ")");
    }

    static String errorString(int err) {
        MemorySegment s = cudart_h.cudaGetErrorString(err);
        if (s == null || s.address() == 0) return "unknown CUDA error";
        return s.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** Waits for all work queued on the device. */
    public static void synchronize() {
        require();
        check(cudart_h.cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    }

    /** Allocates bytes of device memory (at least 1 byte is allocated, so a buffer always has an address). */
    public static DeviceBuffer allocate(long bytes) {
        require();
        return new DeviceBuffer(bytes);
    }

    /** Allocates a device buffer of n floats. */
    public static DeviceBuffer allocateFloats(long n) {
        if (n < 0 || n > Long.MAX_VALUE / Float.BYTES) throw new IllegalArgumentException("bad float count " + n);
        return allocate(n * Float.BYTES);
    }

    /**
     * {@code buffer} when it is open and holds at least n floats; else a new buffer of n floats, after closing
     * {@code buffer} (null: none yet). For scratch buffers that grow with the largest request seen.
     */
    public static DeviceBuffer growFloats(DeviceBuffer buffer, long n) {
        if (buffer != null && !buffer.isClosed() && buffer.floats() >= n) return buffer;
        if (buffer != null) buffer.close();
        return allocateFloats(n);
    }

    /**
     * A cudaMalloc'd buffer. close() is idempotent; any use after close throws IllegalStateException. Host segments
     * may be native or on the heap (heap ones are staged through native memory).
     */
    public static final class DeviceBuffer implements AutoCloseable {
        private final long bytes;
        private MemorySegment pointer;

        private DeviceBuffer(long bytes) {
            if (bytes < 0) throw new IllegalArgumentException("negative device buffer size " + bytes);
            this.bytes = bytes;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                check(cudart_h.cudaMalloc(out, Math.max(1, bytes)), "cudaMalloc of " + bytes + " bytes");
                this.pointer = out.get(ValueLayout.ADDRESS, 0);
            }
        }

        public long byteSize() {
            return bytes;
        }

        public long floats() {
            return bytes / Float.BYTES;
        }

        public synchronized boolean isClosed() {
            return pointer == null;
        }

        /** The device address of [offset, offset+length), bounds-checked. For the internal layer only. */
        synchronized MemorySegment address(long offset, long length) {
            if (pointer == null) throw new IllegalStateException("device buffer is closed");
            if (offset < 0 || length < 0 || offset > bytes - length) {
                throw new IndexOutOfBoundsException("device range [" + offset + ", " + (offset + length)
                        + ") outside a buffer of " + bytes + " bytes");
            }
            return MemorySegment.ofAddress(pointer.address() + offset);
        }

        /** Copies all of src (host) to this buffer at byte offset dstOffset. */
        public void copyFromHost(MemorySegment src, long dstOffset) {
            long n = src.byteSize();
            MemorySegment dst = address(dstOffset, n);
            if (n == 0) return;
            if (src.isNative()) {
                check(cudart_h.cudaMemcpy(dst, src, n, cudart_h.cudaMemcpyHostToDevice()), "copying " + n + " bytes to the device");
            } else {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment staged = arena.allocate(n, 64);
                    staged.copyFrom(src);
                    check(cudart_h.cudaMemcpy(dst, staged, n, cudart_h.cudaMemcpyHostToDevice()), "copying " + n + " bytes to the device");
                }
            }
        }

        /** Fills all of dst (host) from this buffer, starting at byte offset srcOffset. */
        public void copyToHost(long srcOffset, MemorySegment dst) {
            long n = dst.byteSize();
            MemorySegment src = address(srcOffset, n);
            if (n == 0) return;
            if (dst.isReadOnly()) throw new IllegalArgumentException("destination segment is read-only");
            if (dst.isNative()) {
                check(cudart_h.cudaMemcpy(dst, src, n, cudart_h.cudaMemcpyDeviceToHost()), "copying " + n + " bytes from the device");
            } else {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment staged = arena.allocate(n, 64);
                    check(cudart_h.cudaMemcpy(staged, src, n, cudart_h.cudaMemcpyDeviceToHost()), "copying " + n + " bytes from the device");
                    dst.copyFrom(staged);
                }
            }
        }

        /** Sets every byte to zero. */
        public void zero() {
            MemorySegment dst = address(0, bytes);
            check(cudart_h.cudaMemset(dst, 0, Math.max(1, bytes)), "cudaMemset of " + bytes + " bytes");
        }

        @Override
        public synchronized void close() {
            if (pointer == null) return;
            MemorySegment p = pointer;
            pointer = null;
            int err = cudart_h.cudaFree(p);
            // at JVM exit the runtime may already be unloading; the memory goes with the process then
            if (err != cudart_h.cudaErrorCudartUnloading()) check(err, "cudaFree");
        }

        @Override
        public String toString() {
            return "DeviceBuffer[" + bytes + " bytes" + (isClosed() ? ", closed]" : "]");
        }
    }
}
