package org.projntk.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** `projntk bench projection|gradient|featurize`: steady-state throughput as JSON lines, all variants in one process. */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {BenchProjectionCommand.class, BenchGradientCommand.class, BenchFeaturizeCommand.class},
        description = "Steady-state throughput as JSON lines, all variants in one process.")
public final class BenchCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    static final double MIN_SECONDS = 2.0;
    static final double WARMUP_SECONDS = 1.0;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "needs a benchmark: projection, gradient or featurize");
    }

    /**
     * Steady state: warm-up calls for WARMUP_SECONDS (at least 2, so the JIT and the allocator settle), then repeated
     * calls until MIN_SECONDS have passed (at least 2); mean seconds per call.
     */
    static double timeIt(Runnable op) {
        long warmStart = System.nanoTime();
        int warm = 0;
        do {
            op.run();
            warm++;
        } while (warm < 2 || System.nanoTime() - warmStart < WARMUP_SECONDS * 1e9);
        int reps = 0;
        long start = System.nanoTime();
        long elapsed;
        do {
            op.run();
            reps++;
            elapsed = System.nanoTime() - start;
        } while (elapsed < MIN_SECONDS * 1e9 || reps < 2);
        return elapsed / 1e9 / reps;
    }

    static MemorySegment randomSegment(Arena arena, long floats, long seed) {
        MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, floats);
        Random random = new Random(seed);
        for (long i = 0; i < floats; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
        return s;
    }
}
