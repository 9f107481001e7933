package org.projntk.featurize;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.DatasetSpec;
import org.projntk.project.Projection;
import org.projntk.store.FeatureStore;
import org.projntk.store.IncompatibleStoreException;
import org.projntk.torch.GradStrategy;

/**
 * A store records the gradient path that wrote each checkpoint; another shard or a resume on the other path is refused
 * before it writes a row, since the two paths differ in the last bits.
 */
class GradientPathTest {
    @TempDir Path tmp;

    static Featurize job(Path out, GradStrategy strategy, int shard) {
        return Featurize.of("builtin:linear-fmnist").train("fashion-mnist:train[0:8]").kernel(Kernel.PNTK)
                .projection(Projection.rademacher(8).seed(1)).batchSize(2).gradients(strategy).shard(shard, 2).into(out);
    }

    @Test
    void theOtherPathIsRefused() {
        Assumptions.assumeTrue(Files.isDirectory(DatasetSpec.fashionMnistRoot()), "Fashion-MNIST not installed");
        Path out = tmp.resolve("store");
        Featurizer.Result first = job(out, GradStrategy.ITERATIVE, 0).run();
        assertEquals(4, first.rowsComputed());
        assertEquals("iterative", FeatureStore.open(out).manifest().checkpoints().get("0").gradientPath());

        IncompatibleStoreException fixed = assertThrows(IncompatibleStoreException.class, () -> job(out, GradStrategy.FUNCTIONAL, 1).run());
        assertTrue(fixed.getMessage().contains("iterative gradient path") && fixed.getMessage().contains("functional"), fixed.getMessage());
        // AUTO takes the functional path on this model: refused after computing, before writing its first batch
        IncompatibleStoreException auto = assertThrows(IncompatibleStoreException.class, () -> job(out, GradStrategy.AUTO, 1).run());
        assertTrue(auto.getMessage().contains("--grad iterative"), auto.getMessage());
        assertEquals(4, FeatureStore.open(out).doneRows("0", "train"), "no row written by the refused runs");

        Featurizer.Result second = job(out, GradStrategy.ITERATIVE, 1).run();
        assertEquals(4, second.rowsComputed());
        assertTrue(second.complete());
    }
}
