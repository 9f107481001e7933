package org.projntk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.DatasetSpec;
import org.projntk.demo.Demo;
import org.projntk.residual.SweepTable;
import org.projntk.surrogate.SurrogateReport;

/** The demo pipeline at a reduced size on the real Fashion-MNIST data: it must show the product's claims. */
class DemoPipelineTest {
    @Test
    void reducedDemoShowsAFaithfulSurrogateAndAResidualFallingWithK(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(DatasetSpec.fashionMnistRoot()), "Fashion-MNIST is not installed");
        StringWriter log = new StringWriter();
        Demo.Result result;
        try (PrintWriter out = new PrintWriter(log, true)) {
            result = DemoCommand.run(new Demo.Options(dir, 4000, 1, 400, 200, 512, 60, 40, List.of(16, 64, 256, 1024), 64, 7, 4), out);
        }
        String text = log.toString();

        assertTrue(result.networkTestAccuracy() > 0.5, "a trained CNN beats chance by far: " + result.networkTestAccuracy());
        for (var entry : result.surrogates().entrySet()) {
            SurrogateReport r = entry.getValue();
            assertTrue(r.surrogateTestAccuracy() > 0.4, entry.getKey() + " surrogate accuracy well above chance (0.1): " + r.surrogateTestAccuracy());
            assertTrue(r.kendallTau() > 0, entry.getKey() + " Kendall tau > 0: " + r.kendallTau());
            assertEquals(r.networkTestAccuracy() + r.accuracyDifferential(), r.surrogateTestAccuracy(), 1e-12);
        }

        List<SweepTable.Row> trntk = result.sweep().byKernel().get("proj-trntk");
        assertEquals(4, trntk.size());
        assertTrue(trntk.get(3).relFrobenius() < trntk.get(0).relFrobenius() / 2,
                "proj-trNTK residual falls with K: " + trntk);
        List<SweepTable.Row> pntk = result.sweep().byKernel().get("proj-pntk-vs-pntk");
        for (int i = 1; i < pntk.size(); i++) {
            assertTrue(pntk.get(i).relFrobenius() < pntk.get(i - 1).relFrobenius(), "proj-pNTK error decreases at every K: " + pntk);
        }

        for (String file : List.of("similar/similar.png", "similar/similar.csv", "sweep/sweep.png", "sweep/sweep.csv", "cnn-fmnist.pt")) {
            assertTrue(Files.size(dir.resolve(file)) > 0, file + " written");
        }
        assertTrue(text.contains("surrogate test accuracy") && text.contains("Kendall tau"), text);
    }
}
