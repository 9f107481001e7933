package org.projntk.store;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.projntk.data.Npy;

/**
 * Writes the features of one checkpoint. Each {@link #writeRows} call writes the feature rows with positional writes,
 * forces them to disk, and only then marks the rows done in the completion bitmap (also forced): a row marked done
 * always has its data on disk, so after a crash exactly the unmarked rows are recomputed. Between the two, the batch's
 * CRC32C per file is recorded in the manifest (atomic replace under the store lock).
 */
public final class CheckpointWriter {
    private final FeatureStore store;
    private final String id;
    private String recordedPath;

    CheckpointWriter(FeatureStore store, String id) {
        this.store = store;
        this.id = id;
    }

    /** {@return the checkpoint id} */
    public String id() {
        return id;
    }

    /**
     * The batches of the fixed grid (batch b covers rows [b*B, min((b+1)*B, N))) that belong to shard shardIndex of
     * shardCount (b % shardCount == shardIndex) and have at least one row not done. Reads the bitmap now.
     *
     * @param split the split's name
     * @param batchSize B, at least 1
     * @param shardIndex this shard, in [0, shardCount)
     * @param shardCount the number of shards, at least 1
     * @return the pending batches in row order, each whole (rows already done in it are recomputed)
     * @throws IllegalArgumentException for a batch size or shard out of range
     */
    public List<RowRange> pendingBatches(String split, int batchSize, int shardIndex, int shardCount) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        if (shardCount < 1 || shardIndex < 0 || shardIndex >= shardCount) {
            throw new IllegalArgumentException("bad shard " + shardIndex + "/" + shardCount + " (need 0 <= index < count)");
        }
        byte[] done = store.completion(id, split);
        long n = done.length;
        long batches = (n + batchSize - 1) / batchSize;
        List<RowRange> out = new ArrayList<>();
        for (long b = shardIndex; b < batches; b += shardCount) {
            long start = b * batchSize;
            int count = (int) Math.min(batchSize, n - start);
            for (int r = 0; r < count; r++) {
                if (done[(int) (start + r)] != 1) {
                    out.add(new RowRange(start, count));
                    break;
                }
            }
        }
        return out;
    }

    /**
     * Records the per-example gradient path ("functional" or "iterative") about to write rows, or checks it against the
     * path recorded by an earlier run or another shard of this checkpoint.
     *
     * @param path "functional" or "iterative"
     * @throws IllegalArgumentException for another path name
     * @throws IncompatibleStoreException when the checkpoint's rows were written with the other path
     */
    public void gradientPath(String path) {
        if (!path.equals("functional") && !path.equals("iterative")) {
            throw new IllegalArgumentException("gradient path must be functional or iterative, got '" + path + "'");
        }
        if (!path.equals(recordedPath)) {
            store.recordGradientPath(id, path);
            recordedPath = path;
        }
    }

    /** {@return the gradient path recorded for this checkpoint (re-reading the manifest), or null before its first rows} */
    public String recordedGradientPath() {
        return store.reload().checkpoints().get(id).gradientPath();
    }

    /**
     * Counts the split's rows marked done, by every shard.
     *
     * @param split the split's name
     * @return the rows marked done
     */
    public long doneRows(String split) {
        return store.doneRows(id, split);
    }

    /**
     * Stores rows [firstRow, firstRow + rows) of split. features is float32 (native byte order) laid out
     * [outputs][rows][K]; output c goes to its own file. Rejects NaN/Inf (and float16 overflow) before writing anything.
     *
     * @param split the split's name
     * @param firstRow the first row, in the split's row numbering
     * @param rows the number of rows
     * @param features [outputs][rows][K] float32
     * @throws StoreIOException naming the file if a write fails; the rows then stay pending.
     */
    public void writeRows(String split, long firstRow, int rows, MemorySegment features) {
        writeRows(split, firstRow, rows, features, null);
    }

    /**
     * As {@link #writeRows(String, long, int, MemorySegment)}, also storing the rows' out-to-loss weights
     * (outToLoss[i] for row firstRow + i) before they are marked done. Stores of kernel margin require them.
     *
     * @param split the split's name
     * @param firstRow the first row
     * @param rows the number of rows
     * @param features [outputs][rows][K] float32
     * @param outToLoss one weight per row for margin stores, else null
     */
    public void writeRows(String split, long firstRow, int rows, MemorySegment features, float[] outToLoss) {
        Manifest m = store.manifest();
        Manifest.FileEntry qFile = m.outToLossFile(id, split);
        if (qFile != null && outToLoss == null) {
            throw new IllegalArgumentException("a margin store needs the out-to-loss weights of every row written (split '" + split + "')");
        }
        if (qFile == null && outToLoss != null) {
            throw new IllegalArgumentException("this store (kernel " + m.kernel() + ") keeps no out-to-loss weights");
        }
        if (outToLoss != null) {
            if (outToLoss.length != rows) throw new IllegalArgumentException("got " + outToLoss.length + " out-to-loss weights for " + rows + " rows");
            for (int i = 0; i < rows; i++) {
                if (!(outToLoss[i] >= 0 && outToLoss[i] <= 1)) {
                    throw new IllegalArgumentException("out-to-loss weight " + outToLoss[i] + " of row " + (firstRow + i) + " is not in [0, 1] (nothing written)");
                }
            }
        }
        SplitInfo s = m.spec().split(split);
        if (rows < 0 || firstRow < 0 || firstRow + rows > s.rows()) {
            throw new IllegalArgumentException("rows [" + firstRow + ", " + (firstRow + rows) + ") out of range for split '"
                    + split + "' with " + s.rows() + " rows");
        }
        int k = m.projector().k();
        int outputs = m.outputs();
        long per = (long) rows * k;
        if (features.byteSize() != per * outputs * Float.BYTES) {
            throw new IllegalArgumentException("features hold " + features.byteSize() + " bytes, expected " + outputs + " x "
                    + rows + " x " + k + " float32 = " + per * outputs * Float.BYTES);
        }
        if (per > Integer.MAX_VALUE / 4) throw new IllegalArgumentException("write at most " + (Integer.MAX_VALUE / 4 / k) + " rows at a time");
        Npy.Dtype dtype = FeatureStore.npyDtype(m.dtype());
        ByteBuffer[] encoded = new ByteBuffer[outputs];
        float[] buf = new float[(int) per];
        for (int c = 0; c < outputs; c++) {
            MemorySegment.copy(features, ValueLayout.JAVA_FLOAT, c * per * Float.BYTES, buf, 0, (int) per);
            for (int i = 0; i < buf.length; i++) {
                float v = buf[i];
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("non-finite feature " + v + " at output " + c + ", row "
                            + (firstRow + i / k) + ", column " + i % k + " of split '" + split + "' (nothing written)");
                }
                if (dtype == Npy.Dtype.FLOAT16 && Float.isInfinite(Float.float16ToFloat(Float.floatToFloat16(v)))) {
                    throw new IllegalArgumentException("feature " + v + " at output " + c + ", row " + (firstRow + i / k)
                            + " overflows float16 (nothing written)");
                }
            }
            encoded[c] = encode(dtype, buf);
        }
        List<String> crcs = new ArrayList<>(outputs);
        for (int c = 0; c < outputs; c++) {
            Manifest.FileEntry f = m.file(id, split, outputs == 1 ? null : c);
            long header = Npy.header(dtype, f.rows(), f.dim()).length;
            crcs.add(Checksums.crc(encoded[c]));
            write(store.dir().resolve(f.path()), encoded[c], header + firstRow * k * dtype.size);
        }
        String qCrc = null;
        if (outToLoss != null) {
            long header = Npy.header(Npy.Dtype.FLOAT32, qFile.rows(), 1).length;
            ByteBuffer q = encode(Npy.Dtype.FLOAT32, outToLoss);
            qCrc = Checksums.crc(q);
            write(store.dir().resolve(qFile.path()), q, header + firstRow * Float.BYTES);
        }
        // the checksums reach the manifest after the data is forced and before the rows are marked done
        if (rows > 0) store.recordBatch(new Manifest.BatchEntry(id, split, firstRow, rows, List.copyOf(crcs), qCrc));
        byte[] ones = new byte[rows];
        Arrays.fill(ones, (byte) 1);
        write(store.dir().resolve(m.completionFile(id, split).path()), ByteBuffer.wrap(ones), firstRow);
    }

    /**
     * Sets the checkpoint's status to complete if every row of every split is done, recording each file's CRC32C.
     *
     * @return whether the checkpoint is complete
     */
    public boolean markComplete() {
        return store.markComplete(id);
    }

    private static ByteBuffer encode(Npy.Dtype dtype, float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * dtype.size).order(ByteOrder.LITTLE_ENDIAN);
        if (dtype == Npy.Dtype.FLOAT16) {
            for (float x : v) b.putShort(Float.floatToFloat16(x));
        } else {
            b.asFloatBuffer().put(v);
            b.position(b.capacity());
        }
        return b.flip();
    }

    private void write(Path p, ByteBuffer data, long position) {
        try (StoreIo.WritableFile f = store.io().open(p)) {
            f.write(data, position);
            f.force();
        } catch (IOException e) {
            throw new StoreIOException(p, "cannot write", e);
        }
    }
}
