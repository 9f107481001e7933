package org.projntk.data;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;

import org.projntk.tensor.DType;
import org.projntk.tensor.Input;

/** {@code text:TEXTS.tsv,TOKENIZER.json,N}: labelled texts tokenized to two int64 inputs, ids and attention mask [N]. */
final class TextSource implements Source {
    private final String description;
    private final TextTokenizer.Encoded encoded;
    private final long[] labels;
    private final int numClasses;

    TextSource(Path texts, Path tokenizer, int maxLength) {
        List<LabelledText> rows = LabelledText.read(texts);
        try (TextTokenizer t = TextTokenizer.open(tokenizer, maxLength)) {
            encoded = t.encode(rows.stream().map(LabelledText::text).toList());
        }
        labels = rows.stream().mapToLong(LabelledText::label).toArray();
        numClasses = (int) (rows.stream().mapToInt(LabelledText::label).max().orElse(-1) + 1);
        description = "text:" + texts + "," + tokenizer + "," + maxLength;
    }

    @Override public String describe() { return description; }
    @Override public long rows() { return labels.length; }
    @Override public int[] exampleShape() { return new int[] {encoded.length()}; }
    @Override public boolean byteValued() { return false; }
    @Override public long label(long row) { return labels[(int) row]; }
    @Override public int numClasses() { return numClasses; }

    @Override
    public void raw(long row, float[] dst, int off) {
        for (int t = 0; t < encoded.length(); t++) dst[off + t] = encoded.ids()[(int) row * encoded.length() + t];
    }

    @Override
    public List<Input> typedRows(long row, int count, Arena arena) {
        int n = encoded.length();
        long[] shape = {count, n};
        MemorySegment ids = arena.allocate(ValueLayout.JAVA_LONG, (long) count * n);
        MemorySegment mask = arena.allocate(ValueLayout.JAVA_LONG, (long) count * n);
        MemorySegment.copy(encoded.ids(), (int) row * n, ids, ValueLayout.JAVA_LONG, 0, count * n);
        MemorySegment.copy(encoded.mask(), (int) row * n, mask, ValueLayout.JAVA_LONG, 0, count * n);
        return List.of(new Input(ids, DType.INT64, shape), new Input(mask, DType.INT64, shape));
    }
}
