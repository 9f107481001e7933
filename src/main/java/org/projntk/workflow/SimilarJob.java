package org.projntk.workflow;

import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Consumer;

import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.TopK;
import org.projntk.similar.SimilarExamples;

/**
 * Builds and runs a nearest-examples job over a store, from {@link Store#similar()}: the k most similar train rows of
 * every test row, streamed tile by tile (the kernel is never held whole).
 *
 * <pre>{@code
 * TopK.Result top = store.similar().test("test").train("train").k(5).compute();
 * SimilarExamples.Result files = store.similar().k(10).images(4).write(Path.of("similar"));
 * }</pre>
 *
 * Defaults: the rows of "test" against "train", k = 5, the cosine-normalised kernel (the trace kernel of an eNTK
 * store), a grid of 8 test images when writing, no progress lines. The settings are checked when the job runs, with an
 * {@link IllegalArgumentException} naming the field. A builder is not thread-safe; the job it runs is.
 */
public final class SimilarJob {
    private final Store store;
    private final SimilarExamples.Options.Builder options;
    private Consumer<String> log = line -> {};

    SimilarJob(Store store) {
        this.store = store;
        this.options = SimilarExamples.Options.builder().checkpoint(store.checkpoint());
    }

    /**
     * The split whose rows get neighbours (default "test").
     *
     * @param split the new setting
     * @return this builder
     */
    public SimilarJob test(String split) {
        options.testSplit(split);
        return this;
    }

    /**
     * The split searched for neighbours (default "train").
     *
     * @param split the new setting
     * @return this builder
     */
    public SimilarJob train(String split) {
        options.trainSplit(split);
        return this;
    }

    /**
     * Neighbours per test row (default 5); at least 1.
     *
     * @param value the new setting
     * @return this builder
     */
    public SimilarJob k(int value) {
        options.k(value);
        return this;
    }

    /**
     * The kernel's normalisation (default {@link KernelNormalization#COSINE}).
     *
     * @param value the new setting
     * @return this builder
     */
    public SimilarJob normalization(KernelNormalization value) {
        options.normalization(value);
        return this;
    }

    /**
     * For {@link #write}: test examples shown in the PNG grid, for image data (default 8; 0: no grid).
     *
     * @param count the new setting
     * @return this builder
     */
    public SimilarJob images(int count) {
        options.images(count);
        return this;
    }

    /**
     * For {@link #write}: where progress lines go (default: nowhere).
     *
     * @param lines the new setting
     * @return this builder
     */
    public SimilarJob log(Consumer<String> lines) {
        this.log = Objects.requireNonNull(lines, "log");
        return this;
    }

    /** {@return the options this job runs with} */
    public SimilarExamples.Options options() {
        return options.build();
    }

    /** {@return the neighbours and their kernel values, in memory; nothing is written} */
    public TopK.Result compute() {
        return SimilarExamples.find(store.featureStore(), options.build());
    }

    /**
     * Writes {@code similar.csv} (and, for image data, {@code similar.png}) into {@code dir}; see {@link SimilarExamples}.
     *
     * @param dir see above
     * @return the result
     */
    public SimilarExamples.Result write(Path dir) {
        return SimilarExamples.write(store.featureStore(), options.build(), dir, log);
    }
}
