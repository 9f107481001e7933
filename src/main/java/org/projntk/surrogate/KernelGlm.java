package org.projntk.surrogate;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.Consumer;
import org.projntk.kernel.FeatureKernelOperator;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.KernelOperator;
import org.projntk.stats.Cholesky;

/**
 * Kernel GLM surrogate: multinomial logistic regression on kernel rows, logits(x) = K(x, train)·W + b with
 * W [N_train x C], fitted by L-BFGS (deterministic) to integer targets: the true labels, or the network's predictions.
 *
 * <p>Objective: mean_i[-log softmax(K_i W + b)_{y_i}] + (λ_eff/2)·||W||²_F, with
 * λ_eff = λ·N·s² and s = mean_i K_ii (the kernel's scale). Under K → αK the optimum is W → W/α, so λ means the
 * same for every kernel scale and normalisation; the factor N keeps the penalty comparable to the O(1) data term
 * when the kernel's rows are strongly correlated, as NTKs are. {@link LambdaScale#ABSOLUTE} uses λ as is.
 *
 * <p>Immutable once fitted and safe to share between threads; it holds W and b on the heap (N·C floats).
 */
public final class KernelGlm {
    private final float[] weights; // [n x c] row-major
    private final double[] bias;   // [c]
    private final int n;
    private final int c;
    private final FitInfo info;

    /** How {@link Options#lambda()} is scaled. */
    public enum LambdaScale {
        /** λ·N·s², s the kernel's scale (see the class comment): the same λ suits kernels of any size and scale */
        RELATIVE,
        /** λ as given */
        ABSOLUTE
    }

    /**
     * How the GLM is fitted: the L2 penalty and its scaling, and the L-BFGS budget, tolerance, memory and progress lines.
     * Immutable and safe to share (the progress consumer is called from the fitting thread).
     *
     * <pre>{@code
     * KernelGlm.Options options = KernelGlm.Options.builder().lambda(1e-6).maxIterations(1000).build();
     * }</pre>
     */
    public static final class Options {
        private final double lambda;
        private final LambdaScale lambdaScale;
        private final int maxIterations;
        private final double tolerance;
        private final int history;
        private final Consumer<String> progress;

        private Options(Builder b) {
            this.lambda = b.lambda;
            this.lambdaScale = b.lambdaScale;
            this.maxIterations = b.maxIterations;
            this.tolerance = b.tolerance;
            this.history = b.history;
            this.progress = b.progress;
        }

        /** {@return a builder with the defaults: λ = 1e-3 relative, 300 iterations, tolerance 1e-4, memory 10, no progress lines} */
        public static Builder builder() {
            return new Builder();
        }

        /** {@return the defaults of {@link #builder()}} */
        public static Options defaults() {
            return builder().build();
        }

        /** {@return a builder holding these options, to change some of them} */
        public Builder toBuilder() {
            return new Builder().lambda(lambda).lambdaScale(lambdaScale).maxIterations(maxIterations).tolerance(tolerance).history(history)
                    .progress(progress);
        }

        /** {@return the L2 penalty on W} */
        public double lambda() {
            return lambda;
        }

        /** {@return how the penalty is scaled} */
        public LambdaScale lambdaScale() {
            return lambdaScale;
        }

        /** {@return the L-BFGS iteration budget} */
        public int maxIterations() {
            return maxIterations;
        }

        /** {@return stop when ||∇||_∞ ≤ tolerance·max(1, ||∇₀||_∞), or when the objective stalls} */
        public double tolerance() {
            return tolerance;
        }

        /** {@return the L-BFGS memory (pairs kept)} */
        public int history() {
            return history;
        }

        /** {@return receives one line per L-BFGS iteration (objective, step, evaluations, products); null: silent} */
        public Consumer<String> progress() {
            return progress;
        }

        @Override
        public String toString() {
            return "KernelGlm.Options[lambda=" + lambda + ", lambdaScale=" + lambdaScale + ", maxIterations=" + maxIterations
                    + ", tolerance=" + tolerance + ", history=" + history + "]";
        }

        /** Builds {@link Options}; not thread-safe. Every setting has a default. */
        public static final class Builder {
            private double lambda = 1e-3;
            private LambdaScale lambdaScale = LambdaScale.RELATIVE;
            private int maxIterations = 300;
            private double tolerance = 1e-4;
            private int history = 10;
            private Consumer<String> progress;

