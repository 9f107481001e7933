package org.projntk.spark.cli;

import org.projntk.kernel.Gram;
import picocli.CommandLine.Option;

/** {@code --tile}: the side of a kernel tile task, for the Spark kernel commands. */
final class TileOption {
    @Option(names = "--tile", defaultValue = "" + Gram.DEFAULT_TILE,
            description = "Tile side in examples (the single-process tile gives identical bytes).")
    int tile;
}
