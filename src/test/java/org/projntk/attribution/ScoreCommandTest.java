package org.projntk.attribution;

import static org.junit.jupiter.api.Assertions.*;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.cli.ScoreCommand;
import org.projntk.data.Npy;
import org.projntk.project.ProjectorKind;
import org.projntk.store.FeatureStore;
import picocli.CommandLine;

class ScoreCommandTest {
    @TempDir Path dir;

    private int run(StringWriter out, StringWriter err, String... args) {
        CommandLine cli = new CommandLine(new ScoreCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    @Test
    void writesTheLibrarysScoresAndReportsBadInput() {
        String train = TinyStores.data(dir, "train", 30, 1), test = TinyStores.data(dir, "test", 4, 2);
        TinyStores.featurize(dir.resolve("s"), "a", 1, train, test, ProjectorKind.RADEMACHER, 16);
        FeatureStore store = TinyStores.featurize(dir.resolve("s"), "b", 2, train, test, ProjectorKind.RADEMACHER, 16);
        Path npy = dir.resolve("out/scores.npy");
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(0, run(out, err, "--store", dir.resolve("s").toString(), "--out", npy.toString(), "--lambda", "0.01",
                "--checkpoints", "a,b", "--trak-compat"), err.toString());
        assertTrue(out.toString().contains("[4 x 30]"), out.toString());
        float[] flat = Npy.readFloats(npy);
        float[][] want = TrakScores.matrix(store, TrakScores.Options.builder().lambda(0.01).trakCompat(true).build());
        for (int i = 0; i < 4; i++) for (int j = 0; j < 30; j++) assertEquals(want[i][j], flat[i * 30 + j], 0f);
        assertFalse(Files.exists(dir.resolve("out/scores.npy.tmp")));

        assertNotEquals(0, run(out, err, "--store", dir.resolve("s").toString(), "--out", npy.toString(), "--lambda", "-1"));
        StringWriter err2 = new StringWriter();
        assertNotEquals(0, run(new StringWriter(), err2, "--store", dir.resolve("s").toString(), "--out", npy.toString(), "--checkpoints", "a,zz"));
        assertTrue(err2.toString().contains("zz"), err2.toString());
        assertEquals(List.of("a", "b"), List.copyOf(store.manifest().checkpoints().keySet()));
    }
}
