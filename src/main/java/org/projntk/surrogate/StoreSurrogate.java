package org.projntk.surrogate;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import org.projntk.data.Dataset;
import org.projntk.featurize.StoreProvenance;
import org.projntk.kernel.FeatureKernelOperator;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.KernelOperator;
import org.projntk.kernel.StoreOperands;
import org.projntk.store.FeatureStore;
import org.projntk.torch.Device;
import org.projntk.torch.Model;

/**
 * The kernel surrogate of a feature store, end to end: the train and test kernels as matrix-free operators over the
 * stored features (memory: the mapped features plus O(N·C)), the network rebuilt from the manifest (seed, parameter
 * selection, checksum verified) and run on the inputs as featurized, the kernel GLM fitted to the chosen targets with the
 * chosen class weights, and the report. Stateless: each call opens its own model (on the CPU) and closes it, so calls
 * may run on several threads at once.
 */
public final class StoreSurrogate {
    private StoreSurrogate() {}

    /** What the GLM is fitted to. */
    public enum Targets {
        /** the true train labels, as the paper does */
        LABELS,
        /** the network's predicted train classes */
        NETWORK;

        /**
         * Parses a CLI value, ignoring case and surrounding blanks.
         *
         * @param s {@code labels} or {@code network}
         * @return the targets
         * @throws IllegalArgumentException naming the value for anything else
         */
        public static Targets parse(String s) {
            return switch (s.strip().toLowerCase(Locale.ROOT)) {
                case "labels" -> LABELS;
                case "network" -> NETWORK;
                default -> throw new IllegalArgumentException("unknown targets '" + s + "' (expected labels or network)");
            };
        }
    }

    /** Per-example weights of the GLM's data term. */
    public enum ClassWeight {
        /** every class carries the same total weight (scikit-learn's class_weight="balanced"), as the paper does */
        BALANCED,
        /** every example weighs 1 */
        NONE;

        /**
         * Parses a CLI value, ignoring case and surrounding blanks.
         *
         * @param s {@code balanced} or {@code none}
         * @return the class weight
         * @throws IllegalArgumentException naming the value for anything else
         */
        public static ClassWeight parse(String s) {
            return switch (s.strip().toLowerCase(Locale.ROOT)) {
                case "balanced" -> BALANCED;
                case "none" -> NONE;
                default -> throw new IllegalArgumentException("unknown class weight '" + s + "' (expected balanced or none)");
            };
        }
    }

    /** How kernel products are computed. */
    public enum Products {
        /**
         * through the features: no N x N memory; 2·N·D·C flops per product when the fit runs in the feature factor's
         * column space (D = K·C_f ≤ N/2, see {@link KernelGlm#fit}), 4·N·D·C otherwise
         */
        FEATURES,
        /** through dense train and test kernels built once: N² floats, 2·N²·C flops per product */
        DENSE,
        /** dense only where the whole fit is estimated cheaper that way and the train kernel is at most 2 GiB */
        AUTO;

        /**
         * Parses a CLI value, ignoring case and surrounding blanks.
         *
         * @param s {@code auto}, {@code features} (or {@code matrix-free}) or {@code dense}
         * @return the products
         * @throws IllegalArgumentException naming the value for anything else
         */
        public static Products parse(String s) {
            return switch (s.strip().toLowerCase(Locale.ROOT)) {
                case "features", "matrix-free" -> FEATURES;
                case "dense" -> DENSE;
                case "auto" -> AUTO;
                default -> throw new IllegalArgumentException("unknown products '" + s + "' (expected auto, features or dense)");
            };
        }
    }

    /**
     * Flops of the dense build per byte streamed by the thin products, as measured by {@code bench-surrogate} on the
     * 2-core dev machine (Zen 5): 150 GFLOP/s of sgemm against 17 GB/s through the AVX-512 thin kernels, overheads
     * included. (It was 14 on the earlier Zen 4 host with the AVX2 kernels.)
     */
    static final double FLOPS_PER_BYTE = 9;

    /**
     * The AUTO choice for N train rows, D = K·C_f feature columns and up to {@code iterations} L-BFGS steps (about
     * 1.1 evaluations each). Dense: 2·N²·D flops to build the kernel, then two passes over its 4·N² bytes per evaluation;
     * through the features over kernel rows: four passes over 4·N·D bytes per evaluation (one pass each in the factor's
     * space, which needs D ≤ N/2 and is never beaten). The thin products stream, the build is compute-bound.
     */
    static boolean denseIsCheaper(long n, long d, int iterations) {
        if (n * n * Float.BYTES > (2L << 30) || 2 * d <= n) return false;
        double evaluations = 1.1 * iterations;
        double denseBytes = 2.0 * n * n * d / FLOPS_PER_BYTE + evaluations * 2 * 4.0 * n * n;
        double featureBytes = evaluations * 4 * 4.0 * n * d;
        return denseBytes < featureBytes;
    }

