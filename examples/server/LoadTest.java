// The load test of examples/server (run by scripts/load-test.sh with `java LoadTest.java ...`; JDK only).
// 16 clients on 127.0.0.1 send POST /similar?row=N for the store's test rows, bounded by a duration and a request count,
// and check every answer against `projntk similar`'s similar.csv for the same row; meanwhile 5 kinds of bad request
// must each get a 4xx with a one-line reason while the server keeps serving. Prints requests/s, p50/p99 latency, errors
// and the server's peak RSS; exits 1 when anything is off.
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

public class LoadTest {
    record Expected(long[] indices, double[] scores) {}

    static int port;
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) a.put(args[i], args[i + 1]);
        port = Integer.parseInt(a.get("--port"));
        int clients = Integer.parseInt(a.getOrDefault("--clients", "16"));
        double seconds = Double.parseDouble(a.getOrDefault("--seconds", "60"));
        long maxRequests = Long.parseLong(a.getOrDefault("--max-requests", "1000000"));
        long pid = Long.parseLong(a.get("--pid"));
        int exampleSize = Integer.parseInt(a.getOrDefault("--example-size", "784"));
        Map<Long, Expected> expected = readCsv(Path.of(a.get("--expected")));
        int testRows = expected.size();

        AtomicLong issued = new AtomicLong(), ok = new AtomicLong(), errors = new AtomicLong(), mismatches = new AtomicLong();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        long[][] latencies = new long[clients][];
        int[] counts = new int[clients];
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long start = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            int id = t;
            latencies[t] = new long[1 << 16];
            threads.add(Thread.ofPlatform().start(() -> {
                while (System.nanoTime() < deadline) {
                    long n = issued.getAndIncrement();
                    if (n >= maxRequests) break;
                    long row = n % testRows;
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<String> r = post("/similar?row=" + row, new byte[0], "application/octet-stream");
                        long dt = System.nanoTime() - t0;
                        if (counts[id] == latencies[id].length) latencies[id] = Arrays.copyOf(latencies[id], counts[id] * 2);
                        latencies[id][counts[id]++] = dt;
                        if (r.statusCode() != 200) {
                            errors.incrementAndGet();
                            problems.add("row " + row + ": HTTP " + r.statusCode() + " " + r.body().strip());
                            continue;
                        }
                        String diff = compare(r.body(), expected.get(row));
                        if (diff != null) {
                            mismatches.incrementAndGet();
                            problems.add("row " + row + ": " + diff);
                        } else {
                            ok.incrementAndGet();
                        }
                    } catch (Exception e) {
                        errors.incrementAndGet();
                        problems.add("row " + row + ": " + e);
                    }
                }
            }));
        }
        // bad requests while the load runs
        Thread.sleep(Math.min(2000, (long) (seconds * 250)));
        List<String> bad = badRequests(exampleSize, testRows);
        for (Thread t : threads) t.join();
        double elapsed = (System.nanoTime() - start) / 1e9;
        // valid raw float32 and PNG queries still answered after all that
        float[] zeros = new float[exampleSize];
        HttpResponse<String> raw = post("/similar", floats(zeros), "application/octet-stream");
        if (raw.statusCode() != 200 || !raw.body().contains("\"indices\"")) bad.add("a valid raw float32 query got " + raw.statusCode() + " " + raw.body().strip());
        HttpResponse<String> health = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (health.statusCode() != 200) bad.add("GET /health after the load: " + health.statusCode());

        long[] all = new long[0];
        for (int t = 0; t < clients; t++) {
            int from = all.length;
            all = Arrays.copyOf(all, from + counts[t]);
            System.arraycopy(latencies[t], 0, all, from, counts[t]);
        }
        Arrays.sort(all);
        double p50 = all.length == 0 ? Double.NaN : all[all.length / 2] / 1e6;
        double p99 = all.length == 0 ? Double.NaN : all[Math.min(all.length - 1, (int) Math.ceil(all.length * 0.99) - 1)] / 1e6;
        long peakKiB = peakRss(pid);
        System.out.printf(java.util.Locale.ROOT,
                "load: %d clients, %.1f s, %d requests, %.1f requests/s, p50 %.1f ms, p99 %.1f ms, errors %d, answers differing from projntk similar %d, server peak RSS %.0f MiB%n",
                clients, elapsed, all.length, all.length / elapsed, p50, p99, errors.get(), mismatches.get(), peakKiB / 1024.0);
        System.out.println("health: " + health.body().strip());
        problems.stream().limit(10).forEach(p -> System.out.println("  problem: " + p));
        bad.forEach(p -> System.out.println("  bad request: " + p));
        boolean pass = errors.get() == 0 && mismatches.get() == 0 && bad.stream().allMatch(b -> b.startsWith("ok "));
        System.out.println(pass ? "load test passed" : "load test FAILED");
        System.exit(pass ? 0 : 1);
    }

    static HttpResponse<String> post(String path, byte[] body, String type) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        return CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
    }

    static byte[] floats(float[] x) {
        ByteBuffer b = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : x) b.putFloat(v);
        return b.array();
    }

    /** The five bad requests; each entry says "ok ..." when answered 4xx with a one-line reason. */
    static List<String> badRequests(int exampleSize, int testRows) throws Exception {
        List<String> out = new ArrayList<>();
        check(out, "wrong shape", post("/similar", floats(new float[exampleSize - 1]), "application/octet-stream"));
        float[] nan = new float[exampleSize];
        nan[exampleSize / 2] = Float.NaN;
        check(out, "NaN pixels", post("/similar", floats(nan), "application/octet-stream"));
        check(out, "unknown row", post("/similar?row=" + (testRows + 1000), new byte[0], "application/octet-stream"));
        checkRaw(out, "truncated body", rawExchange(exampleSize * 4, 100));
        checkRaw(out, "oversized body", rawExchange(64 << 20, 1000));
        return out;
    }

    static void check(List<String> out, String what, HttpResponse<String> r) {
        String body = r.body();
        boolean oneLine = body.strip().indexOf('\n') < 0 && body.contains("\"error\"");
        out.add((r.statusCode() >= 400 && r.statusCode() < 500 && oneLine ? "ok " : "WRONG ") + what + ": " + r.statusCode() + " " + body.strip());
    }

    static void checkRaw(List<String> out, String what, String response) {
        String status = response.isEmpty() ? "" : response.substring(0, response.indexOf('\r') < 0 ? response.length() : response.indexOf('\r'));
        int code = status.startsWith("HTTP/1.1 ") ? Integer.parseInt(status.substring(9, 12)) : -1;
        String body = response.contains("\r\n\r\n") ? response.substring(response.indexOf("\r\n\r\n") + 4).strip() : "";
        boolean oneLine = body.indexOf('\n') < 0 && body.contains("\"error\"");
        out.add((code >= 400 && code < 500 && oneLine ? "ok " : "WRONG ") + what + ": " + code + " " + body);
    }

    /** Declares a body of `declared` bytes, sends `sent` of them, half-closes, and returns the raw response. */
    static String rawExchange(long declared, int sent) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            OutputStream o = s.getOutputStream();
            o.write(("POST /similar HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: " + declared
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            o.write(new byte[sent]);
            o.flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream r = new ByteArrayOutputStream();
            try {
                in.transferTo(r);
            } catch (java.io.IOException e) {
                // a reset after the answer: keep what arrived
            }
            return r.toString(StandardCharsets.UTF_8);
        }
    }

    static String compare(String json, Expected want) {
        long[] idx = Arrays.stream(field(json, "indices")).mapToLong(Long::parseLong).toArray();
        double[] sc = Arrays.stream(field(json, "scores")).mapToDouble(Double::parseDouble).toArray();
        if (idx.length != want.indices.length) return "got " + idx.length + " rows, projntk similar has " + want.indices.length;
        for (int i = 0; i < idx.length; i++) {
            if (Math.abs(sc[i] - want.scores[i]) > 1e-5) return "rank " + (i + 1) + " score " + sc[i] + " vs " + want.scores[i];
            // equal scores (to 1e-5) may come in either order; otherwise the rows must be the same
            if (idx[i] != want.indices[i] && !(i + 1 < idx.length && Math.abs(want.scores[i] - want.scores[i + 1]) <= 1e-5)
                    && !(i > 0 && Math.abs(want.scores[i] - want.scores[i - 1]) <= 1e-5)) {
                return "rank " + (i + 1) + " train row " + idx[i] + " vs " + want.indices[i];
            }
        }
        return null;
    }

    static String[] field(String json, String name) {
        int s = json.indexOf("\"" + name + "\":[") + name.length() + 4;
        return json.substring(s, json.indexOf(']', s)).split(",");
    }

    static Map<Long, Expected> readCsv(Path csv) throws Exception {
        Map<Long, List<String[]>> rows = new HashMap<>();
        for (String line : Files.readAllLines(csv).subList(1, Files.readAllLines(csv).size())) {
            String[] f = line.split(",");
            rows.computeIfAbsent(Long.parseLong(f[0]), k -> new ArrayList<>()).add(f);
        }
        Map<Long, Expected> out = new HashMap<>();
        rows.forEach((row, list) -> out.put(row, new Expected(list.stream().mapToLong(f -> Long.parseLong(f[2])).toArray(),
                list.stream().mapToDouble(f -> Double.parseDouble(f[3])).toArray())));
        return out;
    }

    static long peakRss(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }
}
