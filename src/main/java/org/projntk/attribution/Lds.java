package org.projntk.attribution;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeSet;

import org.projntk.project.Projection;
import org.projntk.featurize.Kernel;
import org.projntk.featurize.Featurize;
import org.projntk.data.DatasetSpec;
import org.projntk.featurize.Featurizer;
import org.projntk.plot.LineChart;
import org.projntk.project.ProjectorKind;
import org.projntk.stats.Spearman;
import org.projntk.store.FeatureStore;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;
import org.projntk.torch.Trainer;
import org.projntk.torch.Training;

/**
 * The linear datamodeling score (LDS): does the attribution predict retraining? M models are retrained, each on a
 * random α-subset of the train rows; for every test example the Spearman correlation between the scores summed over
 * each subset and the retrained models' margins is averaged over test examples, with a bootstrap interval over test
 * examples.
 */
public final class Lds {
    private Lds() {}

    /**
     * An LDS run: the model and datasets, the subsets retrained, the projection, the trained checkpoints, the training
     * settings, the scores' ridge term, the bootstrap and the output folder. Immutable and safe to share.
     *
     * <pre>{@code
     * Lds.Options options = Lds.Options.builder().model("builtin:tiny-mlp").train(trainSpec).test(testSpec)
     *         .subsets(20).dim(256).out(Path.of("lds-out")).build();
     * }</pre>
     */
    public static final class Options {
        private final String model;
        private final String train;
        private final String test;
        private final int subsets;
        private final double alpha;
        private final int dim;
        private final int checkpoints;
        private final int epochs;
        private final int batch;
        private final Trainer.Optimizer optimizer;
        private final Double learningRate;
        private final double lambda;
        private final ProjectorKind projector;
        private final boolean trakCompat;
        private final long seed;
        private final int bootstrap;
        private final Path out;

        private Options(Builder b) {
            this.model = b.model;
            this.train = b.train;
            this.test = b.test;
            this.subsets = b.subsets;
            this.alpha = b.alpha;
            this.dim = b.dim;
            this.checkpoints = b.checkpoints;
            this.epochs = b.epochs;
            this.batch = b.batch;
            this.optimizer = b.optimizer;
            this.learningRate = b.learningRate;
            this.lambda = b.lambda;
            this.projector = b.projector;
            this.trakCompat = b.trakCompat;
            this.seed = b.seed;
            this.bootstrap = b.bootstrap;
            this.out = b.out;
        }

        /** {@return a builder with the defaults each setter names; the model, datasets and output folder have none} */
        public static Builder builder() {
            return new Builder();
        }

        /** {@return the model spec} */
        public String model() {
            return model;
        }

        /** {@return the train dataset spec} */
        public String train() {
            return train;
        }

        /** {@return the test dataset spec} */
        public String test() {
            return test;
        }

        /** {@return random train subsets retrained} */
        public int subsets() {
            return subsets;
        }

        /** {@return the fraction of train rows in each subset} */
        public double alpha() {
            return alpha;
        }

        /** {@return the projected dimension K} */
        public int dim() {
            return dim;
        }

        /** {@return independently trained models ensembled by the scores} */
        public int checkpoints() {
            return checkpoints;
        }

        /** {@return epochs per trained model} */
        public int epochs() {
            return epochs;
        }

        /** {@return examples per training step} */
        public int batch() {
            return batch;
        }

        /** {@return the optimiser} */
        public Trainer.Optimizer optimizer() {
            return optimizer;
        }

        /** {@return the learning rate: as set, or the optimiser's default (1e-3 for Adam, 0.05 for SGD)} */
        public double learningRate() {
            return learningRate != null ? learningRate : optimizer.defaultLearningRate();
        }

        /** {@return the ridge term of the scores} */
        public double lambda() {
            return lambda;
        }

        /** {@return the projection} */
        public ProjectorKind projector() {
            return projector;
        }

        /** {@return whether MadryLab TRAK 0.3.2's scores are reproduced} */
        public boolean trakCompat() {
            return trakCompat;
        }

        /** {@return the first model seed, the projection seed and the subsets' seed} */
        public long seed() {
            return seed;
        }

        /** {@return bootstrap resamples of the test examples} */
        public int bootstrap() {
            return bootstrap;
        }

        /** {@return the output folder} */
        public Path out() {
            return out;
        }

