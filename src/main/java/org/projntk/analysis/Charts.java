package org.projntk.analysis;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The project's standard charts. */
public final class Charts {
    private Charts() {}

    public static final int WIDTH = 1000;
    public static final int HEIGHT = 700;

    /**
     * {@code sweep.png}: relative Frobenius error against K on log-log axes, one series per kernel kind with
     * markers, and each kind's fitted power law a·K^(-b) as a dashed line of the same colour.
     */
    public static void sweepPlot(SweepTable table, Path png) throws IOException {
        LineChart chart = new LineChart("Projected kernel error vs projection dimension K", "projection dimension K",
                "relative Frobenius error", LineChart.Scale.LOG2, LineChart.Scale.LOG10);
        Map<String, PowerLawFit> fits = table.fits();
        for (Map.Entry<String, List<SweepTable.Row>> e : table.byKernel().entrySet()) {
            List<LineChart.Point> pts = new ArrayList<>();
            for (SweepTable.Row r : e.getValue()) {
                if (r.relFrobenius() > 0) {
                    pts.add(new LineChart.Point(r.k(), r.relFrobenius()));
                }
            }
            int idx = chart.add(LineChart.Series.of(e.getKey(), pts));
            PowerLawFit f = fits.get(e.getKey());
            if (f != null && !pts.isEmpty()) {
                double k0 = pts.get(0).x();
                double k1 = pts.get(pts.size() - 1).x();
                List<LineChart.Point> line = new ArrayList<>();
                for (int i = 0; i <= 32; i++) {
                    double k = k0 * Math.pow(k1 / k0, i / 32.0);
                    line.add(new LineChart.Point(k, f.predict(k)));
                }
                chart.add(new LineChart.Series(String.format(Locale.ROOT, "%s fit: %.3g·K^%.2f", e.getKey(), f.a(), -f.b()),
                        line, false, true, idx));
            }
        }
        chart.write(png, WIDTH, HEIGHT);
    }

    /** A generic chart of a quantity against K (log2 x axis), one series per name; y log10 if {@code logY}. */
    public static void versusK(String title, String yLabel, Map<String, List<LineChart.Point>> series, boolean logY,
                               Path png) throws IOException {
        LineChart chart = new LineChart(title, "K", yLabel, LineChart.Scale.LOG2,
                logY ? LineChart.Scale.LOG10 : LineChart.Scale.LINEAR);
        for (Map.Entry<String, List<LineChart.Point>> e : series.entrySet()) {
            List<LineChart.Point> pts = new ArrayList<>(e.getValue());
            pts.sort((a, b) -> Double.compare(a.x(), b.x()));
            chart.add(LineChart.Series.of(e.getKey(), pts));
        }
        chart.write(png, WIDTH, HEIGHT);
    }

    /** Throughput (e.g. examples/s) against K, log2 x, linear y. */
    public static void throughputPlot(String title, String unit, Map<String, List<LineChart.Point>> series, Path png)
            throws IOException {
        versusK(title, unit, series, false, png);
    }
}
