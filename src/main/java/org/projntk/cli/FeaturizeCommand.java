package org.projntk.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.projntk.featurize.FeaturizeConfig;
import org.projntk.featurize.Featurizer;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;

/** `projntk featurize`: projected per-example gradients of train and test splits into a feature store. */
final class FeaturizeCommand {
    private FeaturizeCommand() {}

    static void run(Args args, PrintStream out, PrintStream err) {
        FeaturizeConfig config = config(args);
        args.rejectUnknown();
        run(config, out);
    }

    static FeaturizeConfig config(Args args) {
        Map<String, String> splits = new LinkedHashMap<>();
        splits.put("train", args.require("train"));
        String test = args.get("test", null);
        if (test != null) splits.put("test", test);
        String shard = args.get("shard", "0/1");
        String[] parts = shard.split("/");
        if (parts.length != 2) throw new Args.UsageException("--shard expects i/n, got '" + shard + "'");
        int shardIndex;
        int shardCount;
        try {
            shardIndex = Integer.parseInt(parts[0]);
            shardCount = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new Args.UsageException("--shard expects i/n, got '" + shard + "'");
        }
        return new FeaturizeConfig(
                args.require("model"), args.getLong("model-seed", 0), args.get("checkpoint", "0"), splits,
                args.get("kernel", "trntk"), ProjectorKind.parse(args.get("proj", "rademacher")), args.getInt("dim", 2048),
                args.getLong("seed", 0), args.getLong("model-id", 0), args.getInt("sjlt-s", ProjectorSpec.DEFAULT_SJLT_S),
                args.flag("unscaled"), args.get("dtype", "float32"), Device.parse(args.get("device", "cpu")),
                args.getInt("batch", 64), GradStrategy.parse(args.get("grad", "auto")), args.get("params", null),
                shardIndex, shardCount, args.get("normalize", null),
                args.getLong("max-block-bytes", Gradients.DEFAULT_MAX_BLOCK_BYTES), Path.of(args.require("out")));
    }

    static Featurizer.Result run(FeaturizeConfig config, PrintStream out) {
        Progress progress = new Progress(out);
        Featurizer.Result result = Featurizer.run(config, new Featurizer.Listener() {
            @Override
            public void progress(String split, long done, long total, long thisRun, double seconds) {
                progress.update(config.kernel() + " " + split, done, total, thisRun, seconds);
            }

            @Override
            public void message(String text) {
                progress.message(text);
            }
        });
        progress.message(String.format("featurize %s: %d rows computed this run, store %s, checkpoint %s %s",
                config.kernel(), result.rowsComputed(), config.out(), config.checkpoint(),
                result.complete() ? "complete" : "incomplete (other shards pending)"));
        return result;
    }
}
