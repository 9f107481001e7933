package org.projntk.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.DatasetSpec;
import org.projntk.data.Npy;
import org.projntk.demo.Demo;
import org.projntk.store.FeatureStore;
import org.projntk.store.StoredMatrix;

import picocli.CommandLine;

/**
 * Every command and option of the README's command-line table, run in-process through {@link Main#run} at tiny
 * sizes on real Fashion-MNIST rows. Kernels are checked against fp64 loops over the stored features.
 */
class CommandLineTest {
    @TempDir static Path dir;
    static Path store;
    static final int TRAIN = 48;
    static final int TEST = 24;
    static final int DIM = 32;

    record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.strip().lines().toList();
        }
    }

    static Run run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Run ok(String... argv) {
        Run r = run(argv);
        assertEquals(0, r.code(), String.join(" ", argv) + "\nstdout:\n" + r.out() + "\nstderr:\n" + r.err());
        return r;
    }

    static void assumeData() {
        Assumptions.assumeTrue(Files.isDirectory(DatasetSpec.fashionMnistRoot()), "Fashion-MNIST is not installed");
    }

    /** The fixture store (trNTK of cnn-fmnist at K = 32), featurized once by the first test that needs it. */
    static synchronized Path store() {
        if (store != null) return store;
        assumeData();
        Path store = dir.resolve("store");
        Run r = ok("featurize", "--model", "builtin:cnn-fmnist", "--train", "fashion-mnist:train[0:" + TRAIN + "]", "--test",
                "fashion-mnist:test[0:" + TEST + "]", "--kernel", "trntk", "--proj", "rademacher", "--dim", "" + DIM, "--seed", "3",
                "--checkpoint", "c0", "--out", store.toString(), "--model-seed", "0", "--device", "cpu", "--batch", "16", "--grad", "functional",
                "--shard", "0/1", "--dtype", "float32", "--normalize", "default", "--max-block-bytes", "1_000_000");
        assertTrue(r.out().contains("checkpoint c0 complete"), r.out());
        CommandLineTest.store = store;
        return store;
    }

    // ------------------------------------------------------------------ the command model

    @Test
    void versionOptionAndCommand() {
        Run option = ok("--version");
        assertTrue(option.out().matches("projntk \\S+\\s*"), option.out());
        Run command = ok("version");
        assertEquals(option.out().strip(), command.out().lines().findFirst().orElseThrow(), "--version prints version's first line");
        assertTrue(command.out().contains("libtorch BLAS: ") && command.out().contains("java: "), command.out());
    }

    @Test
    void everyCommandHasHelp() {
        CommandLine model = Main.commandLine();
        assertEquals(List.of("version", "train", "featurize", "gram", "similar", "surrogate", "explain", "sweep", "score", "lds", "verify", "bench",
                "bench-surrogate", "demo", "generate-completion", "help", "spark"), List.copyOf(model.getSubcommands().keySet()));
        for (String name : model.getSubcommands().keySet()) {
            if (name.equals("help")) continue;
            Run r = ok(name, "--help");
            assertTrue(r.out().startsWith("Usage: projntk " + name), r.out());
            assertEquals("", r.err());
        }
        for (String bench : List.of("projection", "gradient", "featurize")) {
            Run r = ok("bench", bench, "--help");
            assertTrue(r.out().startsWith("Usage: projntk bench " + bench), r.out());
        }
        Run helpCommand = ok("help", "gram");
        assertTrue(helpCommand.out().startsWith("Usage: projntk gram"), helpCommand.out());
    }

    @Test
    void featurizeHelpListsItsOptionsAndExactlyTheProjectorsItAccepts() {
        Run r = ok("featurize", "--help");
        for (String option : List.of("--model", "--train", "--test", "--kernel", "--proj", "--dim", "--seed", "--checkpoint", "--out",
                "--device", "--batch", "--grad", "--shard", "--params", "--dtype", "--sjlt-s", "--unscaled", "--normalize", "--model-seed",
                "--model-id", "--max-block-bytes")) {
            assertTrue(r.out().contains(option), option + " in\n" + r.out());
        }
        assertTrue(r.out().contains("rademacher, normal, sjlt, none"), r.out());
        assertTrue(r.out().contains("pntk, trntk, entk, margin"), r.out());
        assertTrue(r.out().contains("auto, functional, iterative"), r.out());
        assertFalse(r.out().contains("curand"), r.out());

        Run curand = run("featurize", "--model", "builtin:cnn-fmnist", "--train", "x", "--out", dir.resolve("c").toString(), "--proj", "curand");
        assertEquals(2, curand.code());
        assertEquals(List.of("projntk featurize: Invalid value for option '--proj': 'curand' is not one of rademacher, normal, sjlt, none "
                + "(see 'projntk featurize --help')"), curand.errLines());
        Run shard = run("featurize", "--model", "m", "--train", "x", "--out", "o", "--shard", "2");
        assertEquals(2, shard.code());
        assertTrue(shard.err().contains("'2' is not i/n"), shard.err());
    }

    @Test
    void usageErrorsAreOneLineAndExitTwo() {
        Run unknown = run("gram", "--store", "s", "--out", "k.npy", "--bogus");
        assertEquals(2, unknown.code());
        assertEquals(List.of("projntk gram: Unknown option: '--bogus' (see 'projntk gram --help')"), unknown.errLines());
        assertEquals("", unknown.out());

        Run missing = run("gram", "--out", "k.npy");
        assertEquals(2, missing.code());
        assertEquals(1, missing.errLines().size(), missing.err());
        assertTrue(missing.err().contains("--store"), missing.err());

        Run badValue = run("gram", "--store", "s", "--out", "k.npy", "--precision", "fp16");
        assertEquals(List.of("projntk gram: Invalid value for option '--precision': 'fp16' is not one of fp32, tf32 (see 'projntk gram --help')"),
                badValue.errLines());
        assertEquals(2, badValue.code());

        Run notANumber = run("bench", "projection", "--P", "many");
        assertEquals(2, notANumber.code());
        assertEquals(List.of("projntk bench projection: Invalid value for option '--P': 'many' is not an integer "
                + "(see 'projntk bench projection --help')"), notANumber.errLines());

        Run noBenchmark = run("bench");
        assertEquals(2, noBenchmark.code());
        assertEquals(List.of("projntk bench: needs a benchmark: projection, gradient or featurize (see 'projntk bench --help')"), noBenchmark.errLines());
    }

    @Test
    void runtimeErrorsAreOneLineAndExitOne() {
        Path missing = dir.resolve("no-such-store");
        Run r = run("gram", "--store", missing.toString(), "--out", dir.resolve("k.npy").toString());
        assertEquals(1, r.code(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("projntk gram: ") && r.err().contains(missing.toString()), r.err());
        // the core's class path has no Spark module: `spark` says in one line where it lives
        Run spark = run("spark", "featurize", "--master", "local[2]", "--out", "x");
        assertEquals(1, spark.code(), spark.err());
        assertEquals(1, spark.errLines().size(), spark.err());
        assertTrue(spark.err().contains("bin/projntk-spark"), spark.err());
    }

    @Test
    void completionScriptNamesEveryCommand() {
        Run r = ok("generate-completion");
        for (String command : List.of("version", "train", "featurize", "gram", "similar", "surrogate", "explain", "sweep", "bench",
                "projection", "gradient", "demo")) {
            assertTrue(r.out().contains(command), command + " in the completion script");
        }
        assertTrue(r.out().contains("complete -F"), "a bash completion function is registered");
        assertTrue(r.out().contains("(\"rademacher\" \"normal\" \"sjlt\" \"none\") # --proj values"), "featurize --proj values are completed");
        assertTrue(r.out().contains("(\"fp32\" \"tf32\") # --precision values"), "gram --precision values are completed");
        assertEquals(Main.completionScript().strip(), r.out().strip());
    }

    @Test
    void demoOptionsDefaultToTheLibrarysAndListsReplaceThem() {
        CommandLine cl = Main.commandLine();
        cl.parseArgs("demo");
        DemoCommand defaults = cl.getSubcommands().get("demo").getCommand();
        assertEquals(Demo.Options.defaults(Path.of("demo-out")), defaults.options());
        CommandLine again = Main.commandLine();
        again.parseArgs("demo", "--sweep-dims", "8,16", "--train-size", "100", "--out", "d2", "--train-examples", "500", "--epochs", "3",
                "--test-size", "50", "--dim", "64", "--sweep-train", "20", "--sweep-test", "10", "--batch", "8", "--seed", "9", "--images", "1");
        DemoCommand custom = again.getSubcommands().get("demo").getCommand();
        assertEquals(new Demo.Options(Path.of("d2"), 500, 3, 100, 50, 64, 20, 10, List.of(8, 16), 8, 9, 1), custom.options());
    }

    // ------------------------------------------------------------------ the commands, end to end

    @Test
    void trainSavesAModelThatFeaturizeLoads() throws Exception {
        assumeData();
        Path model = dir.resolve("models/m.pt");
        Run r = ok("train", "--model", "builtin:cnn-fmnist", "--data", "fashion-mnist:train[0:64]", "--test", "fashion-mnist:test[0:32]",
                "--epochs", "1", "--out", model.toString(), "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.5", "--weight-decay", "1e-4",
                "--batch", "16", "--seed", "1", "--device", "cpu");
        assertTrue(r.out().contains("test accuracy") && Files.size(model) > 0, r.out());
        Path pntk = dir.resolve("store-pntk");
        Run f = ok("featurize", "--model", model.toString(), "--train", "fashion-mnist:train[0:8]", "--kernel", "pntk", "--proj", "sjlt",
                "--sjlt-s", "2", "--unscaled", "--dim", "16", "--params", "fc", "--dtype", "float16", "--model-id", "4", "--out", pntk.toString());
        assertTrue(f.out().contains("8 rows computed this run"), f.out());
        var m = FeatureStore.open(pntk).manifest();
        assertEquals("float16", m.dtype());
        assertEquals(16, m.projector().k());
    }

    @Test
    void trainSaveEveryWritesIntermediateCheckpoints() throws Exception {
        assumeData();
        Path model = dir.resolve("every/m.pt");
        Run r = ok("train", "--model", "builtin:linear-fmnist", "--data", "fashion-mnist:train[0:32]", "--epochs", "3", "--save-every", "2",
                "--out", model.toString(), "--batch", "16");
        Path epoch2 = dir.resolve("every/m-ep2.pt");
        assertTrue(Files.size(epoch2) > 0 && Files.size(model) > 0, r.out());
        assertFalse(Files.exists(dir.resolve("every/m-ep1.pt")), "only every second epoch");
        assertFalse(Files.exists(dir.resolve("every/m-ep3.pt")), "the last epoch is the final model");
        try (var a = org.projntk.torch.Model.load(epoch2, org.projntk.torch.Device.CPU);
             var b = org.projntk.torch.Model.load(model, org.projntk.torch.Device.CPU)) {
            assertNotEquals(a.checksum(), b.checksum(), "epoch 3 changed the weights after the epoch-2 checkpoint");
        }
    }

    @Test
    void gramMatchesAnFp64ReferenceOnTheCpuWithEitherPrecision() {
        assumeData();
        double[][] reference = cosineTrntk("train", "test");
        for (String precision : List.of("fp32", "tf32")) {
            Path out = dir.resolve("k-" + precision + ".npy");
            Run r = ok("gram", "--store", store().toString(), "--rows", "train", "--cols", "test", "--checkpoint", "c0", "--normalize", "cosine",
                    "--device", "cpu", "--precision", precision, "--out", out.toString());
            assertTrue(r.out().contains("[" + TRAIN + " x " + TEST + "]"), r.out());
            assertArrayEquals(new long[] {TRAIN, TEST}, Npy.readHeader(out).shape());
            assertFalse(Files.exists(dir.resolve("k-" + precision + ".npy.tmp")), "the temporary file is renamed");
            float[] k = Npy.readFloats(out);
            for (int i = 0; i < TRAIN; i++) {
                for (int j = 0; j < TEST; j++) assertEquals(reference[i][j], k[i * TEST + j], 1e-5, "K[" + i + "," + j + "]");
            }
        }
    }

    @Test
    void similarFindsTheReferenceNeighboursAndDrawsAGrid() throws Exception {
        assumeData();
        double[][] reference = cosineTrntk("test", "train");
        Path out = dir.resolve("similar");
        Run r = ok("similar", "--store", store().toString(), "--top", "3", "--out", out.toString(), "--normalize", "cosine", "--checkpoint", "c0",
                "--images", "2", "--train-split", "train", "--test-split", "test");
        assertTrue(r.out().contains("image grid of 2 test examples"), r.out());
        assertTrue(Files.size(out.resolve("similar.png")) > 0);
        List<String> csv = Files.readAllLines(out.resolve("similar.csv"));
        assertEquals(1 + TEST * 3, csv.size());
        for (int t = 0; t < TEST; t++) {
            int best = 0;
            for (int j = 1; j < TRAIN; j++) if (reference[t][j] > reference[t][best]) best = j;
            String[] rank1 = csv.get(1 + t * 3).split(",");
            assertEquals(List.of("" + t, "1"), List.of(rank1[0], rank1[1]), csv.get(1 + t * 3));
            assertEquals(reference[t][best], reference[t][Integer.parseInt(rank1[2])], 1e-6, "test " + t + ": rank 1 is a best match");
        }
    }

    @Test
    void surrogateReportsAsTextAndJson() throws Exception {
        assumeData();
        Run text = ok("surrogate", "--store", store().toString(), "--model", "builtin:cnn-fmnist", "--checkpoint", "c0", "--normalize", "cosine",
                "--lambda", "1e-6");
        assertTrue(text.out().contains("surrogate test accuracy") && text.out().contains("Kendall tau"), text.out());
        Run json = ok("surrogate", "--store", store().toString(), "--json");
        JsonNode report = new ObjectMapper().readTree(json.out());
        assertEquals(TEST, report.get("test_size").asInt());
        double net = report.get("network_test_accuracy").asDouble();
        double sur = report.get("surrogate_test_accuracy").asDouble();
        assertEquals(sur - net, report.get("accuracy_differential").asDouble(), 1e-12);
        assertTrue(report.get("kendall_tau").asDouble() >= -1 && report.get("kendall_tau").asDouble() <= 1);
    }

    @Test
    void explainListsContributionsAndDrawsThem() throws Exception {
        assumeData();
        Path png = dir.resolve("explain.png");
        Run r = ok("explain", "--store", store().toString(), "--test-index", "3", "--top", "2", "--out", png.toString(), "--normalize", "cosine",
                "--model", "builtin:cnn-fmnist", "--checkpoint", "c0", "--lambda", "1e-8");
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).startsWith("test example 3 (true class "), r.out());
        assertEquals("rank,train_index,contribution,kernel,weight   (supporting)", lines.get(1));
        String[] first = lines.get(2).split(",");
        String[] second = lines.get(3).split(",");
        assertEquals(Double.parseDouble(first[3]) * Double.parseDouble(first[4]), Double.parseDouble(first[2]), 1e-4 * Math.abs(Double.parseDouble(first[2])) + 1e-9,
                "contribution = kernel x weight");
        assertTrue(Double.parseDouble(first[2]) >= Double.parseDouble(second[2]), "supporting examples come strongest first");
        assertTrue(Files.size(png) > 0);

        Run outside = run("explain", "--store", store().toString(), "--test-index", "" + TEST);
        assertEquals(1, outside.code());
        assertTrue(outside.err().contains("outside the test split"), outside.err());
    }

    @Test
    void sweepWritesItsTableAndPlot() throws Exception {
        assumeData();
        Path out = dir.resolve("sweep");
        Run r = ok("sweep", "--model", "builtin:cnn-fmnist", "--train", "fashion-mnist:train[0:12]", "--test", "fashion-mnist:test[0:6]",
                "--dims", "4,64", "--proj", "sjlt", "--seed", "2", "--repeats", "1", "--out", out.toString());
        assertTrue(r.out().contains("fitted decay"), r.out());
        List<String> csv = Files.readAllLines(out.resolve("sweep.csv"));
        assertEquals(1 + 2 * 3, csv.size(), "three kernels at two K: " + csv);
        assertTrue(Files.size(out.resolve("sweep.png")) > 0);
    }

    @Test
    void benchPrintsJsonLines() throws Exception {
        Run projection = ok("bench", "projection", "--P", "1_000", "--B", "2", "--K", "8", "--proj", "rademacher,sgemm-precomputed",
                "--seed", "1", "--device", "cpu", "--rounds", "3");
        List<String> lines = projection.out().strip().lines().toList();
        assertEquals(2, lines.size(), projection.out());
        ObjectMapper json = new ObjectMapper();
        Map<?, ?> first = json.readValue(lines.get(0), Map.class);
        Map<?, ?> gemm = json.readValue(lines.get(1), Map.class);
        assertEquals("rademacher", first.get("projector"));
        assertEquals(1000, first.get("P"));
        assertEquals(3, first.get("rounds"));
        assertEquals("sgemm-precomputed", gemm.get("projector"));
        assertFalse(gemm.containsKey("vs_sgemm_precomputed"), "the baseline has no ratio to itself");
        // seconds is the median round; the ratio is the median of the rounds' time ratios, recomputed here
        double[] rounds = perRound(first), gemmRounds = perRound(gemm);
        assertEquals(3, rounds.length);
        double[] sorted = rounds.clone();
        Arrays.sort(sorted);
        assertEquals(sorted[1], ((Number) first.get("seconds")).doubleValue(), 1e-6);
        double[] ratios = new double[3];
        for (int r = 0; r < 3; r++) ratios[r] = gemmRounds[r] / rounds[r];
        Arrays.sort(ratios);
        assertEquals(ratios[1], ((Number) first.get("vs_sgemm_precomputed")).doubleValue(), 1e-3 * ratios[1]);
        Run noRounds = run("bench", "projection", "--P", "1_000", "--rounds", "0");
        assertEquals(2, noRounds.code(), noRounds.err());
        assertTrue(noRounds.err().contains("'--rounds': must be >= 1, got 0"), noRounds.err());

        Run gradient = ok("bench", "gradient", "--model", "builtin:tiny-mlp", "--B", "4", "--grad", "functional", "--device", "cpu",
                "--seed", "1", "--input-shape", "4");
        Map<?, ?> g = json.readValue(gradient.out().strip(), Map.class);
        assertEquals("functional", g.get("strategy"));
        assertEquals("pntk", g.get("kernel"));
        assertTrue(((Number) g.get("examples_per_s")).doubleValue() > 0);
        // Every line names the host's CPU as /proc/cpuinfo does.
        String cpuinfo = Files.readString(Path.of("/proc/cpuinfo"));
        java.util.regex.Matcher family = java.util.regex.Pattern.compile("(?m)^cpu family\\s*:\\s*(\\d+)").matcher(cpuinfo);
        assertTrue(family.find(), cpuinfo);
        for (Map<?, ?> line : List.of(first, gemm, g)) {
            assertEquals(Integer.parseInt(family.group(1)), line.get("cpu_family"), line.toString());
            assertTrue(cpuinfo.contains((String) line.get("cpu_model")), line.toString());
        }

        // featurize: tiny-cnn per class, two projectors; the shares are fractions of the featurize time.
        Run featurize = ok("bench", "featurize", "--model", "builtin:tiny-cnn", "--kernel", "trntk", "--proj", "rademacher,sjlt",
                "--dim", "16", "--rows", "12", "--batch", "5", "--rounds", "2", "--peak-seconds", "0.05");
        List<String> fl = featurize.out().strip().lines().toList();
        assertEquals(2, fl.size(), featurize.out());
        for (String text : fl) {
            Map<?, ?> f = json.readValue(text, Map.class);
            assertEquals(3, f.get("outputs"), text);
            assertEquals(12, f.get("rows"), text);
            double seconds = ((Number) f.get("seconds")).doubleValue(), rate = ((Number) f.get("rows_per_s")).doubleValue();
            assertEquals(12 / seconds, rate, 1e-2 * rate, text);
            double shares = ((Number) f.get("share_gradients")).doubleValue() + ((Number) f.get("share_projection")).doubleValue()
                    + ((Number) f.get("share_other")).doubleValue();
            assertTrue(shares >= 0.999, text);
            double peak = ((Number) f.get("fma_peak_gflops")).doubleValue();
            assertTrue(peak > 1, text);
            long p = ((Number) f.get("P")).longValue();
            double flops = "sjlt".equals(f.get("projector")) ? 2.0 * p * 2 * 3 : 2.0 * p * 16 * 3;
            assertEquals(peak * 1e9 / flops, ((Number) f.get("ceiling_rows_per_s")).doubleValue(), 1e-2 * peak * 1e9 / flops, text);
            assertEquals(Integer.parseInt(family.group(1)), f.get("cpu_family"), text);
        }
        Run noData = run("bench", "featurize", "--model", "/nonexistent.pt", "--rows", "2");
        assertTrue(noData.err().contains("--data is required for a model file"), noData.err());
    }

    private static double[] perRound(Map<?, ?> line) {
        return ((List<?>) line.get("seconds_per_round")).stream().mapToDouble(v -> ((Number) v).doubleValue()).toArray();
    }

    /** Cosine-normalised trNTK between two splits of the fixture store, in fp64 loops over the stored features. */
    static double[][] cosineTrntk(String rowsSplit, String colsSplit) {
        FeatureStore s = FeatureStore.open(store());
        int classes = s.manifest().outputs();
        double[][][] a = features(s, rowsSplit, classes);
        double[][][] b = features(s, colsSplit, classes);
        double[][] k = new double[a[0].length][b[0].length];
        for (int i = 0; i < k.length; i++) {
            for (int j = 0; j < k[i].length; j++) {
                double dot = 0, na = 0, nb = 0;
                for (int c = 0; c < classes; c++) {
                    for (int d = 0; d < DIM; d++) {
                        dot += a[c][i][d] * b[c][j][d];
                        na += a[c][i][d] * a[c][i][d];
                        nb += b[c][j][d] * b[c][j][d];
                    }
                }
                k[i][j] = dot / Math.sqrt(na * nb);
            }
        }
        return k;
    }

    private static double[][][] features(FeatureStore s, String split, int classes) {
        double[][][] out = new double[classes][][];
        for (int c = 0; c < classes; c++) {
            StoredMatrix m = s.features("c0", split, c);
            out[c] = new double[(int) m.rows()][];
            for (int i = 0; i < m.rows(); i++) {
                float[] row = m.row(i);
                out[c][i] = new double[row.length];
                for (int d = 0; d < row.length; d++) out[c][i][d] = row[d];
            }
        }
        return out;
    }
}
