package org.projntk.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TopKTest {
    /** Reference: full sort of each row by (score desc, index asc). */
    static long[] fullSort(float[] row, int k) {
        Integer[] idx = new Integer[row.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, Comparator.<Integer>comparingDouble(j -> -row[j]).thenComparingInt(j -> j));
        return Arrays.stream(idx).limit(k).mapToLong(Integer::longValue).toArray();
    }

    @Test
    void matchesFullSortWithManyTies() {
        Random r = new Random(7);
        // small integer features: many equal kernel values
        float[][] test = new float[9][4];
        float[][] train = new float[23][4];
        for (float[] row : test) {
            for (int j = 0; j < 4; j++) {
                row[j] = r.nextInt(3) - 1;
            }
        }
        for (float[] row : train) {
            for (int j = 0; j < 4; j++) {
                row[j] = r.nextInt(3) - 1;
            }
        }
        List<FeatureMatrix> a = List.of(ArrayFeatureMatrix.of(test));
        List<FeatureMatrix> b = List.of(ArrayFeatureMatrix.of(train));
        Gram.Options opt = Gram.Options.builder().kernel(KernelKind.PNTK).normalization(KernelNormalization.NONE).tiles(4, 5).build();
        KernelMatrix full = Gram.computeMatrix(a, b, opt);
        for (int k : new int[] {1, 5, 23, 40}) {
            TopK.Result res = TopK.compute(a, b, opt, k);
            for (int i = 0; i < 9; i++) {
                float[] row = full.row(i);
                long[] want = fullSort(row, k);
                assertArrayEquals(want, res.indices()[i], "row " + i + " k=" + k);
                for (int t = 0; t < want.length; t++) {
                    assertEquals(row[(int) want[t]], res.scores()[i][t]);
                }
            }
        }
    }

    @Test
    void cosineTopKOfTrnTk() {
        Random r = new Random(8);
        List<FeatureMatrix> a = List.of(ArrayFeatureMatrix.of(GramTest.random(r, 6, 5)), ArrayFeatureMatrix.of(GramTest.random(r, 6, 5)));
        List<FeatureMatrix> b = List.of(ArrayFeatureMatrix.of(GramTest.random(r, 17, 5)), ArrayFeatureMatrix.of(GramTest.random(r, 17, 5)));
        Gram.Options opt = Gram.Options.builder().kernel(KernelKind.TRNTK).normalization(KernelNormalization.COSINE).tiles(5, 4).build();
        KernelMatrix full = Gram.computeMatrix(a, b, opt);
        TopK.Result res = TopK.compute(a, b, opt, 3);
        for (int i = 0; i < 6; i++) {
            assertArrayEquals(fullSort(full.row(i), 3), res.indices()[i]);
        }
    }

    @Test
    void tiesAcrossTilesPreferLowerIndex() {
        TopK top = new TopK(1, 2);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment t = arena.allocate(3 * Float.BYTES);
            // columns 5,6,7 all 1.0, then columns 0,1,2 = 1.0, 0.5, 1.0 arriving later
            for (int j = 0; j < 3; j++) {
                t.setAtIndex(ValueLayout.JAVA_FLOAT, j, 1f);
            }
            top.accept(0, 5, 1, 3, t);
            t.setAtIndex(ValueLayout.JAVA_FLOAT, 1, 0.5f);
            top.accept(0, 0, 1, 3, t);
        }
        assertArrayEquals(new long[] {0, 2}, top.result().indices()[0]);
    }

    @Test
    void csvHasHeaderAndOneBasedRanks() throws Exception {
        TopK.Result res = new TopK.Result(new long[][] {{4, 2}, {0, 1}}, new float[][] {{0.5f, 0.25f}, {1f, -1f}});
        StringWriter w = new StringWriter();
        res.writeCsv(w, 10);
        String[] lines = w.toString().split("\n");
        assertEquals("test_index,rank,train_index,score", lines[0]);
        assertEquals(5, lines.length);
        String[] f = lines[2].split(",");
        assertEquals("10", f[0]);
        assertEquals("2", f[1]);
        assertEquals("2", f[2]);
        assertEquals(0.25, Double.parseDouble(f[3]), 0);
        assertEquals("11", lines[4].split(",")[0]);
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new TopK(3, 0));
        Random r = new Random(9);
        List<FeatureMatrix> a = List.of(ArrayFeatureMatrix.of(GramTest.random(r, 2, 3)));
        assertThrows(IllegalArgumentException.class,
                () -> TopK.compute(a, a, Gram.Options.of(KernelKind.ENTK, KernelNormalization.NONE), 2));
    }
}
