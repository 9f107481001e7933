package org.projntk.cli;

import picocli.CommandLine.Option;

/** {@code --checkpoint}: which checkpoint of a feature store a command reads; shared with the Spark commands. */
public final class CheckpointOption {
    @Option(names = "--checkpoint", paramLabel = "ID", description = "Checkpoint (default: the first complete one).")
    String checkpoint;

    /** The checkpoint asked for, or null for the store's first complete one. */
    public String id() {
        return checkpoint;
    }
}
