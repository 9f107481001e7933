package org.projntk.workflow;

import java.util.Objects;
import java.util.function.Consumer;

import org.projntk.kernel.KernelNormalization;
import org.projntk.surrogate.StoreSurrogate;
import org.projntk.surrogate.Surrogates;

/**
 * Builds and fits the kernel surrogate of the store's network, from {@link Store#surrogate()}: a kernel GLM fitted on
 * the "train" split and evaluated against the network on "test".
 *
 * <pre>{@code
 * Surrogates.Fit fit = store.surrogate().lambda(1e-3).fit();
 * SurrogateReport report = fit.report();
 * }</pre>
 *
 * Defaults, the paper's protocol: the cosine-normalised kernel, the true train labels as targets, balanced class weights,
 * λ = {@link Surrogates#DEFAULT_LAMBDA}, 300 L-BFGS iterations, kernel products chosen by cost, the network recorded in
 * the store, no progress lines. The settings are checked when the job runs, with an {@link IllegalArgumentException}
 * naming the field. A builder is not thread-safe; the job it runs is.
 */
public final class SurrogateJob {
    private final Store store;
    private final Surrogates.Options.Builder options;
    private Consumer<String> log = line -> {};

    SurrogateJob(Store store) {
        this.store = store;
        this.options = Surrogates.Options.builder().checkpoint(store.checkpoint());
    }

    /**
     * The relative L2 penalty (default {@link Surrogates#DEFAULT_LAMBDA}); finite and at least 0.
     *
     * @param value the new setting
     * @return this builder
     */
    public SurrogateJob lambda(double value) {
        options.lambda(value);
        return this;
    }

    /**
     * The kernel's normalisation (default {@link KernelNormalization#COSINE}).
     *
     * @param value the new setting
     * @return this builder
     */
    public SurrogateJob normalization(KernelNormalization value) {
        options.normalization(value);
        return this;
    }

    /**
     * What the GLM is fitted to (default {@link StoreSurrogate.Targets#LABELS}).
     *
     * @param value the new setting
     * @return this builder
     */
    public SurrogateJob targets(StoreSurrogate.Targets value) {
        options.targets(value);
        return this;
    }

    /**
     * The class weights (default {@link StoreSurrogate.ClassWeight#BALANCED}).
     *
     * @param value the new setting
     * @return this builder
     */
    public SurrogateJob classWeight(StoreSurrogate.ClassWeight value) {
        options.classWeight(value);
        return this;
    }

    /**
     * The L-BFGS iteration budget (default 300); at least 1.
     *
     * @param value the new setting
     * @return this builder
     */
    public SurrogateJob maxIterations(int value) {
        options.maxIterations(value);
        return this;
    }

    /**
     * How kernel products are computed (default {@link StoreSurrogate.Products#AUTO}).
     *
     * @param value the new setting
     * @return this builder
     */
    public SurrogateJob products(StoreSurrogate.Products value) {
        options.products(value);
        return this;
    }

    /**
     * Another spec of the recorded network, e.g. where its file moved; its checksum must match (default: the recorded one).
     *
     * @param spec the new setting
     * @return this builder
     */
    public SurrogateJob model(String spec) {
        options.model(spec);
        return this;
    }

    /**
     * Where progress lines go (default: nowhere).
     *
     * @param lines the new setting
     * @return this builder
     */
    public SurrogateJob log(Consumer<String> lines) {
        this.log = Objects.requireNonNull(lines, "log");
        return this;
    }

    /** {@return the options this job fits with} */
    public Surrogates.Options options() {
        return options.build();
    }

    /** {@return fits the surrogate and evaluates it on "test"} */
    public Surrogates.Fit fit() {
        return Surrogates.fit(store.featureStore(), options.build(), log);
    }
}
