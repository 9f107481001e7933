package org.projntk.residual;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;

import org.projntk.data.Batch;
import org.projntk.data.Dataset;
import org.projntk.data.DatasetSpec;
import org.projntk.data.StagedFiles;
import org.projntk.kernel.ArrayFeatureMatrix;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.KernelNormalization;
import org.projntk.project.Projector;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.stats.PowerLawFit;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;

/**
 * How close projected kernels get to the exact one as K grows, on a small set of examples: the exact per-class
 * gradients are computed once (projector none), then projected for every K. The kernels compared are over all the
 * given examples (an [n x n] matrix), and each K's errors are averaged over several projection seeds. Rows of the table:
 * <ul>
 *   <li>{@code proj-trntk}: Σ_c (R g_c)(R g_c')ᵀ against the exact trNTK;</li>
 *   <li>{@code proj-pntk}: (R Σ_c g_c)(R Σ_c g_c')ᵀ against the exact trNTK (the approximation the pNTK paper studies);</li>
 *   <li>{@code proj-pntk-vs-pntk}: the same against the exact pNTK, so its projection error alone.</li>
 * </ul>
 */
public final class ResidualSweep {
    private ResidualSweep() {}

    private static void accumulate(double[] sums, KernelMatrix exact, KernelMatrix approx) {
        ResidualStats.CosineResiduals cos = ResidualStats.cosineResiduals(exact, approx);
        sums[0] += ResidualStats.relativeFrobenius(exact, approx);
        sums[1] += cos.mean();
        sums[2] += cos.median();
    }

    /**
     * A sweep over the examples of a train dataset (and optionally a test one) with a model on the CPU: the projected
     * dimensions, the projection and the seeds averaged. Immutable and safe to share.
     *
     * <pre>{@code
     * ResidualSweep.Options options = ResidualSweep.Options.builder().model("builtin:cnn-fmnist")
     *         .train("fashion-mnist:train[0:120]").dims(64, 256).repeats(2).build();
     * }</pre>
     */
    public static final class Options {
        private final String model;
        private final String train;
        private final String test;
        private final List<Integer> dims;
        private final ProjectorKind projector;
        private final long seed;
        private final int repeats;

        private Options(Builder b) {
            this.model = b.model;
            this.train = b.train;
            this.test = b.test;
            this.dims = b.dims;
            this.projector = b.projector;
            this.seed = b.seed;
            this.repeats = b.repeats;
        }

        /**
         * A builder with the defaults: no test dataset, K in 64, 256, 1024, 4096, Rademacher projections, seeds 0, 1, 2
         * (3 repeats). The model and the train dataset have no default.
         *
         * @return a new builder
         */
        public static Builder builder() {
            return new Builder();
        }

        /** {@return the model: a TorchScript path or builtin:NAME (initialised from seed 0)} */
        public String model() {
            return model;
        }

        /** {@return the dataset spec of the train examples} */
        public String train() {
            return train;
        }

        /** {@return the dataset spec of more examples, or null for none} */
        public String test() {
            return test;
        }

        /** {@return the projected dimensions K, in order} */
        public List<Integer> dims() {
            return dims;
        }

        /** {@return the projection} */
        public ProjectorKind projector() {
            return projector;
        }

        /** {@return the first projection seed} */
        public long seed() {
            return seed;
        }

        /** {@return projection seeds per K (seed .. seed+repeats-1), whose metrics are averaged} */
        public int repeats() {
            return repeats;
        }

        @Override
        public String toString() {
            return "ResidualSweep.Options[model=" + model + ", train=" + train + ", test=" + test + ", dims=" + dims + ", projector="
                    + projector + ", seed=" + seed + ", repeats=" + repeats + "]";
        }

        /** Builds {@link Options}; not thread-safe. */
        public static final class Builder {
            private String model;
            private String train;
            private String test;
            private List<Integer> dims = List.of(64, 256, 1024, 4096);
            private ProjectorKind projector = ProjectorKind.RADEMACHER;
            private long seed;
            private int repeats = 3;

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
             * The dataset spec of the train examples (required).
             *
             * @param datasetSpec the new setting
             * @return this builder
             */
            public Builder train(String datasetSpec) {
                this.train = datasetSpec;
                return this;
            }

