package org.projntk.cli;

import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

import org.projntk.data.Batch;
import org.projntk.data.Dataset;
import org.projntk.data.DatasetSpec;
import org.projntk.data.Normalization;
import org.projntk.torch.Device;
import org.projntk.torch.Model;
import org.projntk.torch.Trainer;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `projntk train`: cross-entropy training of a model, saved as TorchScript. */
@Command(name = "train", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "SGD or Adam on cross-entropy; saves the trained model as TorchScript.")
public final class TrainCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH|builtin:NAME", description = "Model to train (a built-in starts from its seed).")
    String model;

    @Option(names = "--data", required = true, paramLabel = "SPEC", description = "Training dataset.")
    String data;

    @Option(names = "--test", paramLabel = "SPEC", description = "Dataset whose accuracy is reported at the end (optional).")
    String test;

    @Option(names = "--epochs", defaultValue = "1", paramLabel = "N", description = "Passes over the data.")
    int epochs;

    @Option(names = "--out", required = true, paramLabel = "FILE.pt", description = "Where the TorchScript model is saved.")
    Path out;

    @Option(names = "--optimizer", defaultValue = "adam", completionCandidates = Choices.Optimizers.class,
            description = "Optimizer: ${COMPLETION-CANDIDATES}.")
    Trainer.Optimizer optimizer;

    @Option(names = "--lr", paramLabel = "X", description = "Learning rate (default: 1e-3 for adam, 0.05 for sgd).")
    Double lr;

    @Option(names = "--momentum", defaultValue = "0.9", paramLabel = "X", description = "SGD momentum.")
    double momentum;

    @Option(names = "--weight-decay", defaultValue = "0", paramLabel = "X", description = "L2 weight decay.")
    double weightDecay;

    @Option(names = "--batch", defaultValue = "64", paramLabel = "B", description = "Examples per step.")
    int batch;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the model's initialisation and of the batch order.")
    long seed;

    @Option(names = "--device", defaultValue = "cpu", completionCandidates = Choices.Devices.class,
            description = "Where to train: ${COMPLETION-CANDIDATES}.")
    Device device;

    @Option(names = "--gpu", defaultValue = "0", paramLabel = "N", description = "With --device cuda: the GPU's ordinal.")
    int gpu;

    @Option(names = "--save-every", defaultValue = "0", paramLabel = "N",
            description = "Also save a checkpoint every N epochs, as OUT with -epE before .pt (0: only the final model).")
    int saveEvery;

    record Options(String model, String data, String test, int epochs, Path out, Trainer.Optimizer optimizer, double lr,
                   double momentum, double weightDecay, int batch, long seed, Device device, int saveEvery, int gpu) {
        Options(String model, String data, String test, int epochs, Path out, Trainer.Optimizer optimizer, double lr,
                double momentum, double weightDecay, int batch, long seed, Device device, int saveEvery) {
            this(model, data, test, epochs, out, optimizer, lr, momentum, weightDecay, batch, seed, device, saveEvery, 0);
        }

        Options(String model, String data, String test, int epochs, Path out, Trainer.Optimizer optimizer, double lr,
                double momentum, double weightDecay, int batch, long seed, Device device) {
            this(model, data, test, epochs, out, optimizer, lr, momentum, weightDecay, batch, seed, device, 0);
        }
    }

    /** Where the checkpoint of an epoch goes: model.pt -> model-ep3.pt. */
    static Path checkpointPath(Path out, int epoch) {
        String name = out.getFileName().toString();
        String stem = name.endsWith(".pt") ? name.substring(0, name.length() - 3) : name;
        return out.resolveSibling(stem + "-ep" + epoch + ".pt");
    }

    @Override
    public Integer call() {
        Choices.checkGpu(spec, device, gpu);
        train(new Options(model, data, test, epochs, out, optimizer, lr == null ? -1 : lr, momentum, weightDecay, batch, seed, device,
                        saveEvery, gpu),
                spec.commandLine().getOut());
        return 0;
    }

    /** Trains and saves; returns the test accuracy when a test split is given, else the last epoch's train accuracy. */
    static double train(Options o, PrintWriter out) {
        if (o.epochs() < 0) throw new IllegalArgumentException("--epochs must be >= 0");
        if (o.saveEvery() < 0) throw new IllegalArgumentException("--save-every must be >= 0");
        double lr = o.lr() > 0 ? o.lr() : o.optimizer().defaultLearningRate();
        Dataset train = DatasetSpec.parse(o.data()).open(Normalization.DEFAULT);
        double accuracy = 0;
        try (Model model = Model.open(o.model(), o.seed(), o.device(), o.gpu());
             Trainer trainer = new Trainer(model, o.optimizer(), lr, o.momentum(), o.weightDecay())) {
            Random random = new Random(o.seed());
            long n = train.size();
            int batches = (int) ((n + o.batch() - 1) / o.batch());
            for (int epoch = 1; epoch <= o.epochs(); epoch++) {
                int[] order = new int[batches];
                for (int i = 0; i < batches; i++) order[i] = i;
                for (int i = batches - 1; i > 0; i--) {
                    int j = random.nextInt(i + 1);
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
                double lossSum = 0;
                long correct = 0;
                long seen = 0;
                long start = System.nanoTime();
                long lastLog = start;
                for (int k = 0; k < batches; k++) {
                    long first = (long) order[k] * o.batch();
                    int count = (int) Math.min(o.batch(), n - first);
                    try (Arena arena = Arena.ofConfined()) {
                        Batch batch = train.batch(first, count, arena);
                        Trainer.Step step = trainer.step(batch.modelInputs(), batch.labels());
                        lossSum += step.loss() * count;
                        correct += step.correct();
                        seen += count;
                    }
                    long now = System.nanoTime();
                    if (now - lastLog > 5_000_000_000L || k == batches - 1) {
                        lastLog = now;
                        out.printf(Locale.ROOT, "epoch %d/%d: %d/%d examples, loss %.4f, train accuracy %.4f, %.0f examples/s%n",
                                epoch, o.epochs(), seen, n, lossSum / seen, (double) correct / seen, seen / ((now - start) / 1e9));
                    }
                }
                accuracy = (double) correct / Math.max(1, seen);
                if (o.saveEvery() > 0 && epoch % o.saveEvery() == 0 && epoch < o.epochs()) {
                    Path checkpoint = checkpointPath(o.out(), epoch);
                    createParent(checkpoint);
                    model.save(checkpoint);
                    out.println("saved " + checkpoint);
                }
            }
            if (o.test() != null) {
                accuracy = evaluate(model, DatasetSpec.parse(o.test()).open(Normalization.DEFAULT), o.batch());
                out.printf(Locale.ROOT, "test accuracy %.4f%n", accuracy);
            }
            createParent(o.out());
            model.save(o.out());
            out.println("saved " + o.out());
        }
        return accuracy;
    }

    private static void createParent(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        try {
            if (parent != null) java.nio.file.Files.createDirectories(parent);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("creating " + parent + ": " + e.getMessage(), e);
        }
    }

    static double evaluate(Model model, Dataset data, int batchSize) {
        long correct = 0;
        for (long first = 0; first < data.size(); first += batchSize) {
            int count = (int) Math.min(batchSize, data.size() - first);
            try (Arena arena = Arena.ofConfined()) {
                Batch batch = data.batch(first, count, arena);
                float[][] logits = model.forward(batch.modelInputs());
                for (int i = 0; i < count; i++) if (argmax(logits[i]) == batch.labels()[i]) correct++;
            }
        }
        return (double) correct / data.size();
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
