package org.projntk.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import org.projntk.attribution.TrakScores;
import picocli.CommandLine.Option;

/** The options of {@code projntk score}, shared with {@code projntk spark score} (a picocli mixin). */
public final class ScoreOptions {
    @Option(names = "--store", required = true, description = "feature store directory (kernel margin)")
    public Path store;

    @Option(names = "--out", required = true, description = "output .npy, written to OUT.tmp and renamed")
    public Path out;

    @Option(names = "--lambda", defaultValue = "0", description = "ridge term added to XᵀX (default ${DEFAULT-VALUE})")
    double lambda;

    @Option(names = "--checkpoints", defaultValue = "all", description = "all, or comma-separated checkpoint ids to ensemble")
    String checkpoints;

    @Option(names = "--trak-compat", description = "reproduce MadryLab TRAK 0.3.2's numbers (1/√P scaling, inverse normalised by its mean |entry|)")
    boolean trakCompat;

    @Option(names = "--dim", defaultValue = "0", description = "use the first DIM projected columns (0 = all)")
    int dim;

    @Option(names = "--train-split", defaultValue = "train") String trainSplit;
    @Option(names = "--test-split", defaultValue = "test") String testSplit;
    @Option(names = "--tile", defaultValue = "1024", description = "test rows per tile (train columns: 4 x this)") int tile;

    /** The options as given. */
    public TrakScores.Options options() {
        TrakScores.Options.Builder b = TrakScores.Options.builder().lambda(lambda).trakCompat(trakCompat).dim(dim)
                .trainSplit(trainSplit).testSplit(testSplit).tiles(tile, 4 * tile);
        if (!checkpoints.equals("all")) b.checkpoints(Arrays.stream(checkpoints.split(",")).map(String::trim).toList());
        return b.build();
    }

    /** The command's one-line summary, e.g. {@code score: [n_test x n_train] float32 -> OUT from checkpoints [..], ...}. */
    public void print(PrintWriter w, String command, TrakScores.Result r, String more) {
        w.printf(Locale.ROOT, "%s%s: [%d x %d] float32 -> %s from checkpoints %s, K = %d, lambda %s%s in %.2f s (%.3g pairs/s)%n",
                command, trakCompat ? " (trak-compat)" : "", r.testRows(), r.trainRows(), out, r.checkpoints(), r.dim(), lambda, more,
                r.seconds(), r.testRows() * (double) r.trainRows() / r.seconds());
        w.flush();
    }
}