            private Builder() {}

            /**
             * The L2 penalty on W (default 1e-3); finite and at least 0.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder lambda(double value) {
                this.lambda = value;
                return this;
            }

            /**
             * How the penalty is scaled (default {@link LambdaScale#RELATIVE}).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder lambdaScale(LambdaScale value) {
                this.lambdaScale = value;
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
             * The relative gradient tolerance (default 1e-4); positive.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder tolerance(double value) {
                this.tolerance = value;
                return this;
            }

            /**
             * The L-BFGS memory (default 10); at least 1.
             *
             * @param pairs the new setting
             * @return this builder
             */
            public Builder history(int pairs) {
                this.history = pairs;
                return this;
            }

            /**
             * Where one line per iteration goes (default null: silent).
             *
             * @param lines the new setting
             * @return this builder
             */
            public Builder progress(Consumer<String> lines) {
                this.progress = lines;
                return this;
            }

            /**
             * The options.
             *
             * @return the options
             * @throws IllegalArgumentException naming the field when a value is missing or out of range
             */
            public Options build() {
                if (!(lambda >= 0) || !Double.isFinite(lambda)) throw new IllegalArgumentException("lambda must be a finite number >= 0, got " + lambda);
                if (lambdaScale == null) throw new IllegalArgumentException("lambdaScale must be set, got null");
                if (maxIterations < 1) throw new IllegalArgumentException("maxIterations must be >= 1, got " + maxIterations);
                if (!(tolerance > 0)) throw new IllegalArgumentException("tolerance must be > 0, got " + tolerance);
                if (history < 1) throw new IllegalArgumentException("history must be >= 1, got " + history);
                return new Options(this);
            }
        }
    }

    /**
     * How the fit went.
     *
     * @param iterations      L-BFGS iterations run
     * @param evaluations     objective values computed, line-search trial points included
     * @param products        kernel (or factor) products, the fit's cost (see {@link Lbfgs})
     * @param objective       the final objective value (mean cross-entropy plus penalty)
     * @param gradientInfNorm the final gradient's largest absolute component
     * @param effectiveLambda the penalty λ_eff actually applied
     * @param converged       true when the tolerance was met or the objective stalled, false when the budget ran out
     * @param trainAccuracy   the fraction of train examples whose argmax logit equals the target, in [0, 1]
     * @param seconds         wall time of the fit
     * @param searchSpace     where L-BFGS ran: "kernel rows (N=…)" or "feature factor (D=…)" (see {@link #fit})
     */
    public record FitInfo(int iterations, int evaluations, int products, double objective, double gradientInfNorm,
                          double effectiveLambda, boolean converged, double trainAccuracy, double seconds, String searchSpace) {}

    /**
     * Largest factor width D fitted in the factor's column space: its D x D Gram matrix costs N·D² flops and its
     * Cholesky factorisation D³/3 in Java, which only pay off against two passes saved per product for moderate D.
     */
    static final int MAX_FACTOR_COLUMNS = 4096;

    private KernelGlm(float[] weights, double[] bias, int n, int c, FitInfo info) {
        this.weights = weights;
        this.bias = bias;
        this.n = n;
        this.c = c;
        this.info = info;
    }

    /** {@return N, the number of train examples (rows of W)} */
    public int trainSize() {
        return n;
    }

    /** {@return C, the number of classes (columns of W)} */
    public int classes() {
        return c;
    }

    /** {@return how the fit went} */
    public FitInfo fitInfo() {
        return info;
    }

    /**
     * One weight, W[j][q], in logit units per kernel unit.
     *
     * @param j the train example, in [0, N)
     * @param q the class, in [0, C)
     * @return the weight
     * @throws ArrayIndexOutOfBoundsException for j * C + q outside W
     */
    public float weight(int j, int q) {
        return weights[j * c + q];
    }

    /**
     * One class's bias b_q.
     *
     * @param q the class, in [0, C)
     * @return the bias
     * @throws ArrayIndexOutOfBoundsException for a class out of range
     */
    public double bias(int q) {
        return bias[q];
    }

