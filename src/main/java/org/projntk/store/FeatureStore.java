package org.projntk.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.projntk.data.Npy;

/**
 * A directory of projected features: {@code manifest.json}, one {@code .npy} file per (checkpoint, split, class) and one
 * completion bitmap per (checkpoint, split). See docs/store.md. Several processes may write disjoint batches of one
 * store at once; creation and manifest updates are serialised with a file lock on {@code <store>/.lock}.
 */
public final class FeatureStore {
    /** The manifest's file name in the store folder. */
    public static final String MANIFEST = "manifest.json";
    /** The lock file's name in the store folder; it stays behind, empty, and must not be deleted while writers run. */
    public static final String LOCK = ".lock";

    static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    /** FileLock is per process; threads of this JVM also serialise on one monitor per store directory. */
    private static final Map<Path, Object> JVM_LOCKS = new ConcurrentHashMap<>();

    private final Path dir;
    private final StoreIo io;
    private volatile Manifest manifest;

    private FeatureStore(Path dir, StoreIo io, Manifest manifest) {
        this.dir = dir;
        this.io = io;
        this.manifest = manifest;
    }

    /**
     * Creates a new store, creating the folder if needed.
     *
     * @param dir the store folder
     * @param spec what it computes
     * @return the store
     * @throws IllegalStateException if {@code dir} already holds one
     * @throws StoreIOException if the folder or manifest cannot be written
     */
    public static FeatureStore create(Path dir, StoreSpec spec) {
        return create(dir, spec, StoreIo.DEFAULT, false);
    }

    /**
     * Opens the store in {@code dir} if its spec equals {@code spec} exactly, or creates it.
     *
     * @param dir the store folder
     * @param spec what it computes
     * @return the store
     * @throws IncompatibleStoreException naming each field that differs from the existing store's
     */
    public static FeatureStore openOrCreate(Path dir, StoreSpec spec) {
        return create(dir, spec, StoreIo.DEFAULT, true);
    }

    static FeatureStore openOrCreate(Path dir, StoreSpec spec, StoreIo io) {
        return create(dir, spec, io, true);
    }

