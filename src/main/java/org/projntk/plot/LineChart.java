package org.projntk.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.Stroke;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** A small headless line chart (Java2D) with linear or log axes, markers, dashed series and a legend.
 * Draws into a BufferedImage, which needs no display; the library leaves {@code java.awt.headless} to the
 * application (the CLI launcher sets it).
 */
public final class LineChart {
    public enum Scale { LINEAR, LOG2, LOG10 }

    public record Point(double x, double y) {}

    /** A series; {@code colorOf} >= 0 reuses the colour of that series index (e.g. for a fitted line). */
    public record Series(String name, List<Point> points, boolean markers, boolean dashed, int colorOf) {
        public static Series of(String name, List<Point> points) {
            return new Series(name, points, true, false, -1);
        }
    }

    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf)
    };

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final Scale xScale;
    private final Scale yScale;
    private final List<Series> series = new ArrayList<>();
    private final List<Integer> slots = new ArrayList<>(); // colour/marker slot per series
    private int primaries;

    public LineChart(String title, String xLabel, String yLabel, Scale xScale, Scale yScale) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.xScale = xScale;
        this.yScale = yScale;
    }

    /** Adds a series and returns its index. */
    public int add(Series s) {
        for (Point p : s.points()) {
            if (!Double.isFinite(p.x()) || !Double.isFinite(p.y())) {
                throw new IllegalArgumentException("series '" + s.name() + "' has a non-finite point " + p);
            }
            if ((xScale != Scale.LINEAR && p.x() <= 0) || (yScale != Scale.LINEAR && p.y() <= 0)) {
                throw new IllegalArgumentException("series '" + s.name() + "' has a non-positive value on a log axis: " + p);
            }
        }
        if (s.colorOf() >= series.size()) {
            throw new IllegalArgumentException("series '" + s.name() + "' reuses the colour of series " + s.colorOf()
                    + ", which does not exist yet");
        }
        slots.add(s.colorOf() >= 0 ? slots.get(s.colorOf()) : primaries++);
        series.add(s);
        return series.size() - 1;
    }

    public void write(Path path, int width, int height) throws IOException {
        if (!ImageIO.write(render(width, height), "png", path.toFile())) {
            throw new IOException("no PNG writer available");
        }
    }

    private static double fwd(Scale s, double v) {
        return switch (s) {
            case LINEAR -> v;
            case LOG2 -> Math.log(v) / Math.log(2);
            case LOG10 -> Math.log10(v);
        };
    }

    public BufferedImage render(int width, int height) {
        if (width < 200 || height < 150) {
            throw new IllegalArgumentException("chart must be at least 200 x 150 pixels");
        }
        double x0 = Double.POSITIVE_INFINITY;
        double x1 = Double.NEGATIVE_INFINITY;
        double y0 = Double.POSITIVE_INFINITY;
        double y1 = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (Point p : s.points()) {
                x0 = Math.min(x0, fwd(xScale, p.x()));
                x1 = Math.max(x1, fwd(xScale, p.x()));
                y0 = Math.min(y0, fwd(yScale, p.y()));
                y1 = Math.max(y1, fwd(yScale, p.y()));
            }
        }
        if (x0 > x1) { // no data
            x0 = 0;
            x1 = 1;
            y0 = 0;
            y1 = 1;
        }
        double[] xr = pad(x0, x1);
        double[] yr = pad(y0, y1);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            Font base = new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(12, height / 45));
            g.setFont(base);
            FontMetrics fm = g.getFontMetrics();
            int left = fm.stringWidth("0.000001") + fm.getHeight() + 16;
            int right = 20;
            int top = fm.getHeight() * 2 + 10;
            int bottom = fm.getHeight() * 2 + 20;
            int pw = width - left - right;
            int ph = height - top - bottom;
            Rectangle2D plot = new Rectangle2D.Double(left, top, pw, ph);
            Mapper m = new Mapper(xr, yr, plot);

            // grid and ticks
            g.setColor(new Color(0xE6E6E6));
            List<Double> xt = ticks(xScale, xr);
            List<Double> yt = ticks(yScale, yr);
            for (double t : xt) {
                double px = m.px(t);
                g.draw(new Line2D.Double(px, top, px, top + ph));
            }
            for (double t : yt) {
                double py = m.py(t);
                g.draw(new Line2D.Double(left, py, left + pw, py));
            }
            g.setColor(Color.BLACK);
            g.setStroke(new BasicStroke(1.2f));
            g.draw(plot);
            for (double t : xt) {
                String s = label(xScale, t);
                double px = m.px(t);
                g.draw(new Line2D.Double(px, top + ph, px, top + ph + 5));
                g.drawString(s, (float) (px - fm.stringWidth(s) / 2.0), top + ph + 6 + fm.getAscent());
            }
            for (double t : yt) {
                String s = label(yScale, t);
                double py = m.py(t);
                g.draw(new Line2D.Double(left - 5, py, left, py));
                g.drawString(s, left - 8 - fm.stringWidth(s), (float) (py + fm.getAscent() / 2.0 - 2));
            }
            // axis labels and title
            g.drawString(xLabel, left + pw / 2f - fm.stringWidth(xLabel) / 2f, height - 8);
            AffineTransform saved = g.getTransform();
            g.rotate(-Math.PI / 2);
            g.drawString(yLabel, -(top + ph / 2f) - fm.stringWidth(yLabel) / 2f, fm.getAscent() + 4);
            g.setTransform(saved);
            Font tf = base.deriveFont(Font.BOLD, base.getSize2D() * 1.2f);
            g.setFont(tf);
            g.drawString(title, width / 2f - g.getFontMetrics().stringWidth(title) / 2f, g.getFontMetrics().getAscent() + 6);
            g.setFont(base);

            // series, clipped to the plot
            Shape oldClip = g.getClip();
            g.clip(plot);
            for (int si = 0; si < series.size(); si++) {
                Series s = series.get(si);
                Color col = color(si);
                g.setColor(col);
                g.setStroke(stroke(s.dashed()));
                Path2D path = new Path2D.Double();
                boolean first = true;
                for (Point p : s.points()) {
                    double px = m.px(fwd(xScale, p.x()));
                    double py = m.py(fwd(yScale, p.y()));
                    if (first) {
                        path.moveTo(px, py);
                        first = false;
                    } else {
                        path.lineTo(px, py);
                    }
                }
                g.draw(path);
                if (s.markers()) {
                    g.setStroke(new BasicStroke(1.5f));
                    for (Point p : s.points()) {
                        g.fill(marker(si, m.px(fwd(xScale, p.x())), m.py(fwd(yScale, p.y())), 4.5));
                    }
                }
            }
            g.setClip(oldClip);

            // legend, top right inside the plot
            int lh = fm.getHeight() + 2;
            int lw = 0;
            for (Series s : series) {
                lw = Math.max(lw, fm.stringWidth(s.name()));
            }
            lw += 50;
            int lx = left + pw - lw - 8;
            int ly = top + 8;
            if (!series.isEmpty()) {
                g.setStroke(new BasicStroke(1f));
                g.setColor(new Color(255, 255, 255, 225));
                g.fillRect(lx, ly, lw, lh * series.size() + 6);
                g.setColor(Color.GRAY);
                g.drawRect(lx, ly, lw, lh * series.size() + 6);
            }
            for (int si = 0; si < series.size(); si++) {
                Series s = series.get(si);
                int cy = ly + 3 + lh * si + lh / 2;
                g.setColor(color(si));
                g.setStroke(stroke(s.dashed()));
                g.draw(new Line2D.Double(lx + 6, cy, lx + 36, cy));
                if (s.markers()) {
                    g.fill(marker(si, lx + 21, cy, 4.5));
                }
                g.setColor(Color.BLACK);
                g.drawString(s.name(), lx + 42, cy + fm.getAscent() / 2f - 2);
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    private Color color(int si) {
        return PALETTE[slots.get(si) % PALETTE.length];
    }

    private static Stroke stroke(boolean dashed) {
        return dashed ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {8f, 6f}, 0f)
                : new BasicStroke(2f);
    }

    private Shape marker(int si, double x, double y, double r) {
        int kind = slots.get(si) % 4;
        return switch (kind) {
            case 0 -> new Ellipse2D.Double(x - r, y - r, 2 * r, 2 * r);
            case 1 -> new Rectangle2D.Double(x - r, y - r, 2 * r, 2 * r);
            case 2 -> {
                Path2D p = new Path2D.Double();
                p.moveTo(x, y - r * 1.2);
                p.lineTo(x + r * 1.1, y + r * 0.9);
                p.lineTo(x - r * 1.1, y + r * 0.9);
                p.closePath();
                yield p;
            }
            default -> {
                Path2D p = new Path2D.Double();
                p.moveTo(x, y - r * 1.3);
                p.lineTo(x + r * 1.3, y);
                p.lineTo(x, y + r * 1.3);
                p.lineTo(x - r * 1.3, y);
                p.closePath();
                yield p;
            }
        };
    }

    private static double[] pad(double a, double b) {
        if (a == b) {
            return new double[] {a - 0.5, b + 0.5};
        }
        double d = (b - a) * 0.06;
        return new double[] {a - d, b + d};
    }

    /** Tick positions in transformed coordinates. */
    private static List<Double> ticks(Scale s, double[] r) {
        List<Double> out = new ArrayList<>();
        if (s == Scale.LINEAR) {
            double step = niceStep((r[1] - r[0]) / 6);
            for (double t = Math.ceil(r[0] / step) * step; t <= r[1] + 1e-9 * step; t += step) {
                out.add(Math.abs(t) < step * 1e-9 ? 0.0 : t);
            }
            return out;
        }
        int stride = Math.max(1, (int) Math.ceil((r[1] - r[0]) / 14));
        for (double t = Math.ceil(r[0]); t <= r[1]; t += stride) {
            out.add(t);
        }
        if (s == Scale.LOG10 && out.size() < 3) { // short range: add 2x and 5x ticks
            out.clear();
            for (double d = Math.floor(r[0]); d <= r[1]; d++) {
                for (double mult : new double[] {1, 2, 5}) {
                    double t = d + Math.log10(mult);
                    if (t >= r[0] && t <= r[1]) {
                        out.add(t);
                    }
                }
            }
        }
        return out;
    }

    private static double niceStep(double raw) {
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / p;
        return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
    }

    private static String label(Scale s, double t) {
        double v = switch (s) {
            case LINEAR -> t;
            case LOG2 -> Math.pow(2, t);
            case LOG10 -> Math.pow(10, t);
        };
        if (s == Scale.LOG2 && Math.abs(v - Math.rint(v)) < 1e-6 * Math.max(1, v)) {
            return String.valueOf((long) Math.rint(v));
        }
        double av = Math.abs(v);
        if (av != 0 && (av < 1e-3 || av >= 1e5)) {
            return String.format(Locale.ROOT, "%.0e", v).replace("e-0", "e-").replace("e+0", "e").replace("e+", "e");
        }
        String str = String.format(Locale.ROOT, "%.4f", v);
        str = str.replaceAll("0+$", "");
        return str.endsWith(".") ? str.substring(0, str.length() - 1) : str;
    }

    private record Mapper(double[] xr, double[] yr, Rectangle2D plot) {
        double px(double t) {
            return plot.getX() + (t - xr[0]) / (xr[1] - xr[0]) * plot.getWidth();
        }

        double py(double t) {
            return plot.getY() + plot.getHeight() - (t - yr[0]) / (yr[1] - yr[0]) * plot.getHeight();
        }
    }
}
