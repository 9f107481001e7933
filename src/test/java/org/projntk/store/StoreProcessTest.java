package org.projntk.store;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real child processes: SIGKILL mid-run then resume, and two shard processes filling one store. */
class StoreProcessTest {
    @TempDir Path tmp;

    static final int ROWS = 400, BATCH = 10, K = 16;

    private Process start(Path dir, int shard, int shards, long sleepMs, Path log) throws IOException {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"), StoreWriterProcess.class.getName(),
                dir.toString(), "" + ROWS, "" + BATCH, "" + K, "" + shard, "" + shards, "" + sleepMs, log.toString());
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child-" + shard + "-" + System.nanoTime() + ".out").toFile()).start();
    }

    private static void await(Process p) throws InterruptedException {
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child did not finish");
        assertEquals(0, p.exitValue(), "child exit status");
    }

    private static byte[] completion(Path dir) throws IOException {
        Path p = dir.resolve(StoreWriterProcess.CHECKPOINT + "/" + StoreWriterProcess.SPLIT + ".done");
        return Files.exists(p) ? Files.readAllBytes(p) : new byte[0];
    }

    private static Set<Long> doneBatches(byte[] done) {
        Set<Long> out = new HashSet<>();
        for (int b = 0; b * BATCH < done.length; b++) {
            boolean all = true;
            for (int r = b * BATCH; r < Math.min(done.length, (b + 1) * BATCH); r++) all &= done[r] == 1;
            if (all) out.add((long) b * BATCH);
        }
        return out;
    }

    private static List<Long> logged(Path log) throws IOException {
        List<Long> out = new ArrayList<>();
        if (!Files.exists(log)) return out;
        for (String line : Files.readAllLines(log)) if (!line.isBlank()) out.add(Long.parseLong(line.strip()));
        return out;
    }

    /** The uninterrupted run, in this JVM. */
    private Path reference() throws Exception {
        Path ref = tmp.resolve("ref");
        StoreWriterProcess.fill(ref, ROWS, BATCH, K, 0, 1, 0, null);
        return ref;
    }

    private static void assertSameFeatures(Path ref, Path dir) throws IOException {
        Path f = Path.of(StoreWriterProcess.CHECKPOINT, StoreWriterProcess.SPLIT + ".npy");
        assertEquals(-1, Files.mismatch(ref.resolve(f), dir.resolve(f)), "feature files differ");
        try (StoredMatrix m = FeatureStore.open(dir).features(StoreWriterProcess.CHECKPOINT, StoreWriterProcess.SPLIT, null)) {
            for (long i = 0; i < ROWS; i += 37) assertEquals(StoreWriterProcess.value(i, 5), m.row(i)[5]);
        }
        assertTrue(FeatureStore.open(dir).isComplete(StoreWriterProcess.CHECKPOINT));
    }

    @Test
    void killedWriterResumesWithoutRecomputingDoneBatches() throws Exception {
        Path dir = tmp.resolve("killed");
        Path log1 = tmp.resolve("run1.log"), log2 = tmp.resolve("run2.log");
        Process p = start(dir, 0, 1, 25, log1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int done;
        do {
            Thread.sleep(20);
            done = 0;
            for (byte b : completion(dir)) done += b;
        } while (done < ROWS / 4 && p.isAlive() && System.nanoTime() < deadline);
        p.destroyForcibly();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertNotEquals(0, p.exitValue(), "the child was killed, not finished");
        Set<Long> doneAtKill = doneBatches(completion(dir));
        assertTrue(doneAtKill.size() > 0 && doneAtKill.size() < ROWS / BATCH, "killed mid-run: " + doneAtKill.size() + " batches done");
        assertTrue(new HashSet<>(logged(log1)).containsAll(doneAtKill));

        await(start(dir, 0, 1, 0, log2));
        List<Long> recomputed = logged(log2);
        Set<Long> expected = new HashSet<>();
        for (long s = 0; s < ROWS; s += BATCH) if (!doneAtKill.contains(s)) expected.add(s);
        assertEquals(expected, new HashSet<>(recomputed), "the restart computes exactly the batches not done");
        assertEquals(recomputed.size(), new HashSet<>(recomputed).size(), "no batch computed twice");
        assertSameFeatures(reference(), dir);
    }

    @Test
    void twoShardProcessesFillOneStore() throws Exception {
        Path dir = tmp.resolve("sharded");
        Path log0 = tmp.resolve("s0.log"), log1 = tmp.resolve("s1.log");
        Process a = start(dir, 0, 2, 2, log0), b = start(dir, 1, 2, 2, log1);
        await(a);
        await(b);
        List<Long> l0 = logged(log0), l1 = logged(log1);
        for (long s : l0) assertEquals(0, (s / BATCH) % 2);
        for (long s : l1) assertEquals(1, (s / BATCH) % 2);
        assertEquals(ROWS / BATCH, l0.size() + l1.size());
        assertEquals(1, FeatureStore.open(dir).manifest().checkpoints().size());
        assertSameFeatures(reference(), dir);
    }
}
