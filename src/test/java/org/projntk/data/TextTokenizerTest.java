package org.projntk.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.tensor.DType;
import org.projntk.tensor.Input;

class TextTokenizerTest {
    @TempDir Path tmp;

    @Test
    void vocabularyFromTrainingTextsAndFixedLengthEncodings() {
        Path tok = TextTokenizer.writeWordLevel(List.of("The cat sat.", "the dog sat, the END"), 7, tmp.resolve("tokenizer.json"));
        // [PAD]=0 [UNK]=1 [CLS]=2, then by count: the (3), sat (2), then ties alphabetically: ",", "." ...
        try (TextTokenizer t = TextTokenizer.open(tok, 6)) {
            TextTokenizer.Encoded e = t.encode(List.of("THE sat", "the unknown word sat the the the"));
            assertArrayEquals(new long[] {2, 3, 4, 0, 0, 0, 2, 3, 1, 1, 4, 3}, e.ids());
            assertArrayEquals(new long[] {1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1}, e.mask());
        }
    }

    @Test
    void textSpecReadsLabelledLinesAsTwoInt64Inputs() throws IOException {
        Path texts = tmp.resolve("texts.tsv");
        LabelledText.write(List.of(new LabelledText(1, "a b"), new LabelledText(0, "b\tc"), new LabelledText(2, "c")), texts);
        Path tok = TextTokenizer.writeWordLevel(List.of("a b c"), 10, tmp.resolve("tok.json"));
        DatasetSpec spec = DatasetSpec.text(texts, tok, 4).withRange(1L, null);
        assertEquals(spec, DatasetSpec.parse(spec.toString()));
        Dataset d = spec.open();
        assertEquals(2, d.size());
        assertEquals(3, d.numClasses());
        try (Arena arena = Arena.ofConfined()) {
            List<Input> in = d.batch(0, 2, arena).modelInputs();
            assertEquals(List.of(DType.INT64, DType.INT64), in.stream().map(Input::dtype).toList());
            assertArrayEquals(new long[] {2, 4}, in.get(0).shape());
            long b = 4, c = 5; // a=3, b=4, c=5 (all count 1, alphabetical)
            assertArrayEquals(new long[] {2, b, c, 0, 2, c, 0, 0}, in.get(0).data().toArray(ValueLayout.JAVA_LONG));
            assertArrayEquals(new long[] {1, 1, 1, 0, 1, 1, 0, 0}, in.get(1).data().toArray(ValueLayout.JAVA_LONG));
        }
        Files.writeString(texts, "x\tbad label\n");
        DataFormatException e = assertThrows(DataFormatException.class, () -> DatasetSpec.text(texts, tok, 4).open());
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    }

    @Test
    void fortunesAreSplitOnPercentLines() throws IOException {
        Files.writeString(tmp.resolve("alpha"), "first\nquote\n%\nsecond\n%\n");
        Files.writeString(tmp.resolve("beta"), "third\n%\n");
        List<LabelledText> t = Fortunes.read(tmp, List.of("alpha", "beta"));
        assertEquals(List.of(new LabelledText(0, "first quote"), new LabelledText(0, "second"), new LabelledText(1, "third")), t);
        DataFormatException e = assertThrows(DataFormatException.class, () -> Fortunes.read(tmp, List.of("gamma")));
        assertTrue(e.getMessage().contains("gamma") && e.getMessage().contains("fortunes"), e.getMessage());
    }
}
