package org.projntk.similar;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;

import org.projntk.data.Dataset;
import org.projntk.data.StagedFiles;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.StoreOperands;
import org.projntk.kernel.TopK;
import org.projntk.plot.DatasetImages;
import org.projntk.plot.ImageGrid;
import org.projntk.store.FeatureStore;

/**
 * The k most similar train examples of every test example under the store's kernel (streamed, never the whole
 * kernel in memory), written as {@code similar.csv} ({@code test_index,rank,train_index,score}) and, for image
 * data, a PNG grid {@code similar.png} of the first test examples with their neighbours. Stateless; safe from any
 * thread (concurrent writes into one folder replace each other's files whole).
 */
public final class SimilarExamples {
    private SimilarExamples() {}

    /**
     * What to find and draw: the checkpoint, k, the normalisation, the grid size and the two splits. Immutable and safe
     * to share.
     *
     * <pre>{@code
     * SimilarExamples.Options options = SimilarExamples.Options.builder().k(10).images(0).build();
     * }</pre>
     */
    public static final class Options {
        private final String checkpoint;
        private final int k;
        private final KernelNormalization normalization;
        private final int images;
        private final String trainSplit;
        private final String testSplit;

        private Options(Builder b) {
            this.checkpoint = b.checkpoint;
            this.k = b.k;
            this.normalization = b.normalization;
            this.images = b.images;
            this.trainSplit = b.trainSplit;
            this.testSplit = b.testSplit;
        }

        /** {@return a builder with the defaults: top 5 by the cosine-normalised kernel, a grid of 8, splits "train" and "test"} */
        public static Builder builder() {
            return new Builder();
        }

        /** {@return the defaults of {@link #builder()}} */
        public static Options defaults() {
            return builder().build();
        }

        /** {@return a builder holding these options, to change some of them} */
        public Builder toBuilder() {
            return new Builder().checkpoint(checkpoint).k(k).normalization(normalization).images(images).trainSplit(trainSplit)
                    .testSplit(testSplit);
        }

        /** {@return the checkpoint read; null: the store's first complete one} */
        public String checkpoint() {
            return checkpoint;
        }

        /** {@return neighbours per test example} */
        public int k() {
            return k;
        }

        /** {@return the kernel's normalisation} */
        public KernelNormalization normalization() {
            return normalization;
        }

        /** {@return test examples shown in the PNG grid (0: no grid)} */
        public int images() {
            return images;
        }

        /** {@return the split searched for neighbours} */
        public String trainSplit() {
            return trainSplit;
        }

        /** {@return the split whose rows get neighbours} */
        public String testSplit() {
            return testSplit;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Options x && Objects.equals(checkpoint, x.checkpoint) && k == x.k && normalization == x.normalization
                    && images == x.images && trainSplit.equals(x.trainSplit) && testSplit.equals(x.testSplit);
        }

        @Override
        public int hashCode() {
            return Objects.hash(checkpoint, k, normalization, images, trainSplit, testSplit);
        }

        @Override
        public String toString() {
            return "SimilarExamples.Options[checkpoint=" + checkpoint + ", k=" + k + ", normalization=" + normalization + ", images="
                    + images + ", trainSplit=" + trainSplit + ", testSplit=" + testSplit + "]";
        }

        /** Builds {@link Options}; not thread-safe. Every setting has a default. */
        public static final class Builder {
            private String checkpoint;
            private int k = 5;
            private KernelNormalization normalization = KernelNormalization.COSINE;
            private int images = 8;
            private String trainSplit = "train";
            private String testSplit = "test";

            private Builder() {}

            /**
             * The checkpoint to read (default null: the store's first complete one).
             *
             * @param id the new setting
             * @return this builder
             */
            public Builder checkpoint(String id) {
                this.checkpoint = id;
                return this;
            }

            /**
             * Neighbours per test example (default 5); at least 1.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder k(int value) {
                this.k = value;
                return this;
            }

            /**
             * The kernel's normalisation (default {@link KernelNormalization#COSINE}).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder normalization(KernelNormalization value) {
                this.normalization = value;
                return this;
            }

            /**
             * Test examples shown in the PNG grid, for image data (default 8; 0: no grid).
             *
             * @param count the new setting
             * @return this builder
             */
            public Builder images(int count) {
                this.images = count;
                return this;
            }

            /**
             * The split searched for neighbours (default "train").
             *
             * @param name the new setting
             * @return this builder
             */
            public Builder trainSplit(String name) {
                this.trainSplit = name;
                return this;
            }

            /**
             * The split whose rows get neighbours (default "test").
             *
             * @param name the new setting
             * @return this builder
             */
            public Builder testSplit(String name) {
                this.testSplit = name;
                return this;
            }

