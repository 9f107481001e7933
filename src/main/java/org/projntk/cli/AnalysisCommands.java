package org.projntk.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.projntk.analysis.Explanations;
import org.projntk.analysis.ImageGrid;
import org.projntk.analysis.KernelGlm;
import org.projntk.analysis.StoreSurrogate;
import org.projntk.analysis.SurrogateReport;
import org.projntk.featurize.StoreProvenance;
import org.projntk.kernel.KernelOperator;
import org.projntk.data.Batch;
import org.projntk.data.Dataset;
import org.projntk.data.Npy;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.Normalization;
import org.projntk.kernel.TopK;
import org.projntk.store.FeatureStore;
import org.projntk.torch.Device;
import org.projntk.torch.Model;

/** `projntk gram | similar | surrogate | explain`: analyses over a feature store. */
final class AnalysisCommands {
    private AnalysisCommands() {}

    /** Relative L2 penalty of the kernel GLM; weaker than KernelGlm's default so the surrogate can follow the network. */
    static final double DEFAULT_LAMBDA = 1e-8;

    static final String[] FASHION_MNIST_CLASSES = {"T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"};

    // ------------------------------------------------------------------ gram
    static void gram(Args args, PrintStream out) {
        FeatureStore store = FeatureStore.open(Path.of(args.require("store")));
        String checkpoint = StoreOperands.checkpoint(store, args.get("checkpoint", null));
        String rowsSplit = args.get("rows", "train");
        String colsSplit = args.get("cols", "train");
        Normalization norm = Normalization.parse(args.get("normalize", "none"));
        Device device = Device.parse(args.get("device", "cpu"));
        Path outFile = Path.of(args.require("out"));
        args.rejectUnknown();
        String precision = args.get("precision", "tf32");
        KernelKind kind = KernelKind.parse(store.manifest().kernel());
        List<FeatureMatrix> rows = StoreOperands.operand(store, checkpoint, rowsSplit);
        List<FeatureMatrix> cols = StoreOperands.operand(store, checkpoint, colsSplit);
        int perRow = kind == KernelKind.ENTK ? rows.size() : 1;
        long n = rows.get(0).rows() * perRow;
        long m = cols.get(0).rows() * perRow;
        long start = System.nanoTime();
        Gram.Result result;
        Path tmp = outFile.resolveSibling(outFile.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] header = Npy.header(Npy.Dtype.FLOAT32, n, m);
            channel.write(ByteBuffer.wrap(header), 0);
            long dataOffset = header.length;
            org.projntk.kernel.TileSink sink = (rowStart, colStart, tr, tc, tile) -> {
                for (int r = 0; r < tr; r++) {
                    ByteBuffer line = tile.asSlice((long) r * tc * Float.BYTES, (long) tc * Float.BYTES).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                    long position = dataOffset + ((rowStart + r) * m + colStart) * Float.BYTES;
                    try {
                        while (line.hasRemaining()) position += channel.write(line, position);
                    } catch (IOException e) {
                        throw new UncheckedIOException("writing " + tmp + ": " + e.getMessage(), e);
                    }
                }
            };
            if (device == Device.CUDA) {
                try (org.projntk.kernel.GpuGram gpu = new org.projntk.kernel.GpuGram(org.projntk.internal.Cublas.Precision.parse(precision))) {
                    result = gpu.compute(rows, cols, Gram.Options.of(kind, norm), sink);
                }
            } else {
                result = Gram.compute(rows, cols, Gram.Options.of(kind, norm), sink);
            }
            channel.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + tmp + ": " + e.getMessage(), e);
        }
        try {
            Files.move(tmp, outFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("renaming " + tmp + " to " + outFile + ": " + e.getMessage(), e);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf(Locale.ROOT, "gram %s %s x %s (%s, normalize %s): [%d x %d] float32 -> %s in %.2f s (scale %.6g)%n",
                kind.name().toLowerCase(Locale.ROOT), rowsSplit, colsSplit, checkpoint, norm.name().toLowerCase(Locale.ROOT),
                n, m, outFile, seconds, result.scale());
    }

    // --------------------------------------------------------------- similar
    static void similar(Args args, PrintStream out) {
        FeatureStore store = FeatureStore.open(Path.of(args.require("store")));
        String checkpoint = StoreOperands.checkpoint(store, args.get("checkpoint", null));
        int k = args.getInt("top", 5);
        Path outDir = Path.of(args.require("out"));
        Normalization norm = Normalization.parse(args.get("normalize", "cosine"));
        int images = args.getInt("images", 8);
        String testSplit = args.get("test-split", "test");
        String trainSplit = args.get("train-split", "train");
        args.rejectUnknown();
        similar(store, checkpoint, trainSplit, testSplit, k, norm, images, outDir, out);
    }

    static TopK.Result similar(FeatureStore store, String checkpoint, String trainSplit, String testSplit, int k, Normalization norm,
                               int images, Path outDir, PrintStream out) {
        KernelKind kind = StoreOperands.traceKind(store);
        List<FeatureMatrix> train = StoreOperands.operand(store, checkpoint, trainSplit);
        List<FeatureMatrix> test = StoreOperands.operand(store, checkpoint, testSplit);
        long start = System.nanoTime();
        TopK.Result top = TopK.compute(test, train, Gram.Options.of(kind, norm), k);
        try {
            Files.createDirectories(outDir);
            top.writeCsv(outDir.resolve("similar.csv"), 0);
            out.printf(Locale.ROOT, "similar: top-%d train examples for %d test rows in %.2f s -> %s%n", k, top.rows(),
                    (System.nanoTime() - start) / 1e9, outDir.resolve("similar.csv"));
            Dataset trainData = images > 0 ? StoreOperands.dataset(store, trainSplit) : null;
            Dataset testData = images > 0 ? StoreOperands.dataset(store, testSplit) : null;
            if (images > 0 && trainData.isImage() && testData.isImage()) {
                int shown = (int) Math.min(images, top.rows());
                int[] rows = new int[shown];
                for (int i = 0; i < shown; i++) rows[i] = i;
                Path png = outDir.resolve("similar.png");
                ImageGrid.similarExamples(top, rows, 0, i -> image(testData, i), labels(testData), i -> image(trainData, i),
                        labels(trainData), classNames(trainData), png);
                out.println("similar: image grid of " + shown + " test examples -> " + png);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing results to " + outDir + ": " + e.getMessage(), e);
        }
        return top;
    }

    static ImageGrid.Img image(Dataset data, int i) {
        int[] dims = data.imageDims();
        int[] pixels = data.imageHWC(i);
        byte[] bytes = new byte[pixels.length];
        for (int j = 0; j < pixels.length; j++) bytes[j] = (byte) pixels[j];
        return new ImageGrid.Img(dims[2], dims[0], dims[1], false, bytes);
    }

    static int[] labels(Dataset data) {
        int[] out = new int[(int) data.size()];
        for (int i = 0; i < out.length; i++) out[i] = (int) data.label(i);
        return out;
    }

    static String[] classNames(Dataset data) {
        return data.numClasses() == 10 && data.exampleShape()[0] == 1 ? FASHION_MNIST_CLASSES : null;
    }

    // ------------------------------------------------------------- surrogate
    /** A fitted surrogate with everything the report and explanations need. */
    record Surrogate(KernelGlm glm, KernelOperator testKernel, double[] networkTestLogits, double[] surrogateTestLogits,
                     int[] testLabels, int classes, SurrogateReport report) {}

    static void surrogate(Args args, PrintStream out) {
        FeatureStore store = FeatureStore.open(Path.of(args.require("store")));
        String checkpoint = StoreOperands.checkpoint(store, args.get("checkpoint", null));
        StoreSurrogate.Options options = surrogateOptions(args);
        boolean json = args.flag("json");
        args.rejectUnknown();
        StoreSurrogate.Fit s = StoreSurrogate.fit(store, checkpoint, options, json ? null : out::println);
        if (json) {
            out.println(s.report().toJson());
        } else {
            printReport(s.report(), out);
        }
    }

    /** --model, --normalize, --lambda, --targets labels|network, --class-weight balanced|none, --max-iterations, --products auto|features|dense. */
    static StoreSurrogate.Options surrogateOptions(Args args) {
        return new StoreSurrogate.Options(Normalization.parse(args.get("normalize", "cosine")), args.getDouble("lambda", DEFAULT_LAMBDA),
                StoreSurrogate.Targets.parse(args.get("targets", "labels")), StoreSurrogate.ClassWeight.parse(args.get("class-weight", "balanced")),
                args.get("model", null), args.getInt("max-iterations", 300), StoreSurrogate.Products.parse(args.get("products", "auto")));
    }

    static Surrogate fitSurrogate(FeatureStore store, String checkpoint, String model, Normalization norm, double lambda, PrintStream log) {
        StoreSurrogate.Options d = StoreSurrogate.Options.defaults();
        StoreSurrogate.Fit f = StoreSurrogate.fit(store, checkpoint,
                new StoreSurrogate.Options(norm, lambda, d.targets(), d.classWeight(), model, d.maxIterations()), log == null ? null : log::println);
        return new Surrogate(f.glm(), f.testKernel(), f.networkTestLogits(), f.surrogateTestLogits(), f.testLabels(), f.classes(), f.report());
    }

    /** Network logits [N x C] row-major for every example of data. */
    static double[] logits(Model model, Dataset data) {
        List<float[]> rows = new ArrayList<>();
        int batchSize = 256;
        for (long first = 0; first < data.size(); first += batchSize) {
            int count = (int) Math.min(batchSize, data.size() - first);
            try (Arena arena = Arena.ofConfined()) {
                Batch batch = data.batch(first, count, arena);
                for (float[] row : model.forward(batch.inputs(), batch.shape())) rows.add(row);
            }
        }
        int classes = rows.get(0).length;
        double[] out = new double[rows.size() * classes];
        for (int i = 0; i < rows.size(); i++) for (int c = 0; c < classes; c++) out[i * classes + c] = rows.get(i)[c];
        return out;
    }

    static void printReport(SurrogateReport r, PrintStream out) {
        out.printf(Locale.ROOT, "network test accuracy    %.4f%n", r.networkTestAccuracy());
        out.printf(Locale.ROOT, "surrogate test accuracy  %.4f%n", r.surrogateTestAccuracy());
        out.printf(Locale.ROOT, "accuracy differential    %+.4f  (surrogate - network)%n", r.accuracyDifferential());
        out.printf(Locale.ROOT, "Kendall tau              %.4f  (the paper's: network vs surrogate probability of the true class, %d saturated examples left out)%n",
                r.kendallTau(), r.kendallTauMaskedCount());
        out.printf(Locale.ROOT, "Kendall tau (predicted)  %.4f  (network vs surrogate probability of the network's predicted class)%n", r.kendallTauPredicted());
        out.printf(Locale.ROOT, "prediction agreement     %.4f%n", r.agreement());
        out.println("per class (network accuracy / surrogate accuracy):");
        for (int c = 0; c < r.networkPerClass().size(); c++) {
            out.printf(Locale.ROOT, "  class %d: %.3f / %.3f  (support %d)%n", c, r.networkPerClass().get(c).accuracy(),
                    r.surrogatePerClass().get(c).accuracy(), r.networkPerClass().get(c).support());
        }
    }

    // --------------------------------------------------------------- explain
    static void explain(Args args, PrintStream out) {
        FeatureStore store = FeatureStore.open(Path.of(args.require("store")));
        String checkpoint = StoreOperands.checkpoint(store, args.get("checkpoint", null));
        int index = args.getInt("test-index", 0);
        int k = args.getInt("top", 5);
        StoreSurrogate.Options options = surrogateOptions(args);
        String png = args.get("out", null);
        args.rejectUnknown();
        StoreSurrogate.Fit s = StoreSurrogate.fit(store, checkpoint, options, null);
        if (index < 0 || index >= s.testKernel().rows()) {
            throw new IllegalArgumentException("--test-index " + index + " is outside the test split [0, " + s.testKernel().rows() + ")");
        }
        int predicted = argmax(s.surrogateTestLogits(), index * s.classes(), s.classes());
        Explanations.Explanation e = Explanations.explain(s.glm(), s.testKernel().row(index), predicted, k);
        out.printf(Locale.ROOT, "test example %d (true class %d): surrogate predicts class %d, network predicts class %d%n",
                index, s.testLabels()[index], predicted, argmax(s.networkTestLogits(), index * s.classes(), s.classes()));
        out.println("rank,train_index,contribution,kernel,weight   (supporting)");
        for (int i = 0; i < e.supporting().length; i++) {
            var c = e.supporting()[i];
            out.printf(Locale.ROOT, "%d,%d,%.6g,%.6g,%.6g%n", i + 1, c.trainIndex(), c.contribution(), c.kernelValue(), c.weight());
        }
        out.println("rank,train_index,contribution,kernel,weight   (opposing)");
        for (int i = 0; i < e.opposing().length; i++) {
            var c = e.opposing()[i];
            out.printf(Locale.ROOT, "%d,%d,%.6g,%.6g,%.6g%n", i + 1, c.trainIndex(), c.contribution(), c.kernelValue(), c.weight());
        }
        if (png != null) {
            Dataset train = StoreProvenance.dataset(store, checkpoint, "train");
            Dataset test = StoreProvenance.dataset(store, checkpoint, "test");
            if (!train.isImage()) throw new IllegalArgumentException("--out PNG needs image data");
            List<ImageGrid.Cell> row = new ArrayList<>();
            row.add(new ImageGrid.Cell(image(test, index), List.of("test " + index, "class " + predicted), null));
            for (var c : e.supporting()) {
                row.add(new ImageGrid.Cell(image(train, c.trainIndex()), List.of("#" + c.trainIndex() + " y=" + train.label(c.trainIndex()),
                        String.format(Locale.ROOT, "%+.3g", c.contribution())), null));
            }
            try {
                javax.imageio.ImageIO.write(ImageGrid.render(List.of(row), ImageGrid.SCALE), "png", Path.of(png).toFile());
            } catch (IOException ex) {
                throw new UncheckedIOException("writing " + png + ": " + ex.getMessage(), ex);
            }
            out.println("explain: image grid -> " + png);
        }
    }

    static int argmax(double[] v, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (v[offset + i] > v[offset + best]) best = i;
        return best;
    }
}
