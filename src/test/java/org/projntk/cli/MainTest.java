package org.projntk.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exit codes and messages of the command line, in-process. */
class MainTest {
    @TempDir Path tmp;

    record Run(int code, String out, String err) {}

    static Run run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void helpAndUsage() {
        for (String flag : new String[] {"--help", "-h", "help"}) {
            Run r = run(flag);
            assertEquals(0, r.code(), flag);
            assertTrue(r.out().contains("Usage: projntk") && r.out().contains("featurize"), r.out());
        }
        Run none = run();
        assertEquals(2, none.code());
        assertTrue(none.err().contains("Usage: projntk"), none.err());
        Run unknown = run("frobnicate");
        assertEquals(2, unknown.code());
        assertEquals("projntk: unknown command 'frobnicate' (see 'projntk --help')", unknown.err().strip());
    }

    @Test
    void versionPrintsLibtorchAndBlas() throws Exception {
        Run r = run("version");
        assertEquals(0, r.code(), r.err());
        Matcher m = Pattern.compile("\"libtorch\":\"(\\d+\\.\\d+\\.\\d+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        // The libtorch we link is the one whose headers are installed; compare with its version.h when present.
        Path header = Path.of("/usr/include/torch/csrc/api/include/torch/version.h");
        if (Files.exists(header)) {
            String text = Files.readString(header);
            Matcher major = Pattern.compile("TORCH_VERSION_MAJOR (\\d+)").matcher(text);
            Matcher minor = Pattern.compile("TORCH_VERSION_MINOR (\\d+)").matcher(text);
            if (major.find() && minor.find()) {
                assertTrue(m.group(1).startsWith(major.group(1) + "." + minor.group(1) + "."), m.group(1) + " vs headers " + text);
            }
        }
        assertTrue(r.out().startsWith("projntk "), r.out());
        assertTrue(r.out().contains("libtorch BLAS: "), r.out());
        assertTrue(r.out().contains("Gram BLAS: "), r.out());
        if (Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libopenblas.so.0"))) {
            assertTrue(r.out().contains("Gram BLAS: OpenBLAS"), r.out());
        }
    }

    @Test
    void badFeaturizeOptionsAreUsageErrors() {
        Run missing = run("featurize", "--train", "fashion-mnist:train[0:4]", "--out", tmp.toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("--model"), missing.err());

        Run typo = run("featurize", "--model", "builtin:cnn-fmnist", "--train", "fashion-mnist:train[0:4]", "--out",
                tmp.resolve("s").toString(), "--dimm", "8");
        assertEquals(2, typo.code());
        assertTrue(typo.err().contains("Unknown option: '--dimm'"), typo.err());

        Run notNumber = run("featurize", "--model", "builtin:cnn-fmnist", "--train", "x", "--out", tmp.toString(), "--dim", "lots");
        assertEquals(2, notNumber.code());
        assertTrue(notNumber.err().contains("--dim") && notNumber.err().contains("lots"), notNumber.err());

        Run noValue = run("featurize", "--model");
        assertEquals(2, noValue.code());
        assertTrue(noValue.err().contains("Missing required parameter for option '--model'"), noValue.err());
        for (Run r : new Run[] {missing, typo, notNumber, noValue}) assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void badModelFileIsExitOneNamingIt() {
        Path missing = tmp.resolve("missing.pt");
        Run r = run("featurize", "--model", missing.toString(), "--train", "fashion-mnist:train[0:4]", "--out", tmp.resolve("s").toString(),
                "--dim", "8");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains(missing.toString()), r.err());
    }

    @Test
    void aSparkTaskFailureIsReportedAsItsRootCauseInOneLine() {
        String spark = "Job aborted due to stage failure: Task 1 in stage 0.0 failed 1 times, most recent failure: Lost task 1.0 in stage 0.0 "
                + "(TID 1) (10.0.0.5 executor driver): org.projntk.store.ChecksumMismatchException: checksum mismatch in /s/0/train.npy, "
                + "batch rows [0, 64): crc32c is 0000abcd, the manifest records 1234abcd\n\tat org.projntk.store.Checksums.check(Checksums.java:1)"
                + "\n\tat org.apache.spark.scheduler.Task.run(Task.scala:141)\nDriver stacktrace:";
        assertEquals("checksum mismatch in /s/0/train.npy, batch rows [0, 64): crc32c is 0000abcd, the manifest records 1234abcd",
                Main.sparkTaskCause(spark));
        assertEquals("NullPointerException: x is null", Main.sparkTaskCause(spark.replace(
                "org.projntk.store.ChecksumMismatchException: checksum mismatch in /s/0/train.npy, batch rows [0, 64): crc32c is 0000abcd, the manifest records 1234abcd",
                "java.lang.NullPointerException: x is null")));
        assertEquals("something else", Main.sparkTaskCause("something else"));
    }
}
