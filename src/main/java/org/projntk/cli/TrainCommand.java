package org.projntk.cli;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

import org.projntk.data.Batch;
import org.projntk.data.Dataset;
import org.projntk.data.DatasetSpec;
import org.projntk.data.Normalization;
import org.projntk.torch.Device;
import org.projntk.torch.Model;
import org.projntk.torch.Trainer;

/** `projntk train`: cross-entropy training of a built-in model, saved as TorchScript. */
final class TrainCommand {
    private TrainCommand() {}

    record Options(String model, String data, String test, int epochs, Path out, Trainer.Optimizer optimizer, double lr,
                   double momentum, double weightDecay, int batch, long seed, Device device) {}

    static void run(Args args, PrintStream out) {
        Options o = new Options(args.require("model"), args.require("data"), args.get("test", null), args.getInt("epochs", 1),
                Path.of(args.require("out")), Trainer.Optimizer.valueOf(args.get("optimizer", "adam").toUpperCase(Locale.ROOT)),
                args.getDouble("lr", -1), args.getDouble("momentum", 0.9), args.getDouble("weight-decay", 0),
                args.getInt("batch", 64), args.getLong("seed", 0), Device.parse(args.get("device", "cpu")));
        args.rejectUnknown();
        train(o, out);
    }

    /** Trains and saves; returns the test accuracy when a test split is given, else the last epoch's train accuracy. */
    static double train(Options o, PrintStream out) {
        if (o.epochs() < 0) throw new IllegalArgumentException("--epochs must be >= 0");
        double lr = o.lr() > 0 ? o.lr() : o.optimizer() == Trainer.Optimizer.ADAM ? 1e-3 : 0.05;
        Dataset train = DatasetSpec.parse(o.data()).open(Normalization.DEFAULT);
        double accuracy = 0;
        try (Model model = Model.open(o.model(), o.seed(), o.device());
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
                        Trainer.Step step = trainer.step(batch.inputs(), batch.shape(), batch.labels());
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
            }
            if (o.test() != null) {
                accuracy = evaluate(model, DatasetSpec.parse(o.test()).open(Normalization.DEFAULT), o.batch());
                out.printf(Locale.ROOT, "test accuracy %.4f%n", accuracy);
            }
            Path parent = o.out().toAbsolutePath().getParent();
            try {
                if (parent != null) java.nio.file.Files.createDirectories(parent);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("creating " + parent + ": " + e.getMessage(), e);
            }
            model.save(o.out());
            out.println("saved " + o.out());
        }
        return accuracy;
    }

    static double evaluate(Model model, Dataset data, int batchSize) {
        long correct = 0;
        for (long first = 0; first < data.size(); first += batchSize) {
            int count = (int) Math.min(batchSize, data.size() - first);
            try (Arena arena = Arena.ofConfined()) {
                Batch batch = data.batch(first, count, arena);
                float[][] logits = model.forward(batch.inputs(), batch.shape());
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
