package org.projntk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.GemmPrecision;
import org.projntk.ProjntkException;
import org.projntk.bindings.projntk_h;
import org.projntk.featurize.FeaturizeConfig;
import org.projntk.internal.Cuda;
import org.projntk.project.Projector;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.store.FeatureStore;
import org.projntk.store.Manifest;
import org.projntk.torch.Device;
import org.projntk.torch.Model;

import picocli.CommandLine;

/**
 * --precision fp32|tf32 (featurize, gram) and --gpu N (every command that takes --device cuda): parsing, usage errors,
 * what reaches the library, the native device argument, and the store's record of both.
 */
class DeviceOptionsTest {
    @TempDir Path dir;

    /** featurize's options parsed by the CLI's own command model (its converters included). */
    static FeaturizeCommand featurize(String... extra) {
        CommandLine.ParseResult parsed = Main.commandLine().parseArgs(concat(new String[] {"featurize", "--model", "builtin:tiny-mlp",
                "--train", "fashion-mnist:train[0:4]", "--out", "unused"}, extra));
        return (FeaturizeCommand) parsed.subcommand().commandSpec().userObject();
    }

    @Test
    void featurizeDefaultsToStrictFp32OnGpuZero() {
        FeaturizeConfig c = featurize().config();
        assertEquals(GemmPrecision.FP32, c.precision());
        assertEquals(0, c.gpu());
        assertEquals(GemmPrecision.FP32, c.effectivePrecision());
    }

    @Test
    void featurizePassesPrecisionAndGpuToTheConfig() {
        FeaturizeConfig c = featurize("--device", "cuda", "--gpu", "2", "--precision", "tf32").config();
        assertEquals(Device.CUDA, c.device());
        assertEquals(2, c.gpu());
        assertEquals(GemmPrecision.TF32, c.precision());
        assertEquals(GemmPrecision.TF32, c.effectivePrecision());
        // the CPU computes in float32 whatever was asked
        assertEquals(GemmPrecision.FP32, featurize("--precision", "tf32").config().effectivePrecision());
    }

    @Test
    void badValuesAreUsageErrors() {
        String[][] bad = {
                {"featurize", "--precision", "fp16"},
                {"featurize", "--gpu", "1"},
                {"featurize", "--device", "cuda", "--gpu", "-1"},
                {"gram", "--precision", "bf16"},
                {"gram", "--gpu", "3"},
                {"train", "--gpu", "1"},
                {"bench", "gradient", "--gpu", "1"},
                {"bench", "projection", "--gpu", "2"}};
        for (String[] argv : bad) {
            String[] full = switch (argv[0]) {
                case "featurize" -> concat(argv, "--model", "builtin:tiny-mlp", "--train", "fashion-mnist:train[0:4]", "--out",
                        dir.resolve("s").toString());
                case "gram" -> concat(argv, "--store", dir.toString(), "--out", dir.resolve("k.npy").toString());
                case "train" -> concat(argv, "--model", "builtin:tiny-mlp", "--data", "fashion-mnist:train[0:4]", "--out",
                        dir.resolve("m.pt").toString());
                default -> argv;
            };
            CommandLineTest.Run r = CommandLineTest.run(full);
            assertEquals(2, r.code(), String.join(" ", full) + ": " + r.err());
            assertEquals(1, r.errLines().size(), r.err());
            String e = r.err();
            assertTrue(e.contains("--precision") || e.contains("--gpu") || e.contains("fp16") || e.contains("bf16"), e);
        }
        CommandLineTest.Run r = CommandLineTest.run(concat(new String[] {"featurize", "--gpu", "1"}, "--model", "builtin:tiny-mlp",
                "--train", "fashion-mnist:train[0:4]", "--out", dir.resolve("s").toString()));
        assertTrue(r.err().contains("--gpu 1 needs --device cuda"), r.err());
    }

    @Test
    void theNativeDeviceArgumentCarriesTheOrdinal() {
        assertEquals(projntk_h.PROJNTK_DEVICE_CPU(), Device.CPU.code(0));
        assertEquals(projntk_h.PROJNTK_DEVICE_CUDA(), Device.CUDA.code(0));
        assertEquals(projntk_h.PROJNTK_DEVICE_CUDA() | (5 << projntk_h.PROJNTK_DEVICE_ORDINAL_SHIFT()), Device.CUDA.code(5));
        assertEquals("cuda:5", Device.CUDA.label(5));
        assertThrows(IllegalArgumentException.class, () -> Device.CPU.code(1));
        assertThrows(IllegalArgumentException.class, () -> Device.CUDA.code(-1));
        assertThrows(IllegalArgumentException.class, () -> Device.CUDA.code(Device.MAX_GPU + 1));
    }

    @Test
    void theOrdinalReachesTheNativeCalls() {
        // On a machine without that GPU (or without CUDA), the native library refuses it by name.
        ProjntkException model = assertThrows(ProjntkException.class, () -> Model.open("builtin:tiny-mlp", 0, Device.CUDA, 4095));
        assertTrue(model.getMessage().contains("cuda:4095"), model.getMessage());
        ProjectorSpec spec = ProjectorSpec.of(ProjectorKind.RADEMACHER, 100, 8, 1).withDevice(Device.CUDA, 4095);
        assertEquals(4095, spec.gpu());
        ProjntkException projector = assertThrows(ProjntkException.class, () -> new Projector(spec).close());
        assertTrue(projector.getMessage().contains("cuda:4095"), projector.getMessage());
        if (!Cuda.available()) {
            ProjntkException gpu = assertThrows(ProjntkException.class, () -> Cuda.useDevice(1));
            assertEquals(ProjntkException.Status.UNSUPPORTED, gpu.status());
        }
    }

    @Test
    void featurizeOnAMissingGpuFailsAtRunTimeNamingIt() {
        CommandLineTest.assumeData();
        CommandLineTest.Run r = CommandLineTest.run("featurize", "--model", "builtin:tiny-mlp", "--train", "fashion-mnist:train[0:4]",
                "--device", "cuda", "--gpu", "4095", "--out", dir.resolve("s").toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("cuda:4095"), r.err());
    }

    @Test
    void aCpuStoreRecordsItsDeviceAndPrecision() throws Exception {
        CommandLineTest.assumeData();
        Path store = dir.resolve("store");
        CommandLineTest.ok("featurize", "--model", "builtin:cnn-fmnist", "--train", "fashion-mnist:train[0:8]", "--kernel", "pntk",
                "--dim", "16", "--batch", "4", "--precision", "tf32", "--out", store.toString());
        Manifest.Checkpoint c = FeatureStore.open(store).manifest().checkpoints().get("0");
        assertEquals("cpu", c.device());
        assertEquals("fp32", c.precision(), "the CPU computes in float32 whatever was asked");
        assertTrue(Files.readString(store.resolve("manifest.json")).contains("\"precision\""));
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
