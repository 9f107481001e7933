package org.projntk.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models saved by PyTorch 2.x (scripts/pytorch2/make_fixtures.py, run by Debian 13's python3-torch) featurize with
 * {@code --proj none} to the per-example gradients PyTorch's own torch.func computed for them, on both gradient paths
 * and for pNTK and per-class outputs, to 1e-5 relative per example. A model that needs an op this libtorch lacks and
 * projntk does not provide must fail at load with a message naming the op and the way to build against one's own
 * PyTorch.
 *
 * <p>The fixtures are generated, not committed: {@code make check-pytorch2} (CI) makes them and points
 * {@code PROJNTK_PYTORCH2_FIXTURES} at them. Without that variable the test is skipped, unless
 * {@code PROJNTK_PYTORCH2_REQUIRED=1}, when it fails.
 */
class PyTorch2ModelsTest {
    static final double TOLERANCE = 1e-5;
    @TempDir Path tmp;

    @TestFactory
    Stream<DynamicTest> modelsSavedByPyTorch2() throws IOException {
        String dir = System.getenv("PROJNTK_PYTORCH2_FIXTURES");
        if (dir == null || dir.isBlank()) {
            assertNotEquals("1", System.getenv("PROJNTK_PYTORCH2_REQUIRED"), "PROJNTK_PYTORCH2_FIXTURES is not set");
            Assumptions.abort("PROJNTK_PYTORCH2_FIXTURES is not set (make check-pytorch2 generates the fixtures)");
        }
        Path fixtures = Path.of(dir).toAbsolutePath();
        JsonNode listing = new ObjectMapper().readTree(fixtures.resolve("fixtures.json").toFile());
        assertTrue(listing.get("models").size() >= 8, "fixtures.json lists " + listing.get("models").size() + " models");
        String libtorch = libtorchVersion();
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode m : listing.get("models")) {
            String name = m.get("name").asText();
            tests.add(DynamicTest.dynamicTest(name + " (saved by torch " + listing.get("torch").asText() + ")",
                    () -> check(fixtures, m, libtorch)));
        }
        return tests.stream();
    }

    void check(Path fixtures, JsonNode m, String libtorch) throws IOException {
        String name = m.get("name").asText();
        String needsOp = m.get("needs_op").isNull() ? null : m.get("needs_op").asText();
        // projntk provides scaled_dot_product_attention itself where libtorch lacks it; other missing ops are errors.
        boolean mayBeMissing = needsOp != null && !needsOp.equals("aten::scaled_dot_product_attention");
        for (String kernel : List.of("pntk", "trntk")) {
            for (String grad : List.of("functional", "iterative")) {
                Path out = tmp.resolve(name + "-" + kernel + "-" + grad);
                List<String> argv = new ArrayList<>(List.of("featurize", "--model", fixtures.resolve(m.get("model").asText()).toString(),
                        "--train", spec(fixtures, m), "--kernel", kernel, "--proj", "none", "--grad", grad, "--batch", "3",
                        "--out", out.toString(), "--checkpoint", "c"));
                if (!m.get("params").asText().isEmpty()) argv.addAll(List.of("--params", m.get("params").asText()));
                if (!m.get("output_key").isNull()) argv.addAll(List.of("--output-key", m.get("output_key").asText()));
                ByteArrayOutputStream stdout = new ByteArrayOutputStream(), stderr = new ByteArrayOutputStream();
                int code = Main.run(argv.toArray(String[]::new), new PrintStream(stdout, true, StandardCharsets.UTF_8),
                        new PrintStream(stderr, true, StandardCharsets.UTF_8));
                String err = stderr.toString(StandardCharsets.UTF_8);
                if (mayBeMissing && code != 0) {
                    assertEquals(1, code, err);
                    assertEquals(1, err.strip().lines().count(), "one line: " + err);
                    assertTrue(err.contains("needs the op " + needsOp) && err.contains("LIBTORCH_USE_PYTORCH=1"), err);
                    assertTrue(olderThan(libtorch, needsOp), "libtorch " + libtorch + " should have " + needsOp + ": " + err);
                    return;
                }
                assertEquals(0, code, String.join(" ", argv) + "\n" + err);
                assertTrue(stdout.toString(StandardCharsets.UTF_8).contains(grad + " gradients"), stdout.toString(StandardCharsets.UTF_8));
                float[][] reference = kernel.equals("pntk") ? new float[][] {readFloats(fixtures.resolve(name + ".pntk.npy"))}
                        : split(readFloats(fixtures.resolve(name + ".trntk.npy")), m.get("classes").asInt());
                int rows = m.get("rows").asInt(), p = m.get("parameters").asInt();
                for (int c = 0; c < reference.length; c++) {
                    Path file = out.resolve("c").resolve(kernel.equals("pntk") ? "train.npy" : "train.class" + c + ".npy");
                    float[] got = readFloats(file);
                    assertEquals((long) rows * p, got.length, file + " size");
                    for (int i = 0; i < rows; i++) {
                        double diff = 0, norm = 0;
                        for (int j = 0; j < p; j++) {
                            double want = reference[c][i * p + j];
                            diff += (got[i * p + j] - want) * (got[i * p + j] - want);
                            norm += want * want;
                        }
                        assertTrue(norm > 0, name + " reference row " + i + " is zero");
                        double rel = Math.sqrt(diff / norm);
                        assertTrue(rel <= TOLERANCE, name + " " + kernel + " " + grad + " class " + c + " row " + i
                                + ": relative error " + rel);
                    }
                }
            }
        }
    }

    static String spec(Path fixtures, JsonNode m) {
        List<String> files = new ArrayList<>();
        for (JsonNode f : m.get("inputs")) files.add(fixtures.resolve(f.asText()).toString());
        files.add(fixtures.resolve(m.get("labels").asText()).toString());
        return "npy:" + String.join(",", files);
    }

    static float[][] split(float[] all, int classes) {
        int each = all.length / classes;
        float[][] out = new float[classes][];
        for (int c = 0; c < classes; c++) out[c] = java.util.Arrays.copyOfRange(all, c * each, (c + 1) * each);
        return out;
    }

    /** The element data of a little-endian float32 .npy file, in C order (written here, not with the code under test). */
    static float[] readFloats(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int major = bytes[6];
        int headerLength = major == 1 ? Short.toUnsignedInt(b.getShort(8)) : b.getInt(8);
        int dataStart = (major == 1 ? 10 : 12) + headerLength;
        String header = new String(bytes, major == 1 ? 10 : 12, headerLength, StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("'<f4'") && header.contains("'fortran_order': False"), file + ": " + header);
        float[] out = new float[(bytes.length - dataStart) / 4];
        b.position(dataStart);
        b.asFloatBuffer().get(out);
        return out;
    }

    static String libtorchVersion() {
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"version"}, new PrintStream(stdout, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertEquals(0, code);
        Matcher v = Pattern.compile("\"libtorch\":\"([0-9.]+)").matcher(stdout.toString(StandardCharsets.UTF_8));
        assertTrue(v.find(), stdout.toString(StandardCharsets.UTF_8));
        return v.group(1);
    }

    /** Whether this libtorch predates the op (the PyTorch release that added it, for the ops the fixtures use). */
    static boolean olderThan(String libtorch, String op) {
        String[] parts = libtorch.split("\\.");
        int version = Integer.parseInt(parts[0]) * 100 + Integer.parseInt(parts[1]);
        return switch (op) {
            case "aten::rms_norm" -> version < 204;
            default -> throw new AssertionError("no release known for " + op + ": add it here");
        };
    }
}
