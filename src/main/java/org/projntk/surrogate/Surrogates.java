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
 * split ({@link SurrogateReport}). Stateless; safe from any thread.
 */
public final class Surrogates {
    private Surrogates() {}

    /** Relative L2 penalty of the kernel GLM; weaker than KernelGlm's default so the surrogate can follow the network. */
    public static final double DEFAULT_LAMBDA = 1e-8;

    /**
     * How the surrogate is fitted: the checkpoint, the network, the kernel's normalisation, the L2 penalty, the targets,
     * the class weights, the iteration budget and how kernel products are computed. Immutable and safe to share.
     *
     * <pre>{@code
     * Surrogates.Options options = Surrogates.Options.builder().lambda(1e-3).targets(StoreSurrogate.Targets.NETWORK).build();
     * }</pre>
     */
    public static final class Options {
        private final String checkpoint;
        private final String model;
        private final KernelNormalization normalization;
        private final double lambda;
        private final StoreSurrogate.Targets targets;
        private final StoreSurrogate.ClassWeight classWeight;
        private final int maxIterations;
        private final StoreSurrogate.Products products;

        private Options(Builder b) {
            this.checkpoint = b.checkpoint;
            this.model = b.model;
            this.normalization = b.normalization;
            this.lambda = b.lambda;
            this.targets = b.targets;
            this.classWeight = b.classWeight;
            this.maxIterations = b.maxIterations;
            this.products = b.products;
        }

        /**
         * A builder with the paper's protocol as defaults: cosine kernels, true labels, balanced class weights,
         * λ = {@link #DEFAULT_LAMBDA}, 300 iterations, {@link StoreSurrogate.Products#AUTO} products, the store's first
         * complete checkpoint and its recorded model.
         *
         * @return a new builder
         */
        public static Builder builder() {
            return new Builder();
        }

        /** {@return the defaults of {@link #builder()}} */
        public static Options defaults() {
            return builder().build();
        }

        /** {@return a builder holding these options, to change some of them} */
        public Builder toBuilder() {
            return new Builder().checkpoint(checkpoint).model(model).normalization(normalization).lambda(lambda).targets(targets)
                    .classWeight(classWeight).maxIterations(maxIterations).products(products);
        }

        /** {@return the checkpoint fitted; null: the store's first complete one} */
        public String checkpoint() {
            return checkpoint;
        }

        /** {@return another spec of the recorded network (its checksum must match); null: the recorded one} */
        public String model() {
            return model;
        }

        /** {@return the kernel's normalisation} */
        public KernelNormalization normalization() {
            return normalization;
        }

        /** {@return the L2 penalty, relative to the kernel's scale (see {@link KernelGlm})} */
        public double lambda() {
            return lambda;
        }

        /** {@return what the GLM is fitted to} */
        public StoreSurrogate.Targets targets() {
            return targets;
        }

        /** {@return the per-example weights of the GLM's data term} */
        public StoreSurrogate.ClassWeight classWeight() {
            return classWeight;
        }

        /** {@return the L-BFGS iteration budget} */
        public int maxIterations() {
            return maxIterations;
        }

        /** {@return how kernel products are computed} */
        public StoreSurrogate.Products products() {
            return products;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Options x && Objects.equals(checkpoint, x.checkpoint) && Objects.equals(model, x.model)
                    && normalization == x.normalization && Double.compare(lambda, x.lambda) == 0 && targets == x.targets
                    && classWeight == x.classWeight && maxIterations == x.maxIterations && products == x.products;
        }

        @Override
        public int hashCode() {
            return Objects.hash(checkpoint, model, normalization, lambda, targets, classWeight, maxIterations, products);
        }

        @Override
        public String toString() {
            return "Surrogates.Options[checkpoint=" + checkpoint + ", model=" + model + ", normalization=" + normalization + ", lambda="
                    + lambda + ", targets=" + targets + ", classWeight=" + classWeight + ", maxIterations=" + maxIterations
                    + ", products=" + products + "]";
        }

        /** Builds {@link Options}; not thread-safe. Every setting has a default. */
        public static final class Builder {
            private String checkpoint;
            private String model;
            private KernelNormalization normalization = KernelNormalization.COSINE;
            private double lambda = DEFAULT_LAMBDA;
            private StoreSurrogate.Targets targets = StoreSurrogate.Targets.LABELS;
            private StoreSurrogate.ClassWeight classWeight = StoreSurrogate.ClassWeight.BALANCED;
            private int maxIterations = 300;
            private StoreSurrogate.Products products = StoreSurrogate.Products.AUTO;

            private Builder() {}

            /**
             * The checkpoint to fit (default null: the store's first complete one).
             *
             * @param id the new setting
             * @return this builder
             */
            public Builder checkpoint(String id) {
                this.checkpoint = id;
                return this;
            }

            /**
             * Another spec of the recorded network, e.g. where its file moved (default null: the recorded spec).
             *
             * @param spec the new setting
             * @return this builder
             */
            public Builder model(String spec) {
                this.model = spec;
                return this;
            }

