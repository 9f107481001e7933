package org.projntk.internal;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.GemmPrecision;
import org.projntk.ProjntkException;
import org.projntk.baseline.CurandProjector;
import org.projntk.kernel.GpuGram;

/** The CPU-testable parts of the CUDA layer: library discovery, its error messages, and the cuBLAS argument mapping. */
class CudaLibrariesTest {
    @TempDir
    Path tmp;

    private static Path touch(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, new byte[] {1, 2, 3});
        return file;
    }

    @Test
    void unavailableCudaFailsClearlyWithoutCrashing() {
        if (Cuda.available()) {
            // a CUDA machine: the same calls must succeed
            assertDoesNotThrow(Cuda::require);
            assertNull(Cuda.unavailableReason());
            assertTrue(Cuda.describe().startsWith("CUDA runtime"), Cuda.describe());
            return;
        }
        ProjntkException e = assertThrows(ProjntkException.class, Cuda::require);
        assertEquals(ProjntkException.Status.UNSUPPORTED, e.status());
        String m = e.getMessage();
        assertEquals(m, Cuda.unavailableReason());
        assertTrue(Cuda.describe().contains(m), Cuda.describe());
        if (m.startsWith("CUDA libraries not found")) {
            for (String s : List.of("-Dprojntk.cuda.lib=", "PROJNTK_CUDA_LIB=", "site-packages", "/usr/local/cuda/lib64", "libcublas.so*")) {
                assertTrue(m.contains(s), "message should name " + s + ": " + m);
            }
        } else {
            assertTrue(m.contains("could not be loaded") || m.contains("cudaGetDeviceCount") || m.contains("no CUDA device"), m);
        }
        // every entry point refuses with the same status, and nothing is half-built
        assertEquals(ProjntkException.Status.UNSUPPORTED, assertThrows(ProjntkException.class, () -> Cuda.allocate(16)).status());
        assertEquals(ProjntkException.Status.UNSUPPORTED, assertThrows(ProjntkException.class, Cublas::new).status());
        assertEquals(ProjntkException.Status.UNSUPPORTED, assertThrows(ProjntkException.class, () -> new Curand(1)).status());
        assertEquals(ProjntkException.Status.UNSUPPORTED, assertThrows(ProjntkException.class,
                () -> new CurandProjector(100, 8, 1, false, org.projntk.GemmPrecision.FP32, 64)).status());
        assertEquals(ProjntkException.Status.UNSUPPORTED, assertThrows(ProjntkException.class,
                () -> new GpuGram(GemmPrecision.TF32)).status());
        assertThrows(ProjntkException.class, Cuda::synchronize);
    }

    @Test
    void notFoundMessageListsEverySearchedLocation() {
        Path empty = tmp.resolve("empty");
        Path none = tmp.resolve("no-such-dir");
        List<Cuda.Source> sources = Cuda.sources("/no/such/a:" + empty, null, tmp.resolve("no-python").toString(), none);
        Cuda.Discovery d = Cuda.discover(sources);
        assertEquals(Cuda.LIBRARIES, d.missing());
        assertEquals(4, d.searched().size(), d.searched().toString());
        String m = Cuda.notFoundMessage(d);
        for (String s : List.of("libcudart.so*", "libcublas.so*", "libcurand.so*", "-Dprojntk.cuda.lib=/no/such/a:",
                "/no/such/a", empty.toString(), "PROJNTK_CUDA_LIB=(unset)", "no-python", none.toString())) {
            assertTrue(m.contains(s), "message should name " + s + ": " + m);
        }
    }

    @Test
    void findsEachLibraryInTheFirstSourceThatHasIt() throws IOException {
        Path property = tmp.resolve("prop");
        Path cudartFromProperty = touch(property.resolve("libcudart.so.13"));
        Path cu12 = tmp.resolve("site12");
        touch(cu12.resolve("nvidia/cuda_runtime/lib/libcudart.so.12"));
        Path cublas = touch(cu12.resolve("nvidia/cublas/lib/libcublas.so.12"));
        touch(cu12.resolve("nvidia/cublas/lib/libcublasLt.so.12"));
        Path cu13 = tmp.resolve("site13");
        touch(cu13.resolve("nvidia/cu13/lib/libcublas.so.13"));
        Path curand = touch(cu13.resolve("nvidia/cu13/lib/libcurand.so.10"));
        Path defaults = tmp.resolve("default");
        touch(defaults.resolve("libcurand.so.10"));

        List<Path> wheelDirs = Cuda.nvidiaWheelDirs(List.of(cu12, cu13, tmp.resolve("not-a-site")));
        assertEquals(List.of(cu12.resolve("nvidia/cublas/lib"), cu12.resolve("nvidia/cuda_runtime/lib"), cu13.resolve("nvidia/cu13/lib")),
                wheelDirs);
        List<Cuda.Source> sources = List.of(
                new Cuda.Source("property", () -> List.of(property)),
                new Cuda.Source("env", List::of),
                new Cuda.Source("wheels", () -> wheelDirs),
                new Cuda.Source("default", () -> List.of(defaults)),
                new Cuda.Source("never", () -> fail("sources after a complete discovery must not be evaluated")));
        Cuda.Discovery d = Cuda.discover(sources);
        assertEquals(List.of(), d.missing());
        assertEquals(Map.of("libcudart", cudartFromProperty, "libcublas", cublas, "libcurand", curand), d.found());
        assertEquals(3, d.searched().size(), "the default location is not needed: " + d.searched());
    }

    @Test
    void prefersTheShortestMatchingNameAndIgnoresLookalikes() throws IOException {
        Path dir = tmp.resolve("lib");
        touch(dir.resolve("libcudart.so.13.0.96"));
        Path major = touch(dir.resolve("libcudart.so.13"));
        touch(dir.resolve("libcudart_static.a"));
        touch(dir.resolve("libcublasLt.so.13"));
        assertEquals(major, Cuda.findLibrary(dir, "libcudart"));
        assertNull(Cuda.findLibrary(dir, "libcublas"), "libcublasLt is not libcublas");
        assertNull(Cuda.findLibrary(tmp.resolve("missing"), "libcudart"));
        // a file given in the property names its directory
        List<Cuda.Source> s = Cuda.sources(major.toString(), null, "python3", tmp);
        assertEquals(List.of(dir), s.get(0).dirs().get());
    }

    @Test
    void aBrokenLibraryIsReportedNotFatal() throws IOException {
        Path dir = tmp.resolve("broken");
        // an ELF file that dlopen refuses (an executable); a non-ELF file would make the JVM warn and fiddle with
        // its stack guard pages
        Path cudart = dir.resolve("libcudart.so.13");
        Files.createDirectories(dir);
        Files.copy(Path.of(System.getProperty("java.home"), "bin", "java"), cudart);
        Map<String, Path> found = Map.of(
                "libcudart", cudart,
                "libcublas", touch(dir.resolve("libcublas.so.13")),
                "libcurand", touch(dir.resolve("libcurand.so.10")));
        String problem = Cuda.loadLibraries(found);
        assertTrue(problem != null && problem.contains("libcudart") && problem.contains("could not be loaded")
                && problem.contains(dir.toString()), String.valueOf(problem));
    }

    @Test
    void pythonSitePackagesNeverThrows() {
        assertEquals(List.of(), Cuda.pythonSitePackages(tmp.resolve("no-python3").toString()));
        // whatever python3 is here (or none): a list of absolute directories
        for (Path p : Cuda.pythonSitePackages("python3")) {
            assertTrue(p.isAbsolute(), p.toString());
        }
    }

    @Test
    void statusNames() {
        assertEquals("CUBLAS_STATUS_INVALID_VALUE", Cublas.statusName(7));
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", Cublas.statusName(15));
        assertTrue(Cublas.statusName(12345).contains("12345"));
        assertEquals("CURAND_STATUS_LENGTH_NOT_MULTIPLE", Curand.statusName(105));
        assertTrue(Curand.statusName(-3).contains("-3"));
        assertEquals(Cublas.Precision.TF32, Cublas.Precision.parse(" TF32"));
        assertThrows(IllegalArgumentException.class, () -> Cublas.Precision.parse("fp16"));
    }

    /** cuBLAS's sgemm as its documentation defines it: column-major, op(X) = X or Xᵀ, C = alpha·op(A)·op(B) + beta·C. */
    private static void columnMajorSgemm(int transa, int transb, int m, int n, int k, float alpha, float[] a, int lda,
                                         float[] b, int ldb, float beta, float[] c, int ldc) {
        int opN = 0;
        // the argument checks that make cuBLAS return CUBLAS_STATUS_INVALID_VALUE
        assertTrue(lda >= Math.max(1, transa == opN ? m : k), "lda " + lda);
        assertTrue(ldb >= Math.max(1, transb == opN ? k : n), "ldb " + ldb);
        assertTrue(ldc >= Math.max(1, m), "ldc " + ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int l = 0; l < k; l++) {
                    float x = transa == opN ? a[i + l * lda] : a[l + i * lda];
                    float y = transb == opN ? b[l + j * ldb] : b[j + l * ldb];
                    s += (double) x * y;
                }
                c[i + j * ldc] = (float) (alpha * s + beta * c[i + j * ldc]);
            }
        }
    }

    @Test
    void rowMajorGemmMapsToTheRightColumnMajorCall() {
        Random r = new Random(7);
        int m = 3;
        int n = 5;
        int k = 4;
        for (boolean transA : new boolean[] {false, true}) {
            for (boolean transB : new boolean[] {false, true}) {
                // row-major storage, padded leading dimensions
                int aRows = transA ? k : m;
                int aCols = transA ? m : k;
                int bRows = transB ? n : k;
                int bCols = transB ? k : n;
                int lda = aCols + 2;
                int ldb = bCols + 1;
                int ldc = n + 3;
                float[] a = new float[aRows * lda];
                float[] b = new float[bRows * ldb];
                float[] c = new float[m * ldc];
                for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
                for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
                for (int i = 0; i < c.length; i++) c[i] = (float) r.nextGaussian();
                float[] expected = c.clone();
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int l = 0; l < k; l++) {
                            float x = transA ? a[l * lda + i] : a[i * lda + l];
                            float y = transB ? b[j * ldb + l] : b[l * ldb + j];
                            s += (double) x * y;
                        }
                        expected[i * ldc + j] = (float) (1.5 * s + 0.5 * c[i * ldc + j]);
                    }
                }
                Cublas.ColumnMajorGemm g = Cublas.ColumnMajorGemm.forRowMajor(transA, transB, m, n, k, lda, ldb);
                float[] got = c.clone();
                // cuBLAS's first operand is the row-major B, its second the row-major A (as Cublas.gemm passes them)
                columnMajorSgemm(g.transa(), g.transb(), g.m(), g.n(), g.k(), 1.5f, b, g.lda(), a, g.ldb(), 0.5f, got, ldc);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(expected[i], got[i], 1e-5f, "transA=" + transA + " transB=" + transB + " at " + i);
                }
            }
        }
    }
}
