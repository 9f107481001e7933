package org.projntk.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.tensor.DType;
import org.projntk.tensor.Input;

class NpyArraysTest {
    @TempDir Path tmp;

    private Path write(String name, String descr, String shape, ByteBuffer data) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, NpyTest.handMade(1, "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }", data.array()));
        return p;
    }

    private Path longs(String name, int rows, int cols, long base) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(rows * cols * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows * cols; i++) b.putLong(base + i);
        return write(name, "<i8", "(" + rows + ", " + cols + ")", b);
    }

    private Path labels(String name, int... values) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) b.putLong(v);
        return write(name, "<i8", "(" + values.length + ",)", b);
    }

    @Test
    void inputsKeepTheirDtypeAndRangesApplyToAll() throws IOException {
        Path ids = longs("ids.npy", 4, 3, 100);
        ByteBuffer mb = ByteBuffer.allocate(12);
        for (int i = 0; i < 12; i++) mb.put((byte) (i % 3 == 2 ? 0 : 1));
        Path mask = write("mask.npy", "|b1", "(4, 3)", mb);
        ByteBuffer fb = ByteBuffer.allocate(4 * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 4; i++) fb.putDouble(0.5 * i);
        Path extra = write("extra.npy", "<f8", "(4,)", fb);
        Path y = labels("y.npy", 2, 0, 1, 2);
        DatasetSpec spec = DatasetSpec.parse("npy:" + ids + "," + mask + "," + extra + "," + y + "[1:3]");
        assertEquals(spec, DatasetSpec.parse(spec.toString()));
        Dataset d = spec.open();
        assertEquals(2, d.size());
        assertEquals(3, d.numClasses());
        try (Arena arena = Arena.ofConfined()) {
            Batch b = d.batch(0, 2, arena);
            assertArrayEquals(new long[] {0, 1}, b.labels());
            List<Input> in = b.modelInputs();
            assertEquals(List.of(DType.INT64, DType.BOOL, DType.FLOAT64), in.stream().map(Input::dtype).toList());
            assertArrayEquals(new long[] {2, 3}, in.get(0).shape());
            assertArrayEquals(new long[] {2}, in.get(2).shape());
            // Row 1 of the file is the first row of the range: ids 103, 104, 105 exactly (no float conversion).
            assertArrayEquals(new long[] {103, 104, 105, 106, 107, 108}, in.get(0).data().toArray(ValueLayout.JAVA_LONG));
            assertArrayEquals(new byte[] {1, 1, 0, 1, 1, 0}, in.get(1).data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(new double[] {0.5, 1.0}, in.get(2).data().toArray(ValueLayout.JAVA_DOUBLE));
        }
    }

    @Test
    void singleIntegerInputIsReadTyped() throws IOException {
        Path ids = longs("ids.npy", 3, 2, 7);
        Dataset d = DatasetSpec.parse("npy:" + ids + "," + labels("y.npy", 0, 1, 0)).open();
        try (Arena arena = Arena.ofConfined()) {
            Input in = d.batch(0, 3, arena).modelInputs().get(0);
            assertEquals(DType.INT64, in.dtype());
            assertArrayEquals(new long[] {7, 8, 9, 10, 11, 12}, in.data().toArray(ValueLayout.JAVA_LONG));
        }
    }

    @Test
    void rowCountMismatchNamesTheFile() throws IOException {
        Path ids = longs("ids.npy", 4, 3, 0);
        Path mask = longs("short_mask.npy", 3, 3, 0);
        Path y = labels("y.npy", 0, 1, 0, 1);
        DataFormatException e = assertThrows(DataFormatException.class, () -> DatasetSpec.parse("npy:" + ids + "," + mask + "," + y).open());
        assertTrue(e.getMessage().contains("short_mask.npy") && e.getMessage().contains("3 rows"), e.getMessage());
        Path fewLabels = labels("few.npy", 0, 1);
        e = assertThrows(DataFormatException.class, () -> DatasetSpec.parse("npy:" + ids + "," + fewLabels).open());
        assertTrue(e.getMessage().contains("few.npy") && e.getMessage().contains("2 labels"), e.getMessage());
    }

    @Test
    void unsupportedInputDtypeNamesTheFile() throws IOException {
        Path ids = longs("ids.npy", 2, 2, 0);
        ByteBuffer hb = ByteBuffer.allocate(2 * 2 * 2);
        Path half = write("half.npy", "<f2", "(2, 2)", hb);
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> DatasetSpec.parse("npy:" + ids + "," + half + "," + labels("y.npy", 0, 1)).open());
        assertTrue(e.getMessage().contains("half.npy") && e.getMessage().contains("<f2"), e.getMessage());
        Path floatLabels = write("fy.npy", "<f4", "(2,)", ByteBuffer.allocate(8));
        e = assertThrows(DataFormatException.class, () -> DatasetSpec.parse("npy:" + ids + "," + ids + "," + floatLabels).open());
        assertTrue(e.getMessage().contains("fy.npy"), e.getMessage());
    }
}
