package org.projntk.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.projntk.project.Projection;
import org.projntk.featurize.Kernel;
import org.projntk.featurize.Featurize;
import org.projntk.attribution.TrakScores;
import org.projntk.cli.ScoreCommand;
import org.projntk.data.Npy;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.featurize.Featurizer;
import org.projntk.project.ProjectorKind;
import org.projntk.spark.cli.SparkCommand;
import org.projntk.store.FeatureStore;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;

import picocli.CommandLine;

/**
 * spark score against the single-process TRAK scores on a margin store of builtin:tiny-mlp (P = 43, K = 32, two
 * checkpoints) with 4100 train rows (5 XᵀX row blocks) and 70 test rows: the .npy files must be identical byte for
 * byte, for the default recipe, --trak-compat, one checkpoint with --dim, and after a killed first attempt of a task.
 */
class SparkScoresTest {
    static final int TRAIN = 4100;
    static final int TEST = 70;
    static final int K = 32;

    static Path root;
    static Path storeDir;
    static FeatureStore store;
    static SparkSession session;
    static JavaSparkContext sc;

    /** npy:X,Y of n rows of 4 standard normal features and labels in {0, 1, 2}. */
    static String data(String name, int n, long seed) throws IOException {
        Random r = new Random(seed);
        float[] x = new float[n * 4];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        byte[] y = new byte[n];
        for (int i = 0; i < n; i++) y[i] = (byte) r.nextInt(3);
        Path xp = root.resolve(name + "-x.npy"), yp = root.resolve(name + "-y.npy");
        Npy.write(xp, Npy.Dtype.FLOAT32, x, n, 4);
        byte[] head = Npy.header(Npy.Dtype.UINT8, n);
        Files.write(yp, ByteBuffer.allocate(head.length + n).put(head).put(y).array());
        return "npy:" + xp + "," + yp;
    }

    @BeforeAll
    static void marginStoreAndSpark() throws IOException {
        root = Files.createTempDirectory("projntk-spark-score-test");
        storeDir = root.resolve("store");
        Map<String, String> splits = new LinkedHashMap<>();
        splits.put("train", data("train", TRAIN, 1));
        splits.put("test", data("test", TEST, 2));
        for (String id : List.of("a", "b")) {
            FeaturizeConfig c = Featurize.of("builtin:tiny-mlp").modelSeed(id.equals("a") ? 1 : 2).checkpoint(id)
                    .split("train", splits.get("train")).split("test", splits.get("test")).kernel(Kernel.MARGIN)
                    .projection(Projection.rademacher(K).seed(9).modelId(5)).batchSize(256).into(storeDir).config();
            assertTrue(Featurizer.run(c, (split, done, total, thisRun, seconds) -> {}).complete());
        }
        store = FeatureStore.open(storeDir);
        session = LocalSpark.start();
        sc = JavaSparkContext.fromSparkContext(session.sparkContext());
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (session != null) session.stop();
        if (root == null) return;
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }

    /** Tiles of 16 test rows x 64 train columns: 5 x 65 tiles. */
    static TrakScores.Options options() {
        return TrakScores.Options.builder().tiles(16, 64).build();
    }

    static void assertSameFile(Path single, Path spark) throws IOException {
        assertArrayEquals(Files.readAllBytes(single), Files.readAllBytes(spark), spark + " differs from " + single);
        assertFalse(Files.exists(spark.resolveSibling(spark.getFileName() + ".tmp")), "the .tmp should be renamed");
    }

    @Test
    void scoresEqualTheSingleProcessFileByteForByte() throws IOException {
        record Case(String name, TrakScores.Options options, int partitions) {}
        for (Case c : List.of(
                new Case("default", options().toBuilder().lambda(0.01).build(), 0),
                new Case("compat", options().toBuilder().lambda(0.001).trakCompat(true).build(), 3),
                new Case("one-checkpoint-dim16", options().toBuilder().lambda(0.01).checkpoints("b").dim(16).build(), 5))) {
            Path single = root.resolve("single-" + c.name() + ".npy");
            TrakScores.Result s = TrakScores.writeNpy(store, c.options(), single);
            Path spark = root.resolve("spark-" + c.name() + ".npy");
            SparkScores.Result r = SparkScores.score(sc, storeDir, c.options(), c.partitions(), spark);
            assertEquals(5 * 65, r.tiles());
            assertEquals(s.checkpoints(), r.scores().checkpoints());
            assertArrayEquals(s.compatScale(), r.scores().compatScale());
            System.out.printf(Locale.ROOT, "[overhead] score %s [%d x %d] K=%d, %d checkpoint(s): single process %.3f s, spark %.3f s"
                    + " (%d XᵀX tasks, %d tiles in %d partitions)%n", c.name(), TEST, TRAIN, r.scores().dim(), s.checkpoints().size(),
                    s.seconds(), r.scores().seconds(), r.gramTasks(), r.tiles(), r.partitions());
            assertSameFile(single, spark);
        }
    }

