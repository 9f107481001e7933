package org.projntk.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.Npy;
import org.projntk.data.TextTokenizer;

/**
 * Bad input as a new user gives it, through the command line: every case asserts its exit code (2 usage, 1 run time),
 * that stderr is one line holding the expected words, and that no command leaves a JVM crash file (hs_err_pid*.log).
 * Cases needing a clean feature store get their own copy of one small trNTK store of builtin:tiny-mlp.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class BadInputSuiteTest {
    @TempDir static Path tmp;
    static String train, test;
    static Path store, marginStore;

    @BeforeAll
    static void data() throws IOException {
        train = FailureCleanupTest.npyData(tmp, "train", 30, 1);
        test = FailureCleanupTest.npyData(tmp, "test", 10, 2);
        store = tmp.resolve("store");
        CommandLineTest.ok("featurize", "--model", "builtin:tiny-mlp", "--train", train, "--test", test, "--kernel", "trntk", "--dim", "8",
                "--batch", "8", "--out", store.toString());
        marginStore = tmp.resolve("margin");
        CommandLineTest.ok("featurize", "--model", "builtin:tiny-mlp", "--train", train, "--test", test, "--kernel", "margin", "--dim", "8",
                "--out", marginStore.toString());
    }

    /** No JVM crash file in the working directory or under the suite's folders. */
    @AfterAll
    static void noCrashFiles() throws IOException {
        for (Path root : List.of(Path.of("").toAbsolutePath(), tmp)) {
            try (Stream<Path> s = Files.walk(root, root.equals(tmp) ? 8 : 1)) {
                List<Path> crashes = s.filter(p -> p.getFileName().toString().matches("hs_err_pid.*\\.log")).toList();
                assertEquals(List.of(), crashes, "JVM crash files");
            }
        }
    }

    private static void expect(int code, String words, String... argv) {
        CommandLineTest.Run r = CommandLineTest.run(argv);
        String cmd = String.join(" ", argv);
        assertEquals(code, r.code(), cmd + "\nstdout: " + r.out() + "\nstderr: " + r.err());
        List<String> lines = r.errLines().stream().filter(l -> !l.startsWith("warning: ")).toList();
        assertEquals(1, lines.size(), cmd + ": " + r.err());
        assertTrue(lines.get(0).contains(words), cmd + ": expected '" + words + "' in: " + lines.get(0));
    }

    private static Path copyStore(Path from, String name) throws IOException {
        Path to = tmp.resolve(name);
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(q);
                else Files.copy(p, q);
            }
        }
        return to;
    }

    private static void xorByte(Path file, long at, int mask) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ mask);
        }
    }

    /** npy:X,Y where X is written by hand from floats (rows x 4) and Y holds rows uint8 labels. */
    private static String npy(String name, float[] x, int rows, int labelRows) throws IOException {
        Path xp = tmp.resolve(name + "-x.npy"), yp = tmp.resolve(name + "-y.npy");
        Npy.write(xp, Npy.Dtype.FLOAT32, x, rows, 4);
        byte[] head = Npy.header(Npy.Dtype.UINT8, labelRows);
        Files.write(yp, ByteBuffer.allocate(head.length + labelRows).put(head).array());
        return "npy:" + xp + "," + yp;
    }

    // ------------------------------------------------------------------ datasets

    @Test
    void a01_truncatedNpy() throws IOException {
        String spec = npy("trunc", new float[40 * 4], 40, 40);
        Path x = tmp.resolve("trunc-x.npy");
        byte[] b = Files.readAllBytes(x);
        Files.write(x, java.util.Arrays.copyOf(b, b.length - 10));
        expect(1, "trunc-x.npy", "featurize", "--model", "builtin:tiny-mlp", "--train", spec, "--dim", "4", "--out", tmp.resolve("o1").toString());
    }

    @Test
    void a02_nanPixels() throws IOException {
        float[] x = new float[12 * 4];
        x[17] = Float.NaN;
        expect(1, "NaN", "featurize", "--model", "builtin:tiny-mlp", "--train", npy("nan", x, 12, 12), "--dim", "4", "--out",
                tmp.resolve("o2").toString());
    }

    @Test
    void a03_labelsShorterThanInputs() throws IOException {
        expect(1, "label count 7 != example count 12", "featurize", "--model", "builtin:tiny-mlp", "--train", npy("short", new float[12 * 4], 12, 7), "--dim", "4",
                "--out", tmp.resolve("o3").toString());
    }

    @Test
    void a04_zeroRowNpyForASingleInputModel() throws IOException {
        expect(1, "no rows in", "featurize", "--model", "builtin:tiny-mlp", "--train", npy("empty", new float[0], 0, 0), "--dim", "4",
                "--out", tmp.resolve("o4").toString());
        assertFalse(Files.exists(tmp.resolve("o4/manifest.json")), "no empty store marked complete");
    }

    @Test
    void a05_zeroRowNpyArraysForATwoInputModel() throws IOException {
        Path ids = tmp.resolve("ids.npy"), mask = tmp.resolve("mask.npy"), y = tmp.resolve("y0.npy");
        for (Path p : List.of(ids, mask)) Files.write(p, Npy.header(Npy.Dtype.INT64, 0, 10));
        Files.write(y, Npy.header(Npy.Dtype.UINT8, 0));
        expect(1, "no rows in", "featurize", "--model", "builtin:text-transformer:vocab=40,classes=3,length=10", "--train",
                "npy:" + ids + "," + mask + "," + y, "--dim", "4", "--out", tmp.resolve("o5").toString());
    }

    @Test
    void a06_emptyTsv() throws IOException {
        Path tsv = tmp.resolve("empty.tsv");
        Files.writeString(tsv, "");
        Path tok = TextTokenizer.writeWordLevel(List.of("a b c"), 8, tmp.resolve("tokenizer.json"));
        expect(1, "no rows in", "featurize", "--model", "builtin:text-transformer:vocab=8,classes=2,length=6", "--train", tsv.toString(),
                "--tokenizer", tok.toString(), "--max-length", "6", "--dim", "4", "--out", tmp.resolve("o6").toString());
    }

    @Test
    void a07_rangeSelectingNoRows() {
        expect(1, "no rows in", "featurize", "--model", "builtin:tiny-mlp", "--train", train + "[5:5]", "--dim", "4", "--out",
                tmp.resolve("o7").toString());
    }

    @Test
    void a08_rangeOutOfBounds() {
        expect(1, "out of bounds", "featurize", "--model", "builtin:tiny-mlp", "--train", train + "[0:999]", "--dim", "4", "--out",
                tmp.resolve("o8").toString());
    }

    @Test
    void a09_missingDatasetFile() {
        expect(1, "nope-x.npy", "featurize", "--model", "builtin:tiny-mlp", "--train", "npy:" + tmp.resolve("nope-x.npy") + ","
                + tmp.resolve("nope-y.npy"), "--dim", "4", "--out", tmp.resolve("o9").toString());
    }

    @Test
    void a10_unknownDatasetForm() {
        expect(1, "forms:", "featurize", "--model", "builtin:tiny-mlp", "--train", "csv:data.csv", "--dim", "4", "--out",
                tmp.resolve("o10").toString());
    }

    // ------------------------------------------------------------------ models

    @Test
    void b01_randomBytesModel() throws IOException {
        Path pt = tmp.resolve("random.pt");
        byte[] b = new byte[8192];
        new Random(3).nextBytes(b);
        Files.write(pt, b);
        expect(1, pt.toString(), "featurize", "--model", pt.toString(), "--train", train, "--dim", "4", "--out", tmp.resolve("p1").toString());
    }

    @Test
    void b02_missingModel() {
        Path pt = tmp.resolve("none.pt");
        expect(1, pt.toString(), "featurize", "--model", pt.toString(), "--train", train, "--dim", "4", "--out", tmp.resolve("p2").toString());
    }

    @Test
    void b03_unknownBuiltin() {
        expect(1, "no-such-net", "featurize", "--model", "builtin:no-such-net", "--train", train, "--dim", "4", "--out",
                tmp.resolve("p3").toString());
    }

    @Test
    void b04_inputShapeMismatch() {
        expect(1, "shape", "featurize", "--model", "builtin:cnn-fmnist", "--train", train, "--dim", "4", "--out", tmp.resolve("p4").toString());
    }

    /** builtin:tiny-mlp saved by `train`, its forward edited to return int64 logits. */
    @Test
    void b05_integerLogits() throws IOException {
        Path saved = tmp.resolve("mlp.pt");
        CommandLineTest.ok("train", "--model", "builtin:tiny-mlp", "--data", train, "--epochs", "0", "--out", saved.toString());
        Path edited = tmp.resolve("long.pt");
        try (ZipFile in = new ZipFile(saved.toFile()); ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(edited))) {
            for (ZipEntry e : java.util.Collections.list(in.entries())) {
                if (e.getName().endsWith(".debug_pkl")) continue;
                byte[] data = in.getInputStream(e).readAllBytes();
                if (e.getName().endsWith("tiny_mlp.py")) {
                    String code = new String(data, java.nio.charset.StandardCharsets.UTF_8);
                    String edit = code.replace("    return _0\nclass fc1", "    return torch.mul(_0, 100).long()\nclass fc1");
                    assertNotEquals(code, edit, "the saved forward changed shape:\n" + code);
                    data = edit.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                }
                out.putNextEntry(new ZipEntry(e.getName()));
                out.write(data);
                out.closeEntry();
            }
        }
        for (String grad : List.of("functional", "iterative")) {
            expect(1, "the model's output has dtype Long; gradients need float logits", "featurize", "--model", edited.toString(), "--train",
                    train, "--dim", "4", "--grad", grad, "--out", tmp.resolve("p5-" + grad).toString());
        }
    }

    @Test
    void b06_labelBeyondTheModelsClasses() throws IOException {
        String spec = npy("lab", new float[6 * 4], 6, 6);
        Path y = tmp.resolve("lab-y.npy");
        byte[] b = Files.readAllBytes(y);
        b[b.length - 2] = 7;
        Files.write(y, b);
        expect(1, "7", "featurize", "--model", "builtin:tiny-mlp", "--train", spec, "--kernel", "margin", "--dim", "4", "--out",
                tmp.resolve("p6").toString());
    }

    @Test
    void b07_parameterSelectionMatchingNothing() {
        expect(1, "zzz", "featurize", "--model", "builtin:tiny-mlp", "--train", train, "--dim", "4", "--params", "zzz", "--out",
                tmp.resolve("p7").toString());
    }

    /** A single-Tensor forward has no element or key to choose: the choice is an error, never silently ignored. */
    @Test
    void b08_outputIndexOnASingleTensorModel() {
        expect(1, "forward returned a single Tensor, so there is no output to choose: drop --output-index 3", "featurize", "--model",
                "builtin:tiny-mlp", "--train", train, "--dim", "4", "--output-index", "3", "--out", tmp.resolve("p8").toString());
        assertFalse(Files.exists(tmp.resolve("p8").resolve("manifest.json")), "no store is marked as written");
    }

    @Test
    void b09_outputKeyOnASingleTensorModel() {
        expect(1, "drop --output-key scores", "featurize", "--model", "builtin:tiny-mlp", "--train", train, "--dim", "4", "--output-key",
                "scores", "--out", tmp.resolve("p9").toString());
    }

    // ------------------------------------------------------------------ stores

    /** A store written by a later projntk, whose layout this build does not know: refused, never misread. */
    @Test
    void c13_storeOfANewerFormatVersion() throws IOException {
        Path newer = copyStore(store, "newer");
        Path manifest = newer.resolve("manifest.json");
        String json = Files.readString(manifest);
        String edited = json.replaceFirst("\"format_version\" : 1,", "\"format_version\" : 99,");
        assertNotEquals(json, edited, "the manifest's format_version field moved:\n" + json);
        Files.writeString(manifest, edited);
        expect(1, "has format version 99, this build reads 1", "similar", "--store", newer.toString(), "--out",
                tmp.resolve("newer-similar").toString());
        assertFalse(Files.exists(tmp.resolve("newer-similar")), "nothing written");
    }

    @Test
    void c01_flippedMantissaByteFailsEveryReaderAndVerifyFindsIt() throws IOException {
        flippedByteFailsEveryReader("mant", 0);
    }

    @Test
    void c02_flippedExponentByteFailsEveryReaderAndVerifyFindsIt() throws IOException {
        flippedByteFailsEveryReader("expo", 3);
    }

    private void flippedByteFailsEveryReader(String name, int byteOfFloat) throws IOException {
        Path s = copyStore(store, name);
        Path file = s.resolve("0/train.class2.npy");
        long at = Npy.header(Npy.Dtype.FLOAT32, 30, 8).length + (17L * 8 + 5) * 4 + byteOfFloat;
        xorByte(file, at, 0x01);
        String words = "checksum mismatch in " + file;
        expect(1, words, "gram", "--store", s.toString(), "--out", tmp.resolve(name + "-k.npy").toString());
        expect(1, words, "similar", "--store", s.toString(), "--out", tmp.resolve(name + "-sim").toString());
        expect(1, words, "surrogate", "--store", s.toString());
        expect(1, words, "explain", "--store", s.toString(), "--test-index", "0");
        expect(1, "batch rows [16, 24)", "verify", "--store", s.toString());
        assertFalse(Files.exists(tmp.resolve(name + "-k.npy")));

        Path m = copyStore(marginStore, name + "-margin");
        Path q = m.resolve("0/test.npy");
        xorByte(q, Npy.header(Npy.Dtype.FLOAT32, 10, 8).length + 4L * 8 * 4 + byteOfFloat, 0x01);
        expect(1, "checksum mismatch in " + q, "score", "--store", m.toString(), "--out", tmp.resolve(name + "-scores.npy").toString());
        assertFalse(Files.exists(tmp.resolve(name + "-scores.npy.tmp")));
    }

    @Test
    void c03_verifyOfASoundStoreExitsZero() {
        CommandLineTest.Run r = CommandLineTest.ok("verify", "--store", store.toString());
        assertTrue(r.out().contains("is sound"), r.out());
    }

    @Test
    void c04_missingManifest() {
        expect(1, "no feature store in", "gram", "--store", tmp.resolve("nowhere").toString(), "--out", tmp.resolve("k4.npy").toString());
        expect(1, "no feature store in", "verify", "--store", tmp.resolve("nowhere").toString());
    }

    @Test
    void c05_tornManifest() throws IOException {
        Path s = copyStore(store, "torn");
        Path m = s.resolve("manifest.json");
        byte[] b = Files.readAllBytes(m);
        Files.write(m, java.util.Arrays.copyOf(b, b.length / 2));
        expect(1, "manifest.json", "surrogate", "--store", s.toString());
    }

    @Test
    void c06_truncatedFeatureFile() throws IOException {
        Path s = copyStore(store, "cut");
        Path f = s.resolve("0/test.class0.npy");
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length - 32));
        expect(1, f.toString(), "gram", "--store", s.toString(), "--rows", "test", "--cols", "test", "--out", tmp.resolve("k6.npy").toString());
        expect(1, f.toString(), "verify", "--store", s.toString());
    }

    @Test
    void c07_missingFeatureFile() throws IOException {
        Path s = copyStore(store, "gone");
        Path f = s.resolve("0/train.class1.npy");
        Files.delete(f);
        expect(1, f.toString(), "similar", "--store", s.toString(), "--out", tmp.resolve("sim7").toString());
        expect(1, f + ": missing", "verify", "--store", s.toString());
    }

    @Test
    void c08_unknownCheckpointAndSplit() {
        expect(1, "no checkpoint 'nope'", "gram", "--store", store.toString(), "--checkpoint", "nope", "--out", tmp.resolve("k8.npy").toString());
        expect(1, "split", "gram", "--store", store.toString(), "--rows", "valid", "--out", tmp.resolve("k8.npy").toString());
    }

    @Test
    void c09_scoreOnAStoreWithoutMargins() {
        expect(1, "margin", "score", "--store", store.toString(), "--out", tmp.resolve("s9.npy").toString());
    }

    @Test
    void c10_scoreDimAboveK() {
        expect(1, "exceeds the store's K", "score", "--store", marginStore.toString(), "--dim", "9", "--out", tmp.resolve("s10.npy").toString());
    }

    @Test
    void c11_featurizeIntoAStoreOfAnotherSpec() {
        expect(1, "incompatible store", "featurize", "--model", "builtin:tiny-mlp", "--train", train, "--test", test, "--kernel", "trntk",
                "--dim", "16", "--out", store.toString());
    }

    @Test
    void c12_oldStoreIsReadWithOneWarningAndRehashed() throws IOException {
        Path s = copyStore(store, "old");
        Path m = s.resolve("manifest.json");
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(m.toFile());
        root.remove("batches");
        for (var f : root.get("files")) ((com.fasterxml.jackson.databind.node.ObjectNode) f).remove("crc32c");
        json.writeValue(m.toFile(), root);
        CommandLineTest.Run r = CommandLineTest.ok("gram", "--store", s.toString(), "--out", tmp.resolve("k12.npy").toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("warning: store " + s) && r.err().contains("verify --rehash"), r.err());
        CommandLineTest.Run v = CommandLineTest.run("verify", "--store", s.toString());
        assertEquals(1, v.code(), v.err());
        assertEquals(6, v.errLines().size(), "one line per file: " + v.err());
        for (String line : v.errLines()) assertTrue(line.contains("no checksum recorded"), line);
        CommandLineTest.ok("verify", "--rehash", "--store", s.toString());
        CommandLineTest.ok("verify", "--store", s.toString());
    }

    // ------------------------------------------------------------------ options

    @Test
    void d01_optionValuesOutOfRangeExitTwo() {
        expect(2, "'--lambda': must be a finite number >= 0, got -1", "score", "--store", "s", "--out", "o.npy", "--lambda", "-1");
        expect(2, "'--alpha': must be a finite number in (0, 1), got 1.5", "lds", "--alpha", "1.5");
        expect(2, "'--max-length': must be >= 1, got -5", "featurize", "--max-length", "-5");
        expect(2, "'--alpha': 'abc' is not a number", "lds", "--alpha", "abc");
        expect(2, "'--dim': must be >= 1, got 0", "featurize", "--dim", "0");
        expect(2, "'--top': must be >= 1, got 0", "similar", "--top", "0");
        expect(2, "'--subsets': must be >= 3, got 2", "lds", "--subsets", "2");
    }

    @Test
    void d02_unknownAndMissingOptionsExitTwo() {
        expect(2, "Unknown option: '--bogus'", "gram", "--store", "s", "--out", "k.npy", "--bogus");
        expect(2, "--store", "gram", "--out", "k.npy");
        expect(2, "unknown command 'frobnicate'", "frobnicate");
        expect(2, "'fp16' is not one of", "gram", "--store", "s", "--out", "k.npy", "--precision", "fp16");
        expect(2, "'2' is not i/n", "featurize", "--model", "m", "--train", "x", "--out", "o", "--shard", "2");
    }

    // ------------------------------------------------------------------ outputs

    @Test
    void e01_featurizeOutIsARegularFile() throws IOException {
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "x");
        expect(1, file.toString(), "featurize", "--model", "builtin:tiny-mlp", "--train", train, "--dim", "4", "--out", file.toString());
    }

    @Test
    void e02_gramOutIsADirectory() throws IOException {
        Path out = tmp.resolve("kdir.npy");
        Files.createDirectories(out.resolve("x"));
        expect(1, out.toString(), "gram", "--store", store.toString(), "--out", out.toString());
        assertFalse(Files.exists(tmp.resolve("kdir.npy.tmp")));
    }

    @Test
    void e03_sweepDimsOfZero() {
        expect(2, "'--dims' (K): must be >= 1, got 0", "sweep", "--model", "builtin:tiny-mlp", "--train", train, "--dims", "0,4", "--out",
                tmp.resolve("sw").toString());
    }

    /** A 256 KiB tmpfs (root only; skipped elsewhere): featurize and gram into a full file system. */
    @Test
    void e04_diskFull() throws Exception {
        Path mnt = tmp.resolve("full");
        Files.createDirectories(mnt);
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt.toString()).redirectErrorStream(true).start();
        boolean mounted = p.waitFor() == 0;
        org.junit.jupiter.api.Assumptions.assumeTrue(mounted, "cannot mount a tmpfs here (not root?): " + new String(p.getInputStream().readAllBytes()));
        try {
            expect(1, "No space left on device", "featurize", "--model", "builtin:tiny-mlp", "--train", train, "--test", test, "--kernel",
                    "trntk", "--dim", "2048", "--out", mnt.resolve("st").toString());
            try (var filler = Files.newOutputStream(mnt.resolve("filler"))) {
                byte[] page = new byte[4096];
                for (int i = 0; i < 1024; i++) filler.write(page);
            } catch (IOException full) {
                // the file system is full now
            }
            List<String> before = list(mnt);
            expect(1, "No space left on device", "gram", "--store", store.toString(), "--out", mnt.resolve("k.npy").toString());
            assertEquals(before, list(mnt), "no temporary file left on the full disk");
        } finally {
            new ProcessBuilder("umount", mnt.toString()).start().waitFor();
        }
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return new ArrayList<>(s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
