package org.projntk.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.projntk.analysis.SurrogateReport;
import org.projntk.analysis.SweepTable;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.kernel.Normalization;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.store.FeatureStore;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Trainer;

/**
 * `projntk demo`: the whole product on Fashion-MNIST. Trains builtin:cnn-fmnist, featurizes proj-trNTK and proj-pNTK,
 * fits kernel surrogates, finds similar training images, and sweeps the residual against the exact trNTK over K.
 */
final class DemoCommand {
    private DemoCommand() {}

    record Options(Path out, int trainExamples, int epochs, int trainSize, int testSize, int dim, int sweepTrain, int sweepTest,
                   List<Integer> sweepDims, int batch, long seed, int images) {}

    record Result(double networkTestAccuracy, Map<String, SurrogateReport> surrogates, SweepTable sweep, Path out) {}

    static void run(Args args, PrintStream out, PrintStream err) {
        // --full: the paper-sized job, every train and test image featurized; the sweep stays on a subset
        boolean full = args.flag("full");
        Options o = new Options(Path.of(args.get("out", full ? "demo-full-out" : "demo-out")), args.getInt("train-examples", 60000), args.getInt("epochs", 2),
                args.getInt("train-size", full ? 60000 : 5000), args.getInt("test-size", full ? 10000 : 1000), args.getInt("dim", 2048),
                args.getInt("sweep-train", 200), args.getInt("sweep-test", 100), args.intList("sweep-dims", "64,256,1024,4096"),
                args.getInt("batch", 64), args.getLong("seed", 0), args.getInt("images", 6));
        args.rejectUnknown();
        run(o, out);
    }

    static Result run(Options o, PrintStream out) {
        long t0 = System.nanoTime();
        out.println("projntk demo: output folder " + o.out().toAbsolutePath());
        Path model = o.out().resolve("cnn-fmnist.pt");

        banner(out, "1/5 train builtin:cnn-fmnist on Fashion-MNIST (" + o.trainExamples() + " examples, " + o.epochs() + " epochs)");
        double networkAccuracy = TrainCommand.train(new TrainCommand.Options("builtin:cnn-fmnist",
                "fashion-mnist:train[0:" + o.trainExamples() + "]", "fashion-mnist:test", o.epochs(), model, Trainer.Optimizer.ADAM,
                1e-3, 0.9, 0, 64, o.seed(), Device.CPU), out);

        Map<String, SurrogateReport> surrogates = new LinkedHashMap<>();
        for (String kernel : List.of("trntk", "pntk")) {
            banner(out, (kernel.equals("trntk") ? "2" : "3") + "/5 featurize proj-" + kernel + " (K=" + o.dim() + ", "
                    + o.trainSize() + " train + " + o.testSize() + " test)");
            Map<String, String> splits = new LinkedHashMap<>();
            splits.put("train", "fashion-mnist:train[0:" + o.trainSize() + "]");
            splits.put("test", "fashion-mnist:test[0:" + o.testSize() + "]");
            Path store = o.out().resolve("store-" + kernel);
            FeaturizeCommand.run(new FeaturizeConfig(model.toString(), 0, "final", splits, kernel, ProjectorKind.RADEMACHER, o.dim(),
                    o.seed(), 0, ProjectorSpec.DEFAULT_SJLT_S, false, "float32", Device.CPU, o.batch(), GradStrategy.AUTO, null, 0, 1,
                    null, Gradients.DEFAULT_MAX_BLOCK_BYTES, store), out);
            FeatureStore opened = FeatureStore.open(store);
            AnalysisCommands.Surrogate s = AnalysisCommands.fitSurrogate(opened, "final", model.toString(), Normalization.COSINE,
                    AnalysisCommands.DEFAULT_LAMBDA, out);
            AnalysisCommands.printReport(s.report(), out);
            surrogates.put("proj-" + kernel, s.report());
            if (kernel.equals("trntk")) {
                AnalysisCommands.similar(opened, "final", "train", "test", 5, Normalization.COSINE, o.images(), o.out().resolve("similar"), out);
            }
        }

        banner(out, "4/5 residual sweep: exact trNTK vs proj-trNTK / proj-pNTK on " + o.sweepTrain() + " + " + o.sweepTest() + " examples");
        SweepTable sweep = SweepCommand.run(model.toString(), "fashion-mnist:train[0:" + o.sweepTrain() + "]",
                "fashion-mnist:test[0:" + o.sweepTest() + "]", o.sweepDims(), ProjectorKind.RADEMACHER, o.seed() + 1000, 3,
                o.out().resolve("sweep"), out);

        banner(out, "5/5 summary");
        out.printf(Locale.ROOT, "network test accuracy (full test set): %.4f%n", networkAccuracy);
        out.println("kernel       network_acc  surrogate_acc  differential  kendall_tau  kendall_tau_predicted");
        for (var e : surrogates.entrySet()) {
            SurrogateReport r = e.getValue();
            out.printf(Locale.ROOT, "%-12s %11.4f  %13.4f  %+12.4f  %11.4f  %21.4f%n", e.getKey(), r.networkTestAccuracy(), r.surrogateTestAccuracy(),
                    r.accuracyDifferential(), r.kendallTau(), r.kendallTauPredicted());
        }
        out.println("(accuracies on the featurized test rows; surrogate fitted to the true train labels with balanced class weights;"
                + " kendall_tau: probability of the true class, saturated examples left out, as in the paper;"
                + " kendall_tau_predicted: probability of the network's predicted class)");
        SweepCommand.print(sweep, out);
        out.println("outputs: " + o.out().resolve("similar/similar.png") + ", " + o.out().resolve("similar/similar.csv") + ", "
                + o.out().resolve("sweep/sweep.png") + ", " + o.out().resolve("sweep/sweep.csv"));
        out.printf(Locale.ROOT, "demo finished in %s%n", Progress.duration((System.nanoTime() - t0) / 1e9));
        return new Result(networkAccuracy, surrogates, sweep, o.out());
    }

    private static void banner(PrintStream out, String text) {
        out.println();
        out.println("== " + text);
        out.flush();
    }
}