            /**
             * The dataset spec of more examples (default null: none).
             *
             * @param datasetSpec the new setting
             * @return this builder
             */
            public Builder test(String datasetSpec) {
                this.test = datasetSpec;
                return this;
            }

            /**
             * The projected dimensions (default 64, 256, 1024, 4096); at least one, each at least 1.
             *
             * @param values the new setting
             * @return this builder
             */
            public Builder dims(List<Integer> values) {
                this.dims = values == null ? null : java.util.Collections.unmodifiableList(new ArrayList<>(values));
                return this;
            }

            /**
             * As {@link #dims(List)}.
             *
             * @param values the new setting
             * @return this builder
             */
            public Builder dims(int... values) {
                List<Integer> l = new ArrayList<>();
                for (int v : values) l.add(v);
                return dims(l);
            }

            /**
             * The projection: rademacher, normal or sjlt (default {@link ProjectorKind#RADEMACHER}).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder projector(ProjectorKind value) {
                this.projector = value;
                return this;
            }

            /**
             * The first projection seed (default 0).
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder seed(long value) {
                this.seed = value;
                return this;
            }

            /**
             * Projection seeds averaged per K (default 3); at least 1.
             *
             * @param value the new setting
             * @return this builder
             */
            public Builder repeats(int value) {
                this.repeats = value;
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
                if (dims == null || dims.isEmpty()) throw new IllegalArgumentException("dims must hold at least one K, got " + dims);
                for (Integer k : dims) if (k == null || k < 1) throw new IllegalArgumentException("dims: every K must be >= 1, got " + k);
                if (repeats < 1) throw new IllegalArgumentException("repeats must be >= 1, got " + repeats);
                if (projector == null || projector == ProjectorKind.NONE || projector == ProjectorKind.CURAND) {
                    throw new IllegalArgumentException("projector must be rademacher, normal or sjlt, got "
                            + (projector == null ? null : projector.cliName()));
                }
                return new Options(this);
            }
        }
    }