    /**
     * A fitted surrogate with what the report and explanations need. Arrays are not copied.
     *
     * @param glm                 the fitted GLM
     * @param testKernel          K(test, train), [N_test x N_train], normalised as for the fit; matrix-free operators read
     *                            the store's mapped features
     * @param networkTestLogits   the network's test logits, row-major [N_test x C]
     * @param surrogateTestLogits the GLM's test logits, row-major [N_test x C]
     * @param testLabels          the true test labels
     * @param classes             C, the network's output count
     * @param report              the agreement and accuracy figures
     * @param trainData           the train split's dataset rows, as featurized
     * @param testData            the test split's dataset rows, as featurized
     */
    public record Fit(KernelGlm glm, KernelOperator testKernel, double[] networkTestLogits, double[] surrogateTestLogits,
                      int[] testLabels, int classes, SurrogateReport report, Dataset trainData, Dataset testData) {}

    /**
     * Fits on the store's "train" split at {@code checkpoint} (which overrides {@code opt.checkpoint()}) and evaluates on
     * its "test" split. The network's logits come from the model the checkpoint was featurized with unless
     * {@code opt.model()} names another.
     *
     * @param store      the featurized store, with complete "train" and "test" splits
     * @param checkpoint a checkpoint id of the store
     * @param opt        normalisation, targets, class weights, products, λ and iteration budget
     * @param log        receives progress lines, or null
     * @return the fit
     * @throws IllegalArgumentException for a missing split or checkpoint, or a bad kernel (non-finite values, zero
     *                                  spread under STD)
     * @throws IllegalStateException    when a split is incomplete, the checkpoint records no provenance, or a feature
     *                                  file's checksum does not match
     * @throws org.projntk.store.IncompatibleStoreException when the model's checksum or parameter count differ from
     *                                  the checkpoint's
     * @throws org.projntk.ProjntkException when the model cannot be opened or run
     */
    public static Fit fit(FeatureStore store, String checkpoint, Surrogates.Options opt, Consumer<String> log) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(opt, "options");
        Consumer<String> say = log == null ? s -> {} : log;
        KernelKind kind = StoreOperands.traceKind(store);
        List<FeatureMatrix> train = StoreOperands.operand(store, checkpoint, "train");
        List<FeatureMatrix> test = StoreOperands.operand(store, checkpoint, "test");
        long t0 = System.nanoTime();
        FeatureKernelOperator trainFree = KernelOperator.features(train, train, kind, opt.normalization(), null);
        FeatureKernelOperator testFree = KernelOperator.features(test, train, kind, opt.normalization(), trainFree.stdScale());
        long n = train.get(0).rows();
        boolean dense = switch (opt.products()) {
            case DENSE -> true;
            case FEATURES -> false;
            case AUTO -> denseIsCheaper(n, (long) train.get(0).dim() * train.size(), opt.maxIterations());
        };
        KernelOperator trainKernel = trainFree;
        KernelOperator testKernel = testFree;
        if (dense) {
            Gram.Options g = Gram.Options.of(kind, opt.normalization());
            if (opt.normalization() == KernelNormalization.STD) g = g.toBuilder().stdScale(trainFree.stdScale()).build();
            trainKernel = KernelOperator.dense(Gram.computeMatrix(train, train, g));
            testKernel = KernelOperator.dense(Gram.computeMatrix(test, train, g));
        }
        say.accept(String.format(Locale.ROOT, "surrogate: %s %s kernels (%s) train [%d x %d], test [%d x %d] through %d x K=%d features, set up in %.2f s",
                dense ? "dense" : "matrix-free", kind.name().toLowerCase(Locale.ROOT), opt.normalization().name().toLowerCase(Locale.ROOT),
                trainKernel.rows(), trainKernel.cols(), testKernel.rows(), testKernel.cols(), train.size(), train.get(0).dim(),
                (System.nanoTime() - t0) / 1e9));

        Dataset trainData = StoreProvenance.dataset(store, checkpoint, "train");
        Dataset testData = StoreProvenance.dataset(store, checkpoint, "test");
        double[] networkTrain;
        double[] networkTest;
        int classes;
        try (Model net = StoreProvenance.openModel(store, checkpoint, opt.model(), Device.CPU)) {
            networkTrain = Surrogates.logits(net, trainData);
            networkTest = Surrogates.logits(net, testData);
            classes = networkTrain.length / (int) trainData.size();
        }
        int[] trainLabels = trainData.labels();
        int[] targets = opt.targets() == Targets.LABELS ? trainLabels : KernelGlm.argmax(networkTrain, classes);
        double[] weights = opt.classWeight() == ClassWeight.BALANCED ? KernelGlm.balancedWeights(targets, classes) : null;
        long t1 = System.nanoTime();
        KernelGlm glm = KernelGlm.fit(trainKernel, targets, weights, classes,
                KernelGlm.Options.builder().lambda(opt.lambda()).maxIterations(opt.maxIterations()).build());
        double[] surrogateTest = glm.logits(testKernel);
        say.accept(String.format(Locale.ROOT, "surrogate: kernel GLM fitted to the %s (class weights %s) in %.2f s (%s)",
                opt.targets() == Targets.LABELS ? "true train labels" : "network's train predictions",
                opt.classWeight().name().toLowerCase(Locale.ROOT), (System.nanoTime() - t1) / 1e9, glm.fitInfo()));
        int[] testLabels = testData.labels();
        SurrogateReport report = SurrogateReport.evaluate(networkTest, surrogateTest, testLabels, classes, glm.fitInfo());
        return new Fit(glm, testKernel, networkTest, surrogateTest, testLabels, classes, report, trainData, testData);
    }
}
