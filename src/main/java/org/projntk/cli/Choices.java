package org.projntk.cli;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

import org.projntk.kernel.KernelNormalization;
import org.projntk.project.ProjectorKind;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Trainer;

import picocli.CommandLine.TypeConversionException;

/**
 * The enumerated option values. An option's accepted values, its help text and its completion candidates all come
 * from one enum, spelled as {@link #cliName}: the constant's toString() in lower case with '-' for '_'. Library enums
 * are used directly where that spelling is already the CLI's; the enums here are the CLI's own subsets and spellings.
 */
final class Choices {
    private Choices() {}

    static String cliName(Enum<?> value) {
        return value.toString().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The constant whose CLI name is {@code text} (ignoring case), or a conversion error listing the choices. */
    static <E extends Enum<E>> E parse(Class<E> type, String text) {
        for (E e : type.getEnumConstants()) {
            if (cliName(e).equalsIgnoreCase(text.trim())) return e;
        }
        throw new TypeConversionException("'" + text + "' is not one of " + String.join(", ", names(type)));
    }

    static List<String> names(Class<? extends Enum<?>> type) {
        List<String> out = new ArrayList<>();
        for (Enum<?> e : type.getEnumConstants()) out.add(cliName(e));
        return out;
    }

    /** Completion candidates (and ${COMPLETION-CANDIDATES} in help) of a library enum, spelled as the CLI takes them. */
    abstract static class Names implements Iterable<String> {
        private final List<String> names;

        Names(Class<? extends Enum<?>> type) {
            names = names(type);
        }

        @Override
        public Iterator<String> iterator() {
            return names.iterator();
        }
    }

    static final class Devices extends Names {
        Devices() {
            super(Device.class);
        }
    }

    static final class Precisions extends Names {
        Precisions() {
            super(org.projntk.GemmPrecision.class);
        }
    }

    /** --gpu N: a usage error (exit 2) when negative, or other than 0 without --device cuda. */
    static void checkGpu(picocli.CommandLine.Model.CommandSpec spec, Device device, int gpu) {
        if (gpu < 0 || gpu > Device.MAX_GPU) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--gpu must be in [0, " + Device.MAX_GPU + "], got " + gpu);
        }
        if (gpu != 0 && device != Device.CUDA) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--gpu " + gpu + " needs --device cuda (the device is " + cliName(device) + ")");
        }
    }

    static final class GradStrategies extends Names {
        GradStrategies() {
            super(GradStrategy.class);
        }
    }

    static final class KernelNormalizations extends Names {
        KernelNormalizations() {
            super(KernelNormalization.class);
        }
    }

    static final class SurrogateTargets extends Names {
        SurrogateTargets() {
            super(org.projntk.surrogate.StoreSurrogate.Targets.class);
        }
    }

    static final class ClassWeights extends Names {
        ClassWeights() {
            super(org.projntk.surrogate.StoreSurrogate.ClassWeight.class);
        }
    }

    static final class KernelProducts extends Names {
        KernelProducts() {
            super(org.projntk.surrogate.StoreSurrogate.Products.class);
        }
    }

    static final class Tasks extends Names {
        Tasks() {
            super(DemoCommand.Task.class);
        }
    }

    static final class Optimizers extends Names {
        Optimizers() {
            super(Trainer.Optimizer.class);
        }
    }

    /** What featurize computes per example; margin is TRAK's. */
    enum FeatureKernel {
        PNTK, TRNTK, ENTK, MARGIN;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The projectors featurize and sweep accept (curand is a benchmark baseline only: see bench projection). */
    enum Projector {
        RADEMACHER(ProjectorKind.RADEMACHER), NORMAL(ProjectorKind.GAUSSIAN), SJLT(ProjectorKind.SJLT), NONE(ProjectorKind.NONE);

        final ProjectorKind kind;

        Projector(ProjectorKind kind) {
            this.kind = kind;
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The random projectors of the residual sweep (none has nothing to sweep). */
    enum SweepProjector {
        RADEMACHER(ProjectorKind.RADEMACHER), NORMAL(ProjectorKind.GAUSSIAN), SJLT(ProjectorKind.SJLT);

        final ProjectorKind kind;

        SweepProjector(ProjectorKind kind) {
            this.kind = kind;
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Element type of the store's feature files. */
    enum FeatureDtype {
        FLOAT32, FLOAT16;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What bench projection times: our projectors, and the baselines (R precomputed for a GEMM; cuRAND+cuBLAS). */
    enum BenchProjector {
        RADEMACHER(ProjectorKind.RADEMACHER), NORMAL(ProjectorKind.GAUSSIAN), SJLT(ProjectorKind.SJLT), NONE(ProjectorKind.NONE),
        SGEMM_PRECOMPUTED(null), TF32_PRECOMPUTED(null), CURAND(null);

        /** The projector timed, or null for a baseline. */
        final ProjectorKind kind;

        BenchProjector(ProjectorKind kind) {
            this.kind = kind;
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }
}