    /** {@return a copy of W, row-major [N x C]} */
    public float[] weights() {
        return weights.clone();
    }

    /**
     * Fits on the square train kernel K(train, train), unweighted, through {@link KernelOperator#dense}.
     *
     * @param trainKernel K(train, train), [N x N]
     * @param targets     one class per train row, in [0, classes)
     * @param classes     C, at least 2
     * @param opt         penalty and L-BFGS settings
     * @return the fitted surrogate
     * @throws IllegalArgumentException for a non-square kernel, targets of the wrong length or out of range, or
     *                                  fewer than 2 classes
     */
    public static KernelGlm fit(KernelMatrix trainKernel, int[] targets, int classes, Options opt) {
        Objects.requireNonNull(trainKernel, "trainKernel");
        return fit(KernelOperator.dense(trainKernel), targets, null, classes, opt);
    }

    /**
     * Fits through any {@link KernelOperator} of the train kernel (matrix-free or dense): the same objective and the
     * same optimum either way.
     *
     * <p>A matrix-free kernel K = F Fᵀ whose factor is narrow (D ≤ N/2 columns, at most {@link #MAX_FACTOR_COLUMNS}) is
     * fitted in F's column space: the optimum W = −K'ᵀG/λ lies in range(F), so with M = FᵀF = L Lᵀ and the orthonormal
     * basis Q = F L⁻ᵀ, W = Q Z. Then K'W = F_c L Z and ∇_Z = Lᵀ F_cᵀ G + λZ, and ||W|| = ||Z||: the same objective on an
     * isometric copy of W's search space, so L-BFGS takes the same steps, but each product is one pass over the
     * features instead of two. A factor whose Gram matrix is singular falls back to kernel rows.
     *
     * <p>Runs on the calling thread; memory is O(N·C·history) besides the operator's own.
     *
     * @param trainKernel   K(train, train), square
     * @param targets       one class per train row, in [0, classes)
     * @param sampleWeights per-example weights of the data term (e.g. {@link #balancedWeights}), finite and &ge; 0, or
     *                      null for 1
     * @param classes       C, at least 2
     * @param opt           penalty and L-BFGS settings
     * @return the fitted surrogate; {@link FitInfo#converged()} says whether it converged within the budget
     * @throws IllegalArgumentException for a non-square kernel, targets or weights of the wrong length or out of range,
     *                                  fewer than 2 classes, or a non-finite kernel product
     */
    public static KernelGlm fit(KernelOperator trainKernel, int[] targets, double[] sampleWeights, int classes, Options opt) {
        Objects.requireNonNull(trainKernel, "trainKernel");
        Objects.requireNonNull(targets, "targets");
        Objects.requireNonNull(opt, "options");
        if (trainKernel.rows() != trainKernel.cols()) {
            throw new IllegalArgumentException("the GLM is fitted on a square train kernel, got "
                    + trainKernel.rows() + " x " + trainKernel.cols());
        }
        int n = trainKernel.rows();
        if (targets.length != n) {
            throw new IllegalArgumentException("targets has " + targets.length + " labels for a kernel of " + n + " rows");
        }
        if (classes < 2) {
            throw new IllegalArgumentException("need at least 2 classes, got " + classes);
        }
        for (int i = 0; i < n; i++) {
            if (targets[i] < 0 || targets[i] >= classes) {
                throw new IllegalArgumentException("target " + targets[i] + " at index " + i + " is outside [0, " + classes + ")");
            }
        }
        double[] weights = sampleWeights == null ? null : checkWeights(sampleWeights, n);
        long t0 = System.nanoTime();
        double lambdaEff = opt.lambdaScale() == LambdaScale.ABSOLUTE ? opt.lambda() : opt.lambda() * n * square(kernelScale(trainKernel));
        // Kernel rows are strongly correlated (a cosine kernel is close to 1 everywhere), which makes the problem
        // ill-conditioned. Centring each column over the train rows leaves the optimum unchanged (the bias is not
        // penalised and absorbs the shift: b' = b - μᵀW) but makes L-BFGS converge in far fewer iterations.
        Space space = searchSpace(trainKernel);
        Objective obj = new Objective(space, targets, weights, classes, lambdaEff);
        int np = space.size() * classes;
        double[] theta = new double[np + classes];
        Lbfgs.Result r = Lbfgs.minimize(obj, theta, opt.maxIterations(), opt.tolerance(), opt.history(), opt.progress());
        float[] p = new float[np];
        for (int i = 0; i < np; i++) {
            p[i] = (float) r.x()[i];
        }
        float[] w = space.weights(p, classes);
        double[] b = Arrays.copyOfRange(r.x(), np, np + classes);
        double[] meanLogits = space.meanLogits(p, classes);
        for (int q = 0; q < classes; q++) b[q] -= meanLogits[q];
        // train logits K W + b' = K'W + b: the image of the final iterate, which L-BFGS returns, so no product
        double[] trainLogits = r.image().clone();
        for (int i = 0; i < trainLogits.length; i++) trainLogits[i] += r.x()[np + i % classes];
        int[] pred = argmax(trainLogits, classes);
        int ok = 0;
        for (int i = 0; i < n; i++) {
            ok += pred[i] == targets[i] ? 1 : 0;
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        FitInfo fi = new FitInfo(r.iterations(), r.evaluations(), r.products(), r.fx(), r.gradInfNorm(), lambdaEff, r.converged(),
                (double) ok / n, secs, space.describe());
        return new KernelGlm(w, b, n, classes, fi);
    }

    /**
     * Class-balanced sample weights, as scikit-learn's {@code class_weight="balanced"} that the reference notebooks use:
     * w_i = N / (C_present · count(y_i)), so every class present carries the same total weight and the weights average 1.
     *
     * @param targets one class per example
     * @param classes C; every target must lie in [0, C)
     * @return one weight per example
     * @throws IllegalArgumentException for a target out of range
     */
    public static double[] balancedWeights(int[] targets, int classes) {
        int[] count = new int[classes];
        for (int y : targets) {
            if (y < 0 || y >= classes) throw new IllegalArgumentException("target " + y + " is outside [0, " + classes + ")");
            count[y]++;
        }
        int present = 0;
        for (int c : count) present += c > 0 ? 1 : 0;
        double[] w = new double[targets.length];
        for (int i = 0; i < w.length; i++) w[i] = (double) targets.length / ((double) present * count[targets[i]]);
        return w;
    }

    private static double[] checkWeights(double[] w, int n) {
        if (w.length != n) throw new IllegalArgumentException("sample weights have " + w.length + " values for " + n + " examples");
        for (int i = 0; i < n; i++) {
            if (!(w[i] >= 0) || !Double.isFinite(w[i])) {
                throw new IllegalArgumentException("sample weight " + w[i] + " at index " + i + " is not a finite number >= 0");
            }
        }
        return w.clone();
    }

    /** The factored search space when it pays off (see {@link #fit(KernelOperator, int[], double[], int, Options)}). */
    static Space searchSpace(KernelOperator k) {
        if (k instanceof FeatureKernelOperator f && f.symmetric()) {
            int d = f.factorColumns();
            if (2L * d <= f.rows() && d <= MAX_FACTOR_COLUMNS) {
                try {
                    return new Factored(f, Cholesky.factor(f.factorGram(), d));
                } catch (Cholesky.NotPositiveDefiniteException singular) {
                    // rank-deficient features: range(F) has no basis of this width, search over kernel rows instead
                }
            }
        }
        return new Centred(k);
    }

    /**
     * Where L-BFGS searches: a parameter matrix P [size x C] that determines W, with the logits K'W of the column-centred
     * kernel K' = K - 1μᵀ and the gradient's pull-back ∂<G, K'W>/∂P.
     */
    abstract static class Space {
        abstract int size();

        /** K'W [N x c]. */
        abstract float[] times(float[] p, int c);

        /** ∂<G, K'W>/∂P [size x c]. */
        abstract float[] transposeTimes(float[] g, int c);

        /** W [N x c]. */
        abstract float[] weights(float[] p, int c);

        /** μᵀW [c]: what the bias absorbs when the centring is undone. */
        abstract double[] meanLogits(float[] p, int c);

        abstract String describe();
    }

    /** P = W: K'W = KW - 1(μᵀW), K'ᵀG = KᵀG - μ(1ᵀG), through the operator. */
    static class Centred extends Space {
        final KernelOperator k;
        final double[] mu;

        Centred(KernelOperator k) {
            this.k = k;
            int n = k.rows();
            float[] ones = new float[n];
            Arrays.fill(ones, 1f / n);
            float[] m = k.transposeTimes(ones, 1);
            this.mu = new double[m.length];
            for (int j = 0; j < m.length; j++) mu[j] = m[j];
        }

        @Override
        int size() {
            return k.cols();
        }

        @Override
        float[] times(float[] w, int c) {
            float[] z = k.times(w, c);
            double[] muW = meanLogits(w, c);
            for (int i = 0; i < z.length; i++) z[i] -= (float) muW[i % c];
            return z;
        }

        @Override
        float[] transposeTimes(float[] g, int c) {
            float[] out = k.transposeTimes(g, c);
            double[] colSum = new double[c];
            for (int i = 0; i < g.length; i++) colSum[i % c] += g[i];
            for (int j = 0; j < mu.length; j++) {
                for (int q = 0; q < c; q++) out[j * c + q] -= (float) (mu[j] * colSum[q]);
            }
            return out;
        }

        @Override
        float[] weights(float[] p, int c) {
            return p;
        }

        @Override
        double[] meanLogits(float[] w, int c) {
            double[] muW = new double[c];
            for (int j = 0; j < mu.length; j++) {
                for (int q = 0; q < c; q++) muW[q] += mu[j] * w[j * c + q];
            }
            return muW;
        }

        @Override
        String describe() {
            return "kernel rows (N=" + k.cols() + ")";
        }
    }

    /**
     * P = Z with W = Q Z, Q = F L⁻ᵀ an orthonormal basis of range(F), M = FᵀF = L Lᵀ. With F_c = F - 1f̄ᵀ (f̄ the mean
     * row of F, so that K' = F_c Fᵀ): K'W = F_c L Z, ∂/∂Z = Lᵀ F_cᵀ G, μᵀW = f̄ᵀ L Z.
     */
    static final class Factored extends Space {
        private final FeatureKernelOperator f;
        private final Cholesky chol;
        private final double[] meanRow;

        Factored(FeatureKernelOperator f, Cholesky chol) {
            this.f = f;
            this.chol = chol;
            int n = f.rows();
            float[] ones = new float[n];
            Arrays.fill(ones, 1f / n);
            float[] m = f.factorTransposeTimes(ones, 1);
            this.meanRow = new double[m.length];
            for (int j = 0; j < m.length; j++) meanRow[j] = m[j];
        }

        @Override
        int size() {
            return chol.size();
        }

        @Override
        float[] times(float[] z, int c) {
            double[] lz = chol.lowerTimes(toDouble(z), c);
            float[] out = f.factorTimes(toFloat(lz), c);
            double[] mean = meanRowTimes(lz, c);
            for (int i = 0; i < out.length; i++) out[i] -= (float) mean[i % c];
            return out;
        }

        @Override
        float[] transposeTimes(float[] g, int c) {
            float[] h = f.factorTransposeTimes(g, c);
            double[] colSum = new double[c];
            for (int i = 0; i < g.length; i++) colSum[i % c] += g[i];
            double[] centred = new double[h.length];
            for (int j = 0; j < meanRow.length; j++) {
                for (int q = 0; q < c; q++) centred[j * c + q] = h[j * c + q] - meanRow[j] * colSum[q];
            }
            return toFloat(chol.lowerTransposeTimes(centred, c));
        }

        @Override
        float[] weights(float[] z, int c) {
            double[] x = toDouble(z);
            chol.solveLowerTranspose(x, c);
            return f.factorTimes(toFloat(x), c);
        }

        @Override
        double[] meanLogits(float[] z, int c) {
            return meanRowTimes(chol.lowerTimes(toDouble(z), c), c);
        }

        @Override
        String describe() {
            return "feature factor (D=" + chol.size() + ", N=" + f.rows() + ")";
        }

        private double[] meanRowTimes(double[] v, int c) {
            double[] out = new double[c];
            for (int j = 0; j < meanRow.length; j++) {
                for (int q = 0; q < c; q++) out[q] += meanRow[j] * v[j * c + q];
            }
            return out;
        }

        private static double[] toDouble(float[] x) {
            double[] out = new double[x.length];
            for (int i = 0; i < x.length; i++) out[i] = x[i];
            return out;
        }

        private static float[] toFloat(double[] x) {
            float[] out = new float[x.length];
            for (int i = 0; i < x.length; i++) out[i] = (float) x[i];
            return out;
        }
    }

    /**
     * The logits K W + b for a kernel K(x, train) held in memory.
     *
     * @param kernel K(x, train), [rows x N_train], normalised as the train kernel was
     * @return the logits, row-major [rows x C]
     * @throws IllegalArgumentException when the kernel does not have N_train columns
     */
    public double[] logits(KernelMatrix kernel) {
        return logits(KernelOperator.dense(kernel));
    }

    /**
     * The logits K W + b through an operator of K(x, train) (matrix-free or dense): one product.
     *
     * @param kernel K(x, train), [rows x N_train], normalised as the train kernel was
     * @return the logits, row-major [rows x C]
     * @throws IllegalArgumentException when the kernel does not have N_train columns, or the product is not finite
     */
    public double[] logits(KernelOperator kernel) {
        if (kernel.cols() != n) {
            throw new IllegalArgumentException("kernel has " + kernel.cols() + " columns, the surrogate was fitted on "
                    + n + " train examples");
        }
        float[] z = kernel.times(weights, c);
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = z[i] + bias[i % c];
        }
        return out;
    }

