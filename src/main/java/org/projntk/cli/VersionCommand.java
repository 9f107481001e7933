package org.projntk.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.Callable;

import org.projntk.torch.Runtime;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** `projntk version`: what this engine is running on. */
@Command(name = "version", mixinStandardHelpOptions = true,
        description = "projntk, libtorch and Java versions, CUDA availability, and the BLAS libtorch and the Gram kernels use.")
public final class VersionCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        print(spec.commandLine().getOut());
        return 0;
    }

    static void print(PrintWriter out) {
        String info = Runtime.info();
        out.println("projntk " + Runtime.version());
        out.println("native: " + info);
        out.println("libtorch BLAS: " + String.join(", ", loadedBlasLibraries()));
        out.println("Gram BLAS: " + Runtime.blas());
        out.println("CUDA (cuBLAS/cuRAND for Java-side GPU kernels): " + org.projntk.internal.Cuda.describe());
        out.println("java: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    }

    /** BLAS shared objects mapped into this process (libtorch's, via the libblas.so.3 alternative, and ours). */
    static Set<String> loadedBlasLibraries() {
        Set<String> found = new LinkedHashSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash < 0) continue;
                String path = line.substring(slash);
                String name = Path.of(path).getFileName().toString();
                if (name.contains("blas") || name.contains("mkl_")) {
                    found.add(path + describeTarget(Path.of(path)));
                }
            }
        } catch (IOException e) {
            found.add("unknown (" + e.getMessage() + ")");
        }
        if (found.isEmpty()) found.add("none mapped (libtorch may use its own)");
        return found;
    }

    private static String describeTarget(Path path) {
        try {
            Path real = path.toRealPath();
            return real.equals(path) ? "" : " -> " + real;
        } catch (IOException e) {
            return "";
        }
    }
}
