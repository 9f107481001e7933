package org.projntk.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import org.projntk.analysis.Charts;
import org.projntk.analysis.PowerLawFit;
import org.projntk.analysis.SweepTable;
import org.projntk.data.DatasetSpec;
import org.projntk.data.Normalization;
import org.projntk.featurize.ResidualSweep;
import org.projntk.project.ProjectorKind;
import org.projntk.torch.Device;
import org.projntk.torch.Model;

/** `projntk sweep`: exact trNTK against proj-trNTK and proj-pNTK for each K; writes sweep.csv and sweep.png. */
final class SweepCommand {
    private SweepCommand() {}

    static void run(Args args, PrintStream out) {
        String model = args.require("model");
        String train = args.require("train");
        String test = args.get("test", null);
        List<Integer> dims = args.intList("dims", "64,256,1024,4096");
        ProjectorKind kind = ProjectorKind.parse(args.get("proj", "rademacher"));
        long seed = args.getLong("seed", 0);
        int repeats = args.getInt("repeats", 3);
        Path outDir = Path.of(args.require("out"));
        args.rejectUnknown();
        run(model, train, test, dims, kind, seed, repeats, outDir, out);
    }

    static SweepTable run(String model, String train, String test, List<Integer> dims, ProjectorKind kind, long seed, int repeats,
                          Path outDir, PrintStream out) {
        var parts = new java.util.ArrayList<org.projntk.data.Dataset>();
        parts.add(DatasetSpec.parse(train).open(Normalization.DEFAULT));
        if (test != null) parts.add(DatasetSpec.parse(test).open(Normalization.DEFAULT));
        SweepTable table;
        try (Model net = Model.open(model, 0, Device.CPU)) {
            table = ResidualSweep.run(net, parts, dims, kind, seed, repeats, out::println);
        }
        try {
            Files.createDirectories(outDir);
            table.writeCsv(outDir.resolve("sweep.csv"));
            Charts.sweepPlot(table, outDir.resolve("sweep.png"));
        } catch (IOException e) {
            throw new UncheckedIOException("writing sweep results to " + outDir + ": " + e.getMessage(), e);
        }
        print(table, out);
        out.println("sweep: wrote " + outDir.resolve("sweep.csv") + " and " + outDir.resolve("sweep.png"));
        return table;
    }

    static void print(SweepTable table, PrintStream out) {
        out.println("kernel               K      rel_frobenius  mean|cos res|  median|cos res|");
        for (SweepTable.Row r : table.rows()) {
            out.printf(Locale.ROOT, "%-18s %6d   %12.5f  %12.5f  %14.5f%n", r.kernel(), r.k(), r.relFrobenius(),
                    r.meanAbsCosResidual(), r.medianAbsCosResidual());
        }
        for (var e : table.fits().entrySet()) {
            PowerLawFit f = e.getValue();
            out.printf(Locale.ROOT, "fitted decay %-18s rel_frobenius ~ %.3g * K^%.3f  (R^2 %.3f)%n", e.getKey(), f.a(), -f.b(), f.r2());
        }
    }
}