    /**
     * The predicted class (argmax logit, the lower class on ties) of every row.
     *
     * @param kernel K(x, train), [rows x N_train]
     * @return one class per row
     * @throws IllegalArgumentException when the kernel does not have N_train columns
     */
    public int[] predict(KernelMatrix kernel) {
        return argmax(logits(kernel), c);
    }

    /**
     * As {@link #predict(KernelMatrix)}, through an operator.
     *
     * @param kernel K(x, train), [rows x N_train]
     * @return one class per row
     * @throws IllegalArgumentException when the kernel does not have N_train columns, or the product is not finite
     */
    public int[] predict(KernelOperator kernel) {
        return argmax(logits(kernel), c);
    }

    static int[] argmax(double[] logits, int c) {
        int rows = logits.length / c;
        int[] out = new int[rows];
        for (int i = 0; i < rows; i++) {
            int best = 0;
            for (int q = 1; q < c; q++) {
                if (logits[i * c + q] > logits[i * c + best]) {
                    best = q;
                }
            }
            out[i] = best;
        }
        return out;
    }

    /**
     * s = mean diagonal, or the RMS entry when the diagonal is not positive (an odd, non-PSD kernel; the RMS costs
     * N/64 products, so it is only taken for kernels of at most 20,000 rows).
     */
    static double kernelScale(KernelOperator k) {
        double[] diag = k.diagonal();
        double d = 0;
        for (double x : diag) d += x;
        d /= Math.max(1, diag.length);
        if (d > 0 && Double.isFinite(d)) {
            return d;
        }
        int n = k.rows();
        if (n > 20_000) throw new IllegalArgumentException("the train kernel's diagonal is not positive; cannot fit a surrogate");
        double ss = 0;
        int block = 64;
        for (int j0 = 0; j0 < k.cols(); j0 += block) {
            int q = Math.min(block, k.cols() - j0);
            float[] e = new float[k.cols() * q];
            for (int t = 0; t < q; t++) e[(j0 + t) * q + t] = 1f;
            for (float v : k.times(e, q)) ss += (double) v * v;
        }
        double rms = Math.sqrt(ss / Math.max(1.0, (double) k.rows() * k.cols()));
        if (!(rms > 0) || !Double.isFinite(rms)) {
            throw new IllegalArgumentException("the train kernel is zero or non-finite; cannot fit a surrogate");
        }
        return rms;
    }

