package org.projntk.surrogate;

import java.util.Locale;
import java.util.function.Consumer;

/**
 * A small deterministic L-BFGS for objectives of a linear model, f(x) = φ(A x, x), where applying A (a kernel product)
 * is the only expensive step, counted as a product.
 * <ul>
 *   <li>Each trial point is evaluated afresh: A x (one product), then the gradient Aᵀ(∂φ/∂Ax) + … (one more) only where
 *   the step is accepted, or where Armijo's test failed and the directional derivative decides.</li>
 *   <li>A steepest-descent step (the first, and restarts) starts at the minimiser of the objective's curvature bound
 *   along d = -∇f, which needs A d (one product) and no global Lipschitz estimate. On the first iteration, where the
 *   image of x0 is exact, the trial points' images A x0 + t·A d and their directional derivatives come from it for
 *   free; restarts happen near the noise floor, where fresh images are worth their product.</li>
 *   <li>A rejected trial is followed by a shorter one: see {@link #backtrack}.</li>
 *   <li>Five steps below the noise of f that do not shrink the gradient drop the quasi-Newton memory; five more stop the
 *   search.</li>
 * </ul>
 * A step is accepted by Armijo's sufficient decrease, or, once the decrease is below the objective's rounding noise
 * (float32 kernel products), by Hager and Zhang's approximate Wolfe conditions on the directional derivative, which stays
 * informative there. Without the second rule the search stalls at the noise floor of f, well before the gradient
 * reaches it.
 */
final class Lbfgs {
    private Lbfgs() {}

    /** f(x) = φ(A x, x) with A linear; see the class comment. */
    interface LinearModel {
        /** Length of A x. */
        int imageLength();

        /** A x: one product. */
        double[] image(double[] x);

        /** f(x), given ax = A x; writes ∂φ/∂(Ax) into dual. No product. */
        double value(double[] x, double[] ax, double[] dual);

        /** ∇f(x) from the dual that {@link #value} left: one transposed product. */
        void gradient(double[] x, double[] dual, double[] grad);

        /** ∇f(x)·d from the dual at x and ad = A d. No product. */
        double slope(double[] x, double[] dual, double[] d, double[] ad);

        /** An upper bound of dᵀ∇²f d over all x, from d and ad = A d. No product. */
        double curvatureBound(double[] d, double[] ad);
    }

    /**
     * {@code converged}: the gradient tolerance was met, or no decrease was possible (float32 noise floor).
     * {@code image}: A x (computed afresh, or carried one steepest-descent step). {@code products}: applications of A or
     * Aᵀ.
     */
    record Result(double[] x, double[] image, double fx, double gradInfNorm, int iterations, int evaluations, int products,
                  boolean converged) {}

    static Result minimize(LinearModel f, double[] x0, int maxIter, double tol, int m) {
        return minimize(f, x0, maxIter, tol, m, null);
    }

