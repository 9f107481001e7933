package org.projntk.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import org.projntk.project.Projection;
import org.projntk.featurize.Kernel;
import org.projntk.featurize.Featurize;
import org.projntk.data.Batch;
import org.projntk.data.Dataset;
import org.projntk.data.DatasetSpec;
import org.projntk.data.Fortunes;
import org.projntk.data.LabelledText;
import org.projntk.data.TextTokenizer;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.featurize.Featurizer;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.surrogate.StoreSurrogate;
import org.projntk.surrogate.SurrogateReport;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;
import org.projntk.torch.Trainer;
import org.projntk.workflow.Store;

/**
 * The text demo, end to end and offline: quotations from four categories of Debian's fortunes, a word-level
 * vocabulary built from the training split (tokenized by the Hugging Face tokenizers library), builtin:text-transformer
 * trained on ids + attention mask, proj-trNTK and proj-pNTK features, and kernel-GLM surrogates fitted to the network's
 * train predictions, evaluated on the test split (accuracy, differential, Kendall tau).
 */
public final class TextDemo {
    private TextDemo() {}

    public record Options(Path out, List<String> categories, int vocab, int maxLength, int epochs, int batchSize, double learningRate,
                          int featurizeTrain, int featurizeTest, int dim, long seed) {
        public static Options defaults(Path out) {
            return new Options(out, Fortunes.DEMO_CATEGORIES, 4096, 40, 3, 32, 1e-3, 400, 200, 2048, 1);
        }
    }

    public record Result(double networkTestAccuracy, Map<String, SurrogateReport> surrogates, Map<String, GradStrategy> gradientPath,
                         long parameters, int trainSize, int testSize) {}

    public static Result run(Options o, PrintStream log) {
        try {
            Files.createDirectories(o.out());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + o.out() + ": " + e.getMessage(), e);
        }
        long t0 = System.nanoTime();
        List<LabelledText> all = new ArrayList<>(Fortunes.read(Fortunes.dir(), o.categories()));
        Collections.shuffle(all, new Random(o.seed()));
        int testSize = all.size() / 5;
        List<LabelledText> test = all.subList(0, testSize), train = all.subList(testSize, all.size());
        Path trainFile = o.out().resolve("train.tsv"), testFile = o.out().resolve("test.tsv");
        LabelledText.write(train, trainFile);
        LabelledText.write(test, testFile);
        Path tokenizer = TextTokenizer.writeWordLevel(train.stream().map(LabelledText::text).toList(), o.vocab(),
                o.out().resolve("tokenizer.json"));
        String trainSpec = DatasetSpec.text(trainFile, tokenizer, o.maxLength()).toString();
        String testSpec = DatasetSpec.text(testFile, tokenizer, o.maxLength()).toString();
        Dataset trainData = DatasetSpec.parse(trainSpec).open(), testData = DatasetSpec.parse(testSpec).open();
        int classes = o.categories().size();
        log.printf(Locale.ROOT, "== 1/4 corpus: fortunes %s, %d train + %d test quotations; vocabulary from the train split (%s)%n",
                o.categories(), train.size(), test.size(), tokenizer);

        Path modelFile = o.out().resolve("model.pt");
        String arch = "builtin:text-transformer:vocab=" + o.vocab() + ",classes=" + classes + ",length=" + o.maxLength();
        double networkAccuracy;
        long parameters;
        try (Model model = Model.open(arch, o.seed(), Device.CPU);
             Trainer trainer = new Trainer(model, Trainer.Optimizer.ADAM, o.learningRate(), 0, 0)) {
            parameters = model.parameterCount();
            log.printf(Locale.ROOT, "== 2/4 train %s (P = %d) for %d epochs%n", arch, parameters, o.epochs());
            Random order = new Random(o.seed());
            List<Long> starts = new ArrayList<>();
            for (long s = 0; s < trainData.size(); s += o.batchSize()) starts.add(s);
            for (int epoch = 0; epoch < o.epochs(); epoch++) {
                Collections.shuffle(starts, order);
                double loss = 0;
                long correct = 0;
                for (long s : starts) {
                    try (Arena arena = Arena.ofConfined()) {
                        Batch b = trainData.batch(s, (int) Math.min(o.batchSize(), trainData.size() - s), arena);
                        Trainer.Step step = trainer.step(b.modelInputs(), b.labels());
                        loss += step.loss() * b.count();
                        correct += step.correct();
                    }
                }
                log.printf(Locale.ROOT, "epoch %d: loss %.4f, train accuracy %.4f, test accuracy %.4f%n", epoch + 1,
                        loss / trainData.size(), correct / (double) trainData.size(), accuracy(model, testData));
            }
            networkAccuracy = accuracy(model, testData);
            model.save(modelFile);
        }

