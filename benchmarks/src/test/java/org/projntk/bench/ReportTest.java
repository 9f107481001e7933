package org.projntk.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    @TempDir
    Path dir;

    /** A JMH result entry as JMH 1.37 writes it (the fields Report reads); its fastest iteration takes ms. */
    private static String entry(String projector, int k, double ms, double err) {
        return String.format(Locale.ROOT, """
                {"jmhVersion":"1.37","benchmark":"org.projntk.bench.ProjectionBench.project","mode":"avgt","forks":1,
                 "vmName":"VM","vmVersion":"25","warmupIterations":1,"warmupTime":"1 s","measurementIterations":3,
                 "measurementTime":"1 s","params":{"B":"32","K":"%d","P":"65536","projector":"%s"},
                 "primaryMetric":{"score":%s,"scoreError":%s,"scoreUnit":"ms/op","rawData":[[%s,%s],[%s]]}}""",
                k, projector, ms * 1.2, err, ms * 1.3, ms * 1.1, ms);
    }

    private void writeFixture() throws Exception {
        Files.writeString(dir.resolve("t-projection.json"), "[" + String.join(",",
                entry("rademacher", 1024, 100, 5), entry("sgemm", 1024, 50, 1),
                entry("rademacher", 4096, 400, 9), entry("sgemm", 4096, 200, 3), entry("sjlt", 4096, 2, 0.1)) + "]");
        Files.writeString(dir.resolve("t-machine.json"),
                "{\"threads\":2,\"fma256_gflops\":60,\"fma512_gflops\":70,\"fma_one_thread_gflops\":50,\"read_gbs\":10,\"copy_gbs\":9}");
    }

    @Test
    void tableValuesFollowFromTheRawScores() throws Exception {
        writeFixture();
        List<Report.Result> results = Report.readResults(dir, "t");
        assertEquals(5, results.size());
        Report.Machine m = Report.readMachine(dir.resolve("t-machine.json"));
        assertEquals(100.0, m.peakGflops(), 1e-9); // 2 threads x 50 beats the 70 measured together
        String md = Report.markdown(results, m, "projntk 0.1.0", "t", dir);

        // rademacher K=4096: 0.4 s for 32 rows; 2·32·65536·4096 FLOPs; bound = max(FLOPs / 100 GFLOP/s, 32·65536·4 B / 10 GB/s)
        double flops = 2.0 * 32 * 65536 * 4096;
        double bound = Math.max(flops / 100e9, 32 * 65536 * 4.0 / 10e9);
        String row = line(md, "| rademacher | 65536 | 32 | 4096 |");
        assertTrue(row.contains(String.format(Locale.ROOT, "| %.4g |", 32 / 0.4)), row);
        assertTrue(row.contains(String.format(Locale.ROOT, "| %.1f |", flops / 0.4 / 1e9)), row);
        assertTrue(row.contains(String.format(Locale.ROOT, "| %.1fx |", 0.4 / bound)), row);
        assertTrue(row.endsWith("| 2.00 |"), row); // 400 ms vs sgemm's 200 ms
        assertTrue(row.contains("| 400 | 480 ± 9.0 |"), row); // best, then JMH's mean and error

        // sjlt is bound by reading x: its executed FLOPs are 2·B·P·s only
        String sjlt = line(md, "| sjlt | 65536 | 32 | 4096 |");
        double sjltBound = 32 * 65536 * 4.0 / 10e9;
        assertTrue(sjlt.contains("| memory |"), sjlt);
        assertTrue(sjlt.contains(String.format(Locale.ROOT, "| %.1fx |", 0.002 / sjltBound)), sjlt);

        // sgemm also has to read R (P·K·4 bytes)
        String sg = line(md, "| sgemm, R precomputed (OpenBLAS) | 65536 | 32 | 1024 |");
        double sgBound = Math.max(2.0 * 32 * 65536 * 1024 / 100e9, (32 * 65536 + 65536 * 1024) * 4.0 / 10e9);
        assertTrue(sg.contains(String.format(Locale.ROOT, "| %.3g |", sgBound * 1e3)), sg);
    }

    @Test
    void peakIsRaisedToTheBestDenseRateAchieved() throws Exception {
        writeFixture();
        List<Report.Result> results = Report.readResults(dir, "t");
        Report.Machine m = Report.readMachine(dir.resolve("t-machine.json"));
        // sgemm K=1024: 2·32·65536·1024 FLOPs in 50 ms = 85.9 GFLOP/s, below the 100 measured: unchanged
        assertEquals(100.0, Report.withObservedPeak(m, results).peakGflops(), 1e-9);
        Report.Machine slow = new Report.Machine(2, 20, 20, 10, 10, 9, "test");
        Report.Machine raised = Report.withObservedPeak(slow, results);
        assertEquals(2.0 * 32 * 65536 * 1024 / 0.05 / 1e9, raised.peakGflops(), 1e-6);
        assertTrue(raised.peakSource().contains("K=1024"), raised.peakSource());
    }

    @Test
    void sectionIsReplacedInPlaceAndTheRestOfTheDocIsKept() throws Exception {
        Path doc = dir.resolve("perf.md");
        Files.writeString(doc, "# Perf\n\nintro\n");
        Report.replaceSection(doc, "quick", "first\n");
        Report.replaceSection(doc, "full", "other\n");
        Files.writeString(doc, Files.readString(doc) + "\ntrailing prose\n");
        Report.replaceSection(doc, "quick", "second\n");
        String text = Files.readString(doc);
        assertTrue(text.startsWith("# Perf\n\nintro\n"));
        assertFalse(text.contains("first"));
        assertTrue(text.contains("second") && text.contains("other") && text.endsWith("trailing prose\n"));
        assertEquals(text.indexOf("BEGIN generated: bench-quick"), text.lastIndexOf("BEGIN generated: bench-quick"));

        Files.writeString(doc, "<!-- BEGIN generated: bench-quick (x) -->\nno end marker\n");
        assertThrows(IllegalStateException.class, () -> Report.replaceSection(doc, "quick", "x\n"));
    }

    @Test
    void plotIsWrittenForTheKSweep() throws Exception {
        writeFixture();
        Path png = dir.resolve("p.png");
        assertTrue(Report.plotProjection(Report.readResults(dir, "t"), Report.readMachine(dir.resolve("t-machine.json")), "t", png));
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(1100, img.getWidth());
        assertEquals(750, img.getHeight());
    }

    @Test
    void rejectsResultsThatAreNotTimesPerOp() throws Exception {
        Files.writeString(dir.resolve("u-x.json"), "[" + entry("sjlt", 256, 1, 0).replace("ms/op", "ops/s") + "]");
        assertThrows(java.io.IOException.class, () -> Report.readResults(dir, "u"));
    }

    private static String line(String md, String prefix) {
        return md.lines().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no row starting " + prefix + " in\n" + md));
    }
}
