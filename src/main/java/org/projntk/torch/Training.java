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
     * A training run: the model, its initialisation seed, the examples, epochs and batch size, the optimiser and its
     * settings, the device, and where checkpoints are saved. Immutable and safe to share.
     *
     * <pre>{@code
     * Training.Options options = Training.Options.builder().model("builtin:cnn-fmnist").epochs(2)
     *         .optimizer(Trainer.Optimizer.SGD).learningRate(0.05).save("run/ep%d.pt").saveEvery(1).build();
     * }</pre>
     */
    public static final class Options {
        private final String model;
        private final long seed;
        private final int[] rows;
        private final int epochs;
        private final int batch;
        private final Trainer.Optimizer optimizer;
        private final Double lr;
        private final double momentum;
        private final double weightDecay;
        private final int saveEvery;
        private final String outPattern;
        private final Device device;

        private Options(Builder b) {
            this.model = b.model;
            this.seed = b.seed;
            this.rows = b.rows == null ? null : b.rows.clone();
            this.epochs = b.epochs;
            this.batch = b.batch;
            this.optimizer = b.optimizer;
            this.lr = b.lr;
            this.momentum = b.momentum;
            this.weightDecay = b.weightDecay;
            this.saveEvery = b.saveEvery;
            this.outPattern = b.outPattern;
            this.device = b.device;
        }

        /**
         * A builder with the defaults: seed 0, all examples, 1 epoch, batches of 64, Adam at its default rate (1e-3;
         * SGD's is 0.05), momentum 0.9 (SGD), no weight decay, on the CPU, nothing saved. The model has no default.
         *
         * @return a new builder
         */
        public static Builder builder() {
            return new Builder();
        }

        /** {@return a builder holding these options, to change some of them} */
        public Builder toBuilder() {
            Builder b = new Builder().model(model).seed(seed).rows(rows).epochs(epochs).batch(batch).optimizer(optimizer).momentum(momentum)
                    .weightDecay(weightDecay).saveEvery(saveEvery).save(outPattern).device(device);
            b.lr = lr;
            return b;
        }

        /** {@return the model: a TorchScript path or builtin:NAME (initialised from {@link #seed()})} */
        public String model() {
            return model;
        }

        /** {@return the model's initialisation seed, which also orders the batches} */
        public long seed() {
            return seed;
        }

        /** {@return indices of the examples trained on (a copy), or null for all} */
        public int[] rows() {
            return rows == null ? null : rows.clone();
        }

        /** {@return passes over the examples} */
        public int epochs() {
            return epochs;
        }

        /** {@return examples per step} */
        public int batch() {
            return batch;
        }

        /** {@return the optimiser} */
        public Trainer.Optimizer optimizer() {
            return optimizer;
        }

        /** {@return the learning rate: as set, or the optimiser's default (1e-3 for Adam, 0.05 for SGD)} */
        public double learningRate() {
            return lr != null ? lr : optimizer.defaultLearningRate();
        }

        /** {@return SGD's momentum} */
        public double momentum() {
            return momentum;
        }

        /** {@return the L2 weight decay} */
        public double weightDecay() {
            return weightDecay;
        }

        /** {@return a checkpoint is saved every this many epochs (0: only the final model)} */
        public int saveEvery() {
            return saveEvery;
        }

        /** {@return where models are saved ({@code %d}: the epoch), or null for nowhere} */
        public String outPattern() {
            return outPattern;
        }

        /** {@return where the model trains} */
        public Device device() {
            return device;
        }

        /** Builds {@link Options}; not thread-safe. */
        public static final class Builder {
            private String model;
            private long seed;
            private int[] rows;
            private int epochs = 1;
            private int batch = 64;
            private Trainer.Optimizer optimizer = Trainer.Optimizer.ADAM;
            private Double lr;
            private double momentum = 0.9;
            private double weightDecay;
            private int saveEvery;
            private String outPattern;
            private Device device = Device.CPU;

            private Builder() {}

            /**
             * The model: a TorchScript path or builtin:NAME (required).
             *
             * @param spec the new setting
             * @return this builder
             */
            public Builder model(String spec) {
                this.model = spec;
                return this;
            }

            /**
             * The initialisation seed, which also orders the batches (default 0).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder seed(long value) {
                this.seed = value;
                return this;
            }

            /**
             * Train on these example indices only (default null: all); the array is copied.
             *
             * @param indices the new setting
             * @return this builder
             */
            public Builder rows(int[] indices) {
                this.rows = indices == null ? null : indices.clone();
                return this;
            }

            /**
             * Passes over the examples (default 1); at least 0.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder epochs(int value) {
                this.epochs = value;
                return this;
            }

            /**
             * Examples per step (default 64); at least 1.
             *
             * @param size the new setting
             * @return this builder
             */
            public Builder batch(int size) {
                this.batch = size;
                return this;
            }

            /**
             * The optimiser (default {@link Trainer.Optimizer#ADAM}).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder optimizer(Trainer.Optimizer value) {
                this.optimizer = value;
                return this;
            }

            /**
             * The learning rate (default: 1e-3 for Adam, 0.05 for SGD); positive and finite.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder learningRate(double value) {
                this.lr = value;
                return this;
            }

            /**
             * SGD's momentum (default 0.9); at least 0.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder momentum(double value) {
                this.momentum = value;
                return this;
            }

            /**
             * The L2 weight decay (default 0); at least 0.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder weightDecay(double value) {
                this.weightDecay = value;
                return this;
            }

            /**
             * Where models are saved (default null: nowhere): a {@code %d} in the pattern is replaced by the epoch.
             *
             * @param pattern the new setting
             * @return this builder
             */
            public Builder save(String pattern) {
                this.outPattern = pattern;
                return this;
            }

            /**
             * Save a checkpoint every this many epochs, which needs a {@code %d} in {@link #save} (default 0: the final model only).
             *
             * @param epochs the new setting
             * @return this builder
             */
            public Builder saveEvery(int epochs) {
                this.saveEvery = epochs;
                return this;
            }

            /**
             * Where the model trains (default {@link Device#CPU}).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder device(Device value) {
                this.device = value;
                return this;
            }

            /**
             * The options.
             *
             * @return the options
             * @throws IllegalArgumentException naming the field when a value is missing or out of range
             */
            public Options build() {
                if (model == null || model.isEmpty()) throw new IllegalArgumentException("model must be set, got " + model);
                if (epochs < 0) throw new IllegalArgumentException("epochs must be >= 0, got " + epochs);
                if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
                if (optimizer == null) throw new IllegalArgumentException("optimizer must be set, got null");
                if (lr != null && !(lr > 0 && Double.isFinite(lr))) throw new IllegalArgumentException("learningRate must be a positive finite number, got " + lr);
                if (!(momentum >= 0) || !Double.isFinite(momentum)) throw new IllegalArgumentException("momentum must be a finite number >= 0, got " + momentum);
                if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
                    throw new IllegalArgumentException("weightDecay must be a finite number >= 0, got " + weightDecay);
                }
                if (saveEvery < 0) throw new IllegalArgumentException("saveEvery must be >= 0, got " + saveEvery);
                if (saveEvery > 0 && (outPattern == null || !outPattern.contains("%d"))) {
                    throw new IllegalArgumentException("saveEvery needs a save pattern with %d for the epoch, e.g. run/ep%d.pt, got " + outPattern);
                }
                if (device == null) throw new IllegalArgumentException("device must be set, got null");
                return new Options(this);
            }
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
