package org.projntk.cli;

import java.util.concurrent.Callable;

import org.projntk.attribution.TrakScores;
import org.projntk.store.FeatureStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** `projntk score`: TRAK attribution scores [test x train] from a margin store, streamed into a .npy. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "TRAK attribution scores [n_test x n_train] from a store featurized with --kernel margin, streamed tile by tile into a float32 .npy.")
public final class ScoreCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ScoreOptions score;

    @Override
    public Integer call() {
        TrakScores.Result r = TrakScores.writeNpy(FeatureStore.open(score.store), score.options(), score.out);
        score.print(spec.commandLine().getOut(), "score", r, "");
        return 0;
    }
}
