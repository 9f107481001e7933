package org.projntk.workflow;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

import org.projntk.attribution.TrakScores;

/**
 * Builds and runs a TRAK scores job over a store of margin features, from {@link Store#scores()}: the [test x train]
 * attribution scores, averaged over checkpoints (docs/attribution.md).
 *
 * <pre>{@code
 * float[][] scores = store.scores().lambda(0.01).compute();
 * TrakScores.Result r = store.scores().lambda(0.01).trakCompat(true).write(Path.of("scores.npy"));
 * }</pre>
 *
 * Defaults: λ = 0, all of the store's checkpoints (not only the one {@link Store#at} names), projntk's conventions,
 * all K projected columns, splits "test" against "train", tiles of 1024 x 4096. The settings are checked when the job
 * runs, with an {@link IllegalArgumentException} naming the field. A builder is not thread-safe; the job it runs is.
 */
public final class ScoresJob {
    private final Store store;
    private final TrakScores.Options.Builder options = TrakScores.Options.builder();

    ScoresJob(Store store) {
        this.store = store;
    }

    /**
     * The ridge term added to XᵀX (default 0); finite and at least 0.
     *
     * @param value the new setting
     * @return this builder
     */
    public ScoresJob lambda(double value) {
        options.lambda(value);
        return this;
    }

    /**
     * Average over these checkpoints, in this order (default: all of the store's).
     *
     * @param ids the new setting
     * @return this builder
     */
    public ScoresJob checkpoints(String... ids) {
        options.checkpoints(ids);
        return this;
    }

    /**
     * As {@link #checkpoints(String...)}.
     *
     * @param ids the new setting
     * @return this builder
     */
    public ScoresJob checkpoints(List<String> ids) {
        options.checkpoints(ids);
        return this;
    }

    /**
     * Reproduce MadryLab TRAK 0.3.2's numbers (default false; see {@link TrakScores}).
     *
     * @param value the new setting
     * @return this builder
     */
    public ScoresJob trakCompat(boolean value) {
        options.trakCompat(value);
        return this;
    }

    /**
     * Use the first {@code columns} projected columns (default 0: all K).
     *
     * @param columns the new setting
     * @return this builder
     */
    public ScoresJob dim(int columns) {
        options.dim(columns);
        return this;
    }

    /**
     * The split attributed to, the scores' columns (default "train").
     *
     * @param split the new setting
     * @return this builder
     */
    public ScoresJob train(String split) {
        options.trainSplit(split);
        return this;
    }

    /**
     * The split scored, the scores' rows (default "test").
     *
     * @param split the new setting
     * @return this builder
     */
    public ScoresJob test(String split) {
        options.testSplit(split);
        return this;
    }

    /**
     * Test rows and train columns per tile (default 1024 x 4096); both at least 1.
     *
     * @param testRows the new setting
     * @param trainCols the new setting
     * @return this builder
     */
    public ScoresJob tiles(int testRows, int trainCols) {
        options.tiles(testRows, trainCols);
        return this;
    }

    /** {@return the options this job scores with} */
    public TrakScores.Options options() {
        return options.build();
    }

    /** {@return the whole [test x train] score matrix in memory} */
    public float[][] compute() {
        return TrakScores.matrix(store.featureStore(), options.build());
    }

    /**
     * Streams the scores to {@code sink}, tile by tile, never holding all of them.
     *
     * @param sink see above
     * @return the result
     */
    public TrakScores.Result stream(TrakScores.Sink sink) {
        Objects.requireNonNull(sink, "sink");
        return TrakScores.score(store.featureStore(), options.build(), sink);
    }

    /**
     * Streams the scores into a float32 {@code .npy} [test x train] at {@code out}, written as {@code out.tmp} and renamed.
     *
     * @param out see above
     * @return the result
     */
    public TrakScores.Result write(Path out) {
        return TrakScores.writeNpy(store.featureStore(), options.build(), Objects.requireNonNull(out, "out"));
    }
}
