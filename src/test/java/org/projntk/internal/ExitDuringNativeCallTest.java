package org.projntk.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;

/**
 * The JVM exits (System.exit, as on SIGTERM or Ctrl-C) while another thread is inside a native gradient call. The
 * shutdown hook must let that call return before the process exits: exit() runs libtorch's and oneDNN's static
 * destructors, and a thread still inside them crashed the JVM. The child's consumer sleeps inside the call and prints
 * when it is done; without the hook the JVM halts first and the line never appears.
 */
class ExitDuringNativeCallTest {
    @TempDir Path dir;

    @Test
    void exitWaitsForTheRunningNativeCallAndRefusesNewOnes() throws Exception {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-XX:ErrorFile=" + dir + "/hs_err_%p.log"));
        String nativeLib = System.getProperty("projntk.native");
        if (nativeLib != null) cmd.add("-Dprojntk.native=" + nativeLib);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName()));
        Path log = dir.resolve("child.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the child did not exit");
        String out = Files.readString(log);
        assertEquals(3, p.exitValue(), out);
        assertTrue(out.contains("exiting\n"), out);
        assertTrue(out.contains("consumer done\n"), "the exit did not wait for the running native call:\n" + out);
        assertTrue(out.indexOf("exiting\n") < out.indexOf("consumer done\n"), out);
        assertTrue(out.contains("after exit began: EXITING"), "a native call after the exit began was not refused:\n" + out);
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.filter(f -> f.getFileName().toString().startsWith("hs_err")).toList(), "JVM crash file");
        }
    }

    /** Runs in the child JVM. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Model model = Model.builtin("tiny-cnn", 1, Device.CPU);
            CountDownLatch inside = new CountDownLatch(1);
            Thread worker = new Thread(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    long[] shape = {4, 1, 6, 6};
                    MemorySegment x = arena.allocate(ValueLayout.JAVA_FLOAT, 4 * 36);
                    Gradients.compute(model, x, shape, null, OutputKind.PNTK, GradStrategy.FUNCTIONAL, 0, true,
                            (output, row, rows, poff, cols, block) -> {
                                if (inside.getCount() == 0) return;
                                inside.countDown();
                                try {
                                    Thread.sleep(1500);
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                                try {
                                    model.parameterCount();
                                    System.out.println("after exit began: allowed");
                                } catch (org.projntk.ProjntkException e) {
                                    System.out.println("after exit began: " + e.status());
                                }
                                System.out.println("consumer done");
                                System.out.flush();
                            });
                }
            });
            worker.setDaemon(true);
            worker.start();
            inside.await();
            System.out.println("exiting");
            System.out.flush();
            System.exit(3);
        }
    }
}
