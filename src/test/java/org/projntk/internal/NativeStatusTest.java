package org.projntk.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.atomic.AtomicReference;

import org.projntk.bindings.projntk_h;
import org.junit.jupiter.api.Test;
import org.projntk.ProjntkException;
import org.projntk.ProjntkException.Status;
import org.projntk.torch.Device;
import org.projntk.torch.Model;

/** Every non-zero status becomes a ProjntkException with the matching Status and the native last-error message. */
class NativeStatusTest {
    private static ProjntkException failSelecting(Model m, String prefix) {
        return assertThrows(ProjntkException.class, () -> m.selectParameters(prefix));
    }

    @Test
    void realNativeFailureCarriesStatusAndMessage() {
        try (Model m = Model.builtin("tiny-mlp", 1, Device.CPU)) {
            ProjntkException e = failSelecting(m, "nosuchlayer.");
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertTrue(e.getMessage().contains("nosuchlayer."), e.getMessage());
            assertTrue(e.getMessage().startsWith("selecting parameters"), e.getMessage());
            assertFalse(e.getMessage().contains("(no message)"), e.getMessage());
        }
    }

    @Test
    void everyStatusCodeMapsToItsStatusWithTheLastMessage() {
        Model m = Model.builtin("tiny-mlp", 1, Device.CPU);
        // Every native call clears the message on success, so read it before any other call (even the close).
        failSelecting(m, "marker_prefix_42.");
        String nativeMessage = Native.lastError();
        assertTrue(nativeMessage.contains("marker_prefix_42."), nativeMessage);
        Status[] expected = {null, Status.INVALID_ARGUMENT, Status.IO, Status.TORCH, Status.CUDA, Status.NONFINITE,
                Status.UNSUPPORTED, Status.OUT_OF_MEMORY, Status.CALLBACK, Status.INTERNAL, Status.EXITING};
        assertEquals(expected.length, Status.values().length, "a Java status for every projntk_status");
        assertEquals(projntk_h.PROJNTK_ERR_EXITING(), Status.EXITING.ordinal());
        Native.check(0, "ok call"); // no exception
        for (int code = 1; code < expected.length; code++) {
            int c = code;
            ProjntkException e = assertThrows(ProjntkException.class, () -> Native.check(c, "op" + c));
            assertEquals(expected[code], e.status(), "code " + code);
            assertEquals("op" + code + " failed: " + nativeMessage, e.getMessage());
        }
        // An unknown code is an internal error, never an exception-free pass.
        assertEquals(Status.INTERNAL, assertThrows(ProjntkException.class, () -> Native.check(42, "odd")).status());
        assertEquals(Status.INTERNAL, Status.of(-1));
        m.close();
    }

    @Test
    void lastErrorIsPerThread() throws Exception {
        try (Model m = Model.builtin("tiny-mlp", 1, Device.CPU)) {
            failSelecting(m, "main_thread_prefix.");
            AtomicReference<String> other = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    m.selectParameters("other_thread_prefix.");
                } catch (ProjntkException e) {
                    other.set(e.getMessage());
                }
            });
            t.join();
            assertNotNull(other.get());
            assertTrue(other.get().contains("other_thread_prefix."), other.get());
            String mine = Native.lastError();
            assertTrue(mine.contains("main_thread_prefix.") && !mine.contains("other_thread_prefix."), mine);
        }
    }
}
