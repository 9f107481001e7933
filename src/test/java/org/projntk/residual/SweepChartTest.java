package org.projntk.residual;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.projntk.plot.ChartsTest.countNonWhite;
import static org.projntk.plot.ChartsTest.outDir;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.plot.Charts;

class SweepChartTest {
    @Test
    void sweepPlot(@TempDir Path tmp) throws Exception {
        SweepTable t = new SweepTable();
        Random r = new Random(41);
        for (int k = 32; k <= 4096; k *= 2) {
            t.add(new SweepTable.Row("pntk", k, 2.0 / Math.sqrt(k) * (1 + 0.05 * r.nextGaussian()), 0.1, 0.08, 0.5));
            t.add(new SweepTable.Row("trntk", k, 1.2 / Math.sqrt(k) * (1 + 0.05 * r.nextGaussian()), 0.1, 0.08, 0.5));
            t.add(new SweepTable.Row("entk", k, 3.5 / Math.pow(k, 0.45), 0.1, 0.08, 0.5));
        }
        Path png = outDir(tmp).resolve("sweep.png");
        SweepChart.write(t, png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img);
        assertEquals(Charts.WIDTH, img.getWidth());
        assertEquals(Charts.HEIGHT, img.getHeight());
        assertTrue(countNonWhite(img) > 10_000);
    }
}
