package org.projntk.workflow;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.StoreOperands;
import org.projntk.store.FeatureStore;

/**
 * A featurized store and the analyses over it, by split name:
 *
 * <pre>{@code
 * Store store = Store.open(Path.of("store"));
 * KernelMatrix k = store.gram("test", "train", KernelNormalization.COSINE);
 * KernelMatrix tiled = store.gram().rows("test").cols("train").normalization(KernelNormalization.STD).tiles(512, 512).compute();
 * TopK.Result nearest = store.similar().test("test").train("train").k(5).compute();
 * SurrogateReport report = store.surrogate().lambda(1e-3).fit().report();
 * float[][] scores = store.scores().lambda(0.01).compute(); // a margin store
 * }</pre>
 *
 * Each job method returns a builder whose settings all have documented defaults; the job runs at its last call
 * ({@code compute()}, {@code fit()}, {@code write(...)}). Reads use the store's first complete checkpoint unless
 * {@link #at} names another, and the kernel its features were computed for (an eNTK store gives its trace kernel where
 * one value per pair of examples is needed); TRAK scores average over all checkpoints unless the job names some.
 * Immutable and safe to share between threads; every job reads the files anew.
 */
public final class Store {
    private final FeatureStore store;
    private final String checkpoint;

    private Store(FeatureStore store, String checkpoint) {
        this.store = store;
        this.checkpoint = checkpoint;
    }

    /**
     * Opens the feature store in {@code dir}; it must hold a complete checkpoint.
     *
     * @param dir the store's folder
     * @return a view at its first complete checkpoint
     */
    public static Store open(Path dir) {
        return of(FeatureStore.open(dir));
    }

    /**
     * A view of an open store, at its first complete checkpoint.
     *
     * @param store the store
     * @return the view
     */
    public static Store of(FeatureStore store) {
        Objects.requireNonNull(store, "store");
        return new Store(store, StoreOperands.checkpoint(store, null));
    }

    /**
     * This store at another checkpoint.
     *
     * @param checkpointId a complete checkpoint of the store
     * @return the view
     */
    public Store at(String checkpointId) {
        return new Store(store, StoreOperands.checkpoint(store, Objects.requireNonNull(checkpointId, "checkpoint")));
    }

    /** {@return the store itself: its manifest, raw feature files and writers} */
    public FeatureStore featureStore() {
        return store;
    }

    /** {@return the checkpoint this view reads} */
    public String checkpoint() {
        return checkpoint;
    }

    /** {@return the kernel the store's features were computed for} */
    public KernelKind kernel() {
        return StoreOperands.kind(store);
    }

    /**
     * The features of a complete split: one matrix per output (per class for trNTK and eNTK stores).
     *
     * @param split the split's name
     * @return the feature matrices, mapped from the store's files
     */
    public List<FeatureMatrix> features(String split) {
        return StoreOperands.operand(store, checkpoint, split);
    }

    /**
     * A Gram job between two splits of this store; see {@link GramJob} for its settings and defaults, e.g.
     * {@code store.gram().rows("test").cols("train").normalization(KernelNormalization.COSINE).compute()}.
     *
     * @return the job
     */
    public GramJob gram() {
        return new GramJob(this);
    }

    /**
     * The kernel between the rows of two splits in memory, e.g. {@code gram("test", "train", KernelNormalization.COSINE)}:
     * {@link #gram()} with those splits and normalisation, and the other defaults.
     *
     * @param rows          the split of the kernel's rows
     * @param cols          the split of the kernel's columns
     * @param normalization the normalisation
     * @return the kernel
     */
    public KernelMatrix gram(String rows, String cols, KernelNormalization normalization) {
        return gram().rows(rows).cols(cols).normalization(normalization).compute();
    }

    /**
     * A nearest-examples job; see {@link SimilarJob} for its settings and defaults, e.g.
     * {@code store.similar().test("test").train("train").k(5).compute()}.
     *
     * @return the job
     */
    public SimilarJob similar() {
        return new SimilarJob(this);
    }

    /**
     * A kernel-surrogate fit at this view's checkpoint; see {@link SurrogateJob} for its settings and defaults, e.g.
     * {@code store.surrogate().lambda(1e-3).fit().report()}.
     *
     * @return the job
     */
    public SurrogateJob surrogate() {
        return new SurrogateJob(this);
    }

    /**
     * A TRAK scores job over a margin store; see {@link ScoresJob} for its settings and defaults, e.g.
     * {@code store.scores().lambda(0.01).compute()}.
     *
     * @return the job
     */
    public ScoresJob scores() {
        return new ScoresJob(this);
    }
}
