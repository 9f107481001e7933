package org.projntk.residual;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.projntk.stats.PowerLawFit;

/** Rows of a residual-vs-K sweep, written as {@code sweep.csv}. */
public final class SweepTable {
    public static final String HEADER = "kernel,k,rel_frobenius,mean_abs_cos_residual,median_abs_cos_residual,seconds";

    public record Row(String kernel, int k, double relFrobenius, double meanAbsCosResidual,
                      double medianAbsCosResidual, double seconds) {}

    private final List<Row> rows = new ArrayList<>();

    public synchronized void add(Row row) {
        if (row.kernel() == null || row.kernel().isBlank() || row.kernel().contains(",")) {
            throw new IllegalArgumentException("kernel name must be non-empty and contain no comma: '" + row.kernel() + "'");
        }
        if (row.k() < 1) {
            throw new IllegalArgumentException("K must be >= 1, got " + row.k());
        }
        rows.add(row);
    }

    /** Computes the statistics of {@code approx} against {@code exact} (square self-kernels) and adds a row. */
    public Row add(String kernel, int k, org.projntk.kernel.KernelMatrix exact,
                   org.projntk.kernel.KernelMatrix approx, double seconds) {
        ResidualStats.CosineResiduals cr = ResidualStats.cosineResiduals(exact, approx);
        Row r = new Row(kernel, k, ResidualStats.relativeFrobenius(exact, approx), cr.mean(), cr.median(), seconds);
        add(r);
        return r;
    }

    public synchronized List<Row> rows() {
        return Collections.unmodifiableList(new ArrayList<>(rows));
    }

    /** Rows grouped by kernel name (insertion order), each sorted by K. */
    public synchronized Map<String, List<Row>> byKernel() {
        Map<String, List<Row>> m = new LinkedHashMap<>();
        for (Row r : rows) {
            m.computeIfAbsent(r.kernel(), x -> new ArrayList<>()).add(r);
        }
        m.values().forEach(l -> l.sort((a, b) -> Integer.compare(a.k(), b.k())));
        return m;
    }

    /** Power-law fit of rel_frobenius against K for each kernel with at least two distinct K (others omitted). */
    public Map<String, PowerLawFit> fits() {
        Map<String, PowerLawFit> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<Row>> e : byKernel().entrySet()) {
            List<Row> l = e.getValue();
            double[] k = l.stream().mapToDouble(Row::k).toArray();
            double[] err = l.stream().mapToDouble(Row::relFrobenius).toArray();
            if (l.size() >= 2 && l.get(0).k() != l.get(l.size() - 1).k()) {
                out.put(e.getKey(), PowerLawFit.fit(k, err));
            }
        }
        return out;
    }

    public void writeCsv(Path path) throws IOException {
        try (Writer w = Files.newBufferedWriter(path, StandardCharsets.UTF_8)) {
            w.write(HEADER + "\n");
            for (Row r : rows()) {
                w.write(String.format(Locale.ROOT, "%s,%d,%.9g,%.9g,%.9g,%.6f\n", r.kernel(), r.k(), r.relFrobenius(),
                        r.meanAbsCosResidual(), r.medianAbsCosResidual(), r.seconds()));
            }
        }
    }
}