        /** Builds {@link Options}; not thread-safe. */
        public static final class Builder {
            private String model;
            private String train;
            private String test;
            private int subsets = 50;
            private double alpha = 0.5;
            private int dim = 512;
            private int checkpoints = 1;
            private int epochs = 5;
            private int batch = 64;
            private Trainer.Optimizer optimizer = Trainer.Optimizer.ADAM;
            private Double learningRate;
            private double lambda;
            private ProjectorKind projector = ProjectorKind.RADEMACHER;
            private boolean trakCompat;
            private long seed;
            private int bootstrap = 1000;
            private Path out;

            private Builder() {}

            /**
             * The model: a TorchScript path or builtin:NAME (required).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder model(String value) {
                this.model = value;
                return this;
            }

            /**
             * The train dataset spec (required).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder train(String value) {
                this.train = value;
                return this;
            }

            /**
             * The test dataset spec (required).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder test(String value) {
                this.test = value;
                return this;
            }

            /**
             * Random train subsets retrained (default 50); at least 3 for a rank correlation.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder subsets(int value) {
                this.subsets = value;
                return this;
            }

            /**
             * The fraction of train rows in each subset (default 0.5); in (0, 1).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder alpha(double value) {
                this.alpha = value;
                return this;
            }

            /**
             * The projected dimension K (default 512); at least 1.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder dim(int value) {
                this.dim = value;
                return this;
            }

            /**
             * Independently trained models (seeds seed, seed+1, ...) on all train rows, ensembled by the scores (default 1); at least 1.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder checkpoints(int value) {
                this.checkpoints = value;
                return this;
            }

            /**
             * Epochs per trained model (default 5); at least 1.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder epochs(int value) {
                this.epochs = value;
                return this;
            }

            /**
             * Examples per training step (default 64); at least 1.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder batch(int value) {
                this.batch = value;
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
                this.learningRate = value;
                return this;
            }

            /**
             * The ridge term of the scores (default 0); finite and at least 0.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder lambda(double value) {
                this.lambda = value;
                return this;
            }

            /**
             * The projection (default {@link ProjectorKind#RADEMACHER}; not curand).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder projector(ProjectorKind value) {
                this.projector = value;
                return this;
            }

            /**
             * Reproduce MadryLab TRAK 0.3.2's scores (default false).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder trakCompat(boolean value) {
                this.trakCompat = value;
                return this;
            }

            /**
             * The first model seed, the projection seed and the subsets' seed (default 0).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder seed(long value) {
                this.seed = value;
                return this;
            }

            /**
             * Bootstrap resamples of the test examples for the 95% interval (default 1000); at least 1.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder bootstrap(int value) {
                this.bootstrap = value;
                return this;
            }

            /**
             * The output folder (required).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder out(Path value) {
                this.out = value;
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
                if (train == null || train.isEmpty()) throw new IllegalArgumentException("train must be set, got " + train);
                if (test == null || test.isEmpty()) throw new IllegalArgumentException("test must be set, got " + test);
                if (out == null) throw new IllegalArgumentException("out must be set, got null");
                if (subsets < 3) throw new IllegalArgumentException("subsets must be >= 3 for a rank correlation, got " + subsets);
                if (!(alpha > 0 && alpha < 1)) throw new IllegalArgumentException("alpha must be in (0, 1), got " + alpha);
                if (dim < 1) throw new IllegalArgumentException("dim must be >= 1, got " + dim);
                if (checkpoints < 1) throw new IllegalArgumentException("checkpoints must be >= 1, got " + checkpoints);
                if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
                if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
                if (optimizer == null) throw new IllegalArgumentException("optimizer must be set, got null");
                if (learningRate != null && !(learningRate > 0 && Double.isFinite(learningRate))) {
                    throw new IllegalArgumentException("learningRate must be a positive finite number, got " + learningRate);
                }
                if (!(lambda >= 0) || !Double.isFinite(lambda)) throw new IllegalArgumentException("lambda must be a finite number >= 0, got " + lambda);
                if (projector == null || projector == ProjectorKind.CURAND) {
                    throw new IllegalArgumentException("projector must be rademacher, normal, sjlt or none, got " + projector);
                }
                if (bootstrap < 1) throw new IllegalArgumentException("bootstrap must be >= 1, got " + bootstrap);
                return new Options(this);
            }
        }
    }

    /**
     * An LDS with its 95% bootstrap interval. The array is not copied.
     *
     * @param lds     the mean Spearman correlation over the test examples that have one, in [-1, 1]
     * @param ciLow   the interval's 2.5% percentile
     * @param ciHigh  the interval's 97.5% percentile
     * @param perTest each test example's Spearman correlation (NaN where predictions or margins are constant)
     */
    public record Estimate(double lds, double ciLow, double ciHigh, double[] perTest) {}