    private static FeatureStore create(Path dir, StoreSpec spec, StoreIo io, boolean mayExist) {
        Objects.requireNonNull(spec, "spec");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StoreIOException(dir, "cannot create store directory", e);
        }
        Path abs = dir.toAbsolutePath().normalize();
        return locked(abs, () -> {
            Path m = abs.resolve(MANIFEST);
            if (Files.exists(m)) {
                if (!mayExist) throw new IllegalStateException("a store already exists in " + abs + " (use openOrCreate or open)");
                Manifest existing = readManifest(abs);
                requireCompatible(abs, existing.spec(), spec);
                return new FeatureStore(abs, io, existing);
            }
            Manifest fresh = Manifest.empty(spec);
            writeManifest(abs, fresh);
            return new FeatureStore(abs, io, fresh);
        });
    }

    /**
     * Opens an existing store for reading (and for writing checkpoints of its own spec).
     *
     * @param dir the store folder
     * @return the store
     * @throws java.io.UncheckedIOException if there is no manifest or it cannot be read
     * @throws IllegalStateException if the manifest is not a projntk store's, or of another format version
     */
    public static FeatureStore open(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        return new FeatureStore(abs, StoreIo.DEFAULT, readManifest(abs));
    }

    /** {@return the store folder, absolute and normalised} */
    public Path dir() {
        return dir;
    }

    /** {@return the manifest as last read or written by this object} */
    public Manifest manifest() {
        return manifest;
    }

    /** {@return the manifest re-read from disk (other processes may have added checkpoints or completed them)} */
    public Manifest reload() {
        manifest = readManifest(dir);
        return manifest;
    }

    /** {@return what the store computes: projector, kernel, outputs, dtype and splits} */
    public StoreSpec spec() {
        return manifest.spec();
    }

    /**
     * Registers a checkpoint (or joins one registered by another process with the same checksum) and returns its writer.
     * Feature files and completion bitmaps are created at full size and the manifest is written before any row.
     *
     * @param id the checkpoint id, a file-name-safe name
     * @param model the model spec
     * @param checksum hex SHA-256 of the weights
     * @return the writer
     */
    public CheckpointWriter checkpoint(String id, String model, String checksum) {
        return checkpoint(id, new Manifest.Checkpoint(model, checksum, Manifest.Checkpoint.RUNNING));
    }

    /**
     * As {@link #checkpoint(String, String, String)}, recording the model's gradient length P (used by TRAK-compatible
     * scores).
     *
     * @param id the checkpoint id
     * @param model the model spec
     * @param checksum hex SHA-256 of the weights
     * @param parameters P, or null
     * @return the writer
     */
    public CheckpointWriter checkpoint(String id, String model, String checksum, Long parameters) {
        return checkpoint(id, new Manifest.Checkpoint(model, checksum, Manifest.Checkpoint.RUNNING, null, null, null, parameters, null));
    }

    /**
     * Registers a checkpoint with its provenance (model, seed, checksum, parameter selection, P, input normalisation,
     * device and precision), or joins an existing one (a resume or another shard) only if every recorded field but the
     * device is equal (the device does not change R, so shards may run on different GPUs); otherwise throws
     * {@link IncompatibleStoreException} naming each differing field. A new checkpoint takes the next model id.
     *
     * @param id the checkpoint id, a file-name-safe name
     * @param provenance what the features are computed from (its model id is assigned here)
     * @return the writer
     */
    public CheckpointWriter checkpoint(String id, Manifest.Checkpoint provenance) {
        checkName("checkpoint id", id);
        Objects.requireNonNull(provenance, "provenance");
        Objects.requireNonNull(provenance.model(), "model");
        Objects.requireNonNull(provenance.modelChecksum(), "model checksum");
        String checksum = provenance.modelChecksum();
        locked(dir, () -> {
            Manifest m = readManifest(dir);
            Manifest.Checkpoint existing = m.checkpoints().get(id);
            if (existing != null) {
                List<String> diffs = new ArrayList<>();
                String p = "checkpoints." + id + ".";
                diff(diffs, p + "model_checksum", existing.modelChecksum(), checksum);
                diff(diffs, p + "model", existing.model(), provenance.model());
                if (existing.hasProvenance() || provenance.hasProvenance()) {
                    diff(diffs, p + "model_seed", existing.modelSeed(), provenance.modelSeed());
                    diff(diffs, p + "params", existing.params(), provenance.params());
                    diff(diffs, p + "parameters", existing.parameters(), provenance.parameters());
                    diff(diffs, p + "input_normalization", existing.inputNormalization(), provenance.inputNormalization());
                }
                // TF32 and fp32 features differ in their low bits: one checkpoint holds one arithmetic
                if (existing.precision() != null && provenance.precision() != null) {
                    diff(diffs, p + "precision", existing.precision(), provenance.precision());
                }
                if (!diffs.isEmpty()) {
                    throw new IncompatibleStoreException("incompatible store " + dir + ": " + String.join("; ", diffs));
                }
                for (Manifest.FileEntry f : m.files()) if (f.checkpoint().equals(id)) requireFile(dir.resolve(f.path()));
                for (Manifest.CompletionEntry c : m.completion()) if (c.checkpoint().equals(id)) requireFile(dir.resolve(c.path()));
                manifest = m;
                return null;
            }
            List<Manifest.FileEntry> files = new ArrayList<>();
            List<Manifest.CompletionEntry> done = new ArrayList<>();
            List<Manifest.FileEntry> outToLoss = new ArrayList<>();
            Npy.Dtype dtype = npyDtype(m.dtype());
            for (var s : m.splits().entrySet()) {
                long rows = s.getValue().rows();
                for (int c = 0; c < m.outputs(); c++) {
                    Integer clazz = m.outputs() == 1 ? null : c;
                    String rel = id + "/" + s.getKey() + (clazz == null ? "" : ".class" + c) + ".npy";
                    prepareFeatureFile(dir.resolve(rel), dtype, rows, m.projector().k());
                    files.add(new Manifest.FileEntry(id, s.getKey(), clazz, rows, m.projector().k(), m.dtype(), rel));
                }
                if ("margin".equals(m.kernel())) {
                    String qRel = id + "/" + s.getKey() + ".q.npy";
                    prepareFeatureFile(dir.resolve(qRel), Npy.Dtype.FLOAT32, rows, 1);
                    outToLoss.add(new Manifest.FileEntry(id, s.getKey(), null, rows, 1, "float32", qRel));
                }
                String rel = id + "/" + s.getKey() + ".done";
                prepareCompletion(dir.resolve(rel), rows);
                done.add(new Manifest.CompletionEntry(id, s.getKey(), rows, rel));
            }
            // each new checkpoint takes the next model id, so that its projection differs from the others' (TRAK)
            long modelId = m.projector().modelId() + m.checkpoints().size();
            Manifest.Checkpoint registered = new Manifest.Checkpoint(provenance.model(), provenance.modelChecksum(),
                    Manifest.Checkpoint.RUNNING, modelId, provenance.modelSeed(), provenance.params(), provenance.parameters(),
                    provenance.inputNormalization(), null, provenance.device(), provenance.precision());
            Manifest updated = m.withCheckpoint(id, registered, files, done, outToLoss);
            writeManifest(dir, updated);
            manifest = updated;
            return null;
        });
        return new CheckpointWriter(this, id);
    }

    /**
     * A read-only view of stored features; float16 is converted to float32 on read. Close it to unmap. The file's
     * checksum is verified before its first use in this process.
     *
     * @param checkpoint the checkpoint id
     * @param split the split's name
     * @param clazz the class for per-class kernels, else null
     * @return the features [rows x K]; the caller closes it
     * @throws IllegalArgumentException if the store has no such file
     * @throws ChecksumMismatchException naming the file, the batch and both checksums when its bytes changed
     */
    public StoredMatrix features(String checkpoint, String split, Integer clazz) {
        Manifest m = manifest;
        Manifest.FileEntry f = m.file(checkpoint, split, clazz);
        Checksums.verifyOnce(dir, m, f, false);
        return new StoredMatrix(dir.resolve(f.path()), f.rows(), f.dim());
    }

    /**
     * The out-to-loss weights Q = 1 - softmax(logits)[y] of (checkpoint, split), one per row; stored by margin
     * featurization. Rows not yet done read 0.
     *
     * @param checkpoint the checkpoint id
     * @param split the split's name
     * @return one weight per row, in [0, 1]
     * @throws IllegalArgumentException if the store holds no weights for them (not a margin store)
     * @throws ChecksumMismatchException when the file's bytes changed
     */
    public float[] outToLoss(String checkpoint, String split) {
        Manifest.FileEntry f = manifest.outToLossFile(checkpoint, split);
        if (f == null) {
            throw new IllegalArgumentException("store " + dir + " has no out-to-loss weights for checkpoint '" + checkpoint + "', split '"
                    + split + "' (they are stored by featurize --kernel margin)");
        }
        Checksums.verifyOnce(dir, manifest, f, true);
        try (StoredMatrix q = new StoredMatrix(dir.resolve(f.path()), f.rows(), 1)) {
            float[] out = new float[Math.toIntExact(f.rows())];
            MemorySegment.copy(q.rows(0, out.length), ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, out, 0, out.length);
            return out;
        }
    }

    /**
     * Counts the rows marked done, reading the bitmap now.
     *
     * @param checkpoint the checkpoint id
     * @param split the split's name
     * @return the rows of (checkpoint, split) marked done
     */
    public long doneRows(String checkpoint, String split) {
        byte[] b = completion(checkpoint, split);
        long n = 0;
        for (byte x : b) if (x == 1) n++;
        return n;
    }

    /**
     * Whether a checkpoint is complete, after re-reading the manifest.
     *
     * @param checkpoint the checkpoint id
     * @return true once every row of every split is done
     * @throws IllegalArgumentException if there is no such checkpoint
     */
    public boolean isComplete(String checkpoint) {
        Manifest.Checkpoint c = reload().checkpoints().get(checkpoint);
        if (c == null) throw new IllegalArgumentException("store " + dir + " has no checkpoint '" + checkpoint + "'");
        return c.status().equals(Manifest.Checkpoint.COMPLETE);
    }

    // ---------------------------------------------------------------- package-private helpers used by CheckpointWriter

    StoreIo io() {
        return io;
    }

    /** The completion bitmap of (checkpoint, split), read now. */
    byte[] completion(String checkpoint, String split) {
        Manifest.CompletionEntry e = manifest.completionFile(checkpoint, split);
        Path p = dir.resolve(e.path());
        try {
            byte[] b = Files.readAllBytes(p);
            if (b.length != e.rows()) {
                throw new IllegalStateException("completion bitmap " + p + " has " + b.length + " bytes, expected " + e.rows());
            }
            return b;
        } catch (IOException ex) {
            throw new StoreIOException(p, "cannot read completion bitmap", ex);
        }
    }

    /** Sets the checkpoint's status to complete if every row of every split is done. */
    boolean markComplete(String id) {
        return locked(dir, () -> {
            Manifest m = readManifest(dir);
            manifest = m;
            for (String split : m.splits().keySet()) {
                for (byte x : completion(id, split)) if (x != 1) return false;
            }
            if (!m.checkpoints().get(id).status().equals(Manifest.Checkpoint.COMPLETE)) {
                m = m.withFileChecksums(fileChecksums(m, id)).withStatus(id, Manifest.Checkpoint.COMPLETE);
                writeManifest(dir, m);
                manifest = m;
            }
            return true;
        });
    }

    /** Whole-file CRC32Cs of a checkpoint's feature and out-to-loss files, by path, checking each batch on the way. */
    private Map<String, String> fileChecksums(Manifest m, String id) {
        Map<String, String> out = new java.util.HashMap<>();
        for (Manifest.FileEntry f : m.files()) {
            if (f.checkpoint().equals(id)) out.put(f.path(), Checksums.fileCrcCheckingBatches(dir, m, f, false));
        }
        if (m.outToLoss() != null) {
            for (Manifest.FileEntry f : m.outToLoss()) {
                if (f.checkpoint().equals(id)) out.put(f.path(), Checksums.fileCrcCheckingBatches(dir, m, f, true));
            }
        }
        return out;
    }

    /** Records a written batch's checksums (under the lock, atomic manifest replace) before its rows are marked done. */
    void recordBatch(Manifest.BatchEntry batch) {
        locked(dir, () -> {
            Manifest m = readManifest(dir).withBatch(batch);
            writeManifest(dir, m);
            manifest = m;
            return null;
        });
    }

    /**
     * Records the gradient path that writes the checkpoint's rows, or checks it against the one recorded by an earlier
     * run or another shard; a different path is refused before any row is written with it.
     */
    void recordGradientPath(String id, String path) {
        locked(dir, () -> {
            Manifest m = readManifest(dir);
            manifest = m;
            String recorded = m.checkpoints().get(id).gradientPath();
            if (recorded == null) {
                m = m.withGradientPath(id, path);
                writeManifest(dir, m);
                manifest = m;
            } else if (!recorded.equals(path)) {
                throw new IncompatibleStoreException("incompatible store " + dir + ": the rows of checkpoint '" + id
                        + "' were computed with the " + recorded + " gradient path, this run uses the " + path
                        + " path (the two differ in the last bits); resume it with --grad " + recorded + " (GradStrategy." + recorded.toUpperCase(java.util.Locale.ROOT) + ")"
                        + ", or write to a new store");
            }
            return null;
        });
    }

    /**
     * Checks the whole store: manifest, every feature, out-to-loss and completion file (presence, size, header) and every
     * recorded checksum. Returns one line per problem, empty when the store is sound. Files without any checksum (stores
     * written before checksums were recorded) are problems too; {@link #rehash()} records them.
     *
     * @return one line per problem, each naming the file; empty when the store is sound
     */
    public List<String> verify() {
        return StoreVerifier.problems(dir, reload());
    }

    /**
     * Records checksums where the manifest has none: the whole-file CRC32C of each file of a complete checkpoint, and
     * one batch entry per run of done rows for a running one. Existing checksums are kept (and still checked by
     * {@link #verify()}).
     *
     * @return the number of files that got a checksum
     */
    public int rehash() {
        return locked(dir, () -> {
            Manifest m = readManifest(dir);
            int[] count = {0};
            Manifest updated = StoreVerifier.rehash(this, m, count);
            if (updated != m) {
                writeManifest(dir, updated);
                manifest = updated;
            }
            return count[0];
        });
    }

    static Npy.Dtype npyDtype(String dtype) {
        return switch (dtype) {
            case "float32" -> Npy.Dtype.FLOAT32;
            case "float16" -> Npy.Dtype.FLOAT16;
            default -> throw new IllegalArgumentException("unsupported store dtype " + dtype);
        };
    }

    static void checkName(String what, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " '" + name + "' must match " + NAME.pattern() + " (it becomes a file name)");
        }
    }

    private void requireFile(Path p) {
        if (!Files.isRegularFile(p)) throw new IllegalStateException("store " + dir + " is damaged: " + p + " is missing");
    }

    /** Keeps an existing file with the right header and size (a crash after creation); otherwise writes a fresh one. */
    private void prepareFeatureFile(Path p, Npy.Dtype dtype, long rows, int k) throws IOException {
        byte[] header = Npy.header(dtype, rows, k);
        long size = header.length + rows * k * dtype.size;
        if (Files.isRegularFile(p) && Files.size(p) == size) {
            try {
                Npy.Header h = Npy.readHeader(p);
                if (h.dtype() == dtype && !h.fortranOrder() && java.util.Arrays.equals(h.shape(), new long[] {rows, k})) return;
            } catch (RuntimeException e) {
                // rewrite below
            }
        }
        Files.createDirectories(p.getParent());
        Files.deleteIfExists(p);
        writeSized(p, header, size);
    }

    private void prepareCompletion(Path p, long rows) throws IOException {
        if (Files.isRegularFile(p) && Files.size(p) == rows) return;
        Files.createDirectories(p.getParent());
        Files.deleteIfExists(p);
        writeSized(p, new byte[0], rows);
    }

    /** Writes head at 0 and extends the file to size bytes (zeros), then forces it. */
    private void writeSized(Path p, byte[] head, long size) {
        try (StoreIo.WritableFile f = io.open(p)) {
            f.write(ByteBuffer.wrap(head), 0);
            if (size > head.length) f.write(ByteBuffer.allocate(1), size - 1);
            f.force();
        } catch (IOException e) {
            throw new StoreIOException(p, "cannot create", e);
        }
    }

    // ---------------------------------------------------------------- manifest and lock

    static Manifest readManifest(Path dir) {
        Path m = dir.resolve(MANIFEST);
        try {
            Manifest man = JSON.readValue(Files.readAllBytes(m), Manifest.class);
            if (!Manifest.FORMAT.equals(man.format())) throw new IllegalStateException(m + " is not a projntk feature store manifest");
            if (man.formatVersion() != Manifest.VERSION) {
                throw new IllegalStateException(m + " has format version " + man.formatVersion() + ", this build reads " + Manifest.VERSION);
            }
            return man;
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("no feature store in " + dir + " (missing " + MANIFEST + ")", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + m + ": " + e.getMessage(), e);
        }
    }

    /** Atomic replace: temp file, fsync, rename, fsync directory. */
    static void writeManifest(Path dir, Manifest man) {
        Path tmp = dir.resolve(MANIFEST + ".tmp");
        Path target = dir.resolve(MANIFEST);
        try {
            byte[] bytes = JSON.writeValueAsBytes(man);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) ch.write(b);
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException e) {
                // some file systems cannot fsync a directory; the rename itself is still atomic
            }
        } catch (IOException e) {
            throw new StoreIOException(target, "cannot write manifest", e);
        }
    }

    interface LockedAction<T> {
        T run() throws IOException;
    }

    @SuppressWarnings("try")
    static <T> T locked(Path dir, LockedAction<T> action) {
        Object monitor = JVM_LOCKS.computeIfAbsent(dir, k -> new Object());
        synchronized (monitor) {
            Path lockFile = dir.resolve(LOCK);
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                return action.run();
            } catch (IOException e) {
                throw new StoreIOException(lockFile, "I/O failure under the store lock", e);
            }
        }
    }

    static void requireCompatible(Path dir, StoreSpec have, StoreSpec want) {
        List<String> diffs = new ArrayList<>();
        ProjectorInfo a = have.projector(), b = want.projector();
        diff(diffs, "projector.kind", a.kind(), b.kind());
        diff(diffs, "projector.rng", a.rng(), b.rng());
        diff(diffs, "projector.seed", a.seed(), b.seed());
        diff(diffs, "projector.model_id", a.modelId(), b.modelId());
        diff(diffs, "projector.k", a.k(), b.k());
        diff(diffs, "projector.sjlt_s", a.sjltS(), b.sjltS());
        diff(diffs, "projector.scaled", a.scaled(), b.scaled());
        diff(diffs, "kernel", have.kernel(), want.kernel());
        diff(diffs, "outputs", have.outputs(), want.outputs());
        diff(diffs, "dtype", have.dtype(), want.dtype());
        diff(diffs, "splits", have.splits().keySet(), want.splits().keySet());
        for (var e : want.splits().entrySet()) {
            SplitInfo x = have.splits().get(e.getKey()), y = e.getValue();
            if (x == null) continue;
            String p = "splits." + e.getKey() + ".";
            diff(diffs, p + "dataset", x.dataset(), y.dataset());
            diff(diffs, p + "start", x.start(), y.start());
            diff(diffs, p + "end", x.end(), y.end());
        }
        if (!diffs.isEmpty()) throw new IncompatibleStoreException("incompatible store " + dir + ": " + String.join("; ", diffs));
    }

    private static void diff(List<String> out, String field, Object have, Object want) {
        if (!Objects.equals(have, want)) out.add(field + " differs: store has " + have + ", requested " + want);
    }
}