            /**
             * The kernel's normalisation (default {@link KernelNormalization#COSINE}, as the paper).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder normalization(KernelNormalization value) {
                this.normalization = value;
                return this;
            }

            /**
             * The relative L2 penalty (default {@link #DEFAULT_LAMBDA}); finite and at least 0.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder lambda(double value) {
                this.lambda = value;
                return this;
            }

            /**
             * What the GLM is fitted to (default {@link StoreSurrogate.Targets#LABELS}, as the paper).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder targets(StoreSurrogate.Targets value) {
                this.targets = value;
                return this;
            }

            /**
             * The class weights (default {@link StoreSurrogate.ClassWeight#BALANCED}, as the paper).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder classWeight(StoreSurrogate.ClassWeight value) {
                this.classWeight = value;
                return this;
            }

            /**
             * The L-BFGS iteration budget (default 300); at least 1.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder maxIterations(int value) {
                this.maxIterations = value;
                return this;
            }

            /**
             * How kernel products are computed (default {@link StoreSurrogate.Products#AUTO}).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder products(StoreSurrogate.Products value) {
                this.products = value;
                return this;
            }

            /**
             * The options.
             *
             * @return the options
             * @throws IllegalArgumentException naming the field when a value is missing or out of range
             */
            public Options build() {
                if (normalization == null) throw new IllegalArgumentException("normalization must be set, got null");
                if (!(lambda >= 0) || !Double.isFinite(lambda)) throw new IllegalArgumentException("lambda must be a finite number >= 0, got " + lambda);
                if (targets == null) throw new IllegalArgumentException("targets must be set, got null");
                if (classWeight == null) throw new IllegalArgumentException("classWeight must be set, got null");
                if (maxIterations < 1) throw new IllegalArgumentException("maxIterations must be >= 1, got " + maxIterations);
                if (products == null) throw new IllegalArgumentException("products must be set, got null");
                return new Options(this);
            }
        }
    }

    /**
     * A fitted surrogate with what explanations need. Arrays are not copied.
     *
     * @param glm                 the fitted GLM
     * @param testKernel          K(test, train), [T x N], as products; matrix-free operators read the store's mapped
     *                            features
     * @param networkTestLogits   the network's test logits, row-major [T x C]
     * @param surrogateTestLogits the GLM's test logits, row-major [T x C]
     * @param testLabels          the true test labels, T of them
     * @param classes             C
     * @param report              the agreement and accuracy figures
     * @param trainData           the dataset rows behind the "train" split
     * @param testData            the dataset rows behind the "test" split
     * @param checkpoint          the checkpoint fitted
     */
    public record Fit(KernelGlm glm, KernelOperator testKernel, double[] networkTestLogits, double[] surrogateTestLogits, int[] testLabels,
                      int classes, SurrogateReport report, Dataset trainData, Dataset testData, String checkpoint) {
        /**
         * The surrogate's predicted class (argmax logit, the lower class on ties) for one test example.
         *
         * @param testIndex the test example, in [0, T)
         * @return its class
         * @throws ArrayIndexOutOfBoundsException for an index out of range
         */
        public int surrogatePrediction(int testIndex) {
            return argmax(surrogateTestLogits, testIndex * classes, classes);
        }

        /**
         * The network's predicted class (argmax logit, the lower class on ties) for one test example.
         *
         * @param testIndex the test example, in [0, T)
         * @return its class
         * @throws ArrayIndexOutOfBoundsException for an index out of range
         */
        public int networkPrediction(int testIndex) {
            return argmax(networkTestLogits, testIndex * classes, classes);
        }
    }

    /**
     * Fits the surrogate on the store's "train" split and evaluates it on "test" ({@link StoreSurrogate}): the model and
     * inputs are rebuilt from the manifest's provenance and the checksum verified.
     *
     * @param store   the featurized store, with complete "train" and "test" splits
     * @param options the checkpoint (default: the first complete one), network, normalisation, λ, targets, class
     *                weights, iteration budget and products
     * @param log     receives progress lines
     * @return the fit
     * @throws IllegalArgumentException as {@link StoreSurrogate#fit} does, or for an unknown checkpoint
     * @throws IllegalStateException    as {@link StoreSurrogate#fit} does, or when no checkpoint is complete
     */
    public static Fit fit(FeatureStore store, Options options, Consumer<String> log) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(log, "log");
        String checkpoint = StoreOperands.checkpoint(store, options.checkpoint());
        StoreSurrogate.Fit f = StoreSurrogate.fit(store, checkpoint, options, log);
        return new Fit(f.glm(), f.testKernel(), f.networkTestLogits(), f.surrogateTestLogits(), f.testLabels(), f.classes(), f.report(),
                f.trainData(), f.testData(), checkpoint);
    }

    /**
     * Network logits for every example of a dataset, in batches of 256 (calls on one model serialise).
     *
     * @param model the network
     * @param data  the examples, at least one, shaped as the model's inputs
     * @return the logits, row-major [N x C], C the model's output count
     * @throws IllegalArgumentException for an empty dataset
     * @throws org.projntk.ProjntkException when the model rejects the inputs or fails
     */
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

    /**
     * The report as text lines for a terminal: accuracies, differential, Kendall τ, agreement, per-class accuracies.
     *
     * @param r the report
     * @return the lines, without line ends
     */
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