    /** The float64 XᵀX from range tasks has the single-process bits, however the blocks are split into tasks. */
    @Test
    void xtxFromRangeTasksHasTheSingleProcessBits() {
        TrakScores.Problem p = TrakScores.Problem.of(store, options());
        assertEquals(5, p.gramBlocks());
        boolean orderShows = false;
        for (int target : new int[] {1, 4, 6, 10}) {
            List<SparkScores.Range> ranges = SparkScores.ranges(p, target);
            assertTrue(ranges.size() <= Math.max(2, target), ranges.toString());
            List<double[]> grams = SparkScores.grams(sc, p, ranges);
            for (int i = 0; i < 2; i++) {
                double[] want = p.gram(store, i, 0, p.gramBlocks());
                assertArrayEquals(want, grams.get(i), "checkpoint " + i + ", ranges " + ranges);
                double[] leftFold = p.gram(store, i, 0, 1);
                for (long b = 1; b < p.gramBlocks(); b++) {
                    double[] block = p.gram(store, i, b, b + 1);
                    for (int x = 0; x < leftFold.length; x++) leftFold[x] += block[x];
                }
                orderShows |= !Arrays.equals(want, leftFold);
            }
        }
        assertTrue(orderShows, "summing the blocks in another order should change some bits (else this test shows nothing)");
    }

    @Test
    void aFirstAttemptKilledMidWriteStillGivesTheIdenticalFile() throws IOException {
        TrakScores.Options o = options().toBuilder().lambda(0.01).trakCompat(true).build();
        Path single = root.resolve("single-retried.npy");
        TrakScores.writeNpy(store, o, single);
        Path spark = root.resolve("spark-retried.npy");
        int before = FailureInjection.INJECTED.get();
        sc.setLocalProperty(SparkFeaturize.FAIL_FIRST_ATTEMPT, "1");
        try {
            SparkScores.score(sc, storeDir, o, 4, spark);
        } finally {
            sc.setLocalProperty(SparkFeaturize.FAIL_FIRST_ATTEMPT, null);
        }
        assertEquals(1, FailureInjection.INJECTED.get() - before, "attempt 0 of partition 1 should have failed once");
        assertSameFile(single, spark);
    }

    @Test
    void sparkScoreCommandWritesTheScoreCommandsFile() throws IOException {
        Path single = root.resolve("cli-single.npy"), spark = root.resolve("cli-spark.npy");
        String[] args = {"--store", storeDir.toString(), "--lambda", "0.02", "--checkpoints", "b,a", "--tile", "8"};
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine score = new CommandLine(new ScoreCommand());
        score.setErr(new PrintWriter(err));
        assertEquals(0, score.execute(concat(args, "--out", single.toString())), err.toString());
        CommandLine cli = new CommandLine(new SparkCommand());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        assertEquals(0, cli.execute(concat(concat(new String[] {"score", "--master", "local[2]", "--partitions", "3"}, args), "--out", spark.toString())),
                err.toString());
        assertTrue(out.toString().contains("spark score: [" + TEST + " x " + TRAIN + "]"), out.toString());
        assertSameFile(single, spark);
        assertFalse(sc.sc().isStopped(), "the command reuses the running session and leaves it running");

        StringWriter err2 = new StringWriter();
        cli.setErr(new PrintWriter(err2));
        assertNotEquals(0, cli.execute("score", "--master", "local[2]", "--store", storeDir.toString(), "--checkpoints", "a,zz",
                "--out", root.resolve("bad.npy").toString()));
        assertTrue(err2.toString().contains("zz"), err2.toString());
        assertFalse(Files.exists(root.resolve("bad.npy.tmp")), "bad input is rejected before any file is made");
        StringWriter err3 = new StringWriter();
        cli.setErr(new PrintWriter(err3));
        assertEquals(2, cli.execute("score", "--master", "local[2]", "--out", root.resolve("x.npy").toString()));
        assertTrue(err3.toString().contains("--store"), err3.toString());
    }

    static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
