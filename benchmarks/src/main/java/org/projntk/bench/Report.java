package org.projntk.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.projntk.plot.LineChart;
import org.projntk.project.ProjectorSpec;

/**
 * Renders one benchmark set (quick, full or gpu) from benchmarks/results: the plot
 * {@code projection-vs-k.png} (also kept as {@code projection-vs-k-SET.png}) and the generated section of
 * docs/performance.md between {@code <!-- BEGIN generated: bench-SET -->} and its END marker.
 *
 * <p>Inputs: the JMH JSON files {@code SET-*.json}, {@code SET-machine.json} (benchmarks/native/machine.c: FMA peak,
 * memory bandwidth) and {@code SET-version.txt} (`projntk version`), the last two optional.
 *
 * <p>Usage: {@code java -cp benchmarks.jar org.projntk.bench.Report RESULTS_DIR SET DOC.md}
 */
public final class Report {
    private Report() {}

    /**
     * One JMH result: the benchmark's simple name (Class.method), its params, the mean time per op and its 99.9% error,
     * and {@code seconds}: the fastest measurement iteration, the one least disturbed by other jobs on a shared
     * machine, from which every derived column is computed. All in seconds.
     */
    record Result(String bench, Map<String, String> params, double seconds, double meanSeconds, double errorSeconds, JsonNode raw) {
        String p(String name) {
            String v = params.get(name);
            if (v == null) throw new IllegalArgumentException(bench + " has no param '" + name + "'");
            return v;
        }

        long l(String name) {
            return Long.parseLong(p(name));
        }

        String key(String... names) {
            StringBuilder sb = new StringBuilder();
            for (String n : names) sb.append(params.getOrDefault(n, "")).append('|');
            return sb.toString();
        }
    }

    /** Limits of the machine; all zero when machine.json is absent (then no roofline columns). */
    record Machine(int threads, double peakGflops, double measuredAllThreadsGflops, double oneThreadGflops,
                   double readGBs, double copyGBs, String peakSource) {
        boolean known() {
            return peakGflops > 0 && readGBs > 0;
        }

        /**
         * The peak can be no lower than a dense rate some benchmark of the run achieved (an FMA microbenchmark that
         * other jobs interrupt under-reads it); the bandwidth likewise for the memory-bound rates.
         */
        Machine atLeast(double observedGflops, String what) {
            if (!known() || observedGflops <= peakGflops) return this;
            return new Machine(threads, observedGflops, measuredAllThreadsGflops, oneThreadGflops, readGBs, copyGBs,
                    String.format(Locale.ROOT, "the best rate achieved in this run, by %s", what));
        }
    }

    static final List<String> PROJECTOR_ORDER = List.of("rademacher", "normal", "sjlt", "sgemm");

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: Report RESULTS_DIR SET DOC.md   (SET: quick, full or gpu)");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        String set = args[1];
        Path doc = Path.of(args[2]);
        List<Result> results = readResults(dir, set);
        if (results.isEmpty()) throw new IllegalStateException("no JMH results " + set + "-*.json in " + dir);
        Machine machine = withObservedPeak(readMachine(dir.resolve(set + "-machine.json")), results);
        Path version = dir.resolve(set + "-version.txt");
        String versionText = Files.exists(version) ? Files.readString(version).strip() : null;

