package org.projntk.torch;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingTest {
    @TempDir Path dir;

    static Training.Examples examples(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * 4];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 4; j++) x[i * 4 + j] = (float) r.nextGaussian();
            y[i] = x[i * 4] > 0 ? 1 : x[i * 4 + 1] > 0 ? 2 : 0; // learnable
        }
        return new Training.Examples(x, y, new int[] {4});
    }

    @Test
    void savesEveryNEpochsAndTheFinalModel() throws Exception {
        Training.Examples data = examples(64, 1);
        Training.Options o = Training.Options.builder().model("builtin:tiny-mlp").seed(3).epochs(5).batch(16)
                .optimizer(Trainer.Optimizer.ADAM).learningRate(0.05).save(dir.resolve("run/ep%d.pt").toString()).saveEvery(2).build();
        Training.Result r = Training.train(data, o, null);
        assertEquals(List.of(dir.resolve("run/ep2.pt"), dir.resolve("run/ep4.pt"), dir.resolve("run/ep5.pt")), r.saved());
        for (Path p : r.saved()) assertTrue(Files.size(p) > 0);
        assertTrue(r.accuracy() > 0.7, "train accuracy " + r.accuracy());
        try (Model ep2 = Model.load(r.saved().get(0), Device.CPU); Model ep5 = Model.load(r.saved().get(2), Device.CPU)) {
            assertNotEquals(ep2.checksum(), ep5.checksum());
        }
        assertEquals("saveEvery needs a save pattern with %d for the epoch, e.g. run/ep%d.pt, got x.pt", assertThrows(IllegalArgumentException.class,
                () -> Training.Options.builder().model("builtin:tiny-mlp").save("x.pt").saveEvery(1).build()).getMessage());
    }

    @Test
    void aRowSubsetTrainsLikeADatasetOfJustThoseRows() {
        Training.Examples data = examples(50, 2);
        int[] rows = {3, 7, 8, 11, 20, 21, 30, 31, 40, 44, 45, 49};
        float[] x = new float[rows.length * 4];
        long[] y = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(data.inputs(), rows[i] * 4, x, i * 4, 4);
            y[i] = data.labels()[rows[i]];
        }
        Training.Options o = Training.Options.builder().model("builtin:tiny-mlp").seed(5).epochs(3).batch(5)
                .optimizer(Trainer.Optimizer.SGD).learningRate(0.1).build();
        float[] subset, copied, all;
        try (Model a = Model.builtin("tiny-mlp", 5, Device.CPU); Model b = Model.builtin("tiny-mlp", 5, Device.CPU);
             Model c = Model.builtin("tiny-mlp", 5, Device.CPU)) {
            Training.train(a, data, o.toBuilder().rows(rows).build(), null);
            Training.train(b, new Training.Examples(x, y, new int[] {4}), o, null);
            Training.train(c, data, o, null);
            subset = a.parameterValues();
            copied = b.parameterValues();
            all = c.parameterValues();
        }
        assertArrayEquals(copied, subset, 1e-6f);
        double diff = 0;
        for (int i = 0; i < all.length; i++) diff = Math.max(diff, Math.abs(all[i] - subset[i]));
        assertTrue(diff > 1e-3, "training on all rows should differ");
    }

    @Test
    void marginIsTheTrueLogitMinusLogSumExpOfTheOthers() {
        float[] logits = {1.5f, -0.25f, 2f};
        assertEquals(-0.25 - Math.log(Math.exp(1.5) + Math.exp(2)), Training.margin(logits, 1), 1e-12);
        // log(p_y / (1 - p_y))
        double p0 = Math.exp(1.5) / (Math.exp(1.5) + Math.exp(-0.25) + Math.exp(2));
        assertEquals(Math.log(p0 / (1 - p0)), Training.margin(logits, 0), 1e-12);
    }
}
