package org.projntk.cli;

import java.io.PrintStream;
import java.util.Arrays;

import org.projntk.ProjntkException;

/** The `projntk` command line. Each subcommand lives in its own class; this only dispatches and reports errors. */
public final class Main {
    static final String USAGE = """
            usage: projntk <command> [options]

            commands:
              version                      projntk, libtorch, CUDA and BLAS versions
              train      --model builtin:NAME --data SPEC --epochs N --out model.pt [--optimizer sgd|adam] [--lr X]
                         [--batch B] [--seed S] [--threads T]
              featurize  --model PATH|builtin:NAME --train SPEC --test SPEC --kernel pntk|trntk|entk|margin
                         --proj rademacher|normal|sjlt|curand|none --dim K --seed S --checkpoint ID --out DIR
                         [--device cpu|cuda] [--batch B] [--grad auto|functional|iterative] [--shard i/n]
                         [--params PREFIXES] [--dtype float32|float16] [--sjlt-s S] [--unscaled]
                         [--normalize default|none|unit|standard] [--model-seed S] [--model-id N] [--max-block-bytes N]
              gram       --store DIR --rows SPLIT --cols SPLIT [--checkpoint ID] [--normalize none|cosine|std]
                         [--device cpu|cuda] [--precision fp32|tf32] --out FILE.npy
              similar    --store DIR --top k --out DIR [--normalize none|cosine] [--checkpoint ID] [--images N]
              surrogate  --store DIR [--model PATH|builtin:NAME] [--checkpoint ID] [--normalize cosine|none|std]
                         [--lambda X] [--json]
              sweep      --model PATH|builtin:NAME --train SPEC --test SPEC --dims LIST --out DIR [--seed S] [--repeats R]
                         [--proj rademacher|normal|sjlt]
              explain    --store DIR [--model PATH] --test-index i [--top k] [--out FILE.png]
              bench projection --P N --B N --K LIST --proj LIST     [--device cpu|cuda]
                         (LIST may include sgemm-precomputed; on cuda also tf32-precomputed and curand)
              bench gradient   --model builtin:NAME --B LIST --grad functional,iterative [--device cpu|cuda]
              demo       [--out DIR] [--train-examples N] [--epochs N] [--train-size N] [--test-size N] [--dim K]
                         [--sweep-train N] [--sweep-test N] [--sweep-dims LIST] [--batch B] [--seed S] [--images N]

            datasets: fashion-mnist:train|test, idx:IMAGES,LABELS, cifar10:DIR:train|test, npy:X.npy,Y.npy,
                      each with an optional [start:end] row range, e.g. fashion-mnist:train[0:5000]
            """;

    public static void main(String[] argv) {
        System.exit(run(argv, System.out, System.err));
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            out.print(USAGE);
            return argv.length == 0 ? 2 : 0;
        }
        String command = argv[0];
        try {
            switch (command) {
                case "version" -> VersionCommand.run(out);
                case "featurize" -> FeaturizeCommand.run(new Args(argv, 1, java.util.Set.of("unscaled")), out, err);
                case "train" -> TrainCommand.run(new Args(argv, 1, java.util.Set.of()), out);
                case "gram" -> AnalysisCommands.gram(new Args(argv, 1, java.util.Set.of()), out);
                case "similar" -> AnalysisCommands.similar(new Args(argv, 1, java.util.Set.of()), out);
                case "surrogate" -> AnalysisCommands.surrogate(new Args(argv, 1, java.util.Set.of("json")), out);
                case "explain" -> AnalysisCommands.explain(new Args(argv, 1, java.util.Set.of()), out);
                case "sweep" -> SweepCommand.run(new Args(argv, 1, java.util.Set.of()), out);
                case "bench" -> BenchCommand.run(argv, out);
                case "demo" -> DemoCommand.run(new Args(argv, 1, java.util.Set.of()), out, err);
                default -> {
                    err.println("projntk: unknown command '" + command + "'");
                    err.print(USAGE);
                    return 2;
                }
            }
            return 0;
        } catch (Args.UsageException e) {
            err.println("projntk " + command + ": " + e.getMessage() + " (see projntk --help)");
            return 2;
        } catch (ProjntkException | IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException e) {
            err.println("projntk " + command + ": " + e.getMessage());
            if (System.getenv("PROJNTK_DEBUG") != null) e.printStackTrace(err);
            return 1;
        } catch (RuntimeException e) {
            err.println("projntk " + command + ": " + e);
            if (System.getenv("PROJNTK_DEBUG") != null) e.printStackTrace(err);
            return 1;
        }
    }

    static String[] tail(String[] argv, int from) {
        return Arrays.copyOfRange(argv, from, argv.length);
    }
}
