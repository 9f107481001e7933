package org.projntk.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.DatasetSpec;
import org.projntk.store.FeatureStore;

/**
 * `projntk featurize` in real child JVMs: one is SIGKILLed part-way and rerun to completion, and its features must be
 * bit-identical to an uninterrupted run; an incompatible rerun into the same store fails with exit code 1.
 */
class FeaturizeProcessTest {
    @TempDir Path tmp;

    static final int ROWS = 160;
    static final String CHECKPOINT = "c0";

    private static List<String> featurize(Path out, long seed) {
        return List.of("featurize", "--model", "builtin:cnn-fmnist", "--model-seed", "3", "--train", "fashion-mnist:train[0:" + ROWS + "]",
                "--kernel", "pntk", "--proj", "rademacher", "--dim", "32", "--seed", "" + seed, "--checkpoint", CHECKPOINT,
                "--batch", "8", "--out", out.toString());
    }

    private Process start(List<String> args, Path log) throws IOException {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m", "--enable-native-access=ALL-UNNAMED",
                "-Dprojntk.native=" + System.getProperty("projntk.native"), "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static int finish(Process p) throws InterruptedException {
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("child featurize did not finish in 90 s");
        }
        return p.exitValue();
    }

    private static long doneRows(Path store) {
        try {
            if (!Files.exists(store.resolve(CHECKPOINT).resolve("train.done"))) return 0;
            return FeatureStore.open(store).doneRows(CHECKPOINT, "train");
        } catch (RuntimeException e) {
            return 0; // the manifest may be mid-creation
        }
    }

    private static void assertSameFeatures(Path a, Path b) throws IOException {
        Path f = Path.of(CHECKPOINT, "train.npy");
        assertTrue(Files.size(a.resolve(f)) > ROWS * 32L * 4, f.toString());
        assertEquals(-1, Files.mismatch(a.resolve(f), b.resolve(f)), "features differ");
        assertTrue(FeatureStore.open(b).isComplete(CHECKPOINT));
        assertEquals(ROWS, FeatureStore.open(b).doneRows(CHECKPOINT, "train"));
    }

    @Test
    void killedRunResumesToBitIdenticalFeaturesAndIncompatibleRerunFails() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(DatasetSpec.fashionMnistRoot()), "Fashion-MNIST not installed");
        assertNotNull(System.getProperty("projntk.native"), "surefire passes -Dprojntk.native");
        Path ref = tmp.resolve("ref"), killed = tmp.resolve("killed");

        // Start the run to be killed first, so that the uninterrupted reference overlaps with it.
        Process victim = start(featurize(killed, 5), tmp.resolve("victim.log"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long done = 0;
        while (System.nanoTime() < deadline && victim.isAlive()) {
            done = doneRows(killed);
            if (done >= 16) break;
            Thread.sleep(5);
        }
        assertTrue(victim.isAlive(), "the child finished before it could be killed; log:\n" + Files.readString(tmp.resolve("victim.log")));
        victim.destroyForcibly();
        assertTrue(victim.waitFor(20, TimeUnit.SECONDS));
        long doneAtKill = doneRows(killed);
        assertTrue(doneAtKill >= done && doneAtKill < ROWS, "rows done when killed: " + doneAtKill);
        assertFalse(FeatureStore.open(killed).isComplete(CHECKPOINT));

        Process reference = start(featurize(ref, 5), tmp.resolve("ref.log"));
        assertEquals(0, finish(reference), Files.readString(tmp.resolve("ref.log")));

        Path resumeLog = tmp.resolve("resume.log");
        assertEquals(0, finish(start(featurize(killed, 5), resumeLog)), Files.readString(resumeLog));
        String resumed = Files.readString(resumeLog, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(\\d+) rows computed this run").matcher(resumed);
        assertTrue(m.find(), resumed);
        long computed = Long.parseLong(m.group(1));
        assertTrue(computed > 0 && computed <= ROWS - doneAtKill, "resume computed " + computed + " rows, " + doneAtKill + " were done");
        assertSameFeatures(ref, killed);

        // Same store, different projector seed: refused, naming the field, and the store is untouched.
        byte[] before = Files.readAllBytes(killed.resolve(Path.of(CHECKPOINT, "train.npy")));
        Path badLog = tmp.resolve("bad.log");
        assertEquals(1, finish(start(featurize(killed, 6), badLog)), Files.readString(badLog));
        String bad = Files.readString(badLog);
        assertTrue(bad.contains("projector.seed"), bad);
        assertArrayEquals(before, Files.readAllBytes(killed.resolve(Path.of(CHECKPOINT, "train.npy"))));
        assertSameFeatures(ref, killed);
    }
}
