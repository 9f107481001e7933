package org.projntk.plot;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.projntk.residual.SweepTable;
import org.projntk.stats.PowerLawFit;

/** The project's standard chart size, and charts of a quantity against K. */
public final class Charts {
    private Charts() {}

    public static final int WIDTH = 1000;
    public static final int HEIGHT = 700;

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
