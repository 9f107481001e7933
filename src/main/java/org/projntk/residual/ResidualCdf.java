package org.projntk.residual;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.projntk.kernel.KernelMatrix;

/**
 * The residual figure of the pNTK paper: the empirical CDF of |cosine residual| (off-diagonal |cos_approx − cos_exact|,
 * each kernel normalised by its own diagonal) for each kernel and K, and a fit of F(x) = 1 − exp(−x·K/a), i.e. residuals
 * exponential with mean a/K. The paper reports a ≈ 20 for ResNet-18 (K = 10240) and a ≈ 57 for BERT.
 *
 * <p>a is fitted by least squares of F against the empirical CDF at {@link #POINTS} quantiles, per (kernel, K) and
 * pooled over every K of a kernel (one a for the whole curve family, as the paper's single figure).
 *
 * <p>Safe from several threads: residuals are added and read under the object's lock.
 */
public final class ResidualCdf {
    /** The number of quantiles each curve is sampled at. */
    public static final int POINTS = 200;
    /** The header line of residual_cdf.csv. */
    public static final String CURVE_HEADER = "kernel,k,abs_cos_residual,cdf,fitted_cdf";
    /** The header line of residual_cdf_fit.csv. */
    public static final String FIT_HEADER = "kernel,k,a,a_mle,rmse";

    /**
     * One curve: the residuals at the quantiles (i + 0.5) / POINTS, sorted.
     *
     * @param kernel the approximation's name, e.g. {@code proj-trntk}
     * @param k the projection dimension K
     * @param x the |cosine residual| at each quantile, ascending, {@link #POINTS} values
     * @param cdf the quantiles (i + 0.5) / POINTS, the empirical CDF at x
     */
    public record Curve(String kernel, int k, double[] x, double[] cdf) {}

    /**
     * A fit of F(x) = 1 − exp(−x·K/a).
     *
     * @param kernel the approximation's name
     * @param k K; 0 for the fit pooled over all K of the kernel
     * @param a the least-squares a (dimensionless: the mean residual is a/K)
     * @param aMle K·mean|residual| over the curve's quantiles, the exponential's maximum-likelihood a
     * @param rmse the root mean square of F − empirical CDF at the least-squares a
     */
    public record Fit(String kernel, int k, double a, double aMle, double rmse) {}

    private final Map<String, Map<Integer, List<double[]>>> residuals = new LinkedHashMap<>();

    /** An empty collection of residuals. */
    public ResidualCdf() {}

    /**
     * Adds the off-diagonal |cos residuals| of two square self-kernels (several calls per K pool seeds).
     *
     * @param kernel the approximation's name, no comma (it becomes a CSV field)
     * @param k the projection dimension K, at least 1
     * @param exact the exact kernel [n x n]
     * @param approx the approximation [n x n]
     * @throws IllegalArgumentException if the kernels are not square or differ in shape
     */
    public synchronized void add(String kernel, int k, KernelMatrix exact, KernelMatrix approx) {
        residuals.computeIfAbsent(kernel, x -> new LinkedHashMap<>()).computeIfAbsent(k, x -> new ArrayList<>())
                .add(absCosineResiduals(exact, approx));
    }

    /**
     * Adds residual magnitudes directly.
     *
     * @param kernel the approximation's name
     * @param k the projection dimension K
     * @param absResiduals |cosine residuals| (copied)
     */
    public synchronized void addResiduals(String kernel, int k, double[] absResiduals) {
        residuals.computeIfAbsent(kernel, x -> new LinkedHashMap<>()).computeIfAbsent(k, x -> new ArrayList<>()).add(absResiduals.clone());
    }

    /**
     * The off-diagonal |cos_approx − cos_exact|, each kernel normalised by its own diagonal; pairs with a non-positive
     * diagonal entry on either side are skipped.
     *
     * @param exact the exact kernel [n x n]
     * @param approx the approximation [n x n]
     * @return up to n(n − 1) residuals, row by row
     * @throws IllegalArgumentException if the kernels are not square or differ in shape
     */
    public static double[] absCosineResiduals(KernelMatrix exact, KernelMatrix approx) {
        if (!exact.isSquare() || exact.rows() != approx.rows() || exact.cols() != approx.cols()) {
            throw new IllegalArgumentException("residual CDF needs two square self-kernels of one shape, got "
                    + exact.rows() + " x " + exact.cols() + " and " + approx.rows() + " x " + approx.cols());
        }
        int n = exact.rows();
        double[] out = new double[n * (n - 1)];
        int m = 0;
        for (int i = 0; i < n; i++) {
            double ei = exact.get(i, i), ai = approx.get(i, i);
            for (int j = 0; j < n; j++) {
                if (i == j) continue;
                double ej = exact.get(j, j), aj = approx.get(j, j);
                if (!(ei > 0 && ej > 0 && ai > 0 && aj > 0)) continue;
                out[m++] = Math.abs(approx.get(i, j) / Math.sqrt(ai * aj) - exact.get(i, j) / Math.sqrt(ei * ej));
            }
        }
        return Arrays.copyOf(out, m);
    }

