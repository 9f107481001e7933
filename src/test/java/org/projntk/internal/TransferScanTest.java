package org.projntk.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * Every copy between host and device memory on the projection path goes through the counting helpers (native/common/
 * transfer.hpp: copy_to and to_host in native/torch/transfer.cpp, copy_counted in native/jl/projector_cuda.cu), so the
 * device check's bytes-per-batch figure is complete. This scans the path's sources for copies that bypass them: a
 * {@code .cpu()}, a {@code .to(...)} naming a device, an {@code .item()}, a {@code cudaMemcpy*}. The helpers' own
 * copies carry the marker COUNTED_COPY on their line.
 */
class TransferScanTest {
    /** The sources of the fused path (gradients, projector, copies). */
    static final List<String> PROJECTION_PATH = List.of("native/torch/grads.cpp", "native/torch/project_grads.cpp",
            "native/torch/transfer.cpp", "native/jl/projector.cpp", "native/jl/projector_cuda.cu");

    static final String MARKER = "COUNTED_COPY";

    private static final List<Pattern> COPIES = List.of(
            Pattern.compile("\\.cpu\\s*\\("),
            Pattern.compile("\\.cuda\\s*\\("),
            Pattern.compile("\\.item\\s*[<(]"),
            Pattern.compile("\\bcudaMemcpy\\w*\\s*\\("));
    private static final Pattern TO = Pattern.compile("\\.to\\s*\\(");
    private static final Pattern DEVICE = Pattern.compile("\\b(kCPU|kCUDA|device|Device)\\b");

    /** True when one of the line's {@code .to(...)} calls names a device among its own arguments. */
    static boolean movesToADevice(CharSequence code) {
        var m = TO.matcher(code);
        while (m.find()) {
            int depth = 1, i = m.end();
            while (i < code.length() && depth > 0) {
                char ch = code.charAt(i++);
                if (ch == '(') depth++;
                if (ch == ')') depth--;
            }
            if (DEVICE.matcher(code.subSequence(m.end(), i)).find()) return true;
        }
        return false;
    }

    /** "file:line: text" for each line that copies across the host/device boundary without the counting helpers. */
    static List<String> uncountedCopies(String file, List<String> lines) {
        List<String> found = new ArrayList<>();
        boolean inBlockComment = false;
        for (int i = 0; i < lines.size(); i++) {
            String raw = lines.get(i);
            StringBuilder code = new StringBuilder();
            int j = 0;
            while (j < raw.length()) {
                if (inBlockComment) {
                    int end = raw.indexOf("*/", j);
                    if (end < 0) { j = raw.length(); break; }
                    inBlockComment = false;
                    j = end + 2;
                } else if (raw.startsWith("/*", j)) {
                    inBlockComment = true;
                    j += 2;
                } else if (raw.startsWith("//", j)) {
                    break;
                } else {
                    code.append(raw.charAt(j++));
                }
            }
            if (raw.contains(MARKER)) continue;
            if (movesToADevice(code)) {
                found.add(file + ":" + (i + 1) + ": " + raw.strip());
                continue;
            }
            for (Pattern p : COPIES) {
                if (p.matcher(code).find()) {
                    found.add(file + ":" + (i + 1) + ": " + raw.strip());
                    break;
                }
            }
        }
        return found;
    }

    @Test
    void theProjectionPathCopiesOnlyThroughTheCountingHelpers() throws IOException {
        List<String> found = new ArrayList<>();
        for (String file : PROJECTION_PATH) {
            Path path = Path.of(file);
            assertTrue(Files.isRegularFile(path), "missing " + path.toAbsolutePath() + " (run the tests from the repository root)");
            found.addAll(uncountedCopies(file, Files.readAllLines(path)));
        }
        assertEquals(List.of(), found, "copies between host and device that bypass the counting helpers "
                + "(copy_to / to_host in native/torch/transfer.cpp, copy_counted in native/jl/projector_cuda.cu)");
    }

    @Test
    void theHelpersAreWhereTheScanExpectsThem() throws IOException {
        assertTrue(Files.readString(Path.of("native/torch/transfer.cpp")).contains("transfer::count("));
        String cuda = Files.readString(Path.of("native/jl/projector_cuda.cu"));
        assertTrue(cuda.contains("void copy_counted(") && cuda.contains("transfer::count("));
    }

    @Test
    void theScanFindsEachKindOfCopy() {
        List<String> planted = List.of(
                "at::Tensor h = g.cpu();",
                "t = t.reshape({rows, -1}).to(torch::kCPU, torch::kFloat32).contiguous();",
                "auto d = x.to(m.device);",
                "auto d = x.to(torch::Device(torch::kCUDA, 1));",
                "bool bad = flag.item<bool>();",
                "double v = loss.item();",
                "check(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, s), \"copy\");",
                "cudaMemcpy(dst, src, n, cudaMemcpyHostToDevice);",
                "at::Tensor c = g.cuda();");
        List<String> found = uncountedCopies("planted.cpp", planted);
        assertEquals(planted.size(), found.size(), "each planted copy is found: " + found);
    }

    @Test
    void theScanLeavesMarkedLinesCommentsAndOtherConversionsAlone() {
        List<String> clean = List.of(
                "return t.to(device, false, true);  // COUNTED_COPY: the counting helper itself",
                "// a comment about .cpu() and cudaMemcpy(...)",
                "/* a block comment: x.to(torch::kCPU)",
                "   still inside: y.item<int>() */",
                "at::Tensor f = t.to(torch::kFloat32).contiguous();",
                "onehot = copy_to(torch::one_hot(y, C).to(torch::kFloat32), m.device);",
                "out = copy_to(t, m.device);",
                "g = to_host(g);");
        assertEquals(List.of(), uncountedCopies("clean.cpp", clean));
    }
}
