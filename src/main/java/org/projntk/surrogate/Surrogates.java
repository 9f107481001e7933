package org.projntk.surrogate;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;

import org.projntk.data.Batch;
import org.projntk.data.Dataset;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.KernelOperator;
import org.projntk.kernel.StoreOperands;
import org.projntk.store.FeatureStore;
import org.projntk.torch.Device;
import org.projntk.torch.Model;

/**
 * A kernel surrogate of a network, from a feature store: a {@link KernelGlm} on the train-by-train kernel (see
 * {@link StoreSurrogate} for the targets, class weights and kernel products), compared with the network on the test
 * split ({@link SurrogateReport}).
 */
public final class Surrogates {
    private Surrogates() {}

    /** Relative L2 penalty of the kernel GLM; weaker than KernelGlm's default so the surrogate can follow the network. */
    public static final double DEFAULT_LAMBDA = 1e-8;

    /**
     * @param checkpoint null: the store's first complete checkpoint
     * @param model      another spec of the recorded network (its checksum must match); null: the recorded one
     * @param targets    what the GLM is fitted to: the true train labels (the paper's protocol) or the network's predictions
     * @param products   kernel products through the features (matrix-free), dense kernels, or whichever is cheaper
     */
    public record Options(String checkpoint, String model, KernelNormalization normalization, double lambda,
                          StoreSurrogate.Targets targets, StoreSurrogate.ClassWeight classWeight, int maxIterations,
                          StoreSurrogate.Products products) {
        public Options {
            Objects.requireNonNull(normalization, "normalization");
            Objects.requireNonNull(targets, "targets");
            Objects.requireNonNull(classWeight, "classWeight");
            Objects.requireNonNull(products, "products");
            if (!(lambda >= 0) || !Double.isFinite(lambda)) throw new IllegalArgumentException("lambda must be a finite number >= 0, got " + lambda);
        }

        /** The paper's protocol: cosine kernels, true labels, balanced class weights; {@link #DEFAULT_LAMBDA}, 300 iterations. */
        public static Options defaults() {
            return new Options(null, null, KernelNormalization.COSINE, DEFAULT_LAMBDA, StoreSurrogate.Targets.LABELS,
                    StoreSurrogate.ClassWeight.BALANCED, 300, StoreSurrogate.Products.AUTO);
        }

        public Options withCheckpoint(String c) {
            return new Options(c, model, normalization, lambda, targets, classWeight, maxIterations, products);
        }

        public Options withModel(String m) {
            return new Options(checkpoint, m, normalization, lambda, targets, classWeight, maxIterations, products);
        }

        public Options withNormalization(KernelNormalization n) {
            return new Options(checkpoint, model, n, lambda, targets, classWeight, maxIterations, products);
        }

        public Options withLambda(double l) {
            return new Options(checkpoint, model, normalization, l, targets, classWeight, maxIterations, products);
        }

        public Options withTargets(StoreSurrogate.Targets t) {
            return new Options(checkpoint, model, normalization, lambda, t, classWeight, maxIterations, products);
        }
    }

    /**
     * A fitted surrogate with what explanations need: the test-by-train kernel (as products), both models' test logits
     * ([T x C] row-major), the true test labels and the datasets behind the splits.
     */
    public record Fit(KernelGlm glm, KernelOperator testKernel, double[] networkTestLogits, double[] surrogateTestLogits, int[] testLabels,
                      int classes, SurrogateReport report, Dataset trainData, Dataset testData, String checkpoint) {
        public int surrogatePrediction(int testIndex) {
            return argmax(surrogateTestLogits, testIndex * classes, classes);
        }

        public int networkPrediction(int testIndex) {
            return argmax(networkTestLogits, testIndex * classes, classes);
        }
    }

    /**
     * Fits the surrogate on the store's "train" split and evaluates it on "test" ({@link StoreSurrogate}): the model and
     * inputs are rebuilt from the manifest's provenance and the checksum verified. Progress lines go to {@code log}.
     */
    public static Fit fit(FeatureStore store, Options options, Consumer<String> log) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(log, "log");
        String checkpoint = StoreOperands.checkpoint(store, options.checkpoint());
        StoreSurrogate.Fit f = StoreSurrogate.fit(store, checkpoint, new StoreSurrogate.Options(options.normalization(), options.lambda(),
                options.targets(), options.classWeight(), options.model(), options.maxIterations(), options.products()), log);
        return new Fit(f.glm(), f.testKernel(), f.networkTestLogits(), f.surrogateTestLogits(), f.testLabels(), f.classes(), f.report(),
                f.trainData(), f.testData(), checkpoint);
    }

    /** Network logits [N x C] row-major for every example of {@code data}, in batches of 256. */
    public static double[] logits(Model model, Dataset data) {
        List<float[]> rows = new ArrayList<>();
        int batchSize = 256;
        for (long first = 0; first < data.size(); first += batchSize) {
            int count = (int) Math.min(batchSize, data.size() - first);
            try (Arena arena = Arena.ofConfined()) {
                Batch batch = data.batch(first, count, arena);
                for (float[] row : model.forward(batch.modelInputs())) rows.add(row);
            }
        }
        if (rows.isEmpty()) throw new IllegalArgumentException("no examples to evaluate");
        int classes = rows.get(0).length;
        double[] out = new double[rows.size() * classes];
        for (int i = 0; i < rows.size(); i++) for (int c = 0; c < classes; c++) out[i * classes + c] = rows.get(i)[c];
        return out;
    }

    /** The report as text lines: accuracies, differential, Kendall τ, agreement, per-class accuracies. */
    public static List<String> describe(SurrogateReport r) {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "network test accuracy    %.4f", r.networkTestAccuracy()));
        lines.add(String.format(Locale.ROOT, "surrogate test accuracy  %.4f", r.surrogateTestAccuracy()));
        lines.add(String.format(Locale.ROOT, "accuracy differential    %+.4f  (surrogate - network)", r.accuracyDifferential()));
        lines.add(String.format(Locale.ROOT, "Kendall tau              %.4f  (the paper's: network vs surrogate probability of the true class, saturated rows masked)", r.kendallTau()));
        lines.add(String.format(Locale.ROOT, "Kendall tau (predicted)  %.4f  (network vs surrogate probability of the network's predicted class)", r.kendallTauPredicted()));
        lines.add(String.format(Locale.ROOT, "prediction agreement     %.4f", r.agreement()));
        lines.add("per-class accuracy (recall: the fraction of the class's test examples classified correctly), network / surrogate:");
        for (int c = 0; c < r.networkPerClass().size(); c++) {
            lines.add(String.format(Locale.ROOT, "  class %d: %.3f / %.3f  (support %d)", c, r.networkPerClass().get(c).recall(),
                    r.surrogatePerClass().get(c).recall(), r.networkPerClass().get(c).support()));
        }
        return lines;
    }

    static int argmax(double[] v, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (v[offset + i] > v[offset + best]) best = i;
        return best;
    }
}