        Map<String, SurrogateReport> reports = new LinkedHashMap<>();
        Map<String, GradStrategy> paths = new LinkedHashMap<>();
        int nTrain = (int) Math.min(o.featurizeTrain(), trainData.size()), nTest = (int) Math.min(o.featurizeTest(), testData.size());
        int step = 3;
        for (String kernel : List.of("trntk", "pntk")) {
            log.printf(Locale.ROOT, "== %d/4 featurize proj-%s (SJLT K=%d, %d train + %d test) and fit the surrogate%n", step++, kernel,
                    o.dim(), nTrain, nTest);
            Map<String, String> splits = new LinkedHashMap<>();
            splits.put("train", trainSpec + "[0:" + nTrain + "]");
            splits.put("test", testSpec + "[0:" + nTest + "]");
            Path store = o.out().resolve("store-" + kernel);
            FeaturizeConfig config = Featurize.of(modelFile.toString()).checkpoint("final").split("train", splits.get("train"))
                    .split("test", splits.get("test")).kernel(Kernel.parse(kernel)).projection(Projection.sjlt(o.dim()).seed(o.seed()))
                    .into(store).config();
            long f0 = System.nanoTime();
            Featurizer.Result fr = Featurizer.run(config, new Featurizer.Listener() {
                @Override
                public void progress(String split, long doneRows, long totalRows, long rowsThisRun, double seconds) {}

                @Override
                public void message(String text) {
                    log.println(text);
                }
            });
            paths.put(kernel, fr.strategyUsed());
            log.printf(Locale.ROOT, "featurized %d rows in %.1f s; per-example gradients ran the %s path%n", fr.rowsComputed(),
                    (System.nanoTime() - f0) / 1e9, fr.strategyUsed().name().toLowerCase(Locale.ROOT));
            // the kernel GLM on cosine-normalised kernels, fitted to the network's train predictions, evaluated on test
            SurrogateReport r = Store.open(store).at("final").surrogate().targets(StoreSurrogate.Targets.NETWORK)
                    .classWeight(StoreSurrogate.ClassWeight.NONE).lambda(1e-8).fit().report();
            reports.put(kernel, r);
        }
        log.println();
        log.printf(Locale.ROOT, "%-10s %9s %9s %13s %8s%n", "kernel", "network", "surrogate", "differential", "tau");
        for (var e : reports.entrySet()) {
            SurrogateReport r = e.getValue();
            log.printf(Locale.ROOT, "proj-%-5s %9.4f %9.4f %+13.4f %8.4f%n", e.getKey(), r.networkTestAccuracy(), r.surrogateTestAccuracy(),
                    r.accuracyDifferential(), r.kendallTau());
        }
        log.printf(Locale.ROOT, "(network test accuracy on all %d test quotations: %.4f; chance %.4f; %.0f s in all)%n", testData.size(),
                networkAccuracy, 1.0 / classes, (System.nanoTime() - t0) / 1e9);
        return new Result(networkAccuracy, reports, paths, parameters, train.size(), test.size());
    }

    static double accuracy(Model model, Dataset data) {
        double[] logits = logits(model, data);
        int classes = logits.length / (int) data.size(), correct = 0;
        for (int i = 0; i < data.size(); i++) if (argmax(logits, i * classes, classes) == data.label(i)) correct++;
        return correct / (double) data.size();
    }

    /** Network logits [N x C], row-major. */
    public static double[] logits(Model model, Dataset data) {
        List<float[]> rows = new ArrayList<>();
        for (long first = 0; first < data.size(); first += 256) {
            try (Arena arena = Arena.ofConfined()) {
                Batch b = data.batch(first, (int) Math.min(256, data.size() - first), arena);
                rows.addAll(List.of(model.forward(b.modelInputs())));
            }
        }
        int c = rows.get(0).length;
        double[] out = new double[rows.size() * c];
        for (int i = 0; i < rows.size(); i++) for (int j = 0; j < c; j++) out[i * c + j] = rows.get(i)[j];
        return out;
    }

    private static int argmax(double[] v, int off, int n) {
        int best = 0;
        for (int j = 1; j < n; j++) if (v[off + j] > v[off + best]) best = j;
        return best;
    }
}
