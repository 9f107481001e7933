package org.projntk.torch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;

import org.projntk.data.Dataset;

/**
 * Cross-entropy training of a model on in-memory examples (optionally a subset of rows), with intermediate
 * checkpoints. The loop behind {@code projntk train} and the retraining of {@code projntk lds}.
 * Deterministic for a given seed: the model is initialised from it and the batch order drawn from it.
 */
public final class Training {
    private Training() {}

    /**
     * Examples held in memory. The arrays are not copied: do not change them while training runs.
     *
     * @param inputs [n x exampleSize] normalised float32, row-major
     * @param labels the n class labels, n at least 1
     * @param exampleShape the shape of one example without the batch dimension, e.g. [1, 28, 28]
     */
    public record Examples(float[] inputs, long[] labels, int[] exampleShape) {
        /**
         * Checks the sizes.
         *
         * @throws IllegalArgumentException if there are no labels or the inputs do not hold one example per label
         */
        public Examples {
            Objects.requireNonNull(inputs, "inputs");
            Objects.requireNonNull(labels, "labels");
            int size = size(exampleShape);
            if (labels.length == 0 || (long) labels.length * size != inputs.length) {
                throw new IllegalArgumentException(labels.length + " labels but " + inputs.length + " input values of size " + size);
            }
        }

        /**
         * Reads a whole dataset into memory.
         *
         * @param data the dataset, normalised as it was opened
         * @return its examples and labels, in order
         */
        public static Examples load(Dataset data) {
            int n = Math.toIntExact(data.size());
            int size = data.exampleSize();
            float[] x = new float[Math.multiplyExact(n, size)];
            long[] y = new long[n];
            for (int i = 0; i < n; i++) {
                System.arraycopy(data.example(i), 0, x, i * size, size);
                y[i] = data.label(i);
            }
            return new Examples(x, y, data.exampleShape());
        }

        /** {@return n, the number of examples} */
        public int size() {
            return labels.length;
        }

        /** {@return the number of floats in one example} */
        public int exampleSize() {
            return size(exampleShape);
        }

        /** Rows rows[from .. from+count) as a batch [count, ...shape] in arena. */
        MemorySegment gather(int[] rows, int from, int count, Arena arena) {
            int size = exampleSize();
            MemorySegment seg = arena.allocate((long) count * size * Float.BYTES, 64);
            for (int r = 0; r < count; r++) {
                MemorySegment.copy(inputs, rows[from + r] * size, seg, ValueLayout.JAVA_FLOAT, (long) r * size * Float.BYTES, size);
            }
            return seg;
        }

        long[] shape(int count) {
            long[] s = new long[exampleShape.length + 1];
            s[0] = count;
            for (int i = 0; i < exampleShape.length; i++) s[i + 1] = exampleShape[i];
            return s;
        }

        private static int size(int[] shape) {
            int n = 1;
            for (int d : shape) n *= d;
            return n;
        }
    }

