package org.projntk.kernel;

import java.io.IOException;
import java.io.Writer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Streaming top-k: for every kernel row (test example), the k columns (train examples) with the largest kernel
 * value, ties broken by the lower column index. Use it as the {@link TileSink} of {@link Gram#compute}: it keeps a
 * bounded min-heap of size k per row, so the N x M kernel is never materialised: rows * k (float, long) pairs on the
 * heap. Not thread-safe: feed one instance from one thread ({@link Gram#compute} does).
 */
public final class TopK implements TileSink {
    private final int k;
    private final int rows;
    private final float[] score;   // [rows * k] heap storage per row
    private final long[] index;
    private final int[] size;

    /**
     * Per row, indices and scores by rank (best first). Rows with fewer than k columns have shorter arrays. The arrays
     * are not copied.
     *
     * @param indices per kernel row, the column (train) indices of its best entries, [rows][at most k]
     * @param scores  per kernel row, the matching kernel values, same shape as indices
     */
    public record Result(long[][] indices, float[][] scores) {
        /** {@return the number of kernel rows (test examples)} */
        public int rows() {
            return indices.length;
        }

        /**
         * Writes a UTF-8 CSV file with the header {@code test_index,rank,train_index,score}, one line per entry: rank
         * from 1, test_index = testIndexOffset + row, the score with 9 significant digits. Replaces an existing file.
         *
         * @param path            the file written
         * @param testIndexOffset added to every row number, e.g. the split's first dataset row
         * @throws IOException when the file cannot be written
         */
        public void writeCsv(Path path, long testIndexOffset) throws IOException {
            try (Writer w = Files.newBufferedWriter(path, StandardCharsets.UTF_8)) {
                writeCsv(w, testIndexOffset);
            }
        }

        /**
         * As {@link #writeCsv(Path, long)}, to a writer left open.
         *
         * @param w               the destination
         * @param testIndexOffset added to every row number
         * @throws IOException when the writer fails
         */
        public void writeCsv(Writer w, long testIndexOffset) throws IOException {
            w.write("test_index,rank,train_index,score\n");
            for (int i = 0; i < indices.length; i++) {
                for (int r = 0; r < indices[i].length; r++) {
                    w.write((testIndexOffset + i) + "," + (r + 1) + "," + indices[i][r] + ","
                            + String.format(Locale.ROOT, "%.9g", scores[i][r]) + "\n");
                }
            }
        }
    }

    /**
     * An empty top-k for a kernel of {@code rows} rows.
     *
     * @param rows the kernel's rows, at least 0
     * @param k    the entries kept per row, at least 1
     * @throws IllegalArgumentException for k &lt; 1, or rows * k above Integer.MAX_VALUE - 8
     */
    public TopK(long rows, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("top-k needs k >= 1, got " + k);
        }
        if (rows < 0 || rows * (long) k > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("top-k state for " + rows + " rows x k=" + k + " is too large");
        }
        this.k = k;
        this.rows = (int) rows;
        this.score = new float[this.rows * k];
        this.index = new long[this.rows * k];
        this.size = new int[this.rows];
    }

    /**
     * Top-k of every row of the kernel between {@code test} and {@code train} (PNTK or TRNTK; NONE or COSINE make
     * sense for ranking, STD only rescales).
     *
     * @param test  the row operand
     * @param train the column operand
     * @param opt   the kernel (not ENTK), normalisation and tile size
     * @param k     the entries kept per row, at least 1
     * @return the best k columns of every row
     * @throws IllegalArgumentException for ENTK, k &lt; 1, as {@link Gram#compute} does, or for a NaN kernel value
     */
    public static Result compute(List<FeatureMatrix> test, List<FeatureMatrix> train, Gram.Options opt, int k) {
        if (opt.kernel() == KernelKind.ENTK) {
            throw new IllegalArgumentException("top-k similar examples needs an [N x M] kernel: use pntk or trntk, not entk");
        }
        TopK top = new TopK(test.get(0).rows(), k);
        Gram.compute(test, train, opt, top);
        return top.result();
    }

    /** Is (s1, i1) worse than (s2, i2): a lower score, or an equal score with a higher index. */
    private static boolean worse(float s1, long i1, float s2, long i2) {
        return s1 < s2 || (s1 == s2 && i1 > i2);
    }

    /**
     * Offers every entry of a tile to its row's heap.
     *
     * @param rowStart first kernel row of the tile
     * @param colStart first kernel column of the tile
     * @param tr       tile height
     * @param tc       tile width
     * @param tile     float32 row-major [tr x tc], read during the call only
     * @throws IllegalArgumentException for tile rows outside [0, rows), or a NaN value
     */
    @Override
    public void accept(long rowStart, long colStart, int tr, int tc, MemorySegment tile) {
        if (rowStart < 0 || rowStart + tr > rows) {
            throw new IllegalArgumentException("tile rows [" + rowStart + ", " + (rowStart + tr) + ") outside the "
                    + rows + " rows this top-k was made for");
        }
        for (int i = 0; i < tr; i++) {
            int row = (int) rowStart + i;
            int base = row * k;
            for (int j = 0; j < tc; j++) {
                float s = tile.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * tc + j);
                if (Float.isNaN(s)) {
                    throw new IllegalArgumentException("NaN kernel value at (" + row + ", " + (colStart + j) + ")");
                }
                offer(base, row, s, colStart + j);
            }
        }
    }

    private void offer(int base, int row, float s, long idx) {
        int n = size[row];
        if (n < k) {
            // sift up: the root (base) is the worst element
            int pos = n;
            while (pos > 0) {
                int parent = (pos - 1) >>> 1;
                if (!worse(s, idx, score[base + parent], index[base + parent])) {
                    break;
                }
                score[base + pos] = score[base + parent];
                index[base + pos] = index[base + parent];
                pos = parent;
            }
            score[base + pos] = s;
            index[base + pos] = idx;
            size[row] = n + 1;
        } else if (worse(score[base], index[base], s, idx)) {
            siftDown(base, n, s, idx);
        }
    }

    private void siftDown(int base, int n, float s, long idx) {
        int pos = 0;
        while (true) {
            int l = 2 * pos + 1;
            if (l >= n) {
                break;
            }
            int r = l + 1;
            int w = (r < n && worse(score[base + r], index[base + r], score[base + l], index[base + l])) ? r : l;
            if (!worse(score[base + w], index[base + w], s, idx)) {
                break;
            }
            score[base + pos] = score[base + w];
            index[base + pos] = index[base + w];
            pos = w;
        }
        score[base + pos] = s;
        index[base + pos] = idx;
    }

    /**
     * The current top-k per row, best first, ties by the lower column index; the state is unchanged.
     *
     * @return a new result
     */
    public Result result() {
        long[][] idx = new long[rows][];
        float[][] sc = new float[rows][];
        for (int row = 0; row < rows; row++) {
            int n = size[row];
            int base = row * k;
            Integer[] order = new Integer[n];
            for (int t = 0; t < n; t++) {
                order[t] = base + t;
            }
            java.util.Arrays.sort(order, (a, b) -> score[a] != score[b] ? Float.compare(score[b], score[a])
                    : Long.compare(index[a], index[b]));
            idx[row] = new long[n];
            sc[row] = new float[n];
            for (int t = 0; t < n; t++) {
                idx[row][t] = index[order[t]];
                sc[row][t] = score[order[t]];
            }
        }
        return new Result(idx, sc);
    }
}
