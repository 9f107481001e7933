package org.projntk.surrogate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LbfgsTest {
    /**
     * Ridge regression, f(x) = ½||A x - b||² + ½λ||x||², as a linear model whose image is rounded to float32 like a
     * kernel product, counting its products.
     */
    static final class Ridge implements Lbfgs.LinearModel {
        final double[][] a;
        final double[] b;
        final double lambda;
        int products;

        Ridge(double[][] a, double[] b, double lambda) {
            this.a = a;
            this.b = b;
            this.lambda = lambda;
        }

        @Override public int imageLength() { return a.length; }

        @Override
        public double[] image(double[] x) {
            products++;
            double[] out = new double[a.length];
            for (int i = 0; i < a.length; i++) {
                double s = 0;
                for (int j = 0; j < x.length; j++) s += a[i][j] * x[j];
                out[i] = (float) s;
            }
            return out;
        }

        @Override
        public double value(double[] x, double[] ax, double[] dual) {
            double f = 0;
            for (int i = 0; i < ax.length; i++) {
                dual[i] = ax[i] - b[i];
                f += 0.5 * dual[i] * dual[i];
            }
            return f + 0.5 * lambda * Lbfgs.dot(x, x);
        }

        @Override
        public void gradient(double[] x, double[] dual, double[] grad) {
            products++;
            for (int j = 0; j < x.length; j++) {
                double s = 0;
                for (int i = 0; i < a.length; i++) s += a[i][j] * dual[i];
                grad[j] = (float) s + lambda * x[j];
            }
        }

        @Override
        public double slope(double[] x, double[] dual, double[] d, double[] ad) {
            return Lbfgs.dot(dual, ad) + lambda * Lbfgs.dot(x, d);
        }

        @Override
        public double curvatureBound(double[] d, double[] ad) {
            return Lbfgs.dot(ad, ad) + lambda * Lbfgs.dot(d, d);
        }

        /** f(x) from its definition, in double. */
        double exactValue(double[] x) {
            double f = 0;
            for (int i = 0; i < a.length; i++) {
                double r = -b[i];
                for (int j = 0; j < x.length; j++) r += a[i][j] * x[j];
                f += 0.5 * r * r;
            }
            return f + 0.5 * lambda * Lbfgs.dot(x, x);
        }

        /** The minimiser (AᵀA + λI)⁻¹Aᵀb by Gaussian elimination in double. */
        double[] solution() {
            int d = a[0].length;
            double[][] m = new double[d][d + 1];
            for (int p = 0; p < d; p++) {
                for (int q = 0; q < d; q++) {
                    for (double[] row : a) m[p][q] += row[p] * row[q];
                }
                m[p][p] += lambda;
                for (int i = 0; i < a.length; i++) m[p][d] += a[i][p] * b[i];
            }
            for (int p = 0; p < d; p++) {
                for (int r = p + 1; r < d; r++) {
                    double f = m[r][p] / m[p][p];
                    for (int q = p; q <= d; q++) m[r][q] -= f * m[p][q];
                }
            }
            double[] x = new double[d];
            for (int p = d - 1; p >= 0; p--) {
                double s = m[p][d];
                for (int q = p + 1; q < d; q++) s -= m[p][q] * x[q];
                x[p] = s / m[p][p];
            }
            return x;
        }
    }

    static Ridge ridge(long seed, int rows, int cols, double lambda) {
        Random r = new Random(seed);
        double[][] a = new double[rows][cols];
        double[] b = new double[rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) a[i][j] = r.nextGaussian() * (1 + j % 7); // uneven column scales
            b[i] = r.nextGaussian();
        }
        return new Ridge(a, b, lambda);
    }

    @Test
    void reportsEachIterationToTheProgressConsumer() {
        List<String> lines = new ArrayList<>();
        Ridge f = ridge(5, 80, 30, 0.1);
        Lbfgs.Result r = Lbfgs.minimize(f, new double[30], 500, 1e-7, 10, lines::add);
        assertTrue(r.iterations() > 1, "iterations " + r.iterations());
        assertEquals(r.iterations(), lines.size(), lines.toString());
        for (int i = 0; i < lines.size(); i++) assertTrue(lines.get(i).startsWith("lbfgs iteration " + (i + 1) + ": f "), lines.get(i));
    }

    @Test
    void reachesTheRidgeSolution() {
        Ridge f = ridge(5, 80, 30, 0.1);
        Lbfgs.Result r = Lbfgs.minimize(f, new double[30], 500, 1e-7, 10);
        double[] x = f.solution();
        for (int j = 0; j < x.length; j++) assertEquals(x[j], r.x()[j], 1e-4 * (1 + Math.abs(x[j])), "coordinate " + j);
        assertEquals(f.products, r.products());
        // the gradient at x0 = 0 (whose image needs no product), then at most two products per evaluation: no
        // products spent on estimating a first step
        assertTrue(r.products() <= 2 * r.evaluations() - 1, r.toString());
        assertTrue(r.iterations() > 10, r.toString());
    }

    @Test
    void theFirstStepMinimisesTheCurvatureBoundAlongTheGradient() {
        // the ridge's curvature bound is exact, so the first step is the exact line search along -g:
        // f(x1) = f(0) - (gᵀg)² / (2 gᵀ(AᵀA + λI) g)
        Ridge f = ridge(7, 50, 20, 0.5);
        double[] zero = new double[20];
        double[] g = new double[20];
        double[] dual = new double[50];
        double f0 = f.value(zero, new double[50], dual);
        f.gradient(zero, dual, g);
        double[] ag = new double[50];
        for (int i = 0; i < 50; i++) {
            for (int j = 0; j < 20; j++) ag[i] += f.a[i][j] * g[j];
        }
        double gg = Lbfgs.dot(g, g);
        double expected = f0 - gg * gg / (2 * (Lbfgs.dot(ag, ag) + f.lambda * gg));
        Lbfgs.Result r = Lbfgs.minimize(f, zero, 1, 1e-30, 10);
        assertEquals(1, r.iterations());
        assertEquals(2, r.evaluations(), "the first trial step is accepted");
        assertEquals(expected, f.exactValue(r.x()), 1e-6 * Math.abs(expected));
    }

    @Test
    void theReturnedImageAndValueBelongToTheIterate() {
        Ridge f = ridge(6, 120, 40, 1e-3);
        for (int iterations : new int[] {1, 7, 60}) {
            Lbfgs.Result r = Lbfgs.minimize(f, new double[40], iterations, 1e-30, 10);
            double[] exact = new double[120];
            for (int i = 0; i < 120; i++) {
                for (int j = 0; j < 40; j++) exact[i] += f.a[i][j] * r.x()[j];
            }
            double scale = 0;
            for (double v : exact) scale = Math.max(scale, Math.abs(v));
            for (int i = 0; i < exact.length; i++) {
                assertEquals(exact[i], r.image()[i], 1e-5 * scale, "image row " + i + " after " + iterations + " iterations");
            }
            assertEquals(f.exactValue(r.x()), r.fx(), 1e-6 * Math.abs(r.fx()), "after " + iterations + " iterations");
        }
    }

    @Test
    void backtrackingJumpsToTheQuadraticMinimiserOnAClearOvershootAndHalvesInNoise() {
        // f(t) = 1 - 2t + ½·c·t²: the minimiser along the direction is 2/c
        double f0 = 1;
        double slope = -2;
        for (double c : new double[] {10, 40, 400}) { // f(1) rises above f(0) by more than |slope|: a clear overshoot
            double step = 1;
            double fn = f0 + slope * step + 0.5 * c * step * step;
            double expected = Math.min(0.5, Math.max(0.1, 2 / c));
            assertEquals(expected, Lbfgs.backtrack(f0, slope, step, fn), 1e-12, "curvature " + c);
        }
        // a rise within the objective's rounding noise says nothing about curvature: halve
        assertEquals(0.5, Lbfgs.backtrack(1, -1e-9, 1, 1 + 1e-9), 0);
        // a failure without a rise (Armijo's margin missed) halves too
        assertEquals(0.5, Lbfgs.backtrack(1, -2, 1, 0.99999), 0);
    }
}