    /**
     * One point of an LDS curve.
     *
     * @param checkpoints the checkpoints the scores averaged
     * @param dim         the projected columns the scores used
     * @param lds         the estimate
     * @param ciLow       its interval's 2.5% percentile
     * @param ciHigh      its interval's 97.5% percentile
     */
    public record Point(int checkpoints, int dim, double lds, double ciLow, double ciHigh) {}

    /**
     * An LDS estimate and its curves over checkpoints and dimensions; times are wall seconds.
     *
     * @param estimate         the LDS with every checkpoint and the full dimension
     * @param byCheckpoints    the LDS with the first 1, 2, ... checkpoints, at the full dimension
     * @param byDim            the LDS at dimensions halved down to dim/16 (dense projectors only), then the full one
     * @param trainSeconds     training the checkpoint models
     * @param featurizeSeconds featurizing the margin store
     * @param retrainSeconds   retraining a model per subset and taking its test margins
     * @param scoreSeconds     computing the scores and estimates
     * @param totalSeconds     the whole run, before writing the outputs
     */
    public record Result(Estimate estimate, List<Point> byCheckpoints, List<Point> byDim, double trainSeconds,
                         double featurizeSeconds, double retrainSeconds, double scoreSeconds, double totalSeconds) {}

    /** Progress of an LDS run. */
    @FunctionalInterface
    public interface Listener {
        /**
         * One progress line, on the thread running the LDS.
         *
         * @param text the line, without a line end
         */
        void message(String text);
    }

    /**
     * Runs the whole LDS on the calling thread: trains the checkpoint models, featurizes a margin store from them in
     * {@code out/store}, retrains one model per subset, scores with TRAK and writes {@code lds.json},
     * {@code lds-checkpoints.png} and (with more than one dimension) {@code lds-dim.png} into {@code out}. Models run on
     * the CPU; expect minutes even for small models.
     *
     * @param o        the run
     * @param listener receives progress lines
     * @return the estimate, its curves and the time spent
     * @throws IllegalArgumentException when {@code out/store} exists, a dataset spec is malformed, or the scores cannot
     *                                  be computed (see {@link TrakScores#score})
     * @throws org.projntk.ProjntkException when a model cannot be opened, trained or run
     * @throws java.io.UncheckedIOException when a file cannot be read or the outputs cannot be written
     */
    public static Result run(Options o, Listener listener) {
        long t0 = System.nanoTime();
        Path storeDir = o.out().resolve("store");
        if (Files.exists(storeDir)) {
            throw new IllegalArgumentException(storeDir + " exists: lds builds a fresh store; remove it or choose another --out");
        }
        Training.Examples train = Training.Examples.load(DatasetSpec.parse(o.train()).open());
        Training.Examples test = Training.Examples.load(DatasetSpec.parse(o.test()).open());

        List<Path> models = new ArrayList<>();
        for (int c = 0; c < o.checkpoints(); c++) {
            Training.Options t = trainingBuilder(o, o.seed() + c).save(o.out().resolve("models").resolve("model" + c + ".pt").toString())
                    .build();
            Training.Result r = Training.train(train, t, null);
            models.add(r.saved().getLast());
            listener.message(String.format("model %d: train loss %.4f, train accuracy %.4f", c, r.loss(), r.accuracy()));
        }
        long t1 = System.nanoTime();

        for (int c = 0; c < o.checkpoints(); c++) {
            Map<String, String> splits = new LinkedHashMap<>();
            splits.put("train", o.train());
            splits.put("test", o.test());
            Featurize.of(models.get(c).toString()).checkpoint("m" + c).train(o.train()).test(o.test()).kernel(Kernel.MARGIN)
                    .projection(new Projection(o.projector(), o.dim(), o.seed(), 0, 2, false)).batchSize(256).into(storeDir).run();
        }
        FeatureStore store = FeatureStore.open(storeDir);
        long t2 = System.nanoTime();

        boolean[][] masks = masks(o.subsets(), train.size(), o.alpha(), new Random(o.seed() ^ 0x4C44534D41534B53L));
        double[][] margins = new double[o.subsets()][];
        for (int s = 0; s < o.subsets(); s++) {
            int[] rows = indices(masks[s]);
            try (Model model = Model.open(o.model(), o.seed() + 1000 + s, Device.CPU)) {
                Training.train(model, train, trainingOptions(o, o.seed() + 1000 + s, rows), null);
                margins[s] = Training.margins(model, test, 256);
            }
            if ((s + 1) % 10 == 0 || s + 1 == o.subsets()) listener.message("retrained " + (s + 1) + "/" + o.subsets() + " subset models");
        }
        long t3 = System.nanoTime();

        TrakScores.Options base = TrakScores.Options.builder().lambda(o.lambda()).trakCompat(o.trakCompat()).build();
        List<String> ids = List.copyOf(store.manifest().checkpoints().keySet());
        List<Point> byCheckpoints = new ArrayList<>();
        for (int c = 1; c <= ids.size(); c++) {
            Estimate e = estimate(TrakScores.matrix(store, base.toBuilder().checkpoints(ids.subList(0, c)).build()), masks, margins, o.bootstrap(), o.seed());
            byCheckpoints.add(new Point(c, o.dim(), e.lds(), e.ciLow(), e.ciHigh()));
        }
        List<Point> byDim = new ArrayList<>();
        boolean dense = o.projector() == ProjectorKind.RADEMACHER || o.projector() == ProjectorKind.GAUSSIAN;
        TreeSet<Integer> dims = new TreeSet<>();
        if (dense) for (int d = o.dim(); d >= Math.max(1, o.dim() / 16); d /= 2) dims.add(d);
        for (int d : dims) {
            if (d == o.dim()) continue;
            Estimate e = estimate(TrakScores.matrix(store, base.toBuilder().checkpoints(ids).dim(d).build()), masks, margins, o.bootstrap(), o.seed());
            byDim.add(new Point(ids.size(), d, e.lds(), e.ciLow(), e.ciHigh()));
        }
        Point full = byCheckpoints.getLast();
        byDim.add(full);
        Estimate all = estimate(TrakScores.matrix(store, base.toBuilder().checkpoints(ids).build()), masks, margins, o.bootstrap(), o.seed());
        long t4 = System.nanoTime();
        Result result = new Result(all, byCheckpoints, byDim, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, (t4 - t3) / 1e9,
                (t4 - t0) / 1e9);
        write(o, result);
        return result;
    }