    /**
     * How to train. Start from {@link #of(String, long, int)} and change what differs with the {@code with} methods.
     *
     * @param model       TorchScript path or builtin:NAME (initialised from seed)
     * @param seed        model initialisation and batch order
     * @param rows        indices of the examples to train on, or null for all
     * @param epochs      passes over the rows, 0 or more
     * @param batch       examples per optimiser step, at least 1
     * @param optimizer   SGD or Adam
     * @param momentum    SGD's momentum, in [0, 1)
     * @param weightDecay L2 weight decay, 0 or more
     * @param device      where the model trains
     * @param saveEvery   save a checkpoint every N epochs (0 = only at the end)
     * @param outPattern  where to save: {@code %d} is replaced by the epoch (e.g. {@code run/ep%d.pt}); without
     *                    {@code %d} only the final model is saved there; null = do not save
     * @param lr          learning rate; ≤ 0 picks 1e-3 for Adam and 0.05 for SGD
     */
    public record Options(String model, long seed, int[] rows, int epochs, int batch, Trainer.Optimizer optimizer, double lr,
                          double momentum, double weightDecay, int saveEvery, String outPattern, Device device) {
        /**
         * Checks the options.
         *
         * @throws IllegalArgumentException for negative epochs or saveEvery, a batch below 1, or saveEvery without a
         *     {@code %d} pattern
         */
        public Options {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(optimizer, "optimizer");
            Objects.requireNonNull(device, "device");
            if (epochs < 0) throw new IllegalArgumentException("epochs must be >= 0, got " + epochs);
            if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
            if (saveEvery < 0) throw new IllegalArgumentException("save-every must be >= 0, got " + saveEvery);
            if (saveEvery > 0 && (outPattern == null || !outPattern.contains("%d"))) {
                throw new IllegalArgumentException("save-every needs an output pattern with %d for the epoch, e.g. run/ep%d.pt");
            }
        }

        /**
         * All rows, batches of 64, Adam at its default rate, on the CPU, nothing saved.
         *
         * @param model TorchScript path or builtin:NAME
         * @param seed model initialisation and batch order
         * @param epochs passes over the rows
         * @return the options
         */
        public static Options of(String model, long seed, int epochs) {
            return new Options(model, seed, null, epochs, 64, Trainer.Optimizer.ADAM, -1, 0.9, 0, 0, null, Device.CPU);
        }

        /**
         * These options on a subset of the examples (TRAK's LDS retrains on random halves).
         *
         * @param subset example indices, or null for all
         * @return the new options
         */
        public Options withRows(int[] subset) {
            return new Options(model, seed, subset, epochs, batch, optimizer, lr, momentum, weightDecay, saveEvery, outPattern, device);
        }

        /**
         * These options with another optimiser.
         *
         * @param opt SGD or Adam
         * @param rate the learning rate; 0 or less picks the optimiser's default
         * @return the new options
         */
        public Options withOptimizer(Trainer.Optimizer opt, double rate) {
            return new Options(model, seed, rows, epochs, batch, opt, rate, momentum, weightDecay, saveEvery, outPattern, device);
        }

        /**
         * These options with another batch size.
         *
         * @param b examples per step, at least 1
         * @return the new options
         */
        public Options withBatch(int b) {
            return new Options(model, seed, rows, epochs, b, optimizer, lr, momentum, weightDecay, saveEvery, outPattern, device);
        }

        /**
         * These options saving checkpoints.
         *
         * @param pattern the output path, {@code %d} replaced by the epoch; null: save nothing
         * @param every save every N epochs (0: only at the end)
         * @return the new options
         */
        public Options withOutput(String pattern, int every) {
            return new Options(model, seed, rows, epochs, batch, optimizer, lr, momentum, weightDecay, every, pattern, device);
        }

        /** {@return the learning rate used: lr if positive, else 1e-3 for Adam and 0.05 for SGD} */
        public double learningRate() {
            return lr > 0 ? lr : optimizer == Trainer.Optimizer.ADAM ? 1e-3 : 0.05;
        }
    }

    /** Called after every epoch. */
    public interface Listener {
        /**
         * Reports one epoch, on the training thread.
         *
         * @param epoch the epoch just finished, from 1
         * @param epochs the number of epochs
         * @param loss the epoch's mean cross-entropy per example, in nats
         * @param accuracy the epoch's fraction of correct predictions, in [0, 1]
         * @param seconds the epoch's wall time
         */
        void epoch(int epoch, int epochs, double loss, double accuracy, double seconds);
    }

    /**
     * The outcome of a training run.
     *
     * @param loss the last epoch's mean cross-entropy; NaN after 0 epochs
     * @param accuracy the last epoch's training accuracy in [0, 1]; NaN after 0 epochs
     * @param saved the checkpoints written, in order, the final model last
     */
    public record Result(double loss, double accuracy, List<Path> saved) {}