    /**
     * Runs the sweep and writes {@code sweep.csv}, {@code sweep.png} (residual against K with fitted decay),
     * {@code residual_cdf.csv} and {@code residual_cdf_fit.csv} into outDir, all or none of them.
     *
     * @param o the sweep
     * @param outDir the output directory, created if missing
     * @param log progress lines
     * @return the table written
     * @throws java.io.UncheckedIOException if the results cannot be written
     */
    public static SweepTable write(Options o, Path outDir, Consumer<String> log) {
        Objects.requireNonNull(outDir, "outDir");
        var parts = new ArrayList<Dataset>();
        parts.add(DatasetSpec.parse(o.train()).open(org.projntk.data.Normalization.DEFAULT));
        if (o.test() != null) parts.add(DatasetSpec.parse(o.test()).open(org.projntk.data.Normalization.DEFAULT));
        SweepTable table;
        ResidualCdf cdf = new ResidualCdf();
        try (Model net = Model.open(o.model(), 0, Device.CPU)) {
            table = run(net, parts, o.dims(), o.projector(), o.seed(), o.repeats(), cdf, log);
        }
        try (StagedFiles staged = new StagedFiles()) {
            Files.createDirectories(outDir);
            table.writeCsv(staged.stage(outDir.resolve("sweep.csv")));
            SweepChart.write(table, staged.stage(outDir.resolve("sweep.png")));
            cdf.write(staged.stage(outDir.resolve("residual_cdf.csv")), staged.stage(outDir.resolve("residual_cdf_fit.csv")));
            staged.commit();
            for (ResidualCdf.Fit f : cdf.fits()) {
                if (f.k() == 0) {
                    log.accept(String.format(Locale.ROOT, "residual CDF %-10s F(x) = 1 - exp(-x K / a), a = %.3g pooled over K"
                            + " (MLE K*mean %.3g; paper: a ~ 20 for ResNet-18, ~ 57 for BERT)", f.kernel(), f.a(), f.aMle()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing sweep results to " + outDir + ": " + e.getMessage(), e);
        }
        return table;
    }

    /**
     * The table as aligned text, for a terminal.
     *
     * @param table a sweep's table
     * @return a header, one line per row, then one line per fitted power-law decay
     */
    public static List<String> describe(SweepTable table) {
        List<String> lines = new ArrayList<>();
        lines.add("kernel               K      rel_frobenius  mean|cos res|  median|cos res|");
        for (SweepTable.Row r : table.rows()) {
            lines.add(String.format(Locale.ROOT, "%-18s %6d   %12.5f  %12.5f  %14.5f", r.kernel(), r.k(), r.relFrobenius(),
                    r.meanAbsCosResidual(), r.medianAbsCosResidual()));
        }
        for (var e : table.fits().entrySet()) {
            PowerLawFit f = e.getValue();
            lines.add(String.format(Locale.ROOT, "fitted decay %-18s rel_frobenius ~ %.3g * K^%.3f  (R^2 %.3f)", e.getKey(), f.a(), -f.b(), f.r2()));
        }
        return lines;
    }

    /**
     * Runs the sweep on the CPU. Each K is measured with seeds seed .. seed+repeats-1 and the metrics are averaged.
     *
     * @param model the network, used from this thread only for the call
     * @param parts the datasets whose examples (all of them, in order) the kernels are over
     * @param dims the projection dimensions K
     * @param kind the projector
     * @param seed the first projection seed
     * @param repeats the number of seeds per K, at least 1
     * @param log progress lines
     * @return three rows per K (proj-trntk, proj-pntk, proj-pntk-vs-pntk)
     * @throws IllegalArgumentException for repeats below 1, no examples, or exact gradients over 3 GiB
     */
    public static SweepTable run(Model model, List<Dataset> parts, List<Integer> dims, ProjectorKind kind, long seed, int repeats,
                                 Consumer<String> log) {
        return run(model, parts, dims, kind, seed, repeats, null, log);
    }

    /**
     * As {@link #run(Model, List, List, ProjectorKind, long, int, Consumer)}, also collecting every |cosine residual|
     * against the exact trNTK (proj-trntk and proj-pntk, all seeds pooled) into {@code cdf} when it is not null.
     *
     * @param model the network
     * @param parts the datasets whose examples the kernels are over
     * @param dims the projection dimensions K
     * @param kind the projector
     * @param seed the first projection seed
     * @param repeats the number of seeds per K, at least 1
     * @param cdf where residuals are collected, or null
     * @param log progress lines
     * @return three rows per K
     */
    public static SweepTable run(Model model, List<Dataset> parts, List<Integer> dims, ProjectorKind kind, long seed, int repeats,
                                 ResidualCdf cdf, Consumer<String> log) {
        if (repeats < 1) throw new IllegalArgumentException("repeats must be >= 1, got " + repeats);
        if (parts.isEmpty()) throw new IllegalArgumentException("no examples to sweep over");
        long p = model.parameterCount();
        int n = 0;
        for (Dataset d : parts) n += Math.toIntExact(d.size());
        long[] example = java.util.Arrays.stream(parts.get(0).exampleShape()).asLongStream().toArray();
        int classes = model.numClasses(example);
        if ((long) n * classes * p * Float.BYTES > (3L << 30)) {
            throw new IllegalArgumentException("the exact kernel of " + n + " examples x " + classes + " classes x P=" + p
                    + " needs " + ((long) n * classes * p * 4 >> 20) + " MiB of gradients; use fewer examples or a smaller model");
        }
        try (Arena arena = Arena.ofShared()) {
            long t0 = System.nanoTime();
            List<MemorySegment> perClass = new ArrayList<>();
            for (int c = 0; c < classes; c++) perClass.add(arena.allocate(ValueLayout.JAVA_FLOAT, (long) n * p));
            int rowBase = 0;
            for (Dataset d : parts) {
                for (long first = 0; first < d.size(); first += 64) {
                    int count = (int) Math.min(64, d.size() - first);
                    int base = rowBase + (int) first;
                    try (Arena batchArena = Arena.ofConfined()) {
                        Batch batch = d.batch(first, count, batchArena);
                        Gradients.compute(model, batch.inputs(), batch.shape(), null, OutputKind.PER_CLASS, GradStrategy.AUTO, 0, true,
                                (out, rowOffset, rows, paramOffset, cols, block) -> {
                                    for (int r = 0; r < rows; r++) {
                                        MemorySegment.copy(block, (long) r * cols * Float.BYTES, perClass.get(out),
                                                ((base + rowOffset + r) * p + paramOffset) * Float.BYTES, (long) cols * Float.BYTES);
                                    }
                                });
                    }
                }
                rowBase += (int) d.size();
            }
            MemorySegment summed = arena.allocate(ValueLayout.JAVA_FLOAT, (long) n * p);
            for (long i = 0; i < (long) n * p; i++) {
                float s = 0;
                for (int c = 0; c < classes; c++) s += perClass.get(c).getAtIndex(ValueLayout.JAVA_FLOAT, i);
                summed.setAtIndex(ValueLayout.JAVA_FLOAT, i, s);
            }
            List<FeatureMatrix> exactOperand = new ArrayList<>();
            for (MemorySegment g : perClass) exactOperand.add(new ArrayFeatureMatrix(g, n, Math.toIntExact(p)));
            KernelMatrix exactTr = Gram.computeMatrix(exactOperand, exactOperand, Gram.Options.of(KernelKind.TRNTK, KernelNormalization.NONE));
            List<FeatureMatrix> exactP = List.of(new ArrayFeatureMatrix(summed, n, Math.toIntExact(p)));
            KernelMatrix exactPntk = Gram.computeMatrix(exactP, exactP, Gram.Options.of(KernelKind.PNTK, KernelNormalization.NONE));
            log.accept(String.format("sweep: exact trNTK and pNTK of %d examples from %d x %d exact gradients (P=%d) in %.1f s",
                    n, classes, n, p, (System.nanoTime() - t0) / 1e9));

            SweepTable table = new SweepTable();
            for (int k : dims) {
                double[][] sums = new double[3][3];
                double trSeconds = 0;
                double pSeconds = 0;
                for (int r = 0; r < repeats; r++) {
                    long t1 = System.nanoTime();
                    try (Projector projector = new Projector(ProjectorSpec.of(kind, p, k, seed + r).withCheckFinite(false));
                         Arena kArena = Arena.ofConfined()) {
                        List<FeatureMatrix> projected = new ArrayList<>();
                        for (MemorySegment g : perClass) {
                            MemorySegment a = kArena.allocate(ValueLayout.JAVA_FLOAT, (long) n * k);
                            projector.project(g, n, a);
                            projected.add(new ArrayFeatureMatrix(a, n, k));
                        }
                        KernelMatrix projTr = Gram.computeMatrix(projected, projected, Gram.Options.of(KernelKind.TRNTK, KernelNormalization.NONE));
                        trSeconds += (System.nanoTime() - t1) / 1e9;
                        long t2 = System.nanoTime();
                        MemorySegment a = kArena.allocate(ValueLayout.JAVA_FLOAT, (long) n * k);
                        projector.project(summed, n, a);
                        List<FeatureMatrix> projP = List.of(new ArrayFeatureMatrix(a, n, k));
                        KernelMatrix projPntk = Gram.computeMatrix(projP, projP, Gram.Options.of(KernelKind.PNTK, KernelNormalization.NONE));
                        pSeconds += (System.nanoTime() - t2) / 1e9;
                        accumulate(sums[0], exactTr, projTr);
                        accumulate(sums[1], exactTr, projPntk);
                        if (cdf != null) {
                            cdf.add("proj-trntk", k, exactTr, projTr);
                            cdf.add("proj-pntk", k, exactTr, projPntk);
                        }
                        accumulate(sums[2], exactPntk, projPntk);
                    }
                }
                String[] names = {"proj-trntk", "proj-pntk", "proj-pntk-vs-pntk"};
                double[] seconds = {trSeconds / repeats, pSeconds / repeats, pSeconds / repeats};
                for (int i = 0; i < 3; i++) {
                    table.add(new SweepTable.Row(names[i], k, sums[i][0] / repeats, sums[i][1] / repeats, sums[i][2] / repeats, seconds[i]));
                }
                log.accept(String.format("sweep K=%d (mean of %d seeds): rel. Frobenius error proj-trNTK %.4f, proj-pNTK %.4f (vs exact pNTK %.4f); "
                                + "mean |cos residual| %.4f / %.4f",
                        k, repeats, sums[0][0] / repeats, sums[1][0] / repeats, sums[2][0] / repeats, sums[0][1] / repeats, sums[1][1] / repeats));
            }
            return table;
        }
    }
}