            /**
             * The options.
             *
             * @return the options
             * @throws IllegalArgumentException naming the field when a value is missing or out of range
             */
            public Options build() {
                if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
                if (normalization == null) throw new IllegalArgumentException("normalization must be set, got null");
                if (images < 0) throw new IllegalArgumentException("images must be >= 0, got " + images);
                if (trainSplit == null || trainSplit.isEmpty()) throw new IllegalArgumentException("trainSplit must name a split, got " + trainSplit);
                if (testSplit == null || testSplit.isEmpty()) throw new IllegalArgumentException("testSplit must name a split, got " + testSplit);
                return new Options(this);
            }
        }
    }

    /**
     * What {@link #write} found and wrote.
     *
     * @param top     the neighbours and their scores
     * @param csv     {@code similar.csv}
     * @param seconds the time spent finding the neighbours
     * @param png     the image grid, or null when none was drawn (no images asked for, or the data are not images)
     */
    public record Result(TopK.Result top, Path csv, Path png, double seconds) {}

    /**
     * The {@code options.k()} most similar {@code trainSplit} rows of every {@code testSplit} row, by the store's kernel
     * (its trace kernel for an eNTK store), streamed tile by tile; nothing is written. Holds test rows x k results.
     *
     * @param store   the featurized store
     * @param options the checkpoint, splits, k and normalisation
     * @return per test row, its best k train rows (indices within the train split) and kernel values, best first
     * @throws IllegalArgumentException for an unknown checkpoint or split, or non-finite features
     * @throws IllegalStateException    when the checkpoint or a split is incomplete
     */
    public static TopK.Result find(FeatureStore store, Options options) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(options, "options");
        String checkpoint = StoreOperands.checkpoint(store, options.checkpoint());
        KernelKind kind = StoreOperands.traceKind(store);
        List<FeatureMatrix> train = StoreOperands.operand(store, checkpoint, options.trainSplit());
        List<FeatureMatrix> test = StoreOperands.operand(store, checkpoint, options.testSplit());
        return TopK.compute(test, train, Gram.Options.of(kind, options.normalization()), options.k());
    }

    /**
     * Finds the neighbours ({@link #find}) and writes {@code similar.csv} (test_index and train_index count from 0
     * within their splits) and, when {@code options.images() > 0} and both splits are images, {@code similar.png}.
     * Both files are staged and renamed into place together only once both are complete.
     *
     * @param store   the featurized store
     * @param options the checkpoint, splits, k, normalisation and grid size
     * @param outDir  the folder written, created if missing
     * @param log     receives one progress line per file written
     * @return what was found and the files written
     * @throws IllegalArgumentException as {@link #find} does
     * @throws IllegalStateException    as {@link #find} does
     * @throws java.io.UncheckedIOException when a file cannot be written
     */
    public static Result write(FeatureStore store, Options options, Path outDir, Consumer<String> log) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(outDir, "outDir");
        Objects.requireNonNull(log, "log");
        long start = System.nanoTime();
        TopK.Result top = find(store, options);
        double seconds = (System.nanoTime() - start) / 1e9;
        Path csv = outDir.resolve("similar.csv");
        Path png = null;
        try (StagedFiles staged = new StagedFiles()) {
            Files.createDirectories(outDir);
            top.writeCsv(staged.stage(csv), 0);
            log.accept(String.format(Locale.ROOT, "similar: top-%d train examples for %d test rows in %.2f s -> %s", options.k(), top.rows(),
                    seconds, csv));
            if (options.images() > 0) {
                Dataset trainData = StoreOperands.dataset(store, options.trainSplit());
                Dataset testData = StoreOperands.dataset(store, options.testSplit());
                if (trainData.isImage() && testData.isImage()) {
                    int shown = (int) Math.min(options.images(), top.rows());
                    int[] rows = new int[shown];
                    for (int i = 0; i < shown; i++) rows[i] = i;
                    png = outDir.resolve("similar.png");
                    ImageGrid.similarExamples(top, rows, 0, i -> DatasetImages.image(testData, i), testData.labels(),
                            i -> DatasetImages.image(trainData, i), trainData.labels(), DatasetImages.classNames(trainData),
                            staged.stage(png));
                    log.accept("similar: image grid of " + shown + " test examples -> " + png);
                } else {
                    log.accept("similar: the data are not images; no grid drawn");
                }
            }
            staged.commit();
        } catch (IOException e) {
            throw new UncheckedIOException("writing results to " + outDir + ": " + e.getMessage(), e);
        }
        return new Result(top, csv, png, seconds);
    }
}
