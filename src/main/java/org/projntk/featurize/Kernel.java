package org.projntk.featurize;

import java.util.Locale;

import org.projntk.torch.OutputKind;

/** Which neural tangent kernel a featurize job computes features for; the name is the one stores record. */
public enum Kernel {
    /** The pseudo-NTK: the gradient of the sum of the logits, one feature row per example. */
    PNTK(OutputKind.PNTK),
    /** The trace NTK: one gradient per class, summed over classes in the kernel. */
    TRNTK(OutputKind.PER_CLASS),
    /** The empirical NTK: one gradient per class, every pair of classes in the kernel. */
    ENTK(OutputKind.PER_CLASS),
    /** TRAK's margin gradient (true logit minus the log-sum-exp of the others), with its out-to-loss weights. */
    MARGIN(OutputKind.MARGIN);

    private final OutputKind output;

    Kernel(OutputKind output) {
        this.output = output;
    }

    /** {@return the network output whose per-example gradient this kernel needs} */
    public OutputKind output() {
        return output;
    }

    /**
     * Parses a kernel name.
     *
     * @param text pntk, trntk, entk or margin, in any case
     * @return the kernel
     * @throws IllegalArgumentException for another name
     */
    public static Kernel parse(String text) {
        for (Kernel k : values()) if (k.toString().equals(text.trim().toLowerCase(Locale.ROOT))) return k;
        throw new IllegalArgumentException("unknown kernel '" + text + "' (pntk, trntk, entk or margin)");
    }

    /** The lower-case name stores and the command line use. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