    /** {@return one curve per (kernel, K) with residuals, in the order they were first added; all seeds of a K pooled} */
    public synchronized List<Curve> curves() {
        List<Curve> out = new ArrayList<>();
        for (var byK : residuals.entrySet()) {
            for (var e : byK.getValue().entrySet()) {
                double[] all = e.getValue().stream().flatMapToDouble(Arrays::stream).sorted().toArray();
                if (all.length == 0) continue;
                double[] x = new double[POINTS];
                double[] f = new double[POINTS];
                for (int i = 0; i < POINTS; i++) {
                    double q = (i + 0.5) / POINTS;
                    x[i] = all[Math.min(all.length - 1, (int) Math.floor(q * all.length))];
                    f[i] = q;
                }
                out.add(new Curve(byK.getKey(), e.getKey(), x, f));
            }
        }
        return out;
    }

    /** {@return the per-(kernel, K) fits, then one pooled fit per kernel (k = 0)} */
    public List<Fit> fits() {
        List<Curve> curves = curves();
        List<Fit> out = new ArrayList<>();
        Map<String, List<Curve>> byKernel = new LinkedHashMap<>();
        for (Curve c : curves) {
            out.add(fit(c.kernel(), c.k(), List.of(c)));
            byKernel.computeIfAbsent(c.kernel(), x -> new ArrayList<>()).add(c);
        }
        for (var e : byKernel.entrySet()) out.add(fit(e.getKey(), 0, e.getValue()));
        return out;
    }

    /** Least squares over log a (golden section on a unimodal-in-practice 1-D objective). */
    static Fit fit(String kernel, int k, List<Curve> curves) {
        double lo = Math.log(1e-6), hi = Math.log(1e9);
        double g = (Math.sqrt(5) - 1) / 2;
        // coarse scan first, so the golden section starts in the right valley
        double best = lo;
        double bestV = Double.POSITIVE_INFINITY;
        for (int i = 0; i <= 300; i++) {
            double t = lo + (hi - lo) * i / 300;
            double v = sse(curves, Math.exp(t));
            if (v < bestV) {
                bestV = v;
                best = t;
            }
        }
        double step = (hi - lo) / 300;
        double a = best - step, b = best + step;
        double c = b - g * (b - a), d = a + g * (b - a);
        for (int it = 0; it < 100; it++) {
            if (sse(curves, Math.exp(c)) < sse(curves, Math.exp(d))) b = d;
            else a = c;
            c = b - g * (b - a);
            d = a + g * (b - a);
        }
        double aHat = Math.exp((a + b) / 2);
        long n = 0;
        double mleNum = 0;
        for (Curve cv : curves) {
            for (double x : cv.x()) {
                mleNum += x * cv.k();
                n++;
            }
        }
        return new Fit(kernel, k, aHat, mleNum / n, Math.sqrt(sse(curves, aHat) / n));
    }

    private static double sse(List<Curve> curves, double a) {
        double s = 0;
        for (Curve c : curves) {
            for (int i = 0; i < c.x().length; i++) {
                double r = c.cdf()[i] - model(c.x()[i], c.k(), a);
                s += r * r;
            }
        }
        return s;
    }

    /**
     * The fitted CDF.
     *
     * @param x a |cosine residual|
     * @param k K
     * @param a the fitted a
     * @return 1 − exp(−x·K/a)
     */
    public static double model(double x, int k, double a) {
        return 1 - Math.exp(-x * k / a);
    }

    /**
     * Writes the curves with the per-K fit ({@link #CURVE_HEADER}) and the fits, per K and pooled with k = 0
     * ({@link #FIT_HEADER}), replacing existing files.
     *
     * @param curvesCsv where the curves go (residual_cdf.csv)
     * @param fitsCsv where the fits go (residual_cdf_fit.csv)
     * @throws IOException if a file cannot be written
     */
    public void write(Path curvesCsv, Path fitsCsv) throws IOException {
        List<Fit> fits = fits();
        Map<String, Double> perK = new LinkedHashMap<>();
        for (Fit f : fits) perK.put(f.kernel() + "/" + f.k(), f.a());
        try (Writer w = Files.newBufferedWriter(curvesCsv, StandardCharsets.UTF_8)) {
            w.write(CURVE_HEADER + "\n");
            for (Curve c : curves()) {
                double a = perK.get(c.kernel() + "/" + c.k());
                for (int i = 0; i < c.x().length; i++) {
                    w.write(String.format(Locale.ROOT, "%s,%d,%.9g,%.6f,%.6f\n", c.kernel(), c.k(), c.x()[i], c.cdf()[i], model(c.x()[i], c.k(), a)));
                }
            }
        }
        try (Writer w = Files.newBufferedWriter(fitsCsv, StandardCharsets.UTF_8)) {
            w.write(FIT_HEADER + "\n");
            for (Fit f : fits) w.write(String.format(Locale.ROOT, "%s,%d,%.6g,%.6g,%.6g\n", f.kernel(), f.k(), f.a(), f.aMle(), f.rmse()));
        }
    }
}
