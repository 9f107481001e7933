package org.projntk.example;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.projntk.featurize.FeaturizeConfig;
import org.projntk.featurize.Featurizer;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.StoreOperands;
import org.projntk.project.ProjectorKind;
import org.projntk.store.FeatureStore;
import org.projntk.surrogate.SurrogateReport;
import org.projntk.surrogate.Surrogates;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Runtime;

/**
 * An application embedding projntk through its public API: proj-trNTK features of a few hundred Fashion-MNIST images,
 * their Gram matrix, and the kernel surrogate of the network. Exits non-zero if anything is off.
 */
public final class Embed {
    public static void main(String[] args) throws Exception {
        int trainRows = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        int testRows = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        Runtime.setThreads(java.lang.Runtime.getRuntime().availableProcessors()); // the library leaves threads alone
        System.out.println("projntk " + Runtime.version() + " " + Runtime.info());

        Path out = Files.createTempDirectory("projntk-embedding-");
        Map<String, String> splits = new LinkedHashMap<>();
        splits.put("train", "fashion-mnist:train[0:" + trainRows + "]");
        splits.put("test", "fashion-mnist:test[0:" + testRows + "]");
        FeaturizeConfig config = new FeaturizeConfig("builtin:cnn-fmnist", 0, "init", splits, "trntk", ProjectorKind.RADEMACHER,
                512, 42, 0, 1, false, "float32", Device.CPU, 64, GradStrategy.AUTO, null, 0, 1, null, 0, out.resolve("store"));
        Featurizer.Result featurized = Featurizer.run(config, (split, done, total, thisRun, seconds) -> {});
        FeatureStore store = featurized.store();
        System.out.printf(Locale.ROOT, "featurized %d train + %d test rows, P = %d, %d outputs, gradients: %s%n",
                trainRows, testRows, featurized.parameters(), featurized.outputs(), featurized.strategyUsed());

        String checkpoint = StoreOperands.checkpoint(store, null);
        List<FeatureMatrix> train = StoreOperands.operand(store, checkpoint, "train");
        KernelMatrix gram = Gram.computeMatrix(train, train, Gram.Options.of(KernelKind.TRNTK, KernelNormalization.COSINE));
        double diagonal = 0;
        for (int i = 0; i < gram.rows(); i++) diagonal += gram.get(i, i);
        System.out.printf(Locale.ROOT, "train Gram [%d x %d], cosine-normalised, mean diagonal %.6f%n",
                gram.rows(), gram.cols(), diagonal / gram.rows());
        if (Math.abs(diagonal / gram.rows() - 1) > 1e-4) throw new IllegalStateException("cosine Gram diagonal is not 1");

        Surrogates.Fit fit = Surrogates.fit(store, Surrogates.Options.defaults(), line -> {});
        SurrogateReport report = fit.report();
        System.out.printf(Locale.ROOT, "surrogate: network accuracy %.3f, surrogate accuracy %.3f, Kendall tau %.3f%n",
                report.networkTestAccuracy(), report.surrogateTestAccuracy(), report.kendallTau());
        if (!(report.surrogateTestAccuracy() > 0.1)) throw new IllegalStateException("surrogate at or below chance");
    }

    private Embed() {}
}
