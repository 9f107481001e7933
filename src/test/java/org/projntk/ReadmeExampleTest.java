package org.projntk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.projntk.data.Batch;
import org.projntk.data.Dataset;
import org.projntk.data.DatasetSpec;
import org.projntk.project.Projector;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.torch.Model;
import org.projntk.torch.OutputKind;

/** The README's Java example, verbatim, plus checks that its output is what the README says. */
class ReadmeExampleTest {
    @Test
    void readmeExampleRunsAndFillsTheTrntkRows() {
        Assumptions.assumeTrue(Files.isDirectory(DatasetSpec.fashionMnistRoot()), "Fashion-MNIST is not installed");
        try (Model model = Model.open("builtin:cnn-fmnist", 0, Device.CPU);
             Arena arena = Arena.ofConfined()) {
            Dataset data = DatasetSpec.parse("fashion-mnist:test[0:64]").open();
            Batch batch = data.batch(0, 64, arena);
            var spec = ProjectorSpec.of(ProjectorKind.RADEMACHER, model.parameterCount(), 2048, /*seed*/ 42);
            try (Projector projector = new Projector(spec)) {
                MemorySegment features = arena.allocate(ValueLayout.JAVA_FLOAT, 10L * 64 * 2048);   // [C x B x K]
                int outputs = projector.projectGradients(model, batch.inputs(), new long[] {64, 1, 28, 28}, batch.labels(),
                        OutputKind.PER_CLASS, GradStrategy.AUTO, 0, features);                     // proj-trNTK rows
                assertEquals(10, outputs);
                assertEquals(20_490, model.parameterCount());
                for (int c = 0; c < 10; c++) {
                    double norm = 0;
                    for (int k = 0; k < 2048; k++) {
                        float v = features.getAtIndex(ValueLayout.JAVA_FLOAT, (long) c * 64 * 2048 + 63L * 2048 + k);
                        norm += v * v;
                    }
                    assertTrue(norm > 0 && Double.isFinite(norm), "class " + c + " row of the last example is filled");
                }
            }
        }
    }
}
