package org.projntk.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.kernel.TopK;

public class ChartsTest {
    /** Set -Dprojntk.test.pngDir=/some/dir to keep the PNGs for a look. */
    public static Path outDir(Path tmp) {
        String d = System.getProperty("projntk.test.pngDir");
        return d == null ? tmp : Path.of(d);
    }

    public static int countNonWhite(BufferedImage img) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                n += (img.getRGB(x, y) & 0xFFFFFF) != 0xFFFFFF ? 1 : 0;
            }
        }
        return n;
    }

    @Test
    void throughputPlot(@TempDir Path tmp) throws Exception {
        Map<String, List<LineChart.Point>> s = new LinkedHashMap<>();
        List<LineChart.Point> dense = new ArrayList<>();
        List<LineChart.Point> sjlt = new ArrayList<>();
        for (int k = 16; k <= 8192; k *= 2) {
            dense.add(new LineChart.Point(k, 5e5 / k));
            sjlt.add(new LineChart.Point(k, 4000 - 10 * Math.log(k)));
        }
        s.put("dense (cpu)", dense);
        s.put("sjlt (cpu)", sjlt);
        Path png = outDir(tmp).resolve("throughput.png");
        Charts.throughputPlot("Projection throughput", "examples / s", s, png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(Charts.WIDTH, img.getWidth());
        assertEquals(Charts.HEIGHT, img.getHeight());
        assertThrows(IllegalArgumentException.class, () -> new LineChart("t", "x", "y", LineChart.Scale.LOG2,
                LineChart.Scale.LINEAR).add(LineChart.Series.of("bad", List.of(new LineChart.Point(0, 1)))));
    }

    static ImageGrid.Img digit(int seed, int channels, boolean chw, int size) {
        Random r = new Random(seed);
        byte[] d = new byte[channels * size * size];
        for (int i = 0; i < d.length; i++) {
            d[i] = (byte) r.nextInt(256);
        }
        return new ImageGrid.Img(channels, size, size, chw, d);
    }

    @Test
    void similarExamplesGrid(@TempDir Path tmp) throws Exception {
        TopK.Result top = new TopK.Result(new long[][] {{3, 1, 4}, {0, 2, 5}}, new float[][] {{0.9f, 0.8f, 0.7f}, {0.95f, 0.5f, 0.1f}});
        int[] trainLabels = {0, 1, 2, 3, 4, 5};
        int[] testLabels = {7, 8};
        String[] names = {"T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"};
        Path png = outDir(tmp).resolve("similar_gray.png");
        ImageGrid.similarExamples(top, new int[] {0, 1}, 0, i -> digit(100 + i, 1, false, 28), testLabels,
                j -> digit(j, 1, false, 28), trainLabels, names, png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img);
        assertTrue(img.getWidth() >= 4 * 28 * ImageGrid.SCALE && img.getHeight() >= 2 * 28 * ImageGrid.SCALE,
                img.getWidth() + " x " + img.getHeight());

        // RGB CHW: a single-cell grid lets us check the nearest-neighbour upscaling pixel by pixel
        ImageGrid.Img rgb = digit(5, 3, true, 8);
        BufferedImage one = ImageGrid.render(List.of(List.of(new ImageGrid.Cell(rgb, List.of(), null))), 3);
        int x0 = 8;
        int y0 = 8;
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                int o = y * 8 + x;
                int want = (rgb.data()[o] & 0xFF) << 16 | (rgb.data()[64 + o] & 0xFF) << 8 | (rgb.data()[128 + o] & 0xFF);
                for (int d = 0; d < 9; d++) {
                    assertEquals(want, one.getRGB(x0 + 3 * x + d % 3, y0 + 3 * y + d / 3) & 0xFFFFFF);
                }
            }
        }
        Path png2 = outDir(tmp).resolve("similar_rgb.png");
        ImageGrid.similarExamples(top, new int[] {1}, 0, i -> digit(i, 3, false, 32), null,
                j -> digit(j, 3, true, 32), trainLabels, null, png2);
        BufferedImage img2 = ImageIO.read(png2.toFile());
        assertNotEquals(0, countNonWhite(img2));
        assertThrows(IllegalArgumentException.class, () -> new ImageGrid.Img(2, 4, 4, false, new byte[32]));
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.similarExamples(top, new int[] {2}, 0,
                i -> digit(i, 1, false, 28), null, j -> digit(j, 1, false, 28), null, null, png2));
    }
}