    /**
     * Trains a fresh model (opened from options.model() and options.seed()) and saves it as asked.
     *
     * @param data the examples
     * @param o how to train
     * @param listener told of every epoch, or null
     * @return the last epoch's figures and the files written
     * @throws IllegalArgumentException if a row index is out of range or there are no rows
     * @throws java.io.UncheckedIOException if a checkpoint's directory cannot be created
     */
    public static Result train(Examples data, Options o, Listener listener) {
        try (Model model = Model.open(o.model(), o.seed(), o.device())) {
            return train(model, data, o, listener);
        }
    }

    /**
     * Trains {@code model} in place, ignoring o.model() and o.device(); o.seed() draws the batch order.
     *
     * @param model the network
     * @param data the examples
     * @param o how to train
     * @param listener told of every epoch, or null
     * @return the last epoch's figures and the files written
     */
    public static Result train(Model model, Examples data, Options o, Listener listener) {
        int[] rows = o.rows() == null ? range(data.size()) : o.rows().clone();
        if (rows.length == 0) throw new IllegalArgumentException("no rows to train on");
        for (int r : rows) {
            if (r < 0 || r >= data.size()) throw new IllegalArgumentException("row " + r + " out of range for " + data.size() + " examples");
        }
        Random random = new Random(o.seed());
        List<Path> saved = new ArrayList<>();
        double loss = Double.NaN;
        double accuracy = Double.NaN;
        try (Trainer trainer = new Trainer(model, o.optimizer(), o.learningRate(), o.momentum(), o.weightDecay())) {
            for (int epoch = 1; epoch <= o.epochs(); epoch++) {
                long start = System.nanoTime();
                shuffle(rows, random);
                double lossSum = 0;
                long correct = 0;
                for (int from = 0; from < rows.length; from += o.batch()) {
                    int count = Math.min(o.batch(), rows.length - from);
                    try (Arena arena = Arena.ofConfined()) {
                        long[] labels = new long[count];
                        for (int r = 0; r < count; r++) labels[r] = data.labels()[rows[from + r]];
                        Trainer.Step step = trainer.step(data.gather(rows, from, count, arena), data.shape(count), labels);
                        lossSum += step.loss() * count;
                        correct += step.correct();
                    }
                }
                loss = lossSum / rows.length;
                accuracy = (double) correct / rows.length;
                if (listener != null) listener.epoch(epoch, o.epochs(), loss, accuracy, (System.nanoTime() - start) / 1e9);
                if (o.saveEvery() > 0 && epoch % o.saveEvery() == 0 && epoch < o.epochs()) saved.add(save(model, o.outPattern(), epoch));
            }
        }
        if (o.outPattern() != null) saved.add(save(model, o.outPattern(), o.epochs()));
        return new Result(loss, accuracy, saved);
    }

    /**
     * TRAK's margin, logit_y − logsumexp of the other logits, of every example (eval mode).
     *
     * @param model the network
     * @param data the examples and their labels
     * @param batch examples per forward pass
     * @return one margin per example, in order
     */
    public static double[] margins(Model model, Examples data, int batch) {
        double[] out = new double[data.size()];
        int[] all = range(data.size());
        for (int from = 0; from < all.length; from += batch) {
            int count = Math.min(batch, all.length - from);
            try (Arena arena = Arena.ofConfined()) {
                float[][] logits = model.forward(data.gather(all, from, count, arena), data.shape(count));
                for (int r = 0; r < count; r++) out[from + r] = margin(logits[r], (int) data.labels()[from + r]);
            }
        }
        return out;
    }

    static double margin(float[] logits, int label) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < logits.length; c++) if (c != label) max = Math.max(max, logits[c]);
        double sum = 0;
        for (int c = 0; c < logits.length; c++) if (c != label) sum += Math.exp(logits[c] - max);
        return logits[label] - (max + Math.log(sum));
    }

    private static Path save(Model model, String pattern, int epoch) {
        Path path = Path.of(pattern.contains("%d") ? pattern.replace("%d", Integer.toString(epoch)) : pattern);
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
        } catch (IOException e) {
            throw new UncheckedIOException("creating the directory of " + path + ": " + e.getMessage(), e);
        }
        model.save(path);
        return path;
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    private static void shuffle(int[] a, Random random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
