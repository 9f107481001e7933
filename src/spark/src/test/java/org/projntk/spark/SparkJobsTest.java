package org.projntk.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.projntk.project.Projection;
import org.projntk.featurize.Kernel;
import org.projntk.featurize.Featurize;
import org.projntk.data.DatasetSpec;
import org.projntk.data.Npy;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.featurize.Featurizer;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.TopK;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.store.CheckpointWriter;
import org.projntk.store.FeatureStore;
import org.projntk.store.ProjectorInfo;
import org.projntk.store.SplitInfo;
import org.projntk.store.StoreSpec;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;

import picocli.CommandLine;

/**
 * Spark jobs in local mode against the single-process library on a few hundred Fashion-MNIST rows: the stores,
 * kernels and top-k files must be identical byte for byte, also when the first attempt of a task dies mid-write.
 */
class SparkJobsTest {
    static final int TRAIN = 320;
    static final int TEST = 96;
    static final int TILE = 128;

    static Path root;
    static Path reference;
    static double referenceSeconds;
    /** One context for all tests (a Spark start costs seconds, minutes on a loaded machine). local[N,F]: N threads and
     *  F attempts per task (plain local[N] never retries). */
    static SparkSession session;
    static JavaSparkContext sc;
    static double sparkStartSeconds;

    static FeaturizeConfig config(Path out) {
        Map<String, String> splits = new LinkedHashMap<>();
        splits.put("train", "fashion-mnist:train[0:" + TRAIN + "]");
        splits.put("test", "fashion-mnist:test[0:" + TEST + "]");
        return Featurize.of("builtin:cnn-fmnist").modelSeed(3).checkpoint("ck0").split("train", splits.get("train"))
                .split("test", splits.get("test")).kernel(Kernel.TRNTK).projection(Projection.rademacher(64).seed(5)).batchSize(16)
                .into(out).config();
    }


