package org.projntk.torch;

/** Which scalar output(s) of the network are differentiated. Values mirror enum projntk_output. */
public enum OutputKind {
    /** Sum of logits: one gradient per example (proj-pNTK). */
    PNTK,
    /** Sum of logits divided by sqrt(C). */
    PNTK_SCALED,
    /** One gradient per class (proj-trNTK and the full eNTK). */
    PER_CLASS,
    /** TRAK's margin log(p_y / (1 - p_y)) on the true label. */
    MARGIN;

    /** {@return the projntk_output value} */
    public int code() {
        return ordinal();
    }
}
