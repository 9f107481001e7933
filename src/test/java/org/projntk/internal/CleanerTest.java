package org.projntk.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.projntk.project.Projector;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;
import org.projntk.torch.Trainer;

/**
 * Native handles dropped without close() are freed after garbage collection: the live-handle count returns to where
 * it was, and the process's resident memory stays bounded while 500 Models (each with a gradient call, about 400 kB
 * of native memory when leaked) are opened and forgotten.
 */
class CleanerTest {
    static final int MODELS = 500;

    static long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /** Collects garbage until the live count falls to target (the Cleaner runs on its own thread), or 30 s pass. */
    static long collectUntil(long target) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (NativeHandle.live() > target && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(50);
        }
        return NativeHandle.live();
    }

    static void useAndForget(int i) {
        Model m = Model.builtin("cnn-fmnist", i, Device.CPU);
        try (Arena arena = Arena.ofConfined()) {
            long[] shape = {1, 1, 28, 28};
            MemorySegment x = arena.allocate(ValueLayout.JAVA_FLOAT, 784);
            for (int j = 0; j < 784; j++) x.setAtIndex(ValueLayout.JAVA_FLOAT, j, (j * 31 % 97) / 97f);
            Gradients.compute(m, x, shape, null, OutputKind.PNTK, GradStrategy.ITERATIVE, 0, true, (o, r, n, p, c, b) -> {});
        }
        // m is dropped here, never closed
    }

    @Test
    void forgottenModelsAreFreedAndMemoryStaysBounded() throws Exception {
        long before = collectUntil(0);
        for (int i = 0; i < 50; i++) useAndForget(i); // warm-up: allocator arenas, libtorch's caches, JIT
        assertEquals(before, collectUntil(before), "handles of the first 50 forgotten models still live");
        long warmRss = rssKiB();
        for (int i = 0; i < MODELS; i++) {
            useAndForget(i);
            if (i % 50 == 49) System.gc();
        }
        long after = collectUntil(before);
        long grownKiB = rssKiB() - warmRss;
        assertEquals(before, after, MODELS + " forgotten models: " + (after - before) + " native handles never freed");
        // leaked, they would hold about MODELS x 400 kB = 200 MB
        assertTrue(grownKiB < 60 * 1024, "resident memory grew by " + grownKiB / 1024 + " MiB over " + MODELS + " forgotten models");
    }

    @Test
    void forgottenProjectorsAndTrainersAreFreed() throws Exception {
        long before = collectUntil(0);
        Model kept = Model.builtin("tiny-mlp", 1, Device.CPU);
        for (int i = 0; i < 20; i++) {
            new Projector(new ProjectorSpec(ProjectorKind.RADEMACHER, 100, 8, i, 0, 1, false, true, false, Device.CPU));
            new Trainer(kept, Trainer.Optimizer.SGD, 0.1, 0, 0);
        }
        assertEquals(before + 1, collectUntil(before + 1), "forgotten projectors or trainers not freed");
        kept.close();
        kept.close(); // idempotent, and immediate
        assertEquals(before, NativeHandle.live());
    }
}
