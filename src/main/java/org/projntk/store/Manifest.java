package org.projntk.store;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The contents of {@code manifest.json}. Immutable; updates produce new instances. Paths in it are relative to the
 * store folder.
 *
 * @param format always {@link #FORMAT}
 * @param formatVersion {@link #VERSION} for stores this version writes
 * @param projector the projection every checkpoint shares (its model id aside)
 * @param kernel pntk, trntk, entk or margin
 * @param outputs feature rows per example: C for trntk and entk, else 1
 * @param dtype the stored element type, float32 or float16
 * @param splits each split's dataset and rows, in featurize order
 * @param checkpoints each checkpoint's provenance and status, in registration order
 * @param files the feature files of every (checkpoint, split, class)
 * @param completion the completion bitmap files of every (checkpoint, split)
 * @param outToLoss the out-to-loss weight files of margin stores; null for other kernels
 * @param batches the checksums of every written batch; null in stores written before batch checksums
 */
public record Manifest(
        @JsonProperty("format") String format,
        @JsonProperty("format_version") int formatVersion,
        @JsonProperty("projector") ProjectorInfo projector,
        @JsonProperty("kernel") String kernel,
        @JsonProperty("outputs") int outputs,
        @JsonProperty("dtype") String dtype,
        @JsonProperty("splits") LinkedHashMap<String, SplitInfo> splits,
        @JsonProperty("checkpoints") LinkedHashMap<String, Checkpoint> checkpoints,
        @JsonProperty("files") List<FileEntry> files,
        @JsonProperty("completion") List<CompletionEntry> completion,
        @JsonProperty("out_to_loss") List<FileEntry> outToLoss,
        @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("batches") List<BatchEntry> batches) {

    /** The format name every manifest carries. */
    public static final String FORMAT = "projntk-feature-store";
    /** The format version this code writes and reads. */
    public static final int VERSION = 1;

    /**
     * A checkpoint and everything that determines its features besides the store-wide projector, kernel and splits:
     * the model spec (a path or builtin:NAME), its seed (built-ins are initialised from it), the checksum of its
     * weights and buffers, the parameter selection ({@code --params} prefixes, "" for all) and the number P of selected
     * parameters, and the input normalisation the datasets were opened with. {@code modelId} enters its projection
     * (R depends on (seed, model_id, p, k)), so every checkpoint of a store gets its own projection, as in TRAK.
     * Stores written before these were recorded have nulls there ({@code projector.model_id} for every checkpoint).
     * {@code gradientPath} is the per-example gradient path that wrote the rows ("functional" or "iterative"; null until
     * the first rows are written): the two differ in the last bits, so one checkpoint never mixes them.
     * {@code device} is where the run that registered the checkpoint computed ({@code cpu} or {@code cuda:N}; shards
     * may run elsewhere, since the device does not change R), and {@code precision} the projection's arithmetic
     * ({@code fp32}, or {@code tf32} on CUDA tensor cores), which every run that joins the checkpoint must share.
     *
     * @param model the model spec
     * @param modelChecksum hex SHA-256 of the weights ({@link org.projntk.torch.Model#checksum()})
     * @param status {@link #RUNNING} or {@link #COMPLETE}
     * @param modelId the projection's model id; null in older stores
     * @param modelSeed the built-in model's seed; null in older stores
     * @param params the parameter selection, "" for all; null in older stores
     * @param parameters P; null in older stores
     * @param inputNormalization the normalisation in {@link org.projntk.data.Normalization#parse} form; null in older
     *     stores
     * @param gradientPath functional or iterative; null until rows are written
     * @param device cpu or cuda:N; null in older stores
     * @param precision fp32 or tf32; null in older stores
     */
    public record Checkpoint(
            @JsonProperty("model") String model,
            @JsonProperty("model_checksum") String modelChecksum,
            @JsonProperty("status") String status,
            @JsonProperty("model_id") Long modelId,
            @JsonProperty("model_seed") Long modelSeed,
            @JsonProperty("params") String params,
            @JsonProperty("parameters") Long parameters,
            @JsonProperty("input_normalization") String inputNormalization,
            @JsonProperty("gradient_path") String gradientPath,
            @JsonProperty("device") String device,
            @JsonProperty("precision") String precision) {
        /** Status while some rows are not done. */
        public static final String RUNNING = "running";
        /** Status once every row of every split is done and the files' checksums recorded. */
        public static final String COMPLETE = "complete";

        /**
         * A checkpoint without provenance, as stores written before it was recorded hold.
         *
         * @param model the model spec
         * @param modelChecksum hex SHA-256 of the weights
         * @param status running or complete
         */
        public Checkpoint(String model, String modelChecksum, String status) {
            this(model, modelChecksum, status, null, null, null, null, null);
        }

        /**
         * A checkpoint with its provenance; its gradient path, device and precision not recorded yet.
         *
         * @param model the model spec
         * @param modelChecksum hex SHA-256 of the weights
         * @param status running or complete
         * @param modelId the projection's model id
         * @param modelSeed the built-in model's seed
         * @param params the parameter selection, "" for all
         * @param parameters P
         * @param inputNormalization the input normalisation
         */
        public Checkpoint(String model, String modelChecksum, String status, Long modelId, Long modelSeed, String params,
                          Long parameters, String inputNormalization) {
            this(model, modelChecksum, status, modelId, modelSeed, params, parameters, inputNormalization, null);
        }

        /**
         * Without the device and precision (stores written before they were recorded).
         *
         * @param model the model spec
         * @param modelChecksum hex SHA-256 of the weights
         * @param status running or complete
         * @param modelId the projection's model id
         * @param modelSeed the built-in model's seed
         * @param params the parameter selection, "" for all
         * @param parameters P
         * @param inputNormalization the input normalisation
         * @param gradientPath functional or iterative, or null
         */
        public Checkpoint(String model, String modelChecksum, String status, Long modelId, Long modelSeed, String params,
                          Long parameters, String inputNormalization, String gradientPath) {
            this(model, modelChecksum, status, modelId, modelSeed, params, parameters, inputNormalization, gradientPath, null, null);
        }

        /**
         * A checkpoint's provenance before registration (the store assigns its model id).
         *
         * @param model the model spec
         * @param modelChecksum hex SHA-256 of the weights
         * @param status running or complete
         * @param modelSeed the built-in model's seed
         * @param params the parameter selection, "" for all
         * @param parameters P
         * @param inputNormalization the input normalisation
         */
        public Checkpoint(String model, String modelChecksum, String status, Long modelSeed, String params, Long parameters,
                          String inputNormalization) {
            this(model, modelChecksum, status, null, modelSeed, params, parameters, inputNormalization);
        }

        /**
         * This provenance with the run's device and precision.
         *
         * @param device {@code cpu} or {@code cuda:N}
         * @param precision {@code fp32} or {@code tf32}
         * @return the new entry
         */
        public Checkpoint withRun(String device, String precision) {
            return new Checkpoint(model, modelChecksum, status, modelId, modelSeed, params, parameters, inputNormalization,
                    gradientPath, device, precision);
        }

        /**
         * This entry with another status.
         *
         * @param s {@link #RUNNING} or {@link #COMPLETE}
         * @return the new entry
         */
        public Checkpoint withStatus(String s) {
            return new Checkpoint(model, modelChecksum, s, modelId, modelSeed, params, parameters, inputNormalization, gradientPath,
                    device, precision);
        }

        Checkpoint withGradientPath(String path) {
            return new Checkpoint(model, modelChecksum, status, modelId, modelSeed, params, parameters, inputNormalization, path,
                    device, precision);
        }

        /** {@return true when the provenance fields were recorded (stores written by this version on)} */
        @JsonIgnore
        public boolean hasProvenance() {
            return modelSeed != null && params != null && parameters != null && inputNormalization != null;
        }
    }

    /**
     * One feature file: rows x dim of dtype, for one checkpoint, split and (for per-class kernels) class.
     * {@code crc32c} is the CRC32C of the whole file (8 hex digits), recorded when its checkpoint completes; null before,
     * and in stores written before checksums were recorded.
     *
     * @param checkpoint the checkpoint id
     * @param split the split's name
     * @param clazz the class for per-class kernels, else null
     * @param rows the number of examples
     * @param dim the features per row, K
     * @param dtype float32 or float16
     * @param path the .npy file, relative to the store
     * @param crc32c the whole file's CRC32C, 8 hex digits, or null
     */
    public record FileEntry(
            @JsonProperty("checkpoint") String checkpoint,
            @JsonProperty("split") String split,
            @JsonProperty("class") Integer clazz,
            @JsonProperty("rows") long rows,
            @JsonProperty("dim") int dim,
            @JsonProperty("dtype") String dtype,
            @JsonProperty("path") String path,
            @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("crc32c") String crc32c) {
        /**
         * An entry without a checksum yet.
         *
         * @param checkpoint the checkpoint id
         * @param split the split's name
         * @param clazz the class, or null
         * @param rows the number of examples
         * @param dim the features per row
         * @param dtype float32 or float16
         * @param path the file, relative to the store
         */
        public FileEntry(String checkpoint, String split, Integer clazz, long rows, int dim, String dtype, String path) {
            this(checkpoint, split, clazz, rows, dim, dtype, path, null);
        }

        FileEntry withCrc32c(String crc) {
            return new FileEntry(checkpoint, split, clazz, rows, dim, dtype, path, crc);
        }
    }

    /**
     * The checksums of one written batch: rows [start, start + rows) of (checkpoint, split). {@code crc32c} has one
     * CRC32C per feature file of the split (class order; one entry when outputs is 1) over the batch's bytes in that
     * file; {@code outToLossCrc32c} covers the batch's bytes of the out-to-loss file (kernel margin only).
     *
     * @param checkpoint the checkpoint id
     * @param split the split's name
     * @param start the batch's first row
     * @param rows the batch's row count
     * @param crc32c one CRC32C (8 hex digits) per feature file of the split
     * @param outToLossCrc32c the out-to-loss bytes' CRC32C, or null
     */
    public record BatchEntry(
            @JsonProperty("checkpoint") String checkpoint,
            @JsonProperty("split") String split,
            @JsonProperty("start") long start,
            @JsonProperty("rows") long rows,
            @JsonProperty("crc32c") List<String> crc32c,
            @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("out_to_loss_crc32c") String outToLossCrc32c) {
        boolean overlaps(String checkpoint, String split, long start, long rows) {
            return this.checkpoint.equals(checkpoint) && this.split.equals(split) && start < this.start + this.rows
                    && this.start < start + rows;
        }
    }

    /**
     * The completion bitmap (one byte per row: 0 pending, 1 done) of a checkpoint and split.
     *
     * @param checkpoint the checkpoint id
     * @param split the split's name
     * @param rows the number of rows, the file's length in bytes
     * @param path the bitmap file, relative to the store
     */
    public record CompletionEntry(
            @JsonProperty("checkpoint") String checkpoint,
            @JsonProperty("split") String split,
            @JsonProperty("rows") long rows,
            @JsonProperty("path") String path) {}

    static Manifest empty(StoreSpec spec) {
        return new Manifest(FORMAT, VERSION, spec.projector(), spec.kernel(), spec.outputs(), spec.dtype(),
                new LinkedHashMap<>(spec.splits()), new LinkedHashMap<>(), List.of(), List.of(), null, List.of());
    }

    /** {@return what the store computes: projector, kernel, outputs, dtype and splits} */
    @JsonIgnore
    public StoreSpec spec() {
        return new StoreSpec(projector, kernel, outputs, dtype, splits);
    }

    Manifest withCheckpoint(String id, Checkpoint c, List<FileEntry> newFiles, List<CompletionEntry> newCompletion,
                            List<FileEntry> newOutToLoss) {
        LinkedHashMap<String, Checkpoint> cps = new LinkedHashMap<>(checkpoints);
        cps.put(id, c);
        List<FileEntry> f = new ArrayList<>(files);
        f.addAll(newFiles);
        List<CompletionEntry> d = new ArrayList<>(completion);
        d.addAll(newCompletion);
        List<FileEntry> q = outToLoss == null ? new ArrayList<>() : new ArrayList<>(outToLoss);
        q.addAll(newOutToLoss);
        return new Manifest(format, formatVersion, projector, kernel, outputs, dtype, splits, cps, List.copyOf(f), List.copyOf(d),
                q.isEmpty() ? null : List.copyOf(q), batches);
    }

    Manifest withStatus(String id, String status) {
        LinkedHashMap<String, Checkpoint> cps = new LinkedHashMap<>(checkpoints);
        Checkpoint c = cps.get(id);
        cps.put(id, c.withStatus(status));
        return new Manifest(format, formatVersion, projector, kernel, outputs, dtype, splits, cps, files, completion, outToLoss, batches);
    }

    /** Adds a batch's checksums, dropping the entries of earlier batches whose rows it overwrites (a resume on another grid). */
    Manifest withBatch(BatchEntry b) {
        List<BatchEntry> all = new ArrayList<>();
        if (batches != null) {
            for (BatchEntry e : batches) if (!e.overlaps(b.checkpoint(), b.split(), b.start(), b.rows())) all.add(e);
        }
        all.add(b);
        // a fixed order, so that the manifest's bytes do not depend on which shard or task wrote first
        all.sort(java.util.Comparator.comparing(BatchEntry::checkpoint).thenComparing(BatchEntry::split).thenComparingLong(BatchEntry::start));
        return new Manifest(format, formatVersion, projector, kernel, outputs, dtype, splits, checkpoints, files, completion, outToLoss,
                List.copyOf(all));
    }

    /** Replaces the recorded whole-file checksums (by path) of feature and out-to-loss files. */
    Manifest withFileChecksums(Map<String, String> crcByPath) {
        List<FileEntry> f = new ArrayList<>();
        for (FileEntry e : files) f.add(crcByPath.containsKey(e.path()) ? e.withCrc32c(crcByPath.get(e.path())) : e);
        List<FileEntry> q = null;
        if (outToLoss != null) {
            q = new ArrayList<>();
            for (FileEntry e : outToLoss) q.add(crcByPath.containsKey(e.path()) ? e.withCrc32c(crcByPath.get(e.path())) : e);
        }
        return new Manifest(format, formatVersion, projector, kernel, outputs, dtype, splits, checkpoints, List.copyOf(f), completion,
                q == null ? null : List.copyOf(q), batches);
    }

    /**
     * The recorded batches of one checkpoint and split.
     *
     * @param checkpoint the checkpoint id
     * @param split the split's name
     * @return its batches in row order; empty for stores written before batch checksums
     */
    public List<BatchEntry> batches(String checkpoint, String split) {
        List<BatchEntry> out = new ArrayList<>();
        if (batches != null) {
            for (BatchEntry e : batches) if (e.checkpoint().equals(checkpoint) && e.split().equals(split)) out.add(e);
        }
        out.sort(java.util.Comparator.comparingLong(BatchEntry::start));
        return out;
    }

    Manifest withGradientPath(String id, String path) {
        LinkedHashMap<String, Checkpoint> cps = new LinkedHashMap<>(checkpoints);
        cps.put(id, cps.get(id).withGradientPath(path));
        return new Manifest(format, formatVersion, projector, kernel, outputs, dtype, splits, cps, files, completion, outToLoss, batches);
    }

    /**
     * A feature file's entry.
     *
     * @param checkpoint the checkpoint id
     * @param split the split's name
     * @param clazz the class for per-class kernels, else null
     * @return the entry
     * @throws IllegalArgumentException if there is none, listing the checkpoints, splits and classes there are
     */
    public FileEntry file(String checkpoint, String split, Integer clazz) {
        for (FileEntry e : files) {
            if (e.checkpoint().equals(checkpoint) && e.split().equals(split) && java.util.Objects.equals(e.clazz(), clazz)) return e;
        }
        throw new IllegalArgumentException("store has no features for checkpoint '" + checkpoint + "', split '" + split + "'"
                + (clazz == null ? "" : ", class " + clazz) + " (checkpoints: " + checkpoints.keySet() + ", splits: "
                + splits.keySet() + (outputs > 1 ? ", classes 0.." + (outputs - 1) : ", no per-class files") + ")");
    }

    /**
     * The projection's model id of a checkpoint.
     *
     * @param checkpoint the checkpoint id
     * @return its recorded model id, else (older stores) {@code projector.model_id}
     * @throws IllegalArgumentException if there is no such checkpoint
     */
    public long modelId(String checkpoint) {
        Checkpoint c = checkpoints.get(checkpoint);
        if (c == null) throw new IllegalArgumentException("store has no checkpoint '" + checkpoint + "' (checkpoints: " + checkpoints.keySet() + ")");
        return c.modelId() == null ? projector.modelId() : c.modelId();
    }

    /**
     * The out-to-loss weights Q = 1 - softmax(logits)[y] of (checkpoint, split), stored by margin featurization as a
     * float32 [rows x 1] file.
     *
     * @param checkpoint the checkpoint id
     * @param split the split's name
     * @return the file's entry, or null when the store has none
     */
    public FileEntry outToLossFile(String checkpoint, String split) {
        if (outToLoss == null) return null;
        for (FileEntry e : outToLoss) {
            if (e.checkpoint().equals(checkpoint) && e.split().equals(split)) return e;
        }
        return null;
    }

    /**
     * A completion bitmap's entry.
     *
     * @param checkpoint the checkpoint id
     * @param split the split's name
     * @return the entry
     * @throws IllegalArgumentException if there is none
     */
    public CompletionEntry completionFile(String checkpoint, String split) {
        for (CompletionEntry e : completion) {
            if (e.checkpoint().equals(checkpoint) && e.split().equals(split)) return e;
        }
        throw new IllegalArgumentException("store has no checkpoint '" + checkpoint + "' with split '" + split + "'");
    }
}
