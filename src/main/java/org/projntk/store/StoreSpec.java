package org.projntk.store;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a store holds, fixed at creation: the projector, kernel kind, outputs per example (1, or C for trntk/entk),
 * dtype ("float32" or "float16") and the splits (name -> rows).
 *
 * @param projector the projection
 * @param kernel one of {@link #KERNELS}
 * @param outputs feature rows per example, 1 for pntk and margin
 * @param dtype one of {@link #DTYPES}
 * @param splits the splits by name, in order (copied, unmodifiable)
 */
public record StoreSpec(ProjectorInfo projector, String kernel, int outputs, String dtype, Map<String, SplitInfo> splits) {
    /** The kernel names a store accepts. */
    public static final Set<String> KERNELS = Set.of("pntk", "trntk", "entk", "margin");
    /** The element types a store accepts. */
    public static final Set<String> DTYPES = Set.of("float32", "float16");

    /**
     * Checks the spec.
     *
     * @throws IllegalArgumentException for an unknown kernel or dtype, outputs that do not fit the kernel, no split, or
     *     a split name that is not a safe file name
     */
    public StoreSpec {
        Objects.requireNonNull(projector, "projector");
        if (!KERNELS.contains(kernel)) throw new IllegalArgumentException("kernel kind '" + kernel + "' is not one of " + KERNELS);
        if (outputs < 1) throw new IllegalArgumentException("outputs per example must be >= 1, got " + outputs);
        if ((kernel.equals("pntk") || kernel.equals("margin")) && outputs != 1) {
            throw new IllegalArgumentException("kernel " + kernel + " has 1 output per example, got " + outputs);
        }
        if (!DTYPES.contains(dtype)) throw new IllegalArgumentException("dtype '" + dtype + "' is not one of " + DTYPES);
        if (splits == null || splits.isEmpty()) throw new IllegalArgumentException("a store needs at least one split");
        for (String name : splits.keySet()) FeatureStore.checkName("split", name);
        splits = Collections.unmodifiableMap(new LinkedHashMap<>(splits));
    }

    /**
     * A spec with one split.
     *
     * @param projector the projection
     * @param kernel one of {@link #KERNELS}
     * @param outputs feature rows per example
     * @param dtype one of {@link #DTYPES}
     * @param splitName the split's name
     * @param split its rows
     */
    public StoreSpec(ProjectorInfo projector, String kernel, int outputs, String dtype, String splitName, SplitInfo split) {
        this(projector, kernel, outputs, dtype, Map.of(splitName, split));
    }

    /**
     * A split by name.
     *
     * @param name the split's name
     * @return its rows
     * @throws IllegalArgumentException if there is none, listing the splits
     */
    public SplitInfo split(String name) {
        SplitInfo s = splits.get(name);
        if (s == null) throw new IllegalArgumentException("no split '" + name + "' in this store (splits: " + splits.keySet() + ")");
        return s;
    }
}
