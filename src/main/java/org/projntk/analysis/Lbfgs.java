package org.projntk.analysis;

/**
 * A small deterministic L-BFGS with a backtracking line search: a step is accepted by Armijo's sufficient decrease, or,
 * once the decrease is below the objective's rounding noise (float32 kernel products), by Hager and Zhang's approximate
 * Wolfe conditions on the directional derivative, which stays informative there. Without the second rule the search
 * stalls at the noise floor of f, well before the gradient reaches it.
 */
final class Lbfgs {
    private Lbfgs() {}

    /** f(x, grad) returns f(x) and writes ∇f(x) into grad. */
    interface Function {
        double value(double[] x, double[] grad);
    }

    /** {@code converged}: the gradient tolerance was met, or no decrease was possible (float32 noise floor). */
    record Result(double[] x, double fx, double gradInfNorm, int iterations, int evaluations, boolean converged) {}

    static volatile boolean trace = false;

    /** {@code firstStep}: the step length along -∇f for the first iteration (e.g. 1/L for an L-smooth f). */
    static Result minimize(Function f, double[] x0, int maxIter, double tol, int m, double firstStep) {
        int d = x0.length;
        double[] x = x0.clone();
        double[] g = new double[d];
        double fx = f.value(x, g);
        int evals = 1;
        double g0 = Math.max(1.0, infNorm(g));
        double[][] s = new double[m][];
        double[][] y = new double[m][];
        double[] rho = new double[m];
        double[] alpha = new double[m];
        int stored = 0;
        int head = 0; // next slot
        double[] dir = new double[d];
        double[] xn = new double[d];
        double[] gn = new double[d];
        boolean converged = infNorm(g) <= tol * g0;
        boolean stalled = false;
        double lastRel = Double.POSITIVE_INFINITY; // relative decrease of the last accepted step
        int flat = 0;
        double bestGradNorm = infNorm(g);
        int it = 0;
        while (!converged && it < maxIter) {
            it++;
            // two-loop recursion: dir = -H g
            System.arraycopy(g, 0, dir, 0, d);
            for (int t = 0; t < stored; t++) {
                int slot = Math.floorMod(head - 1 - t, m);
                alpha[slot] = rho[slot] * dot(s[slot], dir);
                axpy(-alpha[slot], y[slot], dir);
            }
            if (stored > 0) {
                int last = Math.floorMod(head - 1, m);
                double gamma = dot(s[last], y[last]) / dot(y[last], y[last]);
                scale(dir, gamma);
            }
            for (int t = stored - 1; t >= 0; t--) {
                int slot = Math.floorMod(head - 1 - t, m);
                double beta = rho[slot] * dot(y[slot], dir);
                axpy(alpha[slot] - beta, s[slot], dir);
            }
            scale(dir, -1);
            double gd = dot(g, dir);
            if (!(gd < 0)) { // not a descent direction: restart from steepest descent
                stored = 0;
                System.arraycopy(g, 0, dir, 0, d);
                scale(dir, -1);
                gd = dot(g, dir);
            }
            double step = stored == 0 ? firstStep : 1.0;
            double fn = Double.NaN;
            boolean accepted = false;
            // Few halvings for a quasi-Newton step: when step 1 fails by orders of magnitude, the objective is at the
            // float32 noise floor of the kernel products and further evaluations are wasted.
            int maxHalvings = it == 1 ? 40 : 10;
            for (int ls = 0; ls < maxHalvings; ls++) {
                for (int i = 0; i < d; i++) {
                    xn[i] = x[i] + step * dir[i];
                }
                fn = f.value(xn, gn);
                evals++;
                if (Double.isFinite(fn) && (fn <= fx + ARMIJO * step * gd || approximateWolfe(fx, fn, gd, dot(gn, dir)))) {
                    accepted = true;
                    break;
                }
                step *= 0.5;
            }
            if (trace) {
                System.err.printf("lbfgs it %d f %.9g step %.3g evals %d |g| %.3g%n", it, fn, step, evals, infNorm(gn));
            }
            if (!accepted) {
                // no decrease along this direction: retry once from steepest descent, else stop (stalled)
                if (stored > 0 && lastRel > 1e-9) {
                    stored = 0;
                    continue;
                }
                stalled = true;
                break;
            }
            double[] sv = new double[d];
            double[] yv = new double[d];
            for (int i = 0; i < d; i++) {
                sv[i] = xn[i] - x[i];
                yv[i] = gn[i] - g[i];
            }
            double sy = dot(sv, yv);
            if (sy > 1e-12 * Math.sqrt(dot(sv, sv) * dot(yv, yv))) {
                s[head] = sv;
                y[head] = yv;
                rho[head] = 1.0 / sy;
                head = (head + 1) % m;
                stored = Math.min(stored + 1, m);
            }
            System.arraycopy(xn, 0, x, 0, d);
            System.arraycopy(gn, 0, g, 0, d);
            lastRel = (fx - fn) / Math.max(1.0, Math.abs(fn));
            fx = fn;
            converged = infNorm(g) <= tol * g0;
            // five steps in a row below the float32 noise of the objective that do not shrink the gradient either
            double gNorm = infNorm(g);
            flat = lastRel < 1e-10 && gNorm >= bestGradNorm ? flat + 1 : 0;
            bestGradNorm = Math.min(bestGradNorm, gNorm);
            if (flat >= 5) {
                stalled = true;
                break;
            }
        }
        return new Result(x, fx, infNorm(g), it, evals, converged || stalled);
    }

    private static final double ARMIJO = 1e-4;
    /** Relative change of f treated as rounding noise (its terms come from float32 products). */
    private static final double NOISE = 1e-6;

    /** f(α) ≤ f(0) + ε|f(0)| and σφ'(0) ≤ φ'(α) ≤ (2δ - 1)φ'(0), with δ = Armijo's constant and σ = 0.9. */
    private static boolean approximateWolfe(double f0, double fa, double slope0, double slopeA) {
        return fa <= f0 + NOISE * Math.abs(f0) && slopeA >= 0.9 * slope0 && slopeA <= (2 * ARMIJO - 1) * slope0;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            y[i] += a * x[i];
        }
    }

    private static void scale(double[] x, double a) {
        for (int i = 0; i < x.length; i++) {
            x[i] *= a;
        }
    }

    private static double infNorm(double[] x) {
        double m = 0;
        for (double v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
