package org.projntk.workflow;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

import org.projntk.surrogate.Surrogates;
import org.projntk.attribution.TrakScores;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.StoreOperands;
import org.projntk.kernel.TopK;
import org.projntk.store.FeatureStore;

/**
 * A featurized store and the analyses over it, by split name:
 *
 * <pre>{@code
 * Store store = Store.open(Path.of("store"));
 * KernelMatrix k = store.gram("test", "train", KernelNormalization.COSINE);
 * TopK.Result nearest = store.similar("test", "train", 5);
 * SurrogateReport report = store.surrogate().report();
 * }</pre>
 *
 * Reads use the store's first complete checkpoint unless {@link #at} names another, and the kernel its features were
 * computed for (an eNTK store gives its trace kernel where one value per pair of examples is needed). Immutable and
 * safe to share between threads; every call reads the files anew.
 */
public final class Store {
    private final FeatureStore store;
    private final String checkpoint;

    private Store(FeatureStore store, String checkpoint) {
        this.store = store;
        this.checkpoint = checkpoint;
    }

    /** Opens the feature store in {@code dir}; it must hold a complete checkpoint. */
    public static Store open(Path dir) {
        return of(FeatureStore.open(dir));
    }

    /** A view of an open store, at its first complete checkpoint. */
    public static Store of(FeatureStore store) {
        Objects.requireNonNull(store, "store");
        return new Store(store, StoreOperands.checkpoint(store, null));
    }

    /** This store at another checkpoint. */
    public Store at(String checkpointId) {
        return new Store(store, StoreOperands.checkpoint(store, Objects.requireNonNull(checkpointId, "checkpoint")));
    }

    /** The store itself: its manifest, raw feature files and writers. */
    public FeatureStore featureStore() {
        return store;
    }

    /** The checkpoint this view reads. */
    public String checkpoint() {
        return checkpoint;
    }

    /** The kernel the store's features were computed for. */
    public KernelKind kernel() {
        return StoreOperands.kind(store);
    }

    /** The features of a complete split: one matrix per output (per class for trNTK and eNTK stores). */
    public List<FeatureMatrix> features(String split) {
        return StoreOperands.operand(store, checkpoint, split);
    }

    /** The kernel between the rows of two splits, e.g. {@code gram("test", "train", KernelNormalization.COSINE)}. */
    public KernelMatrix gram(String rows, String cols, KernelNormalization normalization) {
        return Gram.computeMatrix(features(rows), features(cols), Gram.Options.of(kernel(), normalization));
    }

    /** The k most similar rows of {@code train} for every row of {@code test}, by the cosine-normalised kernel. */
    public TopK.Result similar(String test, String train, int k) {
        return similar(test, train, k, KernelNormalization.COSINE);
    }

    /** As {@link #similar(String, String, int)} with another normalisation. */
    public TopK.Result similar(String test, String train, int k, KernelNormalization normalization) {
        Gram.Options options = Gram.Options.of(StoreOperands.traceKind(store), normalization);
        return TopK.compute(features(test), features(train), options, k);
    }

    /** The kernel surrogate of the network, fitted on "train" and evaluated on "test" the paper's way (cosine kernel, true labels). */
    public Surrogates.Fit surrogate() {
        return surrogate(Surrogates.Options.defaults(), line -> {});
    }

    /** The kernel surrogate with other options ({@code Surrogates.Options.defaults().withLambda(...)}), logging progress. */
    public Surrogates.Fit surrogate(Surrogates.Options options, Consumer<String> log) {
        return Surrogates.fit(store, options.withCheckpoint(checkpoint), log);
    }

    /** TRAK scores [test x train] of a margin store, over all its checkpoints, with the given ridge λ. */
    public float[][] scores(double lambda) {
        return scores(TrakScores.Options.defaults().withLambda(lambda));
    }

    /** TRAK scores with other options ({@code TrakScores.Options.defaults().withDim(...)}). */
    public float[][] scores(TrakScores.Options options) {
        return TrakScores.matrix(store, options);
    }
}
