package org.projntk.residual;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.kernel.KernelMatrix;

class ResidualCdfTest {
    @TempDir Path tmp;

    @Test
    void recoversTheScaleOfExponentialResiduals() throws Exception {
        Random r = new Random(51);
        ResidualCdf cdf = new ResidualCdf();
        double a = 20;
        for (int k : new int[] {64, 256, 1024}) {
            double[] x = new double[20_000];
            for (int i = 0; i < x.length; i++) x[i] = -Math.log(1 - r.nextDouble()) * a / k; // Exp(mean a/K)
            cdf.addResiduals("proj-trntk", k, x);
        }
        List<ResidualCdf.Fit> fits = cdf.fits();
        assertEquals(4, fits.size());
        for (ResidualCdf.Fit f : fits) {
            assertEquals(a, f.a(), 0.03 * a, f.toString());
            assertEquals(a, f.aMle(), 0.03 * a, f.toString());
            assertTrue(f.rmse() < 0.01, f.toString());
        }
        assertEquals(0, fits.get(3).k()); // pooled
        cdf.write(tmp.resolve("c.csv"), tmp.resolve("f.csv"));
        List<String> lines = Files.readAllLines(tmp.resolve("c.csv"));
        assertEquals(ResidualCdf.CURVE_HEADER, lines.get(0));
        assertEquals(1 + 3 * ResidualCdf.POINTS, lines.size());
        assertEquals(5, Files.readAllLines(tmp.resolve("f.csv")).size());
    }

    @Test
    void aHeavierTailGivesALargerA() {
        ResidualCdf cdf = new ResidualCdf();
        Random r = new Random(52);
        double[] x = new double[5000];
        for (int i = 0; i < x.length; i++) x[i] = -Math.log(1 - r.nextDouble()) * 57.0 / 512;
        cdf.addResiduals("bert-like", 512, x);
        assertEquals(57, cdf.fits().get(0).a(), 57 * 0.05);
    }

    @Test
    void cosineResidualsMatchANaiveComputation() {
        KernelMatrix e = KernelMatrix.of(new double[][] {{4, 1, 2}, {1, 9, 3}, {2, 3, 16}});
        KernelMatrix a = KernelMatrix.of(new double[][] {{4, 2, 2}, {2, 4, 1}, {2, 1, 1}});
        double[] res = ResidualCdf.absCosineResiduals(e, a);
        assertEquals(6, res.length);
        assertEquals(Math.abs(2 / Math.sqrt(16) - 1 / Math.sqrt(36)), res[0], 1e-7);
        assertEquals(Math.abs(1 / Math.sqrt(4) - 3 / Math.sqrt(144)), res[3], 1e-7); // (1,2)
        assertThrows(IllegalArgumentException.class, () -> ResidualCdf.absCosineResiduals(e, KernelMatrix.allocate(2, 2)));
    }
}