        Path png = dir.resolve("projection-vs-k-" + set + ".png");
        if (plotProjection(results, machine, set, png)) {
            Files.copy(png, dir.resolve("projection-vs-k.png"), StandardCopyOption.REPLACE_EXISTING);
            System.out.println("wrote " + png + " and " + dir.resolve("projection-vs-k.png"));
        }
        String section = markdown(results, machine, versionText, set, dir);
        replaceSection(doc, set, section);
        System.out.println("updated the bench-" + set + " section of " + doc);
    }

    // ------------------------------------------------------------------ input

    static List<Result> readResults(Path dir, String set) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Result> out = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(set + "-") && n.endsWith(".json") && !n.equals(set + "-machine.json");
            }).sorted().toList();
        }
        for (Path f : files) {
            JsonNode root = json.readTree(f.toFile());
            if (root == null || !root.isArray()) throw new IOException(f + " is not a JMH JSON result array");
            for (JsonNode r : root) {
                String full = r.path("benchmark").asText();
                String[] parts = full.split("\\.");
                if (parts.length < 2) throw new IOException(f + ": odd benchmark name '" + full + "'");
                Map<String, String> params = new LinkedHashMap<>();
                r.path("params").properties().forEach(e -> params.put(e.getKey(), e.getValue().asText()));
                JsonNode metric = r.path("primaryMetric");
                double scale = toSeconds(metric.path("scoreUnit").asText(), f);
                double error = metric.path("scoreError").asDouble(Double.NaN);
                double mean = metric.path("score").asDouble() * scale;
                double best = Double.POSITIVE_INFINITY;
                for (JsonNode fork : metric.path("rawData")) {
                    for (JsonNode v : fork) best = Math.min(best, v.asDouble() * scale);
                }
                if (!(best > 0 && Double.isFinite(best))) throw new IOException(f + ": " + full + " has no raw iteration data");
                out.add(new Result(parts[parts.length - 2] + "." + parts[parts.length - 1], params, best, mean,
                        Double.isFinite(error) ? error * scale : Double.NaN, r));
            }
        }
        return out;
    }

    private static double toSeconds(String unit, Path f) throws IOException {
        return switch (unit) {
            case "s/op" -> 1;
            case "ms/op" -> 1e-3;
            case "us/op" -> 1e-6;
            case "ns/op" -> 1e-9;
            default -> throw new IOException(f + ": unit '" + unit + "' is not a time per op (run JMH in AverageTime mode)");
        };
    }

    static Machine readMachine(Path file) throws IOException {
        if (!Files.exists(file)) return new Machine(0, 0, 0, 0, 0, 0, "unknown");
        JsonNode m = new ObjectMapper().readTree(file.toFile());
        int threads = m.path("threads").asInt();
        double all = Math.max(m.path("fma256_gflops").asDouble(), m.path("fma512_gflops").asDouble());
        double one = m.path("fma_one_thread_gflops").asDouble();
        // the peak is one core's measured rate times the cores: other jobs on a shared machine drag the all-core run
        boolean scaled = one * threads >= all;
        return new Machine(threads, Math.max(all, one * threads), all, one, m.path("read_gbs").asDouble(), m.path("copy_gbs").asDouble(),
                scaled ? threads + " x the one-thread FMA rate" : "the all-thread FMA rate");
    }

    /** Raises the machine's peak to the best dense GFLOP/s of the sgemm and Gram benchmarks in results. */
    static Machine withObservedPeak(Machine machine, List<Result> results) {
        Machine m = machine;
        for (Result r : results) {
            if (isProjection(r) && r.p("projector").equals("sgemm") && !r.bench().startsWith("Gpu")) {
                m = m.atLeast(2.0 * r.l("B") * r.l("P") * r.l("K") / r.seconds() / 1e9,
                        "OpenBLAS sgemm at P=" + r.p("P") + ", B=" + r.p("B") + ", K=" + r.p("K"));
            } else if (r.bench().endsWith("GramBench.gram")) {
                m = m.atLeast(2.0 * r.l("N") * r.l("N") * r.l("D") / r.seconds() / 1e9,
                        "Gram " + r.p("method") + " at N=" + r.p("N") + ", D=" + r.p("D"));
            }
        }
        return m;
    }

    // ------------------------------------------------------------- projection

    private static boolean isProjection(Result r) {
        return r.bench().endsWith("ProjectionBench.project");
    }

    private static String seriesName(Result r) {
        String name = r.p("projector");
        if (name.equals("sgemm")) name = "sgemm, R precomputed (OpenBLAS)";
        String fp32 = r.params().get("fp32");
        return fp32 == null ? name : name + " (" + fp32 + ")";
    }

    /** FLOPs a projector actually executes: dense 2·B·P·K, SJLT 2·B·P·s. */
    static double flops(Result r) {
        double bp = (double) r.l("B") * r.l("P");
        return r.p("projector").equals("sjlt") ? 2 * bp * ProjectorSpec.DEFAULT_SJLT_S : 2 * bp * r.l("K");
    }

    /** Bytes that must cross the memory bus: x (B·P·4), plus R (P·K·4) for the precomputed baseline. */
    static double bytes(Result r) {
        double b = 4.0 * r.l("B") * r.l("P");
        if (r.p("projector").equals("sgemm")) b += 4.0 * r.l("P") * r.l("K");
        return b;
    }

    /** The (P, B) (and fp32) group with the most K values: the K sweep. */
    private static List<Result> kSweep(List<Result> results) {
        Map<String, List<Result>> groups = new LinkedHashMap<>();
        for (Result r : results) {
            if (isProjection(r)) groups.computeIfAbsent(r.bench() + r.key("P", "B"), k -> new ArrayList<>()).add(r);
        }
        return groups.values().stream()
                .max(Comparator.comparingLong(g -> g.stream().map(r -> r.p("K")).distinct().count()))
                .orElse(List.of());
    }

    static boolean plotProjection(List<Result> results, Machine machine, String set, Path png) throws IOException {
        List<Result> sweep = kSweep(results);
        if (sweep.isEmpty()) return false;
        Result first = sweep.get(0);
        long p = first.l("P");
        long b = first.l("B");
        boolean gpu = first.bench().startsWith("Gpu");
        LineChart chart = new LineChart(String.format(Locale.ROOT, "%s projection throughput, P = %d, B = %d (%s set)",
                gpu ? "GPU" : "CPU", p, b, set), "projection dimension K", "examples / s", LineChart.Scale.LOG2,
                LineChart.Scale.LOG10);
        Map<String, List<LineChart.Point>> series = new TreeMap<>(Comparator.comparingInt(Report::projectorRank)
                .thenComparing(Comparator.naturalOrder()));
        for (Result r : sweep) {
            series.computeIfAbsent(seriesName(r), k -> new ArrayList<>()).add(new LineChart.Point(r.l("K"), b / r.seconds()));
        }
        for (Map.Entry<String, List<LineChart.Point>> e : series.entrySet()) {
            List<LineChart.Point> pts = new ArrayList<>(e.getValue());
            pts.sort(Comparator.comparingDouble(LineChart.Point::x));
            chart.add(LineChart.Series.of(e.getKey(), pts));
        }
        if (machine.known() && !gpu) {
            List<Double> ks = sweep.stream().map(r -> (double) r.l("K")).distinct().sorted().toList();
            List<LineChart.Point> fma = new ArrayList<>();
            List<LineChart.Point> mem = new ArrayList<>();
            for (double k : ks) {
                fma.add(new LineChart.Point(k, machine.peakGflops() * 1e9 / (2.0 * p * k)));
                mem.add(new LineChart.Point(k, machine.readGBs() * 1e9 / (4.0 * p)));
            }
            chart.add(new LineChart.Series(String.format(Locale.ROOT, "dense limit: FMA peak %.0f GFLOP/s", machine.peakGflops()),
                    fma, false, true, -1));
            chart.add(new LineChart.Series(String.format(Locale.ROOT, "limit: reading x at %.1f GB/s", machine.readGBs()),
                    mem, false, true, -1));
        }
        chart.write(png, 1100, 750);
        return true;
    }

    private static int projectorRank(String seriesName) {
        for (int i = 0; i < PROJECTOR_ORDER.size(); i++) {
            if (seriesName.startsWith(PROJECTOR_ORDER.get(i))) return i;
        }
        return PROJECTOR_ORDER.size();
    }

    // --------------------------------------------------------------- markdown

    static String markdown(List<Result> results, Machine machine, String version, String set, Path dir) {
        StringBuilder md = new StringBuilder();
        JsonNode any = results.get(0).raw();
        md.append(String.format(Locale.ROOT, "Set `%s`, JMH %s on %s %s; %d fork(s), %d x %s warm-up, %d x %s measurement; "
                        + "times are means per op with JMH's 99.9%% interval. Raw results: `%s/%s-*.json`.%n%n",
                set, any.path("jmhVersion").asText("?"), any.path("vmName").asText("?"), any.path("vmVersion").asText("?"),
                any.path("forks").asInt(), any.path("warmupIterations").asInt(), any.path("warmupTime").asText(),
                any.path("measurementIterations").asInt(), any.path("measurementTime").asText(), dir, set));
        if (version != null) {
            md.append("`projntk version`:\n\n```\n").append(version).append("\n```\n\n");
        }
        if (machine.known()) {
            md.append(String.format(Locale.ROOT, "Limits measured in this run (benchmarks/native/machine.c, best of its repetitions): "
                            + "fp32 FMA %.1f GFLOP/s on one thread, %.1f GFLOP/s on all %d threads together; "
                            + "**peak used below: %.1f GFLOP/s** (%s); memory read %.1f GB/s, copy %.1f GB/s "
                            + "(read + write bytes). Derived columns use each benchmark's fastest measurement iteration "
                            + "(*best*), the one least disturbed by the other jobs on this shared machine.%n%n",
                    machine.oneThreadGflops(), machine.measuredAllThreadsGflops(), machine.threads(), machine.peakGflops(),
                    machine.peakSource(), machine.readGBs(), machine.copyGBs()));
        }
        projectionTable(md, results, machine);
        gradientTable(md, results);
        gramTable(md, results, machine);
        return md.toString();
    }

    /** "best | mean ± error" in milliseconds: two table cells. */
    private static String ms(Result r) {
        return String.format(Locale.ROOT, "%.3g | %.3g", r.seconds() * 1e3, r.meanSeconds() * 1e3)
                + (Double.isFinite(r.errorSeconds()) ? String.format(Locale.ROOT, " ± %.2g", r.errorSeconds() * 1e3) : "");
    }

    private static void projectionTable(StringBuilder md, List<Result> results, Machine machine) {
        List<Result> rows = new ArrayList<>(results.stream().filter(Report::isProjection).toList());
        if (rows.isEmpty()) return;
        rows.sort(Comparator.comparing(Result::bench).thenComparingLong((Result r) -> r.l("P")).thenComparingLong(r -> r.l("B"))
                .thenComparingLong(r -> r.l("K")).thenComparingInt(r -> projectorRank(r.p("projector")))
                .thenComparing(r -> r.params().getOrDefault("fp32", "")));
        Map<String, Result> sgemm = new LinkedHashMap<>();
        for (Result r : rows) {
            if (r.p("projector").equals("sgemm")) sgemm.put(r.key("P", "B", "K"), r);
        }
        boolean roof = machine.known() && rows.stream().noneMatch(r -> r.bench().startsWith("Gpu"));
        md.append("#### Projection: out[B x K] = x[B x P] · R\n\n");
        md.append("GFLOP/s counts 2·B·P·K for every projector (SJLT executes only 2·B·P·s, s = ")
                .append(ProjectorSpec.DEFAULT_SJLT_S).append(", so its figure is a dense equivalent).");
        if (roof) {
            md.append(" *Bound* is the larger of the time for the executed FLOPs at the FMA peak and the time to read the bytes "
                    + "that must come from memory (x: B·P·4; the sgemm baseline also reads R: P·K·4) at the measured read "
                    + "bandwidth; *measured / bound* says how far a projector is from that limit.");
        }
        md.append(" *vs sgemm* is the time relative to the precomputed-R baseline at the same P, B, K in the same run.\n\n");
        md.append("| projector | P | B | K | best ms/op | mean ms/op | examples/s | GFLOP/s (2BPK) |");
        if (roof) md.append(" bound ms | bound by | measured / bound |");
        md.append(" vs sgemm |\n|---|---:|---:|---:|---:|---:|---:|---:|");
        if (roof) md.append("---:|---|---:|");
        md.append("---:|\n");
        for (Result r : rows) {
            double s = r.seconds();
            md.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %s | %.4g | %.1f |", seriesName(r), r.l("P"), r.l("B"),
                    r.l("K"), ms(r), r.l("B") / s, 2.0 * r.l("B") * r.l("P") * r.l("K") / s / 1e9));
            if (roof) {
                double compute = flops(r) / (machine.peakGflops() * 1e9);
                double memory = bytes(r) / (machine.readGBs() * 1e9);
                double bound = Math.max(compute, memory);
                md.append(String.format(Locale.ROOT, " %.3g | %s | %.1fx |", bound * 1e3, compute >= memory ? "FMA" : "memory", s / bound));
            }
            Result base = sgemm.get(r.key("P", "B", "K"));
            md.append(base == null ? " |" : String.format(Locale.ROOT, " %.3g |", s / base.seconds()));
            md.append('\n');
        }
        md.append('\n');
    }

    private static void gradientTable(StringBuilder md, List<Result> results) {
        List<Result> rows = new ArrayList<>(results.stream().filter(r -> r.bench().endsWith("GradientBench.gradients")).toList());
        if (rows.isEmpty()) return;
        rows.sort(Comparator.comparing((Result r) -> r.p("model")).thenComparingLong(r -> r.l("B")).thenComparing(r -> r.p("strategy")));
        Map<String, Result> iterative = new LinkedHashMap<>();
        for (Result r : rows) {
            if (r.p("strategy").equals("iterative")) iterative.put(r.key("model", "B"), r);
        }
        md.append("#### Per-example gradients (pNTK output, CPU)\n\n");
        md.append("| model | strategy | B | best ms/op | mean ms/op | examples/s | speed-up over iterative |\n|---|---|---:|---:|---:|---:|---:|\n");
        for (Result r : rows) {
            Result it = iterative.get(r.key("model", "B"));
            md.append(String.format(Locale.ROOT, "| %s | %s | %d | %s | %.4g | %s |%n", r.p("model"), r.p("strategy"), r.l("B"), ms(r),
                    r.l("B") / r.seconds(), it == null ? "" : String.format(Locale.ROOT, "%.2fx", it.seconds() / r.seconds())));
        }
        md.append('\n');
    }

    private static void gramTable(StringBuilder md, List<Result> results, Machine machine) {
        List<Result> rows = new ArrayList<>(results.stream().filter(r -> r.bench().endsWith("GramBench.gram")).toList());
        if (rows.isEmpty()) return;
        rows.sort(Comparator.comparingLong((Result r) -> r.l("N")).thenComparingLong(r -> r.l("D")).thenComparing(r -> r.p("method")));
        Map<String, Result> sgemm = new LinkedHashMap<>();
        for (Result r : rows) {
            if (r.p("method").equals("sgemm")) sgemm.put(r.key("N", "D"), r);
        }
        md.append("#### Gram matrix A·Aᵀ (N x D features): streamed tiles vs one sgemm\n\n");
        md.append("| method | N | D | best ms/op | mean ms/op | GFLOP/s (2·N²·D) |").append(machine.known() ? " % of FMA peak |" : "")
                .append(" vs sgemm |\n|---|---:|---:|---:|---:|---:|").append(machine.known() ? "---:|" : "").append("---:|\n");
        for (Result r : rows) {
            double gflops = 2.0 * r.l("N") * r.l("N") * r.l("D") / r.seconds() / 1e9;
            md.append(String.format(Locale.ROOT, "| %s | %d | %d | %s | %.1f |", r.p("method"), r.l("N"), r.l("D"), ms(r), gflops));
            if (machine.known()) md.append(String.format(Locale.ROOT, " %.0f%% |", 100 * gflops / machine.peakGflops()));
            Result base = sgemm.get(r.key("N", "D"));
            md.append(base == null ? " |" : String.format(Locale.ROOT, " %.2f |", r.seconds() / base.seconds())).append('\n');
        }
        md.append('\n');
    }

    // -------------------------------------------------------------- doc edit

    static void replaceSection(Path doc, String set, String body) {
        String begin = "<!-- BEGIN generated: bench-" + set + " (scripts/bench.sh " + set + "; do not edit by hand) -->";
        String end = "<!-- END generated: bench-" + set + " -->";
        try {
            String text = Files.exists(doc) ? Files.readString(doc) : "# Performance\n";
            int b = text.indexOf("<!-- BEGIN generated: bench-" + set + " ");
            int e = text.indexOf(end);
            String block = begin + "\n" + body + end;
            String updated;
            if (b >= 0 && e > b) {
                updated = text.substring(0, b) + block + text.substring(e + end.length());
            } else if (b >= 0 || e >= 0) {
                throw new IllegalStateException(doc + ": unbalanced bench-" + set + " markers; fix them by hand");
            } else {
                updated = text + (text.endsWith("\n") ? "\n" : "\n\n") + block + "\n";
            }
            Files.writeString(doc, updated);
        } catch (IOException ex) {
            throw new UncheckedIOException("updating " + doc, ex);
        }
    }
}
