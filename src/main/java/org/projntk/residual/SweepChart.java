package org.projntk.residual;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.projntk.plot.Charts;
import org.projntk.plot.LineChart;
import org.projntk.stats.PowerLawFit;

/** The sweep's chart. */
final class SweepChart {
    private SweepChart() {}

    /**
     * {@code sweep.png}: relative Frobenius error against K on log-log axes, one series per kernel kind with
     * markers, and each kind's fitted power law a·K^(-b) as a dashed line of the same colour.
     */
    static void write(SweepTable table, Path png) throws IOException {
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
        chart.write(png, Charts.WIDTH, Charts.HEIGHT);
    }
}
