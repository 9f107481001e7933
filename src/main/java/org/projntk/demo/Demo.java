package org.projntk.demo;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

import org.projntk.project.Projection;
import org.projntk.featurize.Kernel;
import org.projntk.featurize.Featurize;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.featurize.Featurizer;
import org.projntk.kernel.KernelNormalization;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.residual.ResidualSweep;
import org.projntk.residual.SweepTable;
import org.projntk.surrogate.SurrogateReport;
import org.projntk.surrogate.Surrogates;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.workflow.Store;

/**
 * The whole product on Fashion-MNIST: train builtin:cnn-fmnist, featurize proj-trNTK and proj-pNTK, fit kernel
 * surrogates, find similar training images, and sweep the residual against the exact trNTK over K. Everything lands
 * in {@code out}; progress and the summary go to the log, one line at a time.
 */
public final class Demo {
    private Demo() {}

    public static final String MODEL = "builtin:cnn-fmnist";

    /**
     * @param trainExamples Fashion-MNIST train images the network is trained on
     * @param trainSize     train rows featurized (the surrogate's train kernel is trainSize²)
     * @param sweepTrain    train rows of the residual sweep (exact gradients of every class are held in memory)
     * @param images        test examples shown in the similar-examples grid
     */
    public record Options(Path out, int trainExamples, int epochs, int trainSize, int testSize, int dim, int sweepTrain, int sweepTest,
                          List<Integer> sweepDims, int batch, long seed, int images) {
        public Options {
            Objects.requireNonNull(out, "out");
            sweepDims = List.copyOf(sweepDims);
            if (trainExamples < 1 || trainSize < 1 || testSize < 1 || sweepTrain < 1 || sweepTest < 0 || epochs < 0 || dim < 1 || batch < 1
                    || images < 0) {
                throw new IllegalArgumentException("demo sizes must be positive: " + this);
            }
        }

        /** The sizes of `make demo`: 60,000 training images, 2 epochs, 5,000 + 1,000 featurized rows at K = 2048. */
        public static Options defaults(Path out) {
            return new Options(out, 60000, 2, 5000, 1000, 2048, 200, 100, List.of(64, 256, 1024, 4096), 64, 0, 6);
        }
    }

    /** Trains {@code model} on {@code train} and saves it as TorchScript at {@code out}; returns the accuracy on {@code test}. */
    @FunctionalInterface
    public interface ModelTrainer {
        double train(String model, String train, String test, int epochs, long seed, Path out);
    }

    public record Result(double networkTestAccuracy, Map<String, SurrogateReport> surrogates, SweepTable sweep, Path out) {}

