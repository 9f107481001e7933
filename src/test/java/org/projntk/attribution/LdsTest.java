package org.projntk.attribution;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.cli.LdsCommand;
import org.projntk.data.DatasetSpec;
import org.projntk.stats.SpearmanTest;
import picocli.CommandLine;

class LdsTest {
    @TempDir Path dir;

    @Test
    void estimateIsHighWhenMarginsAreLinearInTheSubsetAndNearZeroWhenUnrelated() {
        Random r = new Random(1);
        int nTrain = 40, nTest = 30, m = 60;
        float[][] scores = new float[nTest][nTrain];
        for (float[] row : scores) for (int j = 0; j < nTrain; j++) row[j] = (float) r.nextGaussian();
        boolean[][] masks = Lds.masks(m, nTrain, 0.5, new Random(2));
        for (boolean[] mask : masks) {
            int n = 0;
            for (boolean b : mask) if (b) n++;
            assertEquals(20, n);
        }
        double[][] linear = new double[m][nTest], noise = new double[m][nTest];
        for (int s = 0; s < m; s++) {
            for (int i = 0; i < nTest; i++) {
                double sum = 0;
                for (int j = 0; j < nTrain; j++) if (masks[s][j]) sum += scores[i][j];
                linear[s][i] = 3 * sum + 0.1 * r.nextGaussian();
                noise[s][i] = r.nextGaussian();
            }
        }
        Lds.Estimate good = Lds.estimate(scores, masks, linear, 500, 7);
        assertTrue(good.lds() > 0.95, "lds " + good.lds());
        assertTrue(good.ciLow() <= good.lds() && good.lds() <= good.ciHigh());
        // the per-test correlation is the naive Spearman of the subset sums
        double[] pred = new double[m], act = new double[m];
        for (int s = 0; s < m; s++) {
            for (int j = 0; j < nTrain; j++) if (masks[s][j]) pred[s] += scores[3][j];
            act[s] = linear[s][3];
        }
        assertEquals(SpearmanTest.naiveSpearman(pred, act), good.perTest()[3], 1e-6);
        Lds.Estimate bad = Lds.estimate(scores, masks, noise, 500, 7);
        assertTrue(Math.abs(bad.lds()) < 0.1, "lds " + bad.lds());
        assertTrue(bad.ciLow() < 0 && bad.ciHigh() > 0, bad.ciLow() + " " + bad.ciHigh());
    }

    /** The command end to end at a reduced size (a linear model on 1,000 Fashion-MNIST rows; about a minute on 2 cores). */
    @Test
    void ldsEndToEndIsPositiveWithAnIntervalExcludingZero() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(DatasetSpec.fashionMnistRoot()), "Fashion-MNIST not installed");
        Path out = dir.resolve("lds");
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        CommandLine cli = new CommandLine(new LdsCommand());
        cli.setOut(new PrintWriter(text, true));
        int code = cli.execute("--model", "builtin:linear-fmnist", "--train", "fashion-mnist:train[0:1000]",
                "--test", "fashion-mnist:test[0:100]", "--subsets", "20", "--alpha", "0.5", "--dim", "128", "--checkpoints", "2",
                "--epochs", "3", "--bootstrap", "300", "--out", out.toString());
        assertEquals(0, code, text.toString());
        JsonNode json = new ObjectMapper().readTree(out.resolve("lds.json").toFile());
        double lds = json.get("lds").asDouble(), low = json.get("ci_low").asDouble(), high = json.get("ci_high").asDouble();
        assertTrue(lds > 0 && low > 0 && low <= lds && lds <= high, text.toString());
        assertEquals(2, json.get("by_checkpoints").size());
        assertTrue(Files.size(out.resolve("lds-checkpoints.png")) > 0);
        assertTrue(Files.size(out.resolve("lds-dim.png")) > 0);
        assertTrue(text.toString().contains("LDS "), text.toString());
        System.out.println(text);
    }
}
