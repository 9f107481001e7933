package org.projntk.featurize;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.DatasetSpec;
import org.projntk.project.ProjectorKind;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Gradients;
import org.projntk.torch.Model;

/** Featurizer.run with a caller's model (as a Spark executor reuses one across tasks) gives the fresh-model store. */
class FeaturizerModelReuseTest {
    @TempDir Path tmp;

    @BeforeAll
    static void needFashionMnist() {
        Assumptions.assumeTrue(Files.isDirectory(DatasetSpec.fashionMnistRoot()), "Fashion-MNIST not installed");
    }

    private static FeaturizeConfig config(String params, Path out) {
        return new FeaturizeConfig("builtin:cnn-fmnist", 7, "ck0", Map.of("train", "fashion-mnist:train[0:24]"), "pntk",
                ProjectorKind.RADEMACHER, 32, 3, 0, 2, false, "float32", Device.CPU, 8, GradStrategy.AUTO, params, 0, 1, null,
                Gradients.DEFAULT_MAX_BLOCK_BYTES, out);
    }

    private static final Featurizer.Listener QUIET = (split, done, total, thisRun, seconds) -> {};

    @Test
    void aReusedModelGivesTheSameStoreAsAFreshOne() throws IOException {
        Featurizer.run(config(null, tmp.resolve("fresh")), QUIET);
        try (Model model = Model.open("builtin:cnn-fmnist", 7, Device.CPU)) {
            Featurizer.Result onlyFc = Featurizer.run(config("fc", tmp.resolve("fc")), model, QUIET);
            assertEquals(32 * 7 * 7 * 10 + 10, onlyFc.parameters());
            // the selection of the previous run must not leak into the next
            Featurizer.Result all = Featurizer.run(config(null, tmp.resolve("reused")), model, QUIET);
            assertEquals(20_490, all.parameters());
        }
        List<Path> files = files(tmp.resolve("fresh"));
        assertEquals(files, files(tmp.resolve("reused")));
        for (Path f : files) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("fresh").resolve(f)), Files.readAllBytes(tmp.resolve("reused").resolve(f)), f.toString());
        }
    }

    @Test
    void aModelOtherThanTheConfiguredOneIsRefused() {
        try (Model model = Model.open("builtin:tiny-mlp", 7, Device.CPU)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Featurizer.run(config(null, tmp.resolve("x")), model, QUIET));
            assertTrue(e.getMessage().contains("builtin:tiny-mlp") && e.getMessage().contains("builtin:cnn-fmnist"), e.getMessage());
        }
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(dir::relativize).sorted().toList();
        }
    }
}
