package org.projntk.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.projntk.torch.Builtins;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;
import org.projntk.torch.Runtime;

/**
 * Per-example pNTK gradients of a built-in model for one batch, streamed to a consumer that only touches each block:
 * functional (vmap(grad)) against iterative (one backward per example). libtorch runs with one intra-op thread per
 * available processor.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Djava.awt.headless=true"})
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
public class GradientBench {
    @Param({"cnn-fmnist"})
    public String model;

    @Param({"functional", "iterative"})
    public String strategy;

    @Param({"64"})
    public int B;

    private Model net;
    private Arena arena;
    private MemorySegment x;
    private long[] shape;
    private GradStrategy grad;

    @Setup(Level.Trial)
    public void setUp() {
        Runtime.setThreads(java.lang.Runtime.getRuntime().availableProcessors());
        net = Model.open("builtin:" + model, 0, Device.CPU);
        long[] example = Builtins.inputShape(model);
        shape = new long[example.length + 1];
        shape[0] = B;
        long n = B;
        for (int i = 0; i < example.length; i++) {
            shape[i + 1] = example[i];
            n *= example[i];
        }
        arena = Arena.ofShared();
        x = Fill.uniform(arena, n, 3);
        grad = GradStrategy.parse(strategy);
        GradStrategy used = run(null);
        // AUTO may fall back; an explicit strategy must be honoured, or the comparison means nothing
        if (used != grad) throw new IllegalStateException("asked for " + grad + " gradients, the engine used " + used);
    }

    @Benchmark
    public GradStrategy gradients(Blackhole bh) {
        return run(bh);
    }

    private GradStrategy run(Blackhole bh) {
        return Gradients.compute(net, x, shape, null, OutputKind.PNTK, grad, 0, false, (out, rowOffset, rows, paramOffset, cols, block) -> {
            float first = block.getAtIndex(ValueLayout.JAVA_FLOAT, 0);
            if (bh != null) bh.consume(first);
        });
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        net.close();
        arena.close();
    }
}
