package org.projntk.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.projntk.data.Npy;

/** The whole-store check behind {@link FeatureStore#verify()} and the checksum backfill behind {@link FeatureStore#rehash()}. */
final class StoreVerifier {
    private StoreVerifier() {}

    static List<String> problems(Path dir, Manifest m) {
        List<String> out = new ArrayList<>();
        for (Manifest.FileEntry f : m.files()) checkFile(dir, m, f, false, out);
        if (m.outToLoss() != null) for (Manifest.FileEntry f : m.outToLoss()) checkFile(dir, m, f, true, out);
        for (Manifest.CompletionEntry c : m.completion()) {
            Path p = dir.resolve(c.path());
            byte[] done;
            try {
                done = Files.readAllBytes(p);
            } catch (IOException e) {
                out.add(p + ": cannot read completion bitmap: " + e.getMessage());
                continue;
            }
            if (done.length != c.rows()) {
                out.add(p + ": completion bitmap has " + done.length + " bytes, expected " + c.rows());
                continue;
            }
            long pending = 0, bad = 0;
            for (byte b : done) {
                if (b == 0) pending++;
                else if (b != 1) bad++;
            }
            if (bad > 0) out.add(p + ": " + bad + " completion bytes are neither 0 nor 1");
            Manifest.Checkpoint cp = m.checkpoints().get(c.checkpoint());
            if (pending > 0 && cp != null && Manifest.Checkpoint.COMPLETE.equals(cp.status())) {
                out.add(p + ": checkpoint '" + c.checkpoint() + "' is marked complete but " + pending + " rows of split '" + c.split()
                        + "' are not done");
            }
        }
        return out;
    }

    private static void checkFile(Path dir, Manifest m, Manifest.FileEntry f, boolean outToLoss, List<String> out) {
        Path p = dir.resolve(f.path());
        if (!Files.isRegularFile(p)) {
            out.add(p + ": missing");
            return;
        }
        try {
            Npy.Header h = Npy.readCHeader(p);
            if (h.dtype() != FeatureStore.npyDtype(f.dtype()) || !Arrays.equals(h.shape(), new long[] {f.rows(), f.dim()})) {
                out.add(p + ": header says " + h.dtype().descr + " " + Arrays.toString(h.shape()) + ", the manifest " + f.dtype()
                        + " [" + f.rows() + ", " + f.dim() + "]");
                return;
            }
            if (Checksums.check(dir, m, f, outToLoss) == Checksums.Outcome.UNVERIFIED) {
                out.add(p + ": no checksum recorded (written before checksums were recorded); `projntk verify --rehash` records it");
            }
        } catch (RuntimeException e) {
            out.add(e.getMessage() != null && e.getMessage().contains(p.toString()) ? e.getMessage() : p + ": " + e.getMessage());
        }
    }

    /** The manifest with the missing checksums added (the same instance when nothing was missing). */
    static Manifest rehash(FeatureStore store, Manifest m, int[] count) throws IOException {
        Path dir = store.dir();
        Map<String, String> crcs = new HashMap<>();
        Manifest updated = m;
        for (var cp : m.checkpoints().entrySet()) {
            String id = cp.getKey();
            List<Manifest.FileEntry> files = new ArrayList<>();
            for (Manifest.FileEntry f : m.files()) if (f.checkpoint().equals(id)) files.add(f);
            List<Manifest.FileEntry> qs = new ArrayList<>();
            if (m.outToLoss() != null) for (Manifest.FileEntry f : m.outToLoss()) if (f.checkpoint().equals(id)) qs.add(f);
            if (Manifest.Checkpoint.COMPLETE.equals(cp.getValue().status())) {
                for (Manifest.FileEntry f : files) {
                    if (f.crc32c() == null) crcs.put(f.path(), Checksums.fileCrcCheckingBatches(dir, m, f, false));
                }
                for (Manifest.FileEntry f : qs) {
                    if (f.crc32c() == null) crcs.put(f.path(), Checksums.fileCrcCheckingBatches(dir, m, f, true));
                }
                continue;
            }
            for (String split : m.splits().keySet()) {
                if (!m.batches(id, split).isEmpty()) continue;
                byte[] done = Files.readAllBytes(dir.resolve(m.completionFile(id, split).path()));
                List<Manifest.FileEntry> splitFiles = files.stream().filter(f -> f.split().equals(split)).toList();
                Manifest.FileEntry q = qs.stream().filter(f -> f.split().equals(split)).findFirst().orElse(null);
                boolean any = false;
                for (int start = 0; start < done.length; ) {
                    if (done[start] != 1) {
                        start++;
                        continue;
                    }
                    int end = start;
                    while (end < done.length && done[end] == 1) end++;
                    List<String> rowCrcs = new ArrayList<>();
                    for (Manifest.FileEntry f : splitFiles) rowCrcs.add(rowsCrc(dir, f, start, end - start));
                    updated = updated.withBatch(new Manifest.BatchEntry(id, split, start, end - start, rowCrcs,
                            q == null ? null : rowsCrc(dir, q, start, end - start)));
                    any = true;
                    start = end;
                }
                if (any) count[0] += splitFiles.size() + (q == null ? 0 : 1);
            }
        }
        if (!crcs.isEmpty()) {
            count[0] += crcs.size();
            updated = updated.withFileChecksums(crcs);
        }
        if (updated.batches() == null) {
            updated = new Manifest(updated.format(), updated.formatVersion(), updated.projector(), updated.kernel(), updated.outputs(),
                    updated.dtype(), updated.splits(), updated.checkpoints(), updated.files(), updated.completion(), updated.outToLoss(),
                    List.of());
        }
        return updated;
    }

    private static String rowsCrc(Path dir, Manifest.FileEntry f, long start, long rows) {
        Checksums.Layout l = Checksums.layout(f);
        return Checksums.crc(dir.resolve(f.path()), l.header() + start * l.rowBytes(), rows * l.rowBytes());
    }
}
