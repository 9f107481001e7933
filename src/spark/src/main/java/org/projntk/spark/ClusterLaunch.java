package org.projntk.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkFiles;
import org.apache.spark.api.java.JavaSparkContext;
import org.projntk.data.DatasetSpec;
import org.projntk.store.FeatureStore;

/**
 * What a job needs to run on a cluster as given, where executors share nothing with the driver but a filesystem:
 * <ul>
 * <li>{@link #configure}: the jars (this module, the core with its native library, picocli) in {@code spark.jars},
 * and the environment that matters (dataset root, native cache, native library, loader path) in
 * {@code spark.executorEnv.*}, each only where the configuration does not set it already;</li>
 * <li>{@link #absoluteDataset} and absolute output paths: executors resolve no path against the driver's working
 * directory;</li>
 * <li>{@link #shipModel} and {@link #localModel}: a model file goes out with Spark's file distribution, and a task
 * loads it from its node's copy when the driver's path does not exist there;</li>
 * <li>{@link #checkSharedFolder}: the driver writes a probe file into the output folder and tasks read it back, so
 * that a folder the executors do not see stops the job at start with one line.</li>
 * </ul>
 */
public final class ClusterLaunch {
    /** Environment variables the executors get from the driver when set there (as absolute paths where they are paths). */
    static final List<String> FORWARDED_ENV = List.of(DatasetSpec.FASHION_MNIST_ENV, "PROJNTK_CACHE", "PROJNTK_NATIVE", "LD_LIBRARY_PATH");

    private ClusterLaunch() {}

    /** The jars executors need, from where the driver loaded the classes: this module, the core, picocli. */
    public static List<Path> jars() {
        Set<Path> out = new LinkedHashSet<>();
        for (Class<?> c : List.of(ClusterLaunch.class, FeatureStore.class, picocli.CommandLine.class)) {
            Path p = location(c);
            if (!Files.isRegularFile(p)) {
                throw new IllegalStateException("executors need jars, but " + c.getName() + " was loaded from " + p
                        + " (not a jar): put the core and spark module jars on the class path (make spark-jar; bin/projntk-spark does)");
            }
            out.add(p);
            if (c == FeatureStore.class) out.addAll(coreLibraries(p));
        }
        return List.copyOf(out);
    }