    private static double square(double x) {
        return x * x;
    }

    /**
     * The objective in θ = [W (row-major N x C), b (C)], a linear model for {@link Lbfgs}: A θ = K'W (the bias stays out
     * of the image), the dual is ∂(data term)/∂(K'W), and the data term is a weighted mean.
     */
    static final class Objective implements Lbfgs.LinearModel {
        private final Space k;
        private final int[] y;
        private final double[] sampleWeights;
        private final int c;
        private final double lambda;
        private final int nw; // entries of W in θ; the bias follows them

        /** Over a dense matrix's rows (a reference for tests). */
        Objective(KernelMatrix k, int[] y, double[] sampleWeights, int c, double lambda) {
            this(new Centred(KernelOperator.dense(k)) {
                @Override
                float[] times(float[] w, int q) {
                    return this.k.times(w, q);
                }

                @Override
                float[] transposeTimes(float[] g, int q) {
                    return this.k.transposeTimes(g, q);
                }
            }, y, sampleWeights, c, lambda);
        }

        Objective(Space k, int[] y, double[] sampleWeights, int c, double lambda) {
            this.k = k;
            this.y = y;
            this.sampleWeights = sampleWeights;
            this.c = c;
            this.lambda = lambda;
            this.nw = k.size() * c;
        }

