package org.projntk.stats;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The element-wise sum of equally long double[] terms t_0, t_1, ..., t_{n-1}, in one fixed order: the pairwise
 * (binary) tree over the term indices. With S(lo, size) for an aligned range of size = 2^j indices,
 * S(lo, 1) = t_lo, S(lo, size) = S(lo, size/2) + S(lo + size/2, size/2), and a range holding no term dropped (so
 * S(lo, size) = S(lo, size/2) when the right half is past the end), the result is S(0, 2^L) for any 2^L ≥ n.
 *
 * <p>Because the order is a tree of aligned ranges, the sum can be split: the sums of the aligned ranges
 * [c·2^j, (c+1)·2^j) (the last one cut at n), each computed with a PairwiseSum of its own, added in range order to a
 * PairwiseSum give exactly the same bits as adding t_0 ... t_{n-1} one by one. This is how a block job sums XᵀX over
 * row blocks in tasks and gets the single-process bytes. Pairwise summation also has the smaller rounding error
 * bound (O(log n) instead of O(n) roundings per entry).
 *
 * <p>Memory: at most log2(n) + 1 partial sums are held at once.
 */
public final class PairwiseSum {
    private record Node(int level, double[] sum) {}

    private final Deque<Node> stack = new ArrayDeque<>();   // complete subtrees, levels strictly decreasing toward the top
    private int length = -1;
    private long terms;
    private double[] result;

    /** An empty sum. Not thread-safe: one thread adds the terms. */
    public PairwiseSum() {}

    /**
     * Adds the next term.
     *
     * @param term taken over, not copied (the sum is accumulated into it): do not use it afterwards; as long as the
     *     first term
     * @throws IllegalStateException after {@link #result()}
     * @throws IllegalArgumentException if its length differs from the first term's
     */
    public void add(double[] term) {
        if (result != null) throw new IllegalStateException("add after result()");
        if (length == -1) length = term.length;
        if (term.length != length) throw new IllegalArgumentException("terms must have one length: got " + term.length + " after " + length);
        Node node = new Node(0, term);
        while (!stack.isEmpty() && stack.peek().level() == node.level()) {
            Node left = stack.pop();
            addInto(left.sum(), node.sum());
            node = new Node(node.level() + 1, left.sum());
        }
        stack.push(node);
        terms++;
    }

    /** {@return the number of terms added so far} */
    public long terms() {
        return terms;
    }

    /**
     * The sum of all terms; no term may be added after this.
     *
     * @return the sum, the same array on every call (one of the terms, overwritten)
     * @throws IllegalStateException if no term was added
     */
    public double[] result() {
        if (result != null) return result;
        if (stack.isEmpty()) throw new IllegalStateException("no terms to sum");
        double[] right = stack.pop().sum();
        while (!stack.isEmpty()) {   // the incomplete right edge of the tree: smaller subtrees are right children
            double[] left = stack.pop().sum();
            addInto(left, right);
            right = left;
        }
        result = right;
        return result;
    }

    /** left[i] = left[i] + right[i]. */
    private static void addInto(double[] left, double[] right) {
        for (int i = 0; i < left.length; i++) left[i] += right[i];
    }
}