    @BeforeAll
    static void singleProcessReference() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(DatasetSpec.fashionMnistRoot()), "Fashion-MNIST not installed");
        root = Files.createTempDirectory("projntk-spark-test");
        reference = root.resolve("single");
        long t0 = System.nanoTime();
        Featurizer.Result r = Featurizer.run(config(reference), (split, done, total, thisRun, seconds) -> {});
        referenceSeconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(r.complete());
        assertEquals(TRAIN + TEST, r.rowsComputed());
        long t1 = System.nanoTime();
        session = LocalSpark.start();
        sc = JavaSparkContext.fromSparkContext(session.sparkContext());
        sparkStartSeconds = (System.nanoTime() - t1) / 1e9;
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (session != null) session.stop();
        if (root == null) return;
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }

    /** Every file of both trees (relative paths) with the same bytes. */
    static void assertSameTree(Path expected, Path actual) throws IOException {
        List<Path> want = files(expected);
        assertEquals(want, files(actual), "file lists differ");
        assertTrue(want.size() > 20, "the store should hold features, bitmaps and a manifest: " + want);
        for (Path rel : want) {
            assertArrayEquals(Files.readAllBytes(expected.resolve(rel)), Files.readAllBytes(actual.resolve(rel)), rel + " differs");
        }
    }

    static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(dir::relativize).sorted().toList();
        }
    }

    @Test
    void featurizeGramAndSimilarEqualTheSingleProcessRuns() throws IOException {
        Path store = root.resolve("spark");
        long loadsBefore = ModelPool.loads();
        SparkFeaturize.Result r = SparkFeaturize.run(sc, config(store), 8);
        assertTrue(r.complete());
        assertEquals(TRAIN + TEST, r.rowsDone());
        assertEquals(TRAIN + TEST, r.rowsComputed());
        assertTrue(ModelPool.loads() - loadsBefore <= 2, "8 tasks on 2 slots loaded " + (ModelPool.loads() - loadsBefore) + " models");
        System.out.printf(Locale.ROOT, "[overhead] featurize %d rows cnn-fmnist trntk K=64: single process %.2f s, spark local[2] 8 partitions"
                + " %.2f s (ratio %.2f), SparkContext start %.2f s%n",
                TRAIN + TEST, referenceSeconds, r.seconds(), r.seconds() / referenceSeconds, sparkStartSeconds);
        assertSameTree(reference, store);

        for (KernelNormalization norm : KernelNormalization.values()) {
            Path sparkGram = root.resolve("gram-" + norm + ".npy");
            SparkKernels.GramResult g = SparkKernels.gram(sc, store).rows("train").cols("test").normalization(norm).tile(TILE).write(sparkGram);
            assertEquals((TRAIN / TILE + 1) * (TEST / TILE + 1), g.tiles());
            long t1 = System.nanoTime();
            Path single = singleProcessGram(reference, "train", "test", norm, TILE);
            double singleSeconds = (System.nanoTime() - t1) / 1e9;
            System.out.printf(Locale.ROOT, "[overhead] gram %s [%d x %d]: single process %.3f s, spark %.3f s (%d tiles)%n",
                    norm, TRAIN, TEST, singleSeconds, g.seconds(), g.tiles());
            assertArrayEquals(Files.readAllBytes(single), Files.readAllBytes(sparkGram), "gram " + norm);
        }

        Path sparkSimilar = root.resolve("similar-spark");
        SparkKernels.SimilarResult s = SparkKernels.similar(sc, store).train("train").test("test").k(7).tile(64).write(sparkSimilar);
        assertEquals(2 * 5, s.tiles());
        long t2 = System.nanoTime();
        Path single = singleProcessSimilar(reference, 7, 64);
        double singleSeconds = (System.nanoTime() - t2) / 1e9;
        System.out.printf(Locale.ROOT, "[overhead] similar top-7: single process %.3f s, spark %.3f s%n", singleSeconds, s.seconds());
        assertEquals(1 + TEST * 7, Files.readAllLines(s.csv()).size());
        assertEquals(Files.readString(single), Files.readString(s.csv()));
    }

    @Test
    void jobBuildersRefuseBadSettingsNamingTheField() {
        Path store = root.resolve("unused");
        Path out = root.resolve("unused.npy");
        java.util.Map<String, org.junit.jupiter.api.function.Executable> cases = new java.util.LinkedHashMap<>();
        cases.put("rows must name a split, got null", () -> SparkKernels.gram(sc, store).rows(null).write(out));
        cases.put("cols must name a split, got ", () -> SparkKernels.gram(sc, store).cols("").write(out));
        cases.put("normalization must be set, got null", () -> SparkKernels.gram(sc, store).normalization(null).write(out));
        cases.put("tile must be >= 1, got 0", () -> SparkKernels.gram(sc, store).tile(0).write(out));
        cases.put("partitions must be >= 0, got -1", () -> SparkKernels.gram(sc, store).partitions(-1).write(out));
        cases.put("k must be >= 1, got 0", () -> SparkKernels.similar(sc, store).k(0).write(out));
        cases.put("trainSplit must name a split, got null", () -> SparkKernels.similar(sc, store).train(null).write(out));
        cases.put("tile must be >= 1, got -4", () -> SparkKernels.similar(sc, store).tile(-4).write(out));
        cases.put("partitions must be >= 0, got -2", () -> SparkKernels.similar(sc, store).partitions(-2).write(out));
        for (var c : cases.entrySet()) {
            assertEquals(c.getKey(), org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, c.getValue()).getMessage());
        }
    }

    @Test
    void aFirstAttemptKilledMidWriteStillGivesTheIdenticalStore() throws IOException {
        Path store = root.resolve("spark-retried");
        int before = FailureInjection.INJECTED.get();
        sc.setLocalProperty(SparkFeaturize.FAIL_FIRST_ATTEMPT, "1");
        try {
            SparkFeaturize.Result r = SparkFeaturize.run(sc, config(store), 4);
            assertEquals(1, FailureInjection.INJECTED.get() - before, "attempt 0 of partition 1 should have failed once");
            assertTrue(r.complete());
            assertEquals(TRAIN + TEST, r.rowsDone());
            assertEquals(TRAIN + TEST - 16, r.rowsComputed(), "the failed attempt's first batch is kept, not recomputed");
        } finally {
            sc.setLocalProperty(SparkFeaturize.FAIL_FIRST_ATTEMPT, null);
        }
        assertSameTree(reference, store);
    }

    @Test
    void sparkCommandRunsThroughPicocli() throws IOException {
        Path store = root.resolve("spark-cli");
        StringWriter out = new StringWriter();
        // the CLI's command model (its enum spellings, ranges and exit codes), as SparkCommand.main runs it
        CommandLine cli = org.projntk.cli.Main.commandLine();
        cli.setOut(new PrintWriter(out));
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        // the command takes the JVM's default session (and leaves it running)
        int code = cli.execute("spark", "featurize", "--master", "local[2]", "--partitions", "3",
                "--model", "builtin:cnn-fmnist", "--model-seed", "3", "--checkpoint", "ck0", "--train", "fashion-mnist:train[0:" + TRAIN + "]",
                "--test", "fashion-mnist:test[0:" + TEST + "]", "--kernel", "trntk", "--dim", "64", "--seed", "5", "--batch", "16", "--out", store.toString());
        assertEquals(0, code, out + "" + err);
        assertTrue(out.toString().contains((TRAIN + TEST) + " rows done"), out.toString());
        assertSameTree(reference, store);

        assertFalse(sc.sc().isStopped());

        assertEquals(2, cli.execute("spark", "gram", "--out", root.resolve("x.npy").toString()));
        assertTrue(err.toString().contains("--store"), err.toString());
    }

    /** Every numeric option of every spark command (seeds and model ids take any value) rejects -1 as a usage error. */
    @Test
    void numericOptionsOutOfRangeExitTwo() {
        picocli.CommandLine spark = org.projntk.cli.Main.commandLine().getSubcommands().get("spark");
        int walked = 0;
        for (var sub : spark.getSubcommands().entrySet()) {
            for (var o : sub.getValue().getCommandSpec().options()) {
                Class<?> t = o.type();
                boolean numeric = t == int.class || t == long.class || t == double.class || t == Integer.class || t == Long.class || t == Double.class;
                if (!numeric || o.longestName().matches("--seed|--model-seed|--model-id")) continue;
                java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
                int code = org.projntk.cli.Main.run(new String[] {"spark", sub.getKey(), o.longestName(), "-1"},
                        new java.io.PrintStream(java.io.OutputStream.nullOutputStream()), new java.io.PrintStream(err));
                List<String> lines = err.toString().strip().lines().toList();
                assertEquals(2, code, sub.getKey() + " " + o.longestName() + ": " + err);
                assertEquals(1, lines.size(), err.toString());
                assertTrue(lines.get(0).contains("option '" + o.longestName() + "'") && lines.get(0).contains("must be ") && lines.get(0).contains(">= "), lines.get(0));
                walked++;
            }
        }
        assertTrue(walked >= 10, walked + " options walked");
    }

    /** Through the CLI's error handling: inputs checked on the driver, and a task's failure told as its root cause, in one line. */
    @Test
    void badInputsAndTaskFailuresAreOneLine() throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(), err = new java.io.ByteArrayOutputStream();
        Path file = root.resolve("a-regular-file");
        Files.writeString(file, "x");
        int code = org.projntk.cli.Main.run(new String[] {"spark", "featurize", "--master", "local[2]", "--model", "builtin:cnn-fmnist",
                "--train", "fashion-mnist:train[0:8]", "--dim", "8", "--out", file.toString()}, new java.io.PrintStream(out), new java.io.PrintStream(err));
        assertEquals(1, code, err.toString());
        assertEquals(List.of("projntk spark featurize: the output " + file + " is not a directory (a feature store is a folder)"),
                err.toString().strip().lines().toList());

        Path damaged = root.resolve("damaged");
        for (Path rel : files(reference)) {
            Files.createDirectories(damaged.resolve(rel).getParent());
            Files.copy(reference.resolve(rel), damaged.resolve(rel));
        }
        Path feature = damaged.resolve("ck0/test.class4.npy");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(feature.toFile(), "rw")) {
            f.seek(f.length() - 5);
            int b = f.read();
            f.seek(f.length() - 5);
            f.write(b ^ 0x08);
        }
        err.reset();
        code = org.projntk.cli.Main.run(new String[] {"spark", "gram", "--master", "local[2]", "--store", damaged.toString(), "--rows", "test",
                "--cols", "train", "--out", root.resolve("damaged.npy").toString()}, new java.io.PrintStream(out), new java.io.PrintStream(err));
        assertEquals(1, code, err.toString());
        List<String> lines = err.toString().strip().lines().toList();
        assertEquals(1, lines.size(), err.toString());
        assertTrue(lines.get(0).startsWith("projntk spark gram: checksum mismatch in " + feature + ", batch rows [80, 96)"), lines.get(0));
    }

    /**
     * A pNTK store of random features big enough for several default (1024) tiles: spark gram and similar with the
     * default tile give the single-process files, whose own tiles are the same.
     */
    @Test
    void gramAndSimilarAtTheDefaultTileOverSeveralTiles() throws IOException {
        Path store = root.resolve("synthetic");
        int train = 2100, test = 1030, dim = 24;
        Map<String, SplitInfo> splits = new LinkedHashMap<>();
        splits.put("train", SplitInfo.of("synthetic:train", 0, train));
        splits.put("test", SplitInfo.of("synthetic:test", 0, test));
        ProjectorSpec p = new ProjectorSpec(ProjectorKind.RADEMACHER, 1000, dim, 1, 0, 2, false, true, false, Device.CPU);
        FeatureStore fs = FeatureStore.openOrCreate(store, new StoreSpec(ProjectorInfo.of(p), "pntk", 1, "float32", splits));
        CheckpointWriter writer = fs.checkpoint("ck0", "synthetic", "sha256:0");
        java.util.Random random = new java.util.Random(9);
        for (var e : splits.entrySet()) {
            int rows = (int) e.getValue().rows();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment features = arena.allocate(ValueLayout.JAVA_FLOAT, (long) rows * dim);
                for (long i = 0; i < (long) rows * dim; i++) features.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
                writer.writeRows(e.getKey(), 0, rows, features);
            }
        }
        assertTrue(writer.markComplete());
        for (KernelNormalization norm : KernelNormalization.values()) {
            Path sparkGram = root.resolve("synthetic-gram-" + norm + ".npy");
            SparkKernels.GramResult g = SparkKernels.gram(sc, store).rows("train").cols("test").normalization(norm).write(sparkGram);
            assertEquals(3 * 2, g.tiles());
            assertArrayEquals(Files.readAllBytes(singleProcessGram(store, "train", "test", norm, Gram.DEFAULT_TILE)), Files.readAllBytes(sparkGram),
                    "gram " + norm);
        }
        SparkKernels.SimilarResult s = SparkKernels.similar(sc, store).train("train").test("test").k(5).normalization(KernelNormalization.COSINE)
                .write(root.resolve("synthetic-similar"));
        assertEquals(2 * 3, s.tiles());
        assertEquals(Files.readString(singleProcessSimilar(store, 5, Gram.DEFAULT_TILE)), Files.readString(s.csv()));
    }

    static List<FeatureMatrix> operand(Path store, String split) {
        var s = org.projntk.store.FeatureStore.open(store);
        List<FeatureMatrix> out = new ArrayList<>();
        for (int c = 0; c < s.manifest().outputs(); c++) {
            var m = s.features("ck0", split, s.manifest().outputs() == 1 ? null : c);
            out.add(new FeatureMatrix() {
                @Override
                public long rows() {
                    return m.rows();
                }

                @Override
                public int dim() {
                    return m.dim();
                }

                @Override
                public java.lang.foreign.MemorySegment rows(long start, int count) {
                    return m.rows(start, count);
                }
            });
        }
        return out;
    }

    /** What the single-process {@code gram} writes (Gram.compute, into a float32 .npy), with tiles of {@code tile}. */
    static Path singleProcessGram(Path store, String rows, String cols, KernelNormalization norm, int tile) {
        KernelKind kind = KernelKind.parse(org.projntk.store.FeatureStore.open(store).manifest().kernel());
        KernelMatrix k = Gram.computeMatrix(operand(store, rows), operand(store, cols), Gram.Options.builder().kernel(kind).normalization(norm).tiles(tile, tile).build());
        float[] data = new float[k.rows() * k.cols()];
        for (int i = 0; i < k.rows(); i++) for (int j = 0; j < k.cols(); j++) data[i * k.cols() + j] = k.get(i, j);
        Path file = root.resolve("single-gram-" + store.getFileName() + "-" + norm + "-" + tile + ".npy");
        Npy.write(file, Npy.Dtype.FLOAT32, data, k.rows(), k.cols());
        return file;
    }

    /** What the single-process {@code similar} writes to similar.csv, with tiles of {@code tile}. */
    static Path singleProcessSimilar(Path store, int k, int tile) throws IOException {
        KernelKind kind = KernelKind.parse(org.projntk.store.FeatureStore.open(store).manifest().kernel());
        TopK.Result top = TopK.compute(operand(store, "test"), operand(store, "train"), Gram.Options.builder().kernel(kind).normalization(KernelNormalization.COSINE).tiles(tile, tile).build(), k);
        Path file = root.resolve("single-similar-" + store.getFileName() + ".csv");
        top.writeCsv(file, 0);
        return file;
    }
}
