package org.projntk.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.projntk.demo.Demo;
import org.projntk.demo.TextDemo;
import org.projntk.torch.Device;
import org.projntk.torch.Trainer;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `projntk demo`: {@link Demo}, the whole product on Fashion-MNIST, with its sizes as options. */
@Command(name = "demo", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"The whole job on Fashion-MNIST: trains builtin:cnn-fmnist, featurizes proj-trNTK and proj-pNTK, fits kernel "
                + "surrogates, draws top-5-similar image grids and sweeps the residual against the exact trNTK over K.",
                "With --task text: the text classifier (builtin:text-transformer on Debian's fortunes categories); --out, --epochs, "
                        + "--train-size, --test-size, --dim and --seed apply, the text demo's own defaults otherwise."})
public final class DemoCommand implements Callable<Integer> {
    private static final Demo.Options DEFAULTS = Demo.Options.defaults(Path.of("demo-out"));

    @Spec CommandSpec spec;

    /** Which demo. */
    public enum Task { IMAGE, TEXT }

    @Option(names = "--task", defaultValue = "image", completionCandidates = Choices.Tasks.class,
            description = "Which demo: ${COMPLETION-CANDIDATES}.")
    Task task;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder.")
    Path out = DEFAULTS.out();

    @Option(names = "--train-examples", paramLabel = "N", description = "Training images for the network.")
    int trainExamples = DEFAULTS.trainExamples();

    @Option(names = "--epochs", paramLabel = "N", description = "Training epochs.")
    int epochs = DEFAULTS.epochs();

    @Option(names = "--train-size", paramLabel = "N", description = "Train rows featurized (the surrogate's train kernel is N x N).")
    int trainSize = DEFAULTS.trainSize();

    @Option(names = "--test-size", paramLabel = "N", description = "Test rows featurized.")
    int testSize = DEFAULTS.testSize();

    @Option(names = "--dim", paramLabel = "K", description = "Projected dimension.")
    int dim = DEFAULTS.dim();

    @Option(names = "--sweep-train", paramLabel = "N", description = "Train rows of the residual sweep.")
    int sweepTrain = DEFAULTS.sweepTrain();

    @Option(names = "--sweep-test", paramLabel = "N", description = "Test rows of the residual sweep.")
    int sweepTest = DEFAULTS.sweepTest();

    @Option(names = "--sweep-dims", split = ",", paramLabel = "K", description = "Projected dimensions of the sweep.")
    List<Integer> sweepDims = DEFAULTS.sweepDims();

    @Option(names = "--batch", paramLabel = "B", description = "Featurize batch size.")
    int batch = DEFAULTS.batch();

    @Option(names = "--seed", description = "Seed of training and projections.")
    long seed = DEFAULTS.seed();

    @Option(names = "--images", paramLabel = "N", description = "Test examples in the similar-images grid.")
    int images = DEFAULTS.images();

    @Option(names = "--full", description = "The paper-sized job: all 60,000 train and 10,000 test images featurized and in the "
            + "surrogate (into demo-full-out unless --out is given); the sweep stays on a subset.")
    boolean full;

    Demo.Options options() {
        if (full) {
            return new Demo.Options(given("--out") ? out : Path.of("demo-full-out"), trainExamples, epochs,
                    given("--train-size") ? trainSize : 60_000, given("--test-size") ? testSize : 10_000, dim, sweepTrain, sweepTest,
                    sweepDims, batch, seed, images);
        }
        return new Demo.Options(out, trainExamples, epochs, trainSize, testSize, dim, sweepTrain, sweepTest, sweepDims, batch, seed, images);
    }

    @Override
    public Integer call() {
        if (task == Task.TEXT) {
            runText(spec.commandLine().getOut());
        } else {
            run(options(), spec.commandLine().getOut());
        }
        return 0;
    }

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    /** The text demo, with the options the user gave replacing its defaults. */
    void runText(PrintWriter out) {
        TextDemo.Options d = TextDemo.Options.defaults(given("--out") ? this.out : Path.of("demo-text-out"));
        TextDemo.Options o = new TextDemo.Options(d.out(), d.categories(), d.vocab(), d.maxLength(), given("--epochs") ? epochs : d.epochs(),
                d.batchSize(), d.learningRate(), given("--train-size") ? trainSize : d.featurizeTrain(),
                given("--test-size") ? testSize : d.featurizeTest(), given("--dim") ? dim : d.dim(), given("--seed") ? seed : d.seed());
        PrintStream log = new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                out.write(new String(b, off, len, StandardCharsets.UTF_8));
                out.flush();
            }
        }, true, StandardCharsets.UTF_8);
        TextDemo.run(o, log);
        log.flush();
    }

    /** The demo with the CLI's training loop (Adam, lr 1e-3, batch 64, on the CPU). */
    static Demo.Result run(Demo.Options options, PrintWriter out) {
        Demo.ModelTrainer trainer = (model, train, test, epochs, seed, file) -> TrainCommand.train(new TrainCommand.Options(model, train, test,
                epochs, file, Trainer.Optimizer.ADAM, 1e-3, 0.9, 0, 64, seed, Device.CPU), out);
        return Demo.run(options, trainer, out::println);
    }
}
