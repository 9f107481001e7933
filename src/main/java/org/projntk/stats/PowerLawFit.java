package org.projntk.stats;

/**
 * Least-squares fit of err ≈ a·K^(-b) in log-log space: log err = log a - b·log K.
 *
 * @param a the prefactor, the error at K = 1
 * @param b the decay exponent (positive when the error falls with K; 0.5 is Monte Carlo's rate)
 * @param r2 the coefficient of determination in log-log space, in [0, 1]
 * @param points the number of (K, err) points fitted
 */
public record PowerLawFit(double a, double b, double r2, int points) {

    /**
     * Fits the power law.
     *
     * @param k the projection dimensions (or any positive abscissae)
     * @param err the errors at them, same length
     * @return the fit
     * @throws IllegalArgumentException for fewer than 2 points, different lengths, a value that is not positive and
     *     finite, or a single distinct K
     */
    public static PowerLawFit fit(double[] k, double[] err) {
        if (k.length != err.length) {
            throw new IllegalArgumentException("K and error arrays differ in length: " + k.length + " vs " + err.length);
        }
        int n = k.length;
        if (n < 2) {
            throw new IllegalArgumentException("a power-law fit needs at least 2 points, got " + n);
        }
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            if (!(k[i] > 0) || !(err[i] > 0) || !Double.isFinite(k[i]) || !Double.isFinite(err[i])) {
                throw new IllegalArgumentException("power-law fit needs positive finite K and error, got K=" + k[i]
                        + ", err=" + err[i] + " at point " + i);
            }
            x[i] = Math.log(k[i]);
            y[i] = Math.log(err[i]);
        }
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= n;
        my /= n;
        double sxx = 0;
        double sxy = 0;
        double syy = 0;
        for (int i = 0; i < n; i++) {
            sxx += (x[i] - mx) * (x[i] - mx);
            sxy += (x[i] - mx) * (y[i] - my);
            syy += (y[i] - my) * (y[i] - my);
        }
        if (sxx == 0) {
            throw new IllegalArgumentException("power-law fit needs at least two distinct K values");
        }
        double slope = sxy / sxx;
        double intercept = my - slope * mx;
        double r2 = syy == 0 ? 1.0 : (sxy * sxy) / (sxx * syy);
        return new PowerLawFit(Math.exp(intercept), -slope, r2, n);
    }

    /**
     * The fitted error at a dimension.
     *
     * @param k the projection dimension
     * @return a·k^(-b)
     */
    public double predict(double k) {
        return a * Math.pow(k, -b);
    }
}
