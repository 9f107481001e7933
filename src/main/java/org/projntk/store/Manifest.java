package org.projntk.store;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The contents of {@code manifest.json}. Immutable; updates produce new instances. */
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
        @JsonProperty("completion") List<CompletionEntry> completion) {

    public static final String FORMAT = "projntk-feature-store";
    public static final int VERSION = 1;

    /**
     * A checkpoint and everything that determines its features besides the store-wide projector, kernel and splits:
     * the model spec (a path or builtin:NAME), its seed (built-ins are initialised from it), the checksum of its
     * weights and buffers, the parameter selection ({@code --params} prefixes, "" for all) and the number P of selected
     * parameters, and the input normalisation the datasets were opened with. Stores written before these were recorded
     * have nulls there.
     */
    public record Checkpoint(
            @JsonProperty("model") String model,
            @JsonProperty("model_checksum") String modelChecksum,
            @JsonProperty("status") String status,
            @JsonProperty("model_seed") Long modelSeed,
            @JsonProperty("params") String params,
            @JsonProperty("parameters") Long parameters,
            @JsonProperty("input_normalization") String inputNormalization) {
        public static final String RUNNING = "running";
        public static final String COMPLETE = "complete";

        public Checkpoint(String model, String modelChecksum, String status) {
            this(model, modelChecksum, status, null, null, null, null);
        }

        public Checkpoint withStatus(String s) {
            return new Checkpoint(model, modelChecksum, s, modelSeed, params, parameters, inputNormalization);
        }

        /** True when the provenance fields were recorded (stores written by this version on). */
        @JsonIgnore
        public boolean hasProvenance() {
            return modelSeed != null && params != null && parameters != null && inputNormalization != null;
        }
    }

    /** One feature file: rows x dim of dtype, for one checkpoint, split and (for per-class kernels) class. */
    public record FileEntry(
            @JsonProperty("checkpoint") String checkpoint,
            @JsonProperty("split") String split,
            @JsonProperty("class") Integer clazz,
            @JsonProperty("rows") long rows,
            @JsonProperty("dim") int dim,
            @JsonProperty("dtype") String dtype,
            @JsonProperty("path") String path) {}

    /** The completion bitmap (one byte per row: 0 pending, 1 done) of a checkpoint and split. */
    public record CompletionEntry(
            @JsonProperty("checkpoint") String checkpoint,
            @JsonProperty("split") String split,
            @JsonProperty("rows") long rows,
            @JsonProperty("path") String path) {}

    static Manifest empty(StoreSpec spec) {
        return new Manifest(FORMAT, VERSION, spec.projector(), spec.kernel(), spec.outputs(), spec.dtype(),
                new LinkedHashMap<>(spec.splits()), new LinkedHashMap<>(), List.of(), List.of());
    }

    @JsonIgnore
    public StoreSpec spec() {
        return new StoreSpec(projector, kernel, outputs, dtype, splits);
    }

    Manifest withCheckpoint(String id, Checkpoint c, List<FileEntry> newFiles, List<CompletionEntry> newCompletion) {
        LinkedHashMap<String, Checkpoint> cps = new LinkedHashMap<>(checkpoints);
        cps.put(id, c);
        List<FileEntry> f = new ArrayList<>(files);
        f.addAll(newFiles);
        List<CompletionEntry> d = new ArrayList<>(completion);
        d.addAll(newCompletion);
        return new Manifest(format, formatVersion, projector, kernel, outputs, dtype, splits, cps, List.copyOf(f), List.copyOf(d));
    }

    Manifest withStatus(String id, String status) {
        LinkedHashMap<String, Checkpoint> cps = new LinkedHashMap<>(checkpoints);
        Checkpoint c = cps.get(id);
        cps.put(id, c.withStatus(status));
        return new Manifest(format, formatVersion, projector, kernel, outputs, dtype, splits, cps, files, completion);
    }

    public FileEntry file(String checkpoint, String split, Integer clazz) {
        for (FileEntry e : files) {
            if (e.checkpoint().equals(checkpoint) && e.split().equals(split) && java.util.Objects.equals(e.clazz(), clazz)) return e;
        }
        throw new IllegalArgumentException("store has no features for checkpoint '" + checkpoint + "', split '" + split + "'"
                + (clazz == null ? "" : ", class " + clazz) + " (checkpoints: " + checkpoints.keySet() + ", splits: "
                + splits.keySet() + (outputs > 1 ? ", classes 0.." + (outputs - 1) : ", no per-class files") + ")");
    }

    public CompletionEntry completionFile(String checkpoint, String split) {
        for (CompletionEntry e : completion) {
            if (e.checkpoint().equals(checkpoint) && e.split().equals(split)) return e;
        }
        throw new IllegalArgumentException("store has no checkpoint '" + checkpoint + "' with split '" + split + "'");
    }
}
