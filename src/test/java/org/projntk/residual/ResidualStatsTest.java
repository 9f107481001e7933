package org.projntk.residual;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.kernel.KernelMatrix;
import org.projntk.stats.PowerLawFit;

class ResidualStatsTest {
    @Test
    void relativeFrobeniusByHand() {
        KernelMatrix e = KernelMatrix.of(new float[][] {{3, 0}, {0, 4}});
        KernelMatrix a = KernelMatrix.of(new float[][] {{3, 1}, {0, 4}});
        // ||A-E|| = 1, ||E|| = 5
        assertEquals(0.2, ResidualStats.relativeFrobenius(e, a), 1e-12);
        assertThrows(IllegalArgumentException.class,
                () -> ResidualStats.relativeFrobenius(e, KernelMatrix.of(new float[][] {{1, 2, 3}})));
        assertThrows(IllegalArgumentException.class,
                () -> ResidualStats.relativeFrobenius(KernelMatrix.of(new float[][] {{0, 0}, {0, 0}}), a));
    }

    @Test
    void cosineResidualsByHand() {
        // exact: diag 4, 1, 9; off-diagonals chosen so cosines are simple
        KernelMatrix e = KernelMatrix.of(new float[][] {{4, 1, 3}, {1, 1, 0}, {3, 0, 9}});
        // approx: diag 1, 1, 1 (unit), off-diagonal cosines given directly
        KernelMatrix a = KernelMatrix.of(new float[][] {{1, 0.5f, 0.5f}, {0.5f, 1, 0.25f}, {0.5f, 0.25f, 1}});
        // exact cosines: (0,1) = 1/2, (0,2) = 3/6 = 1/2, (1,2) = 0
        // residuals: (0,1) 0, (0,2) 0, (1,2) 0.25, each twice -> sorted 0 0 0 0 .25 .25
        ResidualStats.CosineResiduals cr = ResidualStats.cosineResiduals(e, a);
        assertEquals(6, cr.count());
        assertEquals(0.5 / 6, cr.mean(), 1e-7);
        assertEquals(0.0, cr.median(), 1e-7);
        KernelMatrix a2 = KernelMatrix.of(new float[][] {{1, 0.6f, 0.5f}, {0.6f, 1, 0.25f}, {0.5f, 0.25f, 1}});
        // residuals 0.1 0.1 0 0 .25 .25 -> median (0.1 + 0.1)/2
        assertEquals(0.1, ResidualStats.cosineResiduals(e, a2).median(), 1e-7);
    }

    @Test
    void powerLawRecoversExactParameters() {
        double[] k = {64, 128, 256, 512, 1024, 4096};
        double[] err = new double[k.length];
        for (int i = 0; i < k.length; i++) {
            err[i] = 3.7 * Math.pow(k[i], -0.5);
        }
        PowerLawFit f = PowerLawFit.fit(k, err);
        assertEquals(3.7, f.a(), 1e-9);
        assertEquals(0.5, f.b(), 1e-12);
        assertEquals(1.0, f.r2(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> PowerLawFit.fit(new double[] {1, 2}, new double[] {1, 0}));
        assertThrows(IllegalArgumentException.class, () -> PowerLawFit.fit(new double[] {2, 2}, new double[] {1, 3}));
    }

    @Test
    void sweepTableCsv(@TempDir Path dir) throws Exception {
        SweepTable t = new SweepTable();
        KernelMatrix e = KernelMatrix.of(new float[][] {{3, 0}, {0, 4}});
        KernelMatrix a = KernelMatrix.of(new float[][] {{3, 1}, {0, 4}});
        SweepTable.Row r = t.add("pntk", 128, e, a, 1.5);
        assertEquals(0.2, r.relFrobenius(), 1e-12);
        t.add(new SweepTable.Row("trntk", 64, 0.3, 0.1, 0.05, 2.0));
        Path csv = dir.resolve("sweep.csv");
        t.writeCsv(csv);
        List<String> lines = Files.readAllLines(csv);
        assertEquals(SweepTable.HEADER, lines.get(0));
        assertEquals(3, lines.size());
        String[] f = lines.get(1).split(",");
        assertEquals("pntk", f[0]);
        assertEquals("128", f[1]);
        assertEquals(0.2, Double.parseDouble(f[2]), 1e-8);
        assertThrows(IllegalArgumentException.class, () -> t.add(new SweepTable.Row("a,b", 4, 1, 1, 1, 1)));
    }
}
