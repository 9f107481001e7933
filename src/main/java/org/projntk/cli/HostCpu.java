package org.projntk.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The CPU a benchmark ran on, from /proc/cpuinfo: rates differ between host kinds (AMD family 25 = Zen 4,
 * 26 = Zen 5), so every benchmark line names its host.
 */
record HostCpu(String model, int family, int modelNumber, int cpus) {
    static HostCpu read() {
        String name = "unknown";
        int family = -1, modelNumber = -1;
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            for (String line : lines) {
                int colon = line.indexOf(':');
                if (colon < 0) continue;
                String key = line.substring(0, colon).strip(), value = line.substring(colon + 1).strip();
                if (key.equals("model name") && name.equals("unknown")) name = value;
                else if (key.equals("cpu family") && family < 0) family = parse(value);
                else if (key.equals("model") && modelNumber < 0) modelNumber = parse(value);
            }
        } catch (IOException | SecurityException e) {
            // not Linux, or not readable: the line says "unknown"
        }
        return new HostCpu(name, family, modelNumber, Runtime.getRuntime().availableProcessors());
    }

    private static int parse(String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Adds the host's fields to a benchmark record and returns it. */
    ObjectNode addTo(ObjectNode record) {
        return record.put("cpu_model", model).put("cpu_family", family).put("cpu_model_number", modelNumber).put("cpus", cpus);
    }
}
