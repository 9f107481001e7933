package org.projntk.data;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class DatasetSpecTest {
    @Test
    void canonicalFormsRoundTrip() {
        String[] specs = {
            "fashion-mnist:train", "fashion-mnist:test[100:200]", "idx:/a/img.gz,/a/lab.gz[:500]",
            "cifar10:/data/cifar-10-batches-bin:train[1000:]", "cifar10:rel/dir:test", "npy:x.npy,y.npy[-10:]", "npy:x.npy,y.npy[:-1]",
        };
        for (String s : specs) {
            DatasetSpec d = DatasetSpec.parse(s);
            assertEquals(s, d.toString());
            assertEquals(d, DatasetSpec.parse(d.toString()));
        }
        DatasetSpec c = DatasetSpec.parse("  cifar10:C:/x:y:test[ 3 : 9 ] ");
        assertEquals("C:/x:y", c.first());
        assertEquals("test", c.second());
        assertEquals(3L, c.start());
        assertEquals(9L, c.end());
        assertEquals("cifar10:C:/x:y:test[3:9]", c.toString());
        assertEquals("fashion-mnist:train", DatasetSpec.parse("fashion-mnist:train[:]").toString());
    }

    @Test
    void rangesResolveLikePython() {
        assertArrayEquals(new long[] {0, 10}, DatasetSpec.parse("npy:a,b").resolveRange(10));
        assertArrayEquals(new long[] {7, 10}, DatasetSpec.parse("npy:a,b[-3:]").resolveRange(10));
        assertArrayEquals(new long[] {2, 9}, DatasetSpec.parse("npy:a,b[2:-1]").resolveRange(10));
        assertArrayEquals(new long[] {4, 4}, DatasetSpec.parse("npy:a,b[4:4]").resolveRange(10));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DatasetSpec.parse("npy:a,b[5:11]").resolveRange(10));
        assertTrue(e.getMessage().contains("out of bounds for 10 rows"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DatasetSpec.parse("npy:a,b[6:5]").resolveRange(10));
    }

    @Test
    void badSpecsAreRejectedClearly() {
        for (String bad : new String[] {"mnist:train", "fashion-mnist:val", "idx:onlyone", "npy:a", "npy:a,,c", "idx:a,b,c", "cifar10:dir",
                "cifar10:dir:valid", "npy:a,b[3]", "npy:a,b[x:2]", "train", "npy:a,b]"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DatasetSpec.parse(bad), bad);
            assertTrue(e.getMessage().contains(bad.strip()), e.getMessage());
        }
    }

    @Test
    void npyTakesSeveralInputFiles() {
        DatasetSpec s = DatasetSpec.parse("npy:ids.npy,mask.npy,y.npy[2:5]");
        assertEquals("ids.npy,mask.npy", s.first());
        assertEquals("y.npy", s.second());
        assertEquals(s, DatasetSpec.parse(s.toString()));
    }

    @Test
    void normalisationParses() {
        assertEquals(Normalization.NONE, Normalization.parse("none"));
        assertEquals(Normalization.STANDARD_COMPUTED, Normalization.parse("standard"));
        Normalization n = Normalization.parse("standard:0.5,0.25:2,4");
        assertArrayEquals(new float[] {0.5f, 0.25f}, n.mean());
        assertEquals(n, Normalization.parse(n.toString()));
        assertThrows(IllegalArgumentException.class, () -> Normalization.parse("standard:1:0"));
        assertThrows(IllegalArgumentException.class, () -> Normalization.parse("zscore"));
    }
}
