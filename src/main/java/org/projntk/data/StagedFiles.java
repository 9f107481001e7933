package org.projntk.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Output files written as {@code NAME.tmp} beside their targets and renamed over them only when all are complete:
 * a failed command leaves no temporary file and no half-written result, and earlier results stay as they were.
 * Use one instance per command run, from one thread: {@link #stage} each file, then {@link #commit}, and
 * {@link #close} (try-with-resources) to delete whatever was staged but not committed.
 */
public final class StagedFiles implements AutoCloseable {
    private final List<Path[]> staged = new ArrayList<>();

    /** Nothing staged yet. */
    public StagedFiles() {}

    /**
     * Stages a file.
     *
     * @param target the result's final path
     * @return {@code target}'s sibling {@code NAME.tmp}, to write the content to
     */
    public Path stage(Path target) {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        staged.add(new Path[] {tmp, target});
        return tmp;
    }

    /** Renames every staged file over its target (each rename atomic where the file system allows). */
    public void commit() {
        for (Path[] p : staged) {
            if (Files.isDirectory(p[1])) throw new IllegalStateException("cannot write " + p[1] + ": it is a directory");
        }
        for (Path[] p : staged) {
            try {
                try {
                    Files.move(p[0], p[1], StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(p[0], p[1], StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot rename " + p[0] + " to " + p[1] + ": " + e, e);
            }
        }
        staged.clear();
    }

    /** Deletes the staged files not yet renamed (all of them unless {@link #commit} finished). */
    @Override
    public void close() {
        for (Path[] p : staged) {
            try {
                Files.deleteIfExists(p[0]);
            } catch (IOException e) {
                // the failure that brought us here is the one to report
            }
        }
        staged.clear();
    }
}
