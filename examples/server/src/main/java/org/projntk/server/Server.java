package org.projntk.server;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

import javax.imageio.ImageIO;

import org.projntk.data.Dataset;
import org.projntk.featurize.Kernel;
import org.projntk.featurize.StoreProvenance;
import org.projntk.kernel.ArrayFeatureMatrix;
import org.projntk.kernel.FeatureMatrix;
import org.projntk.kernel.Gram;
import org.projntk.kernel.KernelKind;
import org.projntk.kernel.KernelNormalization;
import org.projntk.kernel.TopK;
import org.projntk.project.Projector;
import org.projntk.project.ProjectorKind;
import org.projntk.project.ProjectorSpec;
import org.projntk.store.Manifest;
import org.projntk.store.ProjectorInfo;
import org.projntk.torch.Device;
import org.projntk.torch.GradStrategy;
import org.projntk.tensor.Input;
import org.projntk.torch.Model;
import org.projntk.workflow.Store;

/**
 * An HTTP service over a featurized store: {@code POST /similar} featurizes a query (raw float32 example, a PNG, or
 * {@code ?row=N} of the store's test split) on the fly with the store's own model and projection, and answers the top-k
 * training rows by the cosine-normalised kernel as one line of JSON. {@code GET /health} reports status. Bad requests
 * get a 4xx with a one-line reason and the server keeps serving.
 *
 * <p>Usage: {@code Server --store DIR [--port N] [--port-file FILE] [--top K] [--threads N]}
 */
public final class Server {
    static final int MAX_BODY = 1 << 20;

    private final Model model;
    private final Projector projector;
    private final List<FeatureMatrix> train;
    private final Dataset test;
    private final int[] exampleShape;
    private final int exampleSize;
    private final int outputs;
    private final int dim;
    private final Kernel kernel;
    private final Gram.Options options; // the query-by-train kernel, cosine-normalised as `projntk similar` does
    private final GradStrategy strategy;
    private final int top;
    private final AtomicLong served = new AtomicLong(), refused = new AtomicLong();