    /**
     * The core jar's own dependencies that Spark does not bring (its manifest's {@code Class-Path}, e.g. the tokenizer
     * for text datasets), where they exist next to it; not Jackson or SLF4J, whose versions Spark's own jars set.
     */
    static List<Path> coreLibraries(Path coreJar) {
        List<Path> out = new ArrayList<>();
        try (java.util.jar.JarFile jar = new java.util.jar.JarFile(coreJar.toFile())) {
            java.util.jar.Manifest m = jar.getManifest();
            String cp = m == null ? null : m.getMainAttributes().getValue("Class-Path");
            if (cp == null) return out;
            for (String entry : cp.trim().split("\\s+")) {
                Path lib = coreJar.resolveSibling(entry).normalize();
                String name = lib.getFileName().toString();
                if (name.startsWith("jackson-") || name.startsWith("slf4j-") || name.startsWith("picocli-") || !Files.isRegularFile(lib)) continue;
                out.add(lib);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading the manifest of " + coreJar + ": " + e.getMessage(), e);
        }
        return out;
    }

    private static Path location(Class<?> c) {
        CodeSource source = c.getProtectionDomain().getCodeSource();
        if (source == null) throw new IllegalStateException("cannot tell where " + c.getName() + " was loaded from");
        try {
            return Path.of(source.getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("bad class location of " + c.getName() + ": " + source.getLocation(), e);
        }
    }

    /** Whether the master runs everything in this JVM ({@code local}, {@code local[N]}, {@code local[N,F]}). */
    public static boolean isLocal(SparkConf conf) {
        return conf.get("spark.master", "").startsWith("local");
    }

    /**
     * Adds the jars and the executor environment to a cluster application's configuration (left unchanged in local
     * mode, where executors are this JVM). Keys the configuration already sets win; jars already listed (by file
     * name, e.g. by spark-submit's --jars) are not listed twice.
     */
    public static SparkConf configure(SparkConf conf) {
        if (isLocal(conf)) return conf;
        List<String> jars = new ArrayList<>(Arrays.asList(conf.get("spark.jars", "").split(",")));
        jars.removeIf(String::isBlank);
        Set<String> names = new LinkedHashSet<>();
        for (String j : jars) names.add(j.substring(j.lastIndexOf('/') + 1));
        String primary = conf.get("spark.app.jar", null);   // spark-submit's application jar
        if (primary != null) names.add(primary.substring(primary.lastIndexOf('/') + 1));
        for (Path jar : jars()) if (names.add(jar.getFileName().toString())) jars.add(jar.toString());
        conf.set("spark.jars", String.join(",", jars));
        for (String name : FORWARDED_ENV) {
            String value = name.equals("PROJNTK_NATIVE") ? System.getProperty("projntk.native", System.getenv(name)) : System.getenv(name);
            if (value == null || value.isBlank() || conf.contains("spark.executorEnv." + name)) continue;
            conf.set("spark.executorEnv." + name, name.equals("LD_LIBRARY_PATH") ? value : Path.of(value).toAbsolutePath().toString());
        }
        String opts = conf.get("spark.executor.extraJavaOptions", "");
        if (!opts.contains("--enable-native-access")) {
            conf.set("spark.executor.extraJavaOptions", (opts + " --enable-native-access=ALL-UNNAMED").strip());
        }
        return conf;
    }

    /** A dataset spec with every file or folder in it made absolute (fashion-mnist's root comes from the environment). */
    public static String absoluteDataset(String spec) {
        DatasetSpec d = DatasetSpec.parse(spec);
        DatasetSpec abs = switch (d.kind()) {
            case FASHION_MNIST -> d;
            case IDX -> new DatasetSpec(d.kind(), abs(d.first()), abs(d.second()), d.start(), d.end());
            case CIFAR10 -> new DatasetSpec(d.kind(), abs(d.first()), d.second(), d.start(), d.end());
            case NPY -> new DatasetSpec(d.kind(), String.join(",", Arrays.stream(d.first().split(",")).map(ClusterLaunch::abs).toList()),
                    abs(d.second()), d.start(), d.end());
            case TEXT -> {
                int comma = d.second().lastIndexOf(',');
                yield new DatasetSpec(d.kind(), abs(d.first()), abs(d.second().substring(0, comma)) + d.second().substring(comma), d.start(), d.end());
            }
        };
        return abs.toString();
    }

    private static String abs(String path) {
        return Path.of(path).toAbsolutePath().normalize().toString();
    }

    /**
     * A model spec as the job records it: {@code builtin:NAME} as is, a file as its absolute path; on a cluster the
     * file is also added to Spark's distributed files, for nodes that do not see the driver's path.
     */
    public static String shipModel(JavaSparkContext sc, String spec) {
        if (spec.startsWith("builtin:")) return spec;
        Path file = Path.of(spec).toAbsolutePath().normalize();
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("model file not found: " + file);
        if (!sc.isLocal()) sc.addFile(file.toString());
        return file.toString();
    }

    /** On an executor: the model file at the driver's path when this node sees it, else this node's distributed copy. */
    static Path localModel(String spec) {
        Path file = Path.of(spec);
        if (Files.isRegularFile(file)) return file;
        Path copy = Path.of(SparkFiles.get(file.getFileName().toString()));
        if (!Files.isRegularFile(copy)) {
            throw new IllegalStateException("model file " + spec + " is neither on this node nor among the job's distributed files");
        }
        return copy;
    }

    /**
     * Stops the job at start when the executors do not see {@code folder} (created if missing): the driver writes a
     * probe file with a random token there, and tasks (one per task slot) read it back. Skipped in local mode.
     *
     * @throws IllegalStateException with one line naming the folder and the host that did not see it
     */
    public static void checkSharedFolder(JavaSparkContext sc, Path folder) {
        if (sc.isLocal()) return;
        Path dir = folder.toAbsolutePath().normalize();
        String token = UUID.randomUUID().toString();
        Path probe = dir.resolve(".projntk-probe-" + token);
        try {
            Files.createDirectories(dir);
            Files.writeString(probe, token, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("writing the probe file " + probe + ": " + e.getMessage(), e);
        }
        try {
            String path = probe.toString();
            int slots = Math.max(1, sc.defaultParallelism());
            List<Integer> tasks = new ArrayList<>();
            for (int i = 0; i < slots; i++) tasks.add(i);
            List<String> misses = sc.parallelize(tasks, slots).map(i -> {
                Path p = Path.of(path);
                String seen = Files.isRegularFile(p) ? Files.readString(p, StandardCharsets.UTF_8) : null;
                return token.equals(seen) ? "" : java.net.InetAddress.getLocalHost().getHostName();
            }).filter(h -> !h.isEmpty()).collect();
            if (!misses.isEmpty()) {
                throw new IllegalStateException("the output folder " + dir + " is not visible to the executors (the driver's probe file was not"
                        + " found on " + String.join(", ", new LinkedHashSet<>(misses)) + "): put it on a filesystem every node mounts at the same path");
            }
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException ignored) {
                // a leftover probe file is harmless
            }
        }
    }
}