        /** f(θ) with ∇f written into grad: two products (a reference for tests). */
        double value(double[] theta, double[] grad) {
            double[] dual = new double[imageLength()];
            double f = value(theta, image(theta), dual);
            gradient(theta, dual, grad);
            return f;
        }

        private double weight(int i) {
            return sampleWeights == null ? 1.0 : sampleWeights[i];
        }

        @Override
        public int imageLength() {
            return y.length * c;
        }

        @Override
        public double[] image(double[] theta) {
            float[] w = new float[nw];
            for (int i = 0; i < nw; i++) w[i] = (float) theta[i];
            float[] z = k.times(w, c);
            double[] out = new double[z.length];
            for (int i = 0; i < z.length; i++) out[i] = z[i];
            return out;
        }

        @Override
        public double value(double[] theta, double[] z, double[] dual) {
            int n = y.length;
            double reg = 0;
            for (int i = 0; i < nw; i++) reg += theta[i] * theta[i];
            double loss = 0;
            double[] p = new double[c];
            for (int i = 0; i < n; i++) {
                double si = weight(i);
                double max = Double.NEGATIVE_INFINITY;
                for (int q = 0; q < c; q++) {
                    p[q] = z[i * c + q] + theta[nw + q];
                    max = Math.max(max, p[q]);
                }
                double sum = 0;
                for (int q = 0; q < c; q++) {
                    p[q] = Math.exp(p[q] - max);
                    sum += p[q];
                }
                double zy = z[i * c + y[i]] + theta[nw + y[i]];
                loss += si * (max + Math.log(sum) - zy);
                for (int q = 0; q < c; q++) dual[i * c + q] = si * (p[q] / sum - (q == y[i] ? 1 : 0)) / n;
            }
            return loss / n + 0.5 * lambda * reg;
        }