    private static Training.Options trainingOptions(Options o, long seed, int[] rows) {
        return trainingBuilder(o, seed).rows(rows).build();
    }

    private static Training.Options.Builder trainingBuilder(Options o, long seed) {
        return Training.Options.builder().model(o.model()).seed(seed).epochs(o.epochs()).batch(o.batch()).optimizer(o.optimizer())
                .learningRate(o.learningRate());
    }

    /**
     * Random subsets of round(alpha·n) rows each, drawn by partial Fisher-Yates shuffles.
     *
     * @param m      the number of subsets
     * @param n      the rows to draw from
     * @param alpha  the fraction of rows per subset
     * @param random the source of randomness, advanced by the draws
     * @return masks [m][n], true for the rows in each subset
     * @throws IllegalArgumentException when round(alpha·n) is 0 or n
     */
    public static boolean[][] masks(int m, int n, double alpha, Random random) {
        int size = (int) Math.round(alpha * n);
        if (size < 1 || size >= n) throw new IllegalArgumentException("alpha " + alpha + " of " + n + " rows gives an empty or full subset");
        boolean[][] out = new boolean[m][n];
        int[] perm = new int[n];
        for (int s = 0; s < m; s++) {
            for (int i = 0; i < n; i++) perm[i] = i;
            for (int i = 0; i < size; i++) {
                int j = i + random.nextInt(n - i);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
                out[s][perm[i]] = true;
            }
        }
        return out;
    }

