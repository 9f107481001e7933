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
    /** The header line of sweep.csv. */
    public static final String HEADER = "kernel,k,rel_frobenius,mean_abs_cos_residual,median_abs_cos_residual,seconds";

    /**
     * One approximation at one K.
     *
     * @param kernel the approximation's name, e.g. {@code proj-trntk}; non-empty, no comma
     * @param k the projection dimension K, at least 1
     * @param relFrobenius ||A - E||_F / ||E||_F
     * @param meanAbsCosResidual the mean off-diagonal |cosine residual|
     * @param medianAbsCosResidual the median off-diagonal |cosine residual|
     * @param seconds the time to project and compute the kernel, in seconds
     */
    public record Row(String kernel, int k, double relFrobenius, double meanAbsCosResidual,
                      double medianAbsCosResidual, double seconds) {}

    private final List<Row> rows = new ArrayList<>();

    /** An empty table; rows may be added from several threads. */
    public SweepTable() {}

    /**
     * Adds a row.
     *
     * @param row the row
     * @throws IllegalArgumentException if the kernel name is blank or holds a comma, or K is below 1
     */
    public synchronized void add(Row row) {
        if (row.kernel() == null || row.kernel().isBlank() || row.kernel().contains(",")) {
            throw new IllegalArgumentException("kernel name must be non-empty and contain no comma: '" + row.kernel() + "'");
        }
        if (row.k() < 1) {
            throw new IllegalArgumentException("K must be >= 1, got " + row.k());
        }
        rows.add(row);
    }

    /**
     * Computes the statistics of {@code approx} against {@code exact} and adds a row.
     *
     * @param kernel the approximation's name
     * @param k the projection dimension K
     * @param exact the exact self-kernel [n x n]
     * @param approx the approximation [n x n]
     * @param seconds the time the approximation took
     * @return the row added
     */
    public Row add(String kernel, int k, org.projntk.kernel.KernelMatrix exact,
                   org.projntk.kernel.KernelMatrix approx, double seconds) {
        ResidualStats.CosineResiduals cr = ResidualStats.cosineResiduals(exact, approx);
        Row r = new Row(kernel, k, ResidualStats.relativeFrobenius(exact, approx), cr.mean(), cr.median(), seconds);
        add(r);
        return r;
    }

    /** {@return a snapshot of the rows, in insertion order} */
    public synchronized List<Row> rows() {
        return Collections.unmodifiableList(new ArrayList<>(rows));
    }

    /** {@return the rows grouped by kernel name (insertion order), each group sorted by K} */
    public synchronized Map<String, List<Row>> byKernel() {
        Map<String, List<Row>> m = new LinkedHashMap<>();
        for (Row r : rows) {
            m.computeIfAbsent(r.kernel(), x -> new ArrayList<>()).add(r);
        }
        m.values().forEach(l -> l.sort((a, b) -> Integer.compare(a.k(), b.k())));
        return m;
    }

    /** {@return a power-law fit of rel_frobenius against K for each kernel with at least two distinct K (others omitted)} */
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

    /**
     * Writes the rows as CSV under {@link #HEADER}, replacing the file.
     *
     * @param path the file
     * @throws IOException if it cannot be written
     */
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
