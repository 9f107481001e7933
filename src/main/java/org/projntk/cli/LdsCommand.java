package org.projntk.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.projntk.attribution.Lds;
import org.projntk.project.ProjectorKind;
import org.projntk.torch.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `projntk lds`: linear datamodeling score of TRAK attributions against retrained models. */
@Command(name = "lds", mixinStandardHelpOptions = true,
        description = "Trains C models, scores with TRAK, retrains M models on random alpha-subsets and reports the linear datamodeling score (DIR/lds.json, DIR/lds-checkpoints.png, DIR/lds-dim.png).")
public final class LdsCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, description = "builtin:NAME (e.g. builtin:linear-fmnist, builtin:mlp)") String model;
    @Option(names = "--train", required = true, description = "train dataset spec") String train;
    @Option(names = "--test", required = true, description = "test dataset spec") String test;
    @Option(names = "--out", required = true, description = "output directory") Path out;
    @Option(names = "--subsets", defaultValue = "50", description = "retrained models M (default ${DEFAULT-VALUE})") int subsets;
    @Option(names = "--alpha", defaultValue = "0.5", description = "subset fraction (default ${DEFAULT-VALUE})") double alpha;
    @Option(names = "--dim", defaultValue = "512", description = "projection dimension K (default ${DEFAULT-VALUE})") int dim;
    @Option(names = "--checkpoints", defaultValue = "1", description = "independently trained models ensembled (default ${DEFAULT-VALUE})") int checkpoints;
    @Option(names = "--epochs", defaultValue = "5", description = "epochs per model (default ${DEFAULT-VALUE})") int epochs;
    @Option(names = "--batch", defaultValue = "64") int batch;
    @Option(names = "--optimizer", defaultValue = "adam", description = "sgd or adam") String optimizer;
    @Option(names = "--lr", defaultValue = "-1", description = "learning rate (default: 1e-3 adam, 0.05 sgd)") double lr;
    @Option(names = "--lambda", defaultValue = "0", description = "ridge term of the scores") double lambda;
    @Option(names = "--proj", defaultValue = "rademacher") String proj;
    @Option(names = "--trak-compat") boolean trakCompat;
    @Option(names = "--seed", defaultValue = "0") long seed;
    @Option(names = "--bootstrap", defaultValue = "1000") int bootstrap;
    @Override
    public Integer call() {
        Trainer.Optimizer opt = switch (optimizer.toLowerCase(Locale.ROOT)) {
            case "sgd" -> Trainer.Optimizer.SGD;
            case "adam" -> Trainer.Optimizer.ADAM;
            default -> throw new IllegalArgumentException("--optimizer must be sgd or adam, got '" + optimizer + "'");
        };
        PrintWriter w = spec.commandLine().getOut();
        Lds.Options.Builder b = Lds.Options.builder().model(model).train(train).test(test).subsets(subsets).alpha(alpha).dim(dim)
                .checkpoints(checkpoints).epochs(epochs).batch(batch).optimizer(opt).lambda(lambda).projector(ProjectorKind.parse(proj))
                .trakCompat(trakCompat).seed(seed).bootstrap(bootstrap).out(out);
        if (lr > 0) b.learningRate(lr); // --lr -1: the optimiser's default
        Lds.Options o = b.build();
        Lds.Result r = Lds.run(o, text -> {
            w.println(text);
            w.flush();
        });
        for (Lds.Point p : r.byCheckpoints()) w.printf(Locale.ROOT, "checkpoints %d, K %d: LDS %.4f [%.4f, %.4f]%n", p.checkpoints(), p.dim(), p.lds(), p.ciLow(), p.ciHigh());
        for (Lds.Point p : r.byDim()) w.printf(Locale.ROOT, "checkpoints %d, K %d: LDS %.4f [%.4f, %.4f]%n", p.checkpoints(), p.dim(), p.lds(), p.ciLow(), p.ciHigh());
        w.printf(Locale.ROOT, "LDS %.4f, 95%% bootstrap interval [%.4f, %.4f]; %.1f s (train %.1f, featurize %.1f, retrain %.1f, score %.1f) -> %s%n",
                r.estimate().lds(), r.estimate().ciLow(), r.estimate().ciHigh(), r.totalSeconds(), r.trainSeconds(), r.featurizeSeconds(),
                r.retrainSeconds(), r.scoreSeconds(), out.resolve("lds.json"));
        w.flush();
        return 0;
    }
}
