package org.projntk.residual;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.projntk.data.DatasetSpec;
import org.projntk.project.ProjectorKind;
import org.projntk.torch.Device;
import org.projntk.torch.Model;

/** The residual against the exact kernel falls as K grows, for fixed seeds (the pNTK paper's finding). */
class ResidualSweepTest {
    @Test
    void residualsDecreaseWithKOnFixedSeeds() {
        Assumptions.assumeTrue(Files.isDirectory(DatasetSpec.fashionMnistRoot()), "Fashion-MNIST is not installed");
        var parts = List.of(DatasetSpec.parse("fashion-mnist:train[0:40]").open(), DatasetSpec.parse("fashion-mnist:test[0:20]").open());
        List<Integer> dims = List.of(16, 64, 256, 1024);
        SweepTable table;
        try (Model model = Model.builtin("cnn-fmnist", 3, Device.CPU)) {
            table = ResidualSweep.run(model, parts, dims, ProjectorKind.RADEMACHER, 11, 4, text -> { });
        }
        for (String kernel : List.of("proj-trntk", "proj-pntk-vs-pntk")) {
            List<SweepTable.Row> rows = table.byKernel().get(kernel);
            assertEquals(dims.size(), rows.size(), kernel);
            for (int i = 1; i < rows.size(); i++) {
                assertTrue(rows.get(i).relFrobenius() < rows.get(i - 1).relFrobenius(), kernel + " Frobenius error falls with K: " + rows);
                assertTrue(rows.get(i).meanAbsCosResidual() < rows.get(i - 1).meanAbsCosResidual(), kernel + " cosine residual falls with K: " + rows);
            }
            // JL: the error of an unbiased projection shrinks like 1/sqrt(K); over a 64x range of K expect at least 3x
            assertTrue(rows.get(rows.size() - 1).relFrobenius() < rows.get(0).relFrobenius() / 3, kernel + ": " + rows);
        }
        assertTrue(table.fits().get("proj-trntk").b() > 0.3, "fitted decay exponent of proj-trNTK: " + table.fits().get("proj-trntk"));
    }
}
