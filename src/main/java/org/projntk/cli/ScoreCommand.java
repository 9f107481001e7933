package org.projntk.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.projntk.attribution.TrakScores;
import org.projntk.store.FeatureStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `projntk score`: TRAK attribution scores [test x train] from a margin store, streamed into a .npy. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "TRAK attribution scores [n_test x n_train] from a store featurized with --kernel margin, streamed tile by tile into a float32 .npy.")
public final class ScoreCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--store", required = true, description = "feature store directory (kernel margin)")
    Path store;

    @Option(names = "--out", required = true, description = "output .npy, written to OUT.tmp and renamed")
    Path out;

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
    @Override
    public Integer call() {
        List<String> ids = checkpoints.equals("all") ? null : Arrays.stream(checkpoints.split(",")).map(String::trim).toList();
        TrakScores.Options options = new TrakScores.Options(lambda, ids, trakCompat, dim, trainSplit, testSplit, tile, 4 * tile);
        TrakScores.Result r = TrakScores.writeNpy(FeatureStore.open(store), options, out);
        PrintWriter w = spec.commandLine().getOut();
        w.printf(Locale.ROOT, "score%s: [%d x %d] float32 -> %s from checkpoints %s, K = %d, lambda %s in %.2f s (%.3g pairs/s)%n",
                trakCompat ? " (trak-compat)" : "", r.testRows(), r.trainRows(), out, r.checkpoints(), r.dim(), lambda, r.seconds(),
                r.testRows() * (double) r.trainRows() / r.seconds());
        w.flush();
        return 0;
    }
}
