package org.projntk.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.projntk.project.Projector;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.torch.Device;
import org.projntk.torch.Model;
import org.projntk.torch.Trainer;

/** close() is idempotent (the native free runs exactly once) and any use after close is an IllegalStateException. */
class NativeHandleTest {
    @Test
    void freeRunsOnceAndUseFailsAfterClose() {
        List<Long> freed = new ArrayList<>();
        NativeHandle h = new NativeHandle("thing", MemorySegment.ofAddress(0x1234), s -> {
            freed.add(s.address());
            return 0;
        });
        assertFalse(h.isClosed());
        assertEquals(0x1234, h.use(MemorySegment::address));
        h.close();
        h.close();
        assertTrue(h.isClosed());
        assertEquals(List.of(0x1234L), freed);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> h.use(MemorySegment::address));
        assertTrue(e.getMessage().contains("thing") && e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void closeDuringACallOnAnotherThreadDefersTheFree() throws Exception {
        List<Long> freed = java.util.Collections.synchronizedList(new ArrayList<>());
        NativeHandle h = new NativeHandle("thing", MemorySegment.ofAddress(0x42), s -> {
            freed.add(s.address());
            return 0;
        });
        java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<String> seenInside = new java.util.concurrent.atomic.AtomicReference<>();
        Thread caller = new Thread(() -> h.use(address -> {
            inside.countDown();
            try {
                assertTrue(closed.await(10, java.util.concurrent.TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            // the other thread has closed the handle, but this call still owns live memory
            seenInside.set(address.address() + " freed=" + freed.size());
            return 0;
        }));
        caller.start();
        assertTrue(inside.await(10, java.util.concurrent.TimeUnit.SECONDS));
        h.close();
        assertTrue(h.isClosed());
        assertThrows(IllegalStateException.class, () -> h.use(a -> 0), "new calls fail at once");
        assertEquals(List.of(), freed, "not freed while a call is in flight");
        closed.countDown();
        caller.join(10_000);
        assertEquals("66 freed=0", seenInside.get());
        assertEquals(List.of(0x42L), freed, "freed exactly once, when the call returned");
        h.close();
        assertEquals(1, freed.size());
    }

    @Test
    void nullHandleIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new NativeHandle("x", MemorySegment.NULL, s -> 0));
        assertThrows(IllegalArgumentException.class, () -> new NativeHandle("x", null, s -> 0));
    }

    @Test
    void modelUseAfterClose() {
        Model m = Model.builtin("tiny-mlp", 1, Device.CPU);
        assertEquals(43, m.parameterCount());
        m.close();
        m.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, m::parameterCount);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, m::checksum);
        assertThrows(IllegalStateException.class, () -> m.selectParameters("fc1."));
    }

    @Test
    void projectorUseAfterClose() {
        Projector p = new Projector(ProjectorSpec.of(ProjectorKind.RADEMACHER, 10, 4, 7));
        float before = p.entry(3, 2);
        assertEquals(0.5f, Math.abs(before));
        p.close();
        p.close();
        assertThrows(IllegalStateException.class, () -> p.entry(3, 2));
        assertThrows(IllegalStateException.class, () -> p.project(new float[][] {new float[10]}));
    }

    @Test
    void trainerUseAfterClose() {
        try (Model m = Model.builtin("tiny-mlp", 1, Device.CPU)) {
            Trainer t = new Trainer(m, Trainer.Optimizer.SGD, 0.1, 0.0, 0.0);
            t.close();
            t.close();
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                MemorySegment x = arena.allocate(java.lang.foreign.ValueLayout.JAVA_FLOAT, 4);
                assertThrows(IllegalStateException.class, () -> t.step(x, new long[] {1, 4}, new long[] {0}));
            }
        }
    }

    @Test
    void trainerStepAfterItsModelIsClosedFailsCleanly() {
        Model m = Model.builtin("tiny-mlp", 1, Device.CPU);
        try (Trainer t = new Trainer(m, Trainer.Optimizer.SGD, 0.1, 0.0, 0.0);
             java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment x = arena.allocate(java.lang.foreign.ValueLayout.JAVA_FLOAT, 4);
            assertTrue(Double.isFinite(t.step(x, new long[] {1, 4}, new long[] {0}).loss()));
            m.close();
            // Without the check the native trainer would step a freed module.
            assertThrows(IllegalStateException.class, () -> t.step(x, new long[] {1, 4}, new long[] {0}));
        }
    }
}