    Server(Path storeDir, int top) {
        Store store = Store.open(storeDir);
        String checkpoint = store.checkpoint();
        Manifest manifest = store.featureStore().manifest();
        this.kernel = Kernel.parse(manifest.kernel());
        if (kernel != Kernel.PNTK && kernel != Kernel.TRNTK) {
            throw new IllegalArgumentException("the server answers pntk or trntk stores; " + storeDir + " holds " + kernel);
        }
        this.options = Gram.Options.builder().kernel(kernel == Kernel.PNTK ? KernelKind.PNTK : KernelKind.TRNTK)
                .normalization(KernelNormalization.COSINE).build();
        this.model = StoreProvenance.openModel(store.featureStore(), checkpoint, null, Device.CPU);
        ProjectorInfo info = manifest.projector();
        this.outputs = manifest.outputs();
        this.dim = info.k();
        this.projector = new Projector(new ProjectorSpec(ProjectorKind.parse(info.kind()), model.parameterCount(), info.k(),
                info.seed(), manifest.modelId(checkpoint), info.sjltS(), !info.scaled(), true, false, Device.CPU));
        String path = manifest.checkpoints().get(checkpoint).gradientPath();
        this.strategy = path == null ? GradStrategy.AUTO : GradStrategy.valueOf(path.toUpperCase(Locale.ROOT));
        // the train features in memory: shared read-only by every request
        this.train = new ArrayList<>();
        for (FeatureMatrix m : store.features("train")) {
            float[][] rows = new float[(int) m.rows()][];
            MemorySegment all = m.rows(0, (int) m.rows());
            for (int i = 0; i < rows.length; i++) {
                rows[i] = all.asSlice((long) i * m.dim() * Float.BYTES, (long) m.dim() * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
            }
            train.add(ArrayFeatureMatrix.of(rows));
        }
        this.test = StoreProvenance.dataset(store.featureStore(), checkpoint, "test");
        this.exampleShape = test.exampleShape();
        this.exampleSize = test.exampleSize();
        this.top = top;
    }

    /** A request the server refuses: status and a one-line reason. */
    static final class BadRequest extends Exception {
        final int status;

        BadRequest(int status, String reason) {
            super(reason, null, false, false);
            this.status = status;
        }
    }

    /** The top-k training rows of one example given as float32 values of the model's input shape. */
    TopK.Result similar(float[] example) {
        try (Arena arena = Arena.ofConfined()) {
            long[] shape = new long[exampleShape.length + 1];
            shape[0] = 1;
            for (int i = 0; i < exampleShape.length; i++) shape[i + 1] = exampleShape[i];
            MemorySegment x = arena.allocateFrom(ValueLayout.JAVA_FLOAT, example);
            MemorySegment features = arena.allocate(ValueLayout.JAVA_FLOAT, (long) outputs * dim);
            projector.projectGradients(model, List.of(Input.float32(x, shape)), null, kernel.output(), strategy, 0, features);
            List<FeatureMatrix> query = new ArrayList<>();
            for (int c = 0; c < outputs; c++) {
                query.add(new ArrayFeatureMatrix(features.asSlice((long) c * dim * Float.BYTES, (long) dim * Float.BYTES), 1, dim));
            }
            return TopK.compute(query, train, options, top);
        }
    }

    float[] parse(HttpExchange ex) throws BadRequest, IOException {
        String query = ex.getRequestURI().getQuery();
        String lengthHeader = ex.getRequestHeaders().getFirst("Content-Length");
        long declared = lengthHeader == null ? -1 : Long.parseLong(lengthHeader.trim());
        if (declared > MAX_BODY) throw new BadRequest(413, "body of " + declared + " bytes exceeds the " + MAX_BODY + "-byte limit");
        byte[] body = readBody(ex.getRequestBody(), declared);
        if (query != null && query.startsWith("row=")) {
            long row;
            try {
                row = Long.parseLong(query.substring(4));
            } catch (NumberFormatException e) {
                throw new BadRequest(400, "row must be an integer, got '" + query.substring(4) + "'");
            }
            if (row < 0 || row >= test.size()) {
                throw new BadRequest(404, "test row " + row + " does not exist (the test split has " + test.size() + " rows)");
            }
            return test.example(row);
        }
        if (query != null) throw new BadRequest(400, "unknown query '" + query + "' (give ?row=N, or an example as the body)");
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        float[] x = type != null && type.startsWith("image/png") ? png(body) : raw(body);
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) throw new BadRequest(400, "value " + i + " of the example is " + x[i]);
        }
        return x;
    }

    static byte[] readBody(InputStream in, long declared) throws IOException, BadRequest {
        byte[] buf = new byte[(int) (declared >= 0 ? declared : 64 * 1024)];
        int n = 0;
        while (true) {
            if (n == buf.length) {
                if (declared >= 0) break;
                if (buf.length > MAX_BODY) throw new BadRequest(413, "body exceeds the " + MAX_BODY + "-byte limit");
                buf = Arrays.copyOf(buf, buf.length * 2);
            }
            int r;
            try {
                r = in.read(buf, n, buf.length - n);
            } catch (IOException e) {
                r = -1; // the client went away mid-body
            }
            if (r < 0) break;
            n += r;
        }
        if (declared >= 0 && n < declared) throw new BadRequest(400, "truncated body: " + n + " of " + declared + " bytes");
        return n == buf.length ? buf : Arrays.copyOf(buf, n);
    }

    float[] raw(byte[] body) throws BadRequest {
        if (body.length != exampleSize * Float.BYTES) {
            throw new BadRequest(400, "expected " + exampleSize * Float.BYTES + " bytes (" + exampleSize + " little-endian float32 values of shape "
                    + Arrays.toString(exampleShape) + "), got " + body.length);
        }
        float[] x = new float[exampleSize];
        java.nio.ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(x);
        return x;
    }

    float[] png(byte[] body) throws BadRequest, IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(body));
        if (image == null) throw new BadRequest(400, "the body is not a readable PNG");
        int h = exampleShape[exampleShape.length - 2], w = exampleShape[exampleShape.length - 1];
        if (exampleSize != h * w || image.getWidth() != w || image.getHeight() != h) {
            throw new BadRequest(400, "expected a " + w + "x" + h + " grey image for examples of shape " + Arrays.toString(exampleShape)
                    + ", got " + image.getWidth() + "x" + image.getHeight());
        }
        float[] x = new float[h * w];
        for (int i = 0; i < h; i++) for (int j = 0; j < w; j++) x[i * w + j] = (image.getRGB(j, i) & 0xff) / 255f;
        return x;
    }

    void handleSimilar(HttpExchange ex) throws IOException {
        try (ex) {
            if (!ex.getRequestMethod().equals("POST")) {
                send(ex, 405, error("use POST /similar"));
                return;
            }
            try {
                TopK.Result r = similar(parse(ex));
                send(ex, 200, json(new Answer("train", r.indices()[0], r.scores()[0])));
                served.incrementAndGet();
            } catch (BadRequest e) {
                refused.incrementAndGet();
                send(ex, e.status, error(e.getMessage()));
            } catch (RuntimeException e) {
                refused.incrementAndGet();
                send(ex, 500, error(String.valueOf(e.getMessage())));
            }
        }
    }

    void handleHealth(HttpExchange ex) throws IOException {
        try (ex) {
            ex.getRequestBody().readAllBytes();
            send(ex, 200, json(new Health("ok", train.get(0).rows(), test.size(), String.valueOf(kernel), dim, served.get(),
                    refused.get())));
        }
    }

    /** The answer to POST /similar: the top training rows of the query, best first, and their kernel values. */
    record Answer(String split, long[] indices, float[] scores) {}

    record Health(String status, @JsonProperty("train_rows") long trainRows, @JsonProperty("test_rows") long testRows,
                  String kernel, int k, long served, long refused) {}

    record Failure(String error) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One line of JSON. */
    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value) + "\n";
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String error(String reason) {
        return json(new Failure(reason.replace('\n', ' ')));
    }

    static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        if (status >= 400) ex.getResponseHeaders().set("Connection", "close");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    public static void main(String[] args) throws Exception {
        Path store = null, portFile = null;
        int port = 8080, top = 5, threads = 16;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--store" -> store = Path.of(args[++i]);
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--port-file" -> portFile = Path.of(args[++i]);
                case "--top" -> top = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: Server --store DIR [--port N] [--port-file FILE] [--top K] [--threads N]");
                    System.exit(2);
                }
            }
        }
        if (store == null) {
            System.err.println("usage: Server --store DIR [--port N] [--port-file FILE] [--top K] [--threads N]");
            System.exit(2);
        }
        Server server = new Server(store, top);
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        http.setExecutor(pool);
        http.createContext("/similar", server::handleSimilar);
        http.createContext("/health", server::handleHealth);
        http.start();
        int bound = http.getAddress().getPort();
        if (portFile != null) Files.writeString(portFile, bound + "\n");
        System.out.println("serving " + store + " on http://127.0.0.1:" + bound + " (" + threads + " threads, top " + top + ")");
    }
}
