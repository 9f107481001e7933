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
 *
 * @param testIndex      the test example, a row of the fit's test split (from 0)
 * @param trueClass      its label
 * @param surrogateClass the class the surrogate predicts, the one explained
 * @param networkClass   the class the network predicts
 * @param explanation    the strongest contributions each way
 */
public record ExampleExplanation(int testIndex, int trueClass, int surrogateClass, int networkClass, Explanations.Explanation explanation) {

    /**
     * Explains one test example of a fit with the k strongest train examples each way.
     *
     * @param fit       the fitted surrogate with its test kernel
     * @param testIndex the test example, in [0, test rows)
     * @param k         the contributions kept each way, at least 1 (fewer when the train split is smaller)
     * @return the explanation
     * @throws IllegalArgumentException for a test index out of range or k &lt; 1
     */
    public static ExampleExplanation of(Surrogates.Fit fit, int testIndex, int k) {
        Objects.requireNonNull(fit, "fit");
        if (testIndex < 0 || testIndex >= fit.testKernel().rows()) {
            throw new IllegalArgumentException("test index " + testIndex + " is outside the test split [0, " + fit.testKernel().rows() + ")");
        }
        int predicted = fit.surrogatePrediction(testIndex);
        Explanations.Explanation e = Explanations.explain(fit.glm(), fit.testKernel().row(testIndex), predicted, k);
        return new ExampleExplanation(testIndex, fit.testLabels()[testIndex], predicted, fit.networkPrediction(testIndex), e);
    }

    /**
     * The explanation as text: a header line, then CSV blocks {@code rank,train_index,contribution,kernel,weight} for the
     * supporting and the opposing examples, each with its own title line.
     *
     * @return the lines, without line ends
     */
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

    /**
     * Writes a PNG of one row: the test image, then its supporting train images captioned with index, label and
     * contribution. The file is written in place (a failure can leave a partial file).
     *
     * @param fit the fit this explanation came from, for its datasets
     * @param png the file written, replaced if present
     * @throws IllegalArgumentException when the data are not images
     * @throws java.io.UncheckedIOException when the file cannot be written
     */
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
