package org.projntk.example;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.projntk.data.LabelledText;
import org.projntk.data.TextTokenizer;
import org.projntk.featurize.Featurize;
import org.projntk.featurize.Featurizer;
import org.projntk.featurize.Kernel;
import org.projntk.kernel.KernelMatrix;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.TopK;
import org.projntk.project.Projection;
import org.projntk.surrogate.StoreSurrogate;
import org.projntk.surrogate.SurrogateReport;
import org.projntk.torch.Runtime;
import org.projntk.workflow.Store;

/**
 * An application embedding projntk through its public API: proj-trNTK features of a few hundred Fashion-MNIST images,
 * their Gram matrix, nearest training images and the kernel surrogate of the network; then proj-pNTK features of a
 * small text dataset (a {@code text:} dataset, tokenized by the Hugging Face tokenizers library). Exits non-zero if
 * anything is off.
 */
public final class Embed {
    public static void main(String[] args) throws Exception {
        int trainRows = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        int testRows = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        Runtime.setThreads(java.lang.Runtime.getRuntime().availableProcessors()); // the library leaves threads alone
        System.out.println("projntk " + Runtime.version() + " " + Runtime.info());

        Path out = Files.createTempDirectory("projntk-embedding-");
        Featurizer.Result featurized = Featurize.of("builtin:cnn-fmnist")
                .train("fashion-mnist:train[0:" + trainRows + "]")
                .test("fashion-mnist:test[0:" + testRows + "]")
                .kernel(Kernel.TRNTK)
                .projection(Projection.rademacher(512).seed(42))
                .into(out.resolve("store"))
                .run();
        System.out.printf(Locale.ROOT, "featurized %d train + %d test rows, P = %d, %d outputs, gradients: %s%n",
                trainRows, testRows, featurized.parameters(), featurized.outputs(), featurized.strategyUsed());

        Store store = Store.of(featurized.store());
        KernelMatrix gram = store.gram().rows("train").cols("train").normalization(KernelNormalization.COSINE).tiles(128, 128).compute();
        double diagonal = 0;
        for (int i = 0; i < gram.rows(); i++) diagonal += gram.get(i, i);
        System.out.printf(Locale.ROOT, "train Gram [%d x %d], cosine-normalised, mean diagonal %.6f%n",
                gram.rows(), gram.cols(), diagonal / gram.rows());
        if (Math.abs(diagonal / gram.rows() - 1) > 1e-4) throw new IllegalStateException("cosine Gram diagonal is not 1");

        TopK.Result nearest = store.similar().test("test").train("train").k(3).compute();
        System.out.printf(Locale.ROOT, "test row 0: nearest train rows %d, %d, %d%n",
                nearest.indices()[0][0], nearest.indices()[0][1], nearest.indices()[0][2]);

        SurrogateReport report = store.surrogate()
                .lambda(1e-8)
                .targets(StoreSurrogate.Targets.LABELS)
                .classWeight(StoreSurrogate.ClassWeight.BALANCED)
                .fit()
                .report();
        System.out.printf(Locale.ROOT, "surrogate: network accuracy %.3f, surrogate accuracy %.3f, Kendall tau %.3f%n",
                report.networkTestAccuracy(), report.surrogateTestAccuracy(), report.kendallTau());
        if (!(report.surrogateTestAccuracy() > 0.1)) throw new IllegalStateException("surrogate at or below chance");

        // A text: dataset on the module path: the tokenizer's own dependencies must resolve with no extra flags.
        List<LabelledText> texts = new ArrayList<>();
        String[] words = {"good", "great", "fine", "bad", "awful", "poor"};
        for (int i = 0; i < 12; i++) texts.add(new LabelledText(i % 2, words[i % 6] + " film " + words[(i + 2) % 6]));
        Path tsv = out.resolve("texts.tsv");
        LabelledText.write(texts, tsv);
        Path tokenizer = TextTokenizer.writeWordLevel(texts.stream().map(LabelledText::text).toList(), 32, out.resolve("tokenizer.json"));
        Featurizer.Result text = Featurize.of("builtin:text-transformer:vocab=32,classes=2,length=8")
                .train("text:" + tsv + "," + tokenizer + ",8")
                .kernel(Kernel.PNTK)
                .projection(Projection.rademacher(64).seed(7))
                .into(out.resolve("text-store"))
                .run();
        System.out.printf(Locale.ROOT, "text: featurized %d rows of a text: dataset, P = %d%n", text.rowsComputed(), text.parameters());
        if (text.rowsComputed() != texts.size()) throw new IllegalStateException("text rows missing");
    }

    private Embed() {}
}