        @Override
        public void gradient(double[] theta, double[] dual, double[] grad) {
            float[] g = new float[dual.length];
            for (int i = 0; i < g.length; i++) g[i] = (float) dual[i];
            float[] kg = k.transposeTimes(g, c);
            for (int i = 0; i < nw; i++) grad[i] = kg[i] + lambda * theta[i];
            for (int q = 0; q < c; q++) grad[nw + q] = 0;
            for (int i = 0; i < dual.length; i++) grad[nw + i % c] += dual[i];
        }

        @Override
        public double slope(double[] theta, double[] dual, double[] d, double[] ad) {
            double s = 0;
            for (int i = 0; i < dual.length; i++) s += dual[i] * (ad[i] + d[nw + i % c]);
            double reg = 0;
            for (int i = 0; i < nw; i++) reg += theta[i] * d[i];
            return s + lambda * reg;
        }

        /**
         * The softmax loss has Hessian diag(p) - ppᵀ ≤ I/2 in each example's logits, whose change along d is
         * (A d)_i + d_b: so dᵀ∇²f d ≤ Σ_i s_i ||(A d)_i + d_b||² / (2N) + λ||d_W||².
         */
        @Override
        public double curvatureBound(double[] d, double[] ad) {
            double data = 0;
            for (int i = 0; i < y.length; i++) {
                double row = 0;
                for (int q = 0; q < c; q++) {
                    double v = ad[i * c + q] + d[nw + q];
                    row += v * v;
                }
                data += weight(i) * row;
            }
            double reg = 0;
            for (int i = 0; i < nw; i++) reg += d[i] * d[i];
            return data / (2.0 * y.length) + lambda * reg;
        }
    }
}
