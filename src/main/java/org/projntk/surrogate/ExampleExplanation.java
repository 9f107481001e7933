package org.projntk.surrogate;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import javax.imageio.ImageIO;

import org.projntk.data.Dataset;
import org.projntk.plot.DatasetImages;
import org.projntk.plot.ImageGrid;

/**
 * Why a fitted surrogate predicts what it does for one test example: the train examples whose weight × kernel value
 * pushes its predicted class's logit up most (supporting) and down most (opposing). See {@link Explanations}.
 */
public record ExampleExplanation(int testIndex, int trueClass, int surrogateClass, int networkClass, Explanations.Explanation explanation) {

    /** Explains test example {@code testIndex} of {@code fit} with the {@code k} strongest train examples each way. */
    public static ExampleExplanation of(Surrogates.Fit fit, int testIndex, int k) {
        Objects.requireNonNull(fit, "fit");
        if (testIndex < 0 || testIndex >= fit.testKernel().rows()) {
            throw new IllegalArgumentException("test index " + testIndex + " is outside the test split [0, " + fit.testKernel().rows() + ")");
        }
        int predicted = fit.surrogatePrediction(testIndex);
        Explanations.Explanation e = Explanations.explain(fit.glm(), fit.testKernel().row(testIndex), predicted, k);
        return new ExampleExplanation(testIndex, fit.testLabels()[testIndex], predicted, fit.networkPrediction(testIndex), e);
    }

    /** A header line, then CSV blocks {@code rank,train_index,contribution,kernel,weight} for supporting and opposing examples. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        out.add(String.format(Locale.ROOT, "test example %d (true class %d): surrogate predicts class %d, network predicts class %d",
                testIndex, trueClass, surrogateClass, networkClass));
        addBlock(out, "supporting", explanation.supporting());
        addBlock(out, "opposing", explanation.opposing());
        return out;
    }

    private static void addBlock(List<String> out, String title, Explanations.Contribution[] contributions) {
        out.add("rank,train_index,contribution,kernel,weight   (" + title + ")");
        for (int i = 0; i < contributions.length; i++) {
            var c = contributions[i];
            out.add(String.format(Locale.ROOT, "%d,%d,%.6g,%.6g,%.6g", i + 1, c.trainIndex(), c.contribution(), c.kernelValue(), c.weight()));
        }
    }

    /** One PNG row: the test image, then its supporting train images captioned with index, label and contribution. */
    public void writeGrid(Surrogates.Fit fit, Path png) {
        Dataset train = fit.trainData();
        Dataset test = fit.testData();
        if (!train.isImage() || !test.isImage()) throw new IllegalArgumentException("an image grid needs image data; " + png + " not written");
        List<ImageGrid.Cell> row = new ArrayList<>();
        row.add(new ImageGrid.Cell(DatasetImages.image(test, testIndex), List.of("test " + testIndex, "class " + surrogateClass), null));
        for (var c : explanation.supporting()) {
            row.add(new ImageGrid.Cell(DatasetImages.image(train, c.trainIndex()), List.of("#" + c.trainIndex() + " y=" + train.label(c.trainIndex()),
                    String.format(Locale.ROOT, "%+.3g", c.contribution())), null));
        }
        try {
            if (!ImageIO.write(ImageGrid.render(List.of(row), ImageGrid.SCALE), "png", png.toFile())) throw new IOException("no PNG writer available");
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + png + ": " + e.getMessage(), e);
        }
    }
}