    /**
     * The LDS of scores [test x train] against margins [subset x test] of models retrained on masks [subset x train]:
     * the mean over test examples of Spearman(Σ_{j ∈ subset} scores[i][j], margins[.][i]), test examples whose
     * predictions or margins are constant left out; 95% percentile interval over {@code bootstrap} resamples of the
     * test examples.
     *
     * @param scores    the attribution scores, [test][train]
     * @param masks     the subsets, [subset][train]
     * @param margins   the retrained models' margins, [subset][test]
     * @param bootstrap the bootstrap resamples, at least 1
     * @param seed      seeds the resampling
     * @return the estimate
     * @throws IllegalArgumentException for mismatched shapes, or when every test example is constant
     */
    public static Estimate estimate(float[][] scores, boolean[][] masks, double[][] margins, int bootstrap, long seed) {
        int m = masks.length;
        int nTest = scores.length;
        if (margins.length != m) throw new IllegalArgumentException(m + " masks but " + margins.length + " margin rows");
        double[] perTest = new double[nTest];
        double[] predicted = new double[m];
        double[] actual = new double[m];
        for (int i = 0; i < nTest; i++) {
            float[] row = scores[i];
            for (int s = 0; s < m; s++) {
                if (masks[s].length != row.length) throw new IllegalArgumentException("mask " + s + " has " + masks[s].length + " rows, scores have " + row.length);
                double sum = 0;
                for (int j = 0; j < row.length; j++) if (masks[s][j]) sum += row[j];
                predicted[s] = sum;
                actual[s] = margins[s][i];
            }
            perTest[i] = Spearman.correlation(predicted, actual);
        }
        double[] valid = Arrays.stream(perTest).filter(v -> !Double.isNaN(v)).toArray();
        if (valid.length == 0) throw new IllegalArgumentException("every test example has constant predictions or margins");
        double lds = Arrays.stream(valid).average().orElseThrow();
        Random random = new Random(seed);
        double[] means = new double[bootstrap];
        for (int b = 0; b < bootstrap; b++) {
            double sum = 0;
            for (int i = 0; i < valid.length; i++) sum += valid[random.nextInt(valid.length)];
            means[b] = sum / valid.length;
        }
        Arrays.sort(means);
        return new Estimate(lds, quantile(means, 0.025), quantile(means, 0.975), perTest);
    }

    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    private static int[] indices(boolean[] mask) {
        int n = 0;
        for (boolean b : mask) if (b) n++;
        int[] out = new int[n];
        for (int i = 0, k = 0; i < mask.length; i++) if (mask[i]) out[k++] = i;
        return out;
    }

    private static void write(Options o, Result r) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("lds", r.estimate().lds());
        json.put("ci_low", r.estimate().ciLow());
        json.put("ci_high", r.estimate().ciHigh());
        json.put("model", o.model());
        json.put("train", o.train());
        json.put("test", o.test());
        json.put("subsets", o.subsets());
        json.put("alpha", o.alpha());
        json.put("dim", o.dim());
        json.put("checkpoints", o.checkpoints());
        json.put("epochs", o.epochs());
        json.put("lambda", o.lambda());
        json.put("projector", o.projector().cliName());
        json.put("trak_compat", o.trakCompat());
        json.put("seed", o.seed());
        json.put("by_checkpoints", r.byCheckpoints());
        json.put("by_dim", r.byDim());
        json.put("seconds", Map.of("train", r.trainSeconds(), "featurize", r.featurizeSeconds(), "retrain", r.retrainSeconds(),
                "score", r.scoreSeconds(), "total", r.totalSeconds()));
        try {
            Files.createDirectories(o.out());
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(o.out().resolve("lds.json").toFile(), json);
            plot(r.byCheckpoints(), true, "LDS against the number of checkpoints (K = " + o.dim() + ")", "checkpoints",
                    o.out().resolve("lds-checkpoints.png"));
            if (r.byDim().size() > 1) {
                plot(r.byDim(), false, "LDS against K (" + o.checkpoints() + " checkpoint(s))", "K", o.out().resolve("lds-dim.png"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + o.out() + ": " + e.getMessage(), e);
        }
    }

    private static void plot(List<Point> points, boolean byCheckpoints, String title, String xLabel, Path file) throws IOException {
        LineChart chart = new LineChart(title, xLabel, "LDS", byCheckpoints ? LineChart.Scale.LINEAR : LineChart.Scale.LOG2, LineChart.Scale.LINEAR);
        List<LineChart.Point> mid = new ArrayList<>(), low = new ArrayList<>(), high = new ArrayList<>();
        for (Point p : points) {
            double x = byCheckpoints ? p.checkpoints() : p.dim();
            mid.add(new LineChart.Point(x, p.lds()));
            low.add(new LineChart.Point(x, p.ciLow()));
            high.add(new LineChart.Point(x, p.ciHigh()));
        }
        int s = chart.add(LineChart.Series.of("LDS", mid));
        chart.add(new LineChart.Series("95% interval, low", low, false, true, s));
        chart.add(new LineChart.Series("95% interval, high", high, false, true, s));
        chart.write(file, 640, 420);
    }
}