    /** {@code progress}, if not null, gets one line per iteration. */
    static Result minimize(LinearModel f, double[] x0, int maxIter, double tol, int m, Consumer<String> progress) {
        int d = x0.length;
        double[] x = x0.clone();
        int products = 0;
        double[] ax = new double[f.imageLength()];
        if (!isZero(x)) {
            ax = f.image(x);
            products++;
        }
        double[] g = new double[d];
        double[] dual = new double[ax.length];
        double fx = f.value(x, ax, dual);
        f.gradient(x, dual, g);
        products++;
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
        double[] axn = new double[ax.length];
        double[] dualn = new double[ax.length];
        boolean converged = infNorm(g) <= tol * g0;
        boolean stalled = false;
        double lastRel = Double.POSITIVE_INFINITY; // relative decrease of the last accepted step
        int flat = 0;
        boolean flatRestart = false; // the memory was dropped after flat steps, and the gradient has not improved since
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
                scale(dir, dot(s[last], y[last]) / dot(y[last], y[last]));
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
            }
            double step = 1.0;
            double[] adir = null; // A dir, for steepest-descent steps
            if (stored == 0) {
                for (int i = 0; i < d; i++) dir[i] = -g[i];
                gd = dot(g, dir);
                adir = f.image(dir);
                products++;
                double curvature = f.curvatureBound(dir, adir);
                step = curvature > 0 && Double.isFinite(curvature) ? -gd / curvature : 1.0;
            }
            // Trial images are carried from x's only on the first iteration, where x0's is exact: a restart near the
            // noise floor needs the fresh images' accuracy.
            boolean carried = adir != null && it == 1;
            double fn = Double.NaN;
            double[] gn = null;
            boolean accepted = false;
            // Few halvings for a quasi-Newton step: when step 1 fails by orders of magnitude, the objective is at the
            // float32 noise floor of the kernel products and further evaluations are wasted.
            int maxHalvings = stored == 0 ? 40 : 10;
            for (int ls = 0; ls < maxHalvings; ls++) {
                for (int i = 0; i < d; i++) xn[i] = x[i] + step * dir[i];
                if (carried) {
                    for (int i = 0; i < axn.length; i++) axn[i] = ax[i] + step * adir[i];
                } else {
                    System.arraycopy(f.image(xn), 0, axn, 0, axn.length);
                    products++;
                }
                fn = f.value(xn, axn, dualn);
                evals++;
                if (!Double.isFinite(fn)) {
                    step *= 0.5;
                    continue;
                }
                boolean armijo = fn <= fx + ARMIJO * step * gd;
                if (!armijo && fn > fx + NOISE * Math.abs(fx)) {
                    step = backtrack(fx, gd, step, fn); // the approximate Wolfe conditions cannot hold either
                    continue;
                }
                double slope;
                if (carried) {
                    slope = f.slope(xn, dualn, dir, adir);
                } else {
                    gn = new double[d];
                    f.gradient(xn, dualn, gn);
                    products++;
                    slope = dot(gn, dir);
                }
                if (armijo || approximateWolfe(fx, fn, gd, slope)) {
                    accepted = true;
                    break;
                }
                gn = null;
                step *= 0.5;
            }
            if (progress != null) {
                progress.accept(String.format(Locale.ROOT, "lbfgs iteration %d: f %.9g, step %.3g, %d evaluations, %d products%s",
                        it, fn, step, evals, products, accepted ? "" : ", no decrease"));
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
            if (gn == null) {
                gn = new double[d];
                f.gradient(xn, dualn, gn);
                products++;
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
            System.arraycopy(axn, 0, ax, 0, ax.length);
            System.arraycopy(dualn, 0, dual, 0, dual.length);
            g = gn;
            lastRel = (fx - fn) / Math.max(1.0, Math.abs(fn));
            fx = fn;
            converged = infNorm(g) <= tol * g0;
            // five steps in a row below the float32 noise of the objective that do not shrink the gradient either
            double gNorm = infNorm(g);
            flat = lastRel < 1e-10 && gNorm >= bestGradNorm ? flat + 1 : 0;
            if (gNorm < bestGradNorm) flatRestart = false;
            bestGradNorm = Math.min(bestGradNorm, gNorm);
            if (flat >= 5) {
                if (flatRestart) {
                    stalled = true;
                    break;
                }
                // the quasi-Newton model may be what is stuck: drop it once before giving up
                flatRestart = true;
                flat = 0;
                stored = 0;
            }
        }
        return new Result(x, ax, fx, infNorm(g), it, evals, products, converged || stalled);
    }

    /**
     * The next trial after f(step) = fn failed Armijo's test. A clear overshoot (f rose by more than the slope predicted
     * it would fall) jumps to the minimiser of the quadratic through f(0), f'(0) and f(step), kept within [0.1, 0.5]·step;
     * a failure within the objective's noise halves the step.
     */
    static double backtrack(double f0, double slope0, double step, double fn) {
        double rise = fn - f0;
        if (!(rise > -slope0 * step) || !(rise > NOISE * Math.abs(f0))) return 0.5 * step;
        double minimiser = -slope0 * step * step / (2 * (rise - slope0 * step));
        return Math.min(0.5 * step, Math.max(0.1 * step, minimiser));
    }

    private static boolean isZero(double[] x) {
        for (double v : x) {
            if (v != 0) return false;
        }
        return true;
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
