package org.projntk.attribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

/** TrakScores.Options' builder: its documented defaults, messages naming the bad field, and Java serialisation (Spark). */
class TrakScoresOptionsTest {
    static void rejects(String message, Supplier<TrakScores.Options> build) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, build::get).getMessage());
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        TrakScores.Options d = TrakScores.Options.defaults();
        assertEquals(0.0, d.lambda());
        assertTrue(d.checkpoints().isEmpty());
        assertFalse(d.trakCompat());
        assertEquals(0, d.dim());
        assertEquals("train", d.trainSplit());
        assertEquals("test", d.testSplit());
        assertEquals(1024, d.tileRows());
        assertEquals(4096, d.tileCols());
    }

    @Test
    void settingsSurviveToBuilderAndSerialisation() throws Exception {
        TrakScores.Options o = TrakScores.Options.builder().lambda(0.25).checkpoints("b", "a").trakCompat(true).dim(16)
                .trainSplit("tr").testSplit("te").tiles(3, 5).build();
        assertEquals(List.of("b", "a"), o.checkpoints());
        assertEquals(o, o.toBuilder().build());
        assertEquals(List.of(), o.toBuilder().allCheckpoints().build().checkpoints());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(o, in.readObject());
        }
    }

    @Test
    void badSettingsAreRefusedNamingTheField() {
        rejects("lambda must be a finite number >= 0, got -1.0", () -> TrakScores.Options.builder().lambda(-1).build());
        rejects("lambda must be a finite number >= 0, got Infinity",
                () -> TrakScores.Options.builder().lambda(Double.POSITIVE_INFINITY).build());
        rejects("checkpoints must name at least one id and no null, got []", () -> TrakScores.Options.builder().checkpoints(List.of()).build());
        rejects("checkpoints must name at least one id and no null, got null",
                () -> TrakScores.Options.builder().checkpoints((List<String>) null).build());
        rejects("dim must be >= 0 (0 = all projected columns), got -3", () -> TrakScores.Options.builder().dim(-3).build());
        rejects("trainSplit must name a split, got null", () -> TrakScores.Options.builder().trainSplit(null).build());
        rejects("testSplit must name a split, got ", () -> TrakScores.Options.builder().testSplit("").build());
        rejects("tileRows must be >= 1, got 0", () -> TrakScores.Options.builder().tiles(0, 1).build());
        rejects("tileCols must be >= 1, got 0", () -> TrakScores.Options.builder().tiles(1, 0).build());
    }
}