    public static Result run(Options o, ModelTrainer trainer, Consumer<String> log) {
        Objects.requireNonNull(o, "options");
        Objects.requireNonNull(trainer, "trainer");
        Objects.requireNonNull(log, "log");
        long t0 = System.nanoTime();
        Stages stages = new Stages();
        log.accept("projntk demo: output folder " + o.out().toAbsolutePath());
        Path model = o.out().resolve("cnn-fmnist.pt");

        banner(log, "1/5 train " + MODEL + " on Fashion-MNIST (" + o.trainExamples() + " examples, " + o.epochs() + " epochs)");
        double networkAccuracy = trainer.train(MODEL, "fashion-mnist:train[0:" + o.trainExamples() + "]", "fashion-mnist:test", o.epochs(),
                o.seed(), model);
        stages.end("train");

        Map<String, SurrogateReport> surrogates = new LinkedHashMap<>();
        for (String kernel : List.of("trntk", "pntk")) {
            banner(log, (kernel.equals("trntk") ? "2" : "3") + "/5 featurize proj-" + kernel + " (K=" + o.dim() + ", "
                    + o.trainSize() + " train + " + o.testSize() + " test)");
            Map<String, String> splits = new LinkedHashMap<>();
            splits.put("train", "fashion-mnist:train[0:" + o.trainSize() + "]");
            splits.put("test", "fashion-mnist:test[0:" + o.testSize() + "]");
            Path store = o.out().resolve("store-" + kernel);
            FeaturizeConfig config = Featurize.of(model.toString()).checkpoint("final").split("train", splits.get("train"))
                    .split("test", splits.get("test")).kernel(Kernel.parse(kernel)).projection(Projection.rademacher(o.dim()).seed(o.seed()))
                    .batchSize(o.batch()).into(store).config();
            Featurizer.Result featurized = Featurizer.run(config, new LoggingListener(kernel, log));
            log.accept("featurize " + kernel + ": " + featurized.rowsComputed() + " rows computed this run, store " + store);
            stages.end("featurize proj-" + kernel);
            Store opened = Store.open(store).at("final");
            Surrogates.Fit fit = opened.surrogate().model(model.toString()).log(log).fit();
            Surrogates.describe(fit.report()).forEach(log);
            surrogates.put("proj-" + kernel, fit.report());
            stages.end("surrogate proj-" + kernel);
            if (kernel.equals("trntk")) {
                opened.similar().test("test").train("train").k(5).images(o.images()).log(log).write(o.out().resolve("similar"));
                stages.end("similar (top-5) proj-" + kernel);
            }
        }

        banner(log, "4/5 residual sweep: exact trNTK vs proj-trNTK / proj-pNTK on " + o.sweepTrain() + " + " + o.sweepTest() + " examples");
        ResidualSweep.Options sweepOptions = ResidualSweep.Options.builder().model(model.toString())
                .train("fashion-mnist:train[0:" + o.sweepTrain() + "]")
                .test(o.sweepTest() > 0 ? "fashion-mnist:test[0:" + o.sweepTest() + "]" : null)
                .dims(o.sweepDims()).projector(ProjectorKind.RADEMACHER).seed(o.seed() + 1000).repeats(3).build();
        SweepTable sweep = ResidualSweep.write(sweepOptions, o.out().resolve("sweep"), log);
        ResidualSweep.describe(sweep).forEach(log);
        stages.end("residual sweep");

        banner(log, "5/5 summary");
        log.accept(String.format(Locale.ROOT, "network test accuracy (full test set): %.4f", networkAccuracy));
        log.accept("kernel       network_acc  surrogate_acc  differential  kendall_tau  kendall_tau_predicted");
        for (var e : surrogates.entrySet()) {
            SurrogateReport r = e.getValue();
            log.accept(String.format(Locale.ROOT, "%-12s %11.4f  %13.4f  %+12.4f  %11.4f  %21.4f", e.getKey(), r.networkTestAccuracy(),
                    r.surrogateTestAccuracy(), r.accuracyDifferential(), r.kendallTau(), r.kendallTauPredicted()));
        }
        log.accept("(surrogates fitted to the true train labels with balanced class weights, as in the paper; accuracies on the"
                + " featurized test rows; kendall_tau: the paper's, on the true class's probability, saturated rows masked;"
                + " kendall_tau_predicted: on the network's predicted class)");
        ResidualSweep.describe(sweep).forEach(log);
        log.accept("outputs: " + o.out().resolve("similar/similar.png") + ", " + o.out().resolve("similar/similar.csv") + ", "
                + o.out().resolve("sweep/sweep.png") + ", " + o.out().resolve("sweep/sweep.csv"));
        log.accept("where the time went:");
        stages.describe().forEach(log);
        long peak = peakResidentBytes();
        log.accept(String.format(Locale.ROOT, "demo finished in %.0f s, peak resident memory %s", (System.nanoTime() - t0) / 1e9,
                peak < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f GiB", peak / (double) (1L << 30))));
        return new Result(networkAccuracy, surrogates, sweep, o.out());
    }

    private static void banner(Consumer<String> log, String text) {
        log.accept("");
        log.accept("== " + text);
    }

    /** Wall time per stage, in the order they ran, for the summary's "where the time went". */
    private static final class Stages {
        private final Map<String, Double> seconds = new LinkedHashMap<>();
        private long start = System.nanoTime();

        void end(String stage) {
            long now = System.nanoTime();
            seconds.merge(stage, (now - start) / 1e9, Double::sum);
            start = now;
        }

        List<String> describe() {
            double total = seconds.values().stream().mapToDouble(Double::doubleValue).sum();
            return seconds.entrySet().stream().map(e -> String.format(Locale.ROOT, "  %-28s %8.1f s  %5.1f%%", e.getKey(), e.getValue(),
                    100 * e.getValue() / total)).toList();
        }
    }

    /** The process's peak resident set (VmHWM of /proc/self/status), or -1 where the kernel does not report it. */
    public static long peakResidentBytes() {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Featurize progress as log lines: at most one every few seconds per split, and always the last. */
    private static final class LoggingListener implements Featurizer.Listener {
        private static final long INTERVAL_NANOS = 5_000_000_000L;
        private final String kernel;
        private final Consumer<String> log;
        private long last = System.nanoTime();

        LoggingListener(String kernel, Consumer<String> log) {
            this.kernel = kernel;
            this.log = log;
        }

        @Override
        public void progress(String split, long done, long total, long thisRun, double seconds) {
            long now = System.nanoTime();
            if (done < total && now - last < INTERVAL_NANOS) return;
            last = now;
            log.accept(String.format(Locale.ROOT, "%s %s: %d/%d rows, %.1f rows/s", kernel, split, done, total, seconds > 0 ? thisRun / seconds : 0));
        }

        @Override
        public void message(String text) {
            log.accept(text);
        }
    }
}
