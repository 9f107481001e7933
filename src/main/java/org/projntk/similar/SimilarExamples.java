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
 * data, a PNG grid {@code similar.png} of the first test examples with their neighbours.
 */
public final class SimilarExamples {
    private SimilarExamples() {}

    /**
     * @param checkpoint null: the store's first complete checkpoint
     * @param images     test examples shown in the PNG grid (0: no grid)
     */
    public record Options(String checkpoint, int k, KernelNormalization normalization, int images, String trainSplit, String testSplit) {
        public Options {
            Objects.requireNonNull(normalization, "normalization");
            Objects.requireNonNull(trainSplit, "trainSplit");
            Objects.requireNonNull(testSplit, "testSplit");
            if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
            if (images < 0) throw new IllegalArgumentException("images must be >= 0, got " + images);
        }

        /** Top 5 by cosine-normalised kernel, a grid of 8, splits "train" and "test". */
        public static Options defaults() {
            return new Options(null, 5, KernelNormalization.COSINE, 8, "train", "test");
        }

        public Options withK(int k) {
            return new Options(checkpoint, k, normalization, images, trainSplit, testSplit);
        }

        public Options withImages(int n) {
            return new Options(checkpoint, k, normalization, n, trainSplit, testSplit);
        }
    }

    /** @param png the image grid, or null when none was drawn (no images asked for, or the data are not images) */
    public record Result(TopK.Result top, Path csv, Path png, double seconds) {}

    /** Finds the neighbours and writes {@code similar.csv} (and {@code similar.png}) into {@code outDir}. */
    public static Result write(FeatureStore store, Options options, Path outDir, Consumer<String> log) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(outDir, "outDir");
        Objects.requireNonNull(log, "log");
        String checkpoint = StoreOperands.checkpoint(store, options.checkpoint());
        KernelKind kind = StoreOperands.traceKind(store);
        List<FeatureMatrix> train = StoreOperands.operand(store, checkpoint, options.trainSplit());
        List<FeatureMatrix> test = StoreOperands.operand(store, checkpoint, options.testSplit());
        long start = System.nanoTime();
        TopK.Result top = TopK.compute(test, train, Gram.Options.of(kind, options.normalization()), options.k());
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
