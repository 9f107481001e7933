package org.projntk.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;
import javax.imageio.ImageIO;
import org.projntk.kernel.TopK;

/** Grids of small images with captions, e.g. each test image followed by its most similar train images.
 * Draws into a BufferedImage, which needs no display; the library leaves {@code java.awt.headless} to the
 * application (the CLI launcher sets it).
 */
public final class ImageGrid {
    private ImageGrid() {}

    public static final int SCALE = 3;

    /** A uint8 image, 1 (grey) or 3 (RGB) channels, laid out HWC or CHW. */
    public record Img(int channels, int height, int width, boolean chw, byte[] data) {
        public Img {
            if (channels != 1 && channels != 3) {
                throw new IllegalArgumentException("images need 1 or 3 channels, got " + channels);
            }
            if (height < 1 || width < 1) {
                throw new IllegalArgumentException("bad image size " + height + " x " + width);
            }
            if (data == null || data.length != channels * height * width) {
                throw new IllegalArgumentException("image data has " + (data == null ? 0 : data.length) + " bytes, expected "
                        + channels + " x " + height + " x " + width);
            }
        }

        int rgb(int y, int x) {
            if (channels == 1) {
                int v = data[y * width + x] & 0xFF;
                return v << 16 | v << 8 | v;
            }
            int r;
            int g;
            int b;
            if (chw) {
                int plane = height * width;
                int o = y * width + x;
                r = data[o] & 0xFF;
                g = data[plane + o] & 0xFF;
                b = data[2 * plane + o] & 0xFF;
            } else {
                int o = (y * width + x) * 3;
                r = data[o] & 0xFF;
                g = data[o + 1] & 0xFF;
                b = data[o + 2] & 0xFF;
            }
            return r << 16 | g << 8 | b;
        }
    }

    /** An image with caption lines under it; {@code highlight} draws a coloured frame (e.g. the query). */
    public record Cell(Img image, List<String> caption, Color highlight) {}

    /** Renders rows of cells, each image upscaled {@code scale}× (nearest neighbour). */
    public static BufferedImage render(List<List<Cell>> rows, int scale) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("image grid has no rows");
        }
        if (scale < 1) {
            throw new IllegalArgumentException("scale must be >= 1");
        }
        int cols = 0;
        int cellW = 0;
        int cellH = 0;
        int lines = 0;
        for (List<Cell> r : rows) {
            cols = Math.max(cols, r.size());
            for (Cell c : r) {
                cellW = Math.max(cellW, c.image().width() * scale);
                cellH = Math.max(cellH, c.image().height() * scale);
                lines = Math.max(lines, c.caption().size());
            }
        }
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D pg = probe.createGraphics();
        FontMetrics fm = pg.getFontMetrics(font);
        int textW = 0;
        for (List<Cell> r : rows) {
            for (Cell c : r) {
                for (String s : c.caption()) {
                    textW = Math.max(textW, fm.stringWidth(s));
                }
            }
        }
        pg.dispose();
        int pad = 8;
        int boxW = Math.max(cellW, textW) + pad;
        int boxH = cellH + lines * fm.getHeight() + pad + 4;
        int width = cols * boxW + pad;
        int height = rows.size() * boxH + pad;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setFont(font);
            for (int ri = 0; ri < rows.size(); ri++) {
                List<Cell> r = rows.get(ri);
                for (int ci = 0; ci < r.size(); ci++) {
                    Cell c = r.get(ci);
                    int x0 = pad + ci * boxW + (boxW - pad - c.image().width() * scale) / 2;
                    int y0 = pad + ri * boxH;
                    for (int y = 0; y < c.image().height(); y++) {
                        for (int x = 0; x < c.image().width(); x++) {
                            int rgb = c.image().rgb(y, x);
                            for (int dy = 0; dy < scale; dy++) {
                                for (int dx = 0; dx < scale; dx++) {
                                    img.setRGB(x0 + x * scale + dx, y0 + y * scale + dy, rgb);
                                }
                            }
                        }
                    }
                    if (c.highlight() != null) {
                        g.setColor(c.highlight());
                        g.setStroke(new BasicStroke(3f));
                        g.drawRect(x0 - 2, y0 - 2, c.image().width() * scale + 3, c.image().height() * scale + 3);
                    }
                    g.setColor(Color.BLACK);
                    int ty = y0 + cellH + 4 + fm.getAscent();
                    for (String s : c.caption()) {
                        int tx = pad + ci * boxW + (boxW - pad - fm.stringWidth(s)) / 2;
                        g.drawString(s, tx, ty);
                        ty += fm.getHeight();
                    }
                }
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    /**
     * One row per entry of {@code testRows}: the test image, then its top-k train images by rank, captioned with
     * label and score. {@code testRows} index the rows of {@code top}; test images/labels are looked up at
     * {@code testIndexOffset + row}. Labels and class names may be null.
     */
    public static void similarExamples(TopK.Result top, int[] testRows, long testIndexOffset,
                                       IntFunction<Img> testImage, int[] testLabels,
                                       IntFunction<Img> trainImage, int[] trainLabels,
                                       String[] classNames, Path png) throws IOException {
        List<List<Cell>> rows = new ArrayList<>();
        for (int row : testRows) {
            if (row < 0 || row >= top.rows()) {
                throw new IllegalArgumentException("test row " + row + " outside the " + top.rows() + " rows of the top-k result");
            }
            int ti = Math.toIntExact(testIndexOffset + row);
            List<Cell> cells = new ArrayList<>();
            cells.add(new Cell(testImage.apply(ti), List.of("test #" + ti, labelText(testLabels, ti, classNames)),
                    new Color(0x1f77b4)));
            for (int r = 0; r < top.indices()[row].length; r++) {
                int j = Math.toIntExact(top.indices()[row][r]);
                cells.add(new Cell(trainImage.apply(j),
                        List.of("#" + (r + 1) + " train " + j, labelText(trainLabels, j, classNames),
                                String.format(Locale.ROOT, "score %.4g", top.scores()[row][r])), null));
            }
            rows.add(cells);
        }
        if (!ImageIO.write(render(rows, SCALE), "png", png.toFile())) {
            throw new IOException("no PNG writer available");
        }
    }

    private static String labelText(int[] labels, int i, String[] names) {
        if (labels == null) {
            return "";
        }
        int l = labels[i];
        return names != null && l >= 0 && l < names.length ? names[l] + " (" + l + ")" : "label " + l;
    }
}
