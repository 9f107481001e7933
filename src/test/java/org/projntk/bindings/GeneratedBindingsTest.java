package org.projntk.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Calls the generated bindings and checks them against independent references (naive loops, the headers' text). */
class GeneratedBindingsTest {

    static final Path PROJNTK_H = Path.of("native/include/projntk.h");
    static final Path CBLAS_H = Path.of("/usr/include/x86_64-linux-gnu/cblas.h");

    @BeforeAll
    static void loadOpenBlas() {
        for (String p : List.of("/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
                "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0", "/usr/lib/x86_64-linux-gnu/libopenblas.so")) {
            if (Files.isRegularFile(Path.of(p))) {
                System.load(p);
                return;
            }
        }
        fail("OpenBLAS not found (Debian: libopenblas0-pthread)");
    }

    static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian());
        return a;
    }

    @Test
    void sgemmMatchesNaiveLoopForBothTransposes() {
        Random rnd = new Random(42);
        int m = 7, n = 5, k = 9;
        float alpha = 1.5f, beta = -0.25f;
        for (boolean transB : new boolean[] {false, true}) {
            float[] a = random(rnd, m * k);          // row-major m x k
            float[] b = random(rnd, k * n);          // row-major k x n, or n x k when transposed
            float[] c0 = random(rnd, m * n);
            double[] expected = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += (double) a[i * k + p] * (transB ? b[j * k + p] : b[p * n + j]);
                    expected[i * n + j] = alpha * s + beta * (double) c0[i * n + j];
                }
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment sa = arena.allocateFrom(ValueLayout.JAVA_FLOAT, a);
                MemorySegment sb = arena.allocateFrom(ValueLayout.JAVA_FLOAT, b);
                MemorySegment sc = arena.allocateFrom(ValueLayout.JAVA_FLOAT, c0);
                cblas_h.cblas_sgemm(cblas_h.CblasRowMajor(), cblas_h.CblasNoTrans(),
                        transB ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(), m, n, k, alpha, sa, k, sb,
                        transB ? k : n, beta, sc, n);
                float[] got = sc.toArray(ValueLayout.JAVA_FLOAT);
                for (int i = 0; i < m * n; i++) {
                    assertEquals(expected[i], got[i], 1e-5 * (1 + Math.abs(expected[i])), "transB=" + transB + " at " + i);
                }
            }
        }
    }

    @Test
    void sdotMatchesNaiveLoopWithStrides() {
        Random rnd = new Random(7);
        int n = 33;
        float[] x = random(rnd, 2 * n);
        float[] y = random(rnd, 3 * n);
        double expected = 0;
        for (int i = 0; i < n; i++) expected += (double) x[2 * i] * y[3 * i];
        try (Arena arena = Arena.ofConfined()) {
            float got = cblas_h.cblas_sdot(n, arena.allocateFrom(ValueLayout.JAVA_FLOAT, x), 2,
                    arena.allocateFrom(ValueLayout.JAVA_FLOAT, y), 3);
            assertEquals(expected, got, 1e-4 * (1 + Math.abs(expected)));
        }
    }

    @Test
    void dgemmColumnMajorAndOpenBlasQueries() {
        Random rnd = new Random(3);
        int m = 4, n = 3, k = 6;
        double[] a = new double[m * k], b = new double[k * n];
        for (int i = 0; i < a.length; i++) a[i] = rnd.nextDouble() - 0.5;
        for (int i = 0; i < b.length; i++) b[i] = rnd.nextDouble() - 0.5;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sc = arena.allocate(ValueLayout.JAVA_DOUBLE, (long) m * n);
            cblas_h.cblas_dgemm(cblas_h.CblasColMajor(), cblas_h.CblasNoTrans(), cblas_h.CblasNoTrans(), m, n, k, 1.0,
                    arena.allocateFrom(ValueLayout.JAVA_DOUBLE, a), m, arena.allocateFrom(ValueLayout.JAVA_DOUBLE, b), k,
                    0.0, sc, m);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += a[p * m + i] * b[j * k + p];
                    assertEquals(s, sc.getAtIndex(ValueLayout.JAVA_DOUBLE, j * m + i), 1e-12);
                }
            }
        }
        assertTrue(cblas_h.openblas_get_num_threads() >= 1);
        String config = cblas_h.openblas_get_config().getString(0);
        assertTrue(config.contains("OpenBLAS"), config);
        assertFalse(cblas_h.openblas_get_corename().getString(0).isEmpty());
    }

    /** NAME = VALUE pairs of every enum in a header, read with a regex, independent of libclang. */
    static Map<String, Long> enumConstants(Path header) throws IOException {
        String text = Files.readString(header).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
        Map<String, Long> out = new LinkedHashMap<>();
        Matcher body = Pattern.compile("enum\\s*\\w*\\s*\\{([^}]*)\\}").matcher(text);
        while (body.find()) {
            long next = 0;
            for (String item : body.group(1).split(",")) {
                item = item.strip();
                if (item.isEmpty()) continue;
                String[] kv = item.split("=");
                long value = kv.length == 2 ? Long.decode(kv[1].strip()) : next;
                out.put(kv[0].strip(), value);
                next = value + 1;
            }
        }
        return out;
    }

    static long invokeConstant(Class<?> cls, String name) throws ReflectiveOperationException {
        return ((Number) cls.getMethod(name).invoke(null)).longValue();
    }

    @Test
    void projntkEnumConstantsEqualTheHeader() throws Exception {
        Map<String, Long> expected = enumConstants(PROJNTK_H);
        assertTrue(expected.size() >= 20, "regex found only " + expected.keySet());
        for (var e : expected.entrySet()) {
            assertEquals(e.getValue(), invokeConstant(projntk_h.class, e.getKey()), e.getKey());
        }
        // and nothing extra: every generated no-arg int method is a header constant
        for (Method m : projntk_h.class.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && m.getParameterCount() == 0 && m.getReturnType() == int.class) {
                assertTrue(expected.containsKey(m.getName()), "unexpected constant " + m.getName());
            }
        }
    }

    @Test
    void cblasConstantsEqualTheHeader() throws Exception {
        Map<String, Long> expected = enumConstants(CBLAS_H);
        for (String name : List.of("CblasRowMajor", "CblasColMajor", "CblasNoTrans", "CblasTrans", "CblasUpper", "CblasLower")) {
            assertNotNull(expected.get(name), name);
            assertEquals(expected.get(name), invokeConstant(cblas_h.class, name), name);
        }
    }

    static MemoryLayout layoutOf(String cType) {
        String t = cType.replace("const", "").strip();
        if (t.endsWith("*") || t.equals("projntk_grad_consumer")) return projntk_h.C_POINTER;
        return switch (t) {
            case "int", "int32_t" -> ValueLayout.JAVA_INT;
            case "int64_t" -> ValueLayout.JAVA_LONG;
            case "double" -> ValueLayout.JAVA_DOUBLE;
            case "float" -> ValueLayout.JAVA_FLOAT;
            default -> throw new AssertionError("test does not know C type " + cType);
        };
    }

    /** Each projntk function's descriptor equals the one derived from its prototype's text. */
    @Test
    void projntkDescriptorsMatchThePrototypes() throws Exception {
        String text = Files.readString(PROJNTK_H).replaceAll("(?s)/\\*.*?\\*/", "");
        Matcher proto = Pattern.compile("(?m)^(?:PROJNTK_API\\s+)?int\\s+(projntk_\\w+)\\(([^)]*)\\);").matcher(text);
        int count = 0;
        while (proto.find()) {
            List<MemoryLayout> args = new ArrayList<>();
            for (String p : proto.group(2).split(",")) {
                p = p.strip();
                if (p.isEmpty() || p.equals("void")) continue;
                String type = p.replaceAll("\\s*\\b\\w+$", "").replaceAll("\\s+\\*", "*").strip(); // drop the name
                args.add(layoutOf(type));
            }
            FunctionDescriptor want = FunctionDescriptor.of(ValueLayout.JAVA_INT, args.toArray(MemoryLayout[]::new));
            FunctionDescriptor got = (FunctionDescriptor) projntk_h.class.getMethod(proto.group(1) + "$descriptor").invoke(null);
            assertEquals(want.toMethodType(), got.toMethodType(), proto.group(1));
            assertEquals(want.argumentLayouts().stream().map(l -> l.byteSize()).collect(Collectors.toList()),
                    got.argumentLayouts().stream().map(l -> l.byteSize()).collect(Collectors.toList()), proto.group(1));
            count++;
        }
        assertTrue(count >= 25, "regex found only " + count + " prototypes");
    }

    @Test
    void gradConsumerUpcallRoundTrips() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f, 2f, 3f, 4f, 5f, 6f);
            MemorySegment ctx = arena.allocate(8);
            double[] seen = new double[1];
            MemorySegment stub = projntk_grad_consumer.allocate((c, output, rowOff, rows, paramOff, cols, b) -> {
                if (!c.equals(ctx) || output != 3 || rowOff != 10 || paramOff != 1L << 40) return 2;
                double s = 0;
                for (long i = 0; i < rows * cols; i++) s += b.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                seen[0] = s;
                return 0;
            }, arena);
            int rc = projntk_grad_consumer.invoke(stub, ctx, 3, 10, 2, 1L << 40, 3, block);
            assertEquals(0, rc);
            assertEquals(21.0, seen[0]);
            assertEquals(2, projntk_grad_consumer.invoke(stub, ctx, 4, 10, 2, 1L << 40, 3, block));
        }
    }

    @Test
    void missingSymbolFailsOnlyWhenCalledAndNamesIt() {
        // libcudart is not loaded on a CPU-only test run; the class itself must still load fine.
        assertEquals(1, cudart_h.cudaMemcpyHostToDevice());
        if (SymbolLookup.loaderLookup().find("cudaGetDeviceCount").isPresent()) return; // CUDA loaded by someone
        try (Arena arena = Arena.ofConfined()) {
            UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                    () -> cudart_h.cudaGetDeviceCount(arena.allocate(ValueLayout.JAVA_INT)));
            assertEquals("unresolved symbol: cudaGetDeviceCount", e.getMessage());
            // the same clear error again, not a NoClassDefFoundError from a failed class initialiser
            e = assertThrows(UnsatisfiedLinkError.class, () -> cudart_h.cudaGetDeviceCount(MemorySegment.NULL));
            assertEquals("unresolved symbol: cudaGetDeviceCount", e.getMessage());
        }
    }
}
