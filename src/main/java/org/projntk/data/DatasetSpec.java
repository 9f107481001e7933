package org.projntk.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A dataset named by a string:
 * <pre>
 *   fashion-mnist:train|test        (root: env PROJNTK_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist)
 *   idx:IMAGES,LABELS
 *   cifar10:DIR:train|test
 *   npy:X.npy,Y.npy                 (one float input, normalised)
 *   npy:A.npy,B.npy,...,Y.npy       (several model inputs in forward's order, each keeping its dtype; Y holds labels)
 *   text:TEXTS.tsv,TOKENIZER.json,N ({@code LABEL<TAB>TEXT} lines tokenized to int64 ids and mask of length N; see
 *                                    {@link #text})
 * </pre>
 * each optionally followed by a Python-like row range {@code [start:end]} (end exclusive, either side may be omitted,
 * negative values count from the end). {@link #toString()} gives the canonical form, which parses back to an equal spec.
 *
 * @param kind the form
 * @param first fashion-mnist's split, or the first file or directory (npy: every input file, comma-separated)
 * @param second the second part: the labels file, cifar10's split, or text's {@code TOKENIZER.json,N}; null for
 *     fashion-mnist
 * @param start the range's start, negative counting from the end; null for 0
 * @param end the range's exclusive end, negative counting from the end; null for the row count
 */
public record DatasetSpec(Kind kind, String first, String second, Long start, Long end) {
    /** The form of a spec: which reader opens it. */
    public enum Kind {
        /** Fashion-MNIST's IDX files from the installed root. */
        FASHION_MNIST("fashion-mnist"),
        /** An IDX images/labels pair. */
        IDX("idx"),
        /** CIFAR-10's binary batches. */
        CIFAR10("cifar10"),
        /** .npy arrays: one float input, or several typed inputs, and labels. */
        NPY("npy"),
        /** Labelled texts tokenized with a Hugging Face tokenizer.json. */
        TEXT("text");

        /** What the spec starts with, before the ':'. */
        public final String prefix;

        Kind(String prefix) {
            this.prefix = prefix;
        }
    }

    /** The environment variable that overrides {@link #FASHION_MNIST_DEFAULT_DIR}. */
    public static final String FASHION_MNIST_ENV = "PROJNTK_FASHION_MNIST_DIR";
    /** Where fashion-mnist: looks for its IDX files (raw or .gz) by default. */
    public static final String FASHION_MNIST_DEFAULT_DIR = "/usr/share/datasets/fashion-mnist";

    /**
     * Checks the parts against the kind.
     *
     * @throws IllegalArgumentException if a part is missing or superfluous, or a split is not train or test
     */
    public DatasetSpec {
        Objects.requireNonNull(kind);
        Objects.requireNonNull(first);
        if (kind == Kind.FASHION_MNIST && second != null) throw new IllegalArgumentException("fashion-mnist takes one part");
        if (kind != Kind.FASHION_MNIST && second == null) throw new IllegalArgumentException(kind.prefix + " needs two parts");
        if ((kind == Kind.FASHION_MNIST && !isSplit(first)) || (kind == Kind.CIFAR10 && !isSplit(second))) {
            throw new IllegalArgumentException(kind.prefix + " split must be train or test");
        }
    }

    private static boolean isSplit(String s) {
        return "train".equals(s) || "test".equals(s);
    }

    /**
     * Parses a spec; files are not opened.
     *
     * @param text one of the forms above
     * @return the spec
     * @throws IllegalArgumentException naming what is wrong and listing the forms
     */
    public static DatasetSpec parse(String text) {
        String s = text.strip();
        Long start = null, end = null;
        if (s.endsWith("]")) {
            int open = s.lastIndexOf('[');
            if (open < 0) throw bad(text, "unbalanced ']'");
            String range = s.substring(open + 1, s.length() - 1);
            int colon = range.indexOf(':');
            if (colon < 0) throw bad(text, "row range must be [start:end]");
            start = bound(text, range.substring(0, colon));
            end = bound(text, range.substring(colon + 1));
            s = s.substring(0, open);
        }
        int c = s.indexOf(':');
        if (c < 0) throw bad(text, "missing ':' after the kind");
        String kindText = s.substring(0, c).toLowerCase(Locale.ROOT);
        String body = s.substring(c + 1);
        Kind kind = null;
        for (Kind k : Kind.values()) if (k.prefix.equals(kindText)) kind = k;
        if (kind == null) throw bad(text, "unknown kind '" + kindText + "'");
        return switch (kind) {
            case FASHION_MNIST -> {
                if (!isSplit(body)) throw bad(text, "fashion-mnist split must be train or test");
                yield new DatasetSpec(kind, body, null, start, end);
            }
            case CIFAR10 -> {
                int k = body.lastIndexOf(':');
                if (k <= 0 || !isSplit(body.substring(k + 1))) throw bad(text, "expected cifar10:DIR:train|test");
                yield new DatasetSpec(kind, body.substring(0, k), body.substring(k + 1), start, end);
            }
            case NPY -> {
                String[] p = body.split(",", -1);
                for (String part : p) if (part.isEmpty()) throw bad(text, "expected npy:X.npy,Y.npy or npy:A.npy,B.npy,...,Y.npy");
                if (p.length < 2) throw bad(text, "expected npy:X.npy,Y.npy or npy:A.npy,B.npy,...,Y.npy");
                // `first` holds every input file (comma-separated), `second` the labels.
                yield new DatasetSpec(kind, String.join(",", java.util.Arrays.copyOf(p, p.length - 1)), p[p.length - 1], start, end);
            }
            case TEXT -> {
                String[] p = body.split(",", -1);
                if (p.length != 3 || p[0].isEmpty() || p[1].isEmpty()) throw bad(text, "expected text:TEXTS.tsv,TOKENIZER.json,MAX_LENGTH");
                try {
                    if (Integer.parseInt(p[2].strip()) < 2) throw bad(text, "max length must be >= 2");
                } catch (NumberFormatException e) {
                    throw bad(text, "max length '" + p[2] + "' is not an integer");
                }
                yield new DatasetSpec(kind, p[0], p[1] + "," + p[2].strip(), start, end);
            }
            case IDX -> {
                String[] p = body.split(",", -1);
                if (p.length != 2 || p[0].isEmpty() || p[1].isEmpty()) {
                    throw bad(text, "expected " + kind.prefix + ":" + (kind == Kind.IDX ? "IMAGES,LABELS" : "X.npy,Y.npy"));
                }
                yield new DatasetSpec(kind, p[0], p[1], start, end);
            }
        };
    }

    private static Long bound(String text, String v) {
        String t = v.strip();
        if (t.isEmpty()) return null;
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw bad(text, "bad row index '" + t + "'");
        }
    }

    private static IllegalArgumentException bad(String text, String why) {
        return new IllegalArgumentException("bad dataset spec '" + text + "': " + why
                + " (forms: fashion-mnist:train|test, idx:IMAGES,LABELS, cifar10:DIR:train|test, npy:X.npy,Y.npy, npy:A.npy,B.npy,...,Y.npy, text:TEXTS.tsv,TOKENIZER.json,N, each with optional [start:end])");
    }

    /**
     * A {@code text:} spec from the CLI's --tokenizer FILE and --max-length N.
     *
     * @param texts the {@code LABEL<TAB>TEXT} file
     * @param tokenizer the tokenizer.json
     * @param maxLength tokens per example, at least 2
     * @return the spec
     */
    public static DatasetSpec text(Path texts, Path tokenizer, int maxLength) {
        return parse("text:" + texts + "," + tokenizer + "," + maxLength);
    }

    /** {@return the same dataset without a row range} */
    public DatasetSpec withoutRange() {
        return new DatasetSpec(kind, first, second, null, null);
    }

    /**
     * The same dataset with another row range.
     *
     * @param start the start, negative counting from the end; null for 0
     * @param end the exclusive end, negative counting from the end; null for the row count
     * @return the new spec
     */
    public DatasetSpec withRange(Long start, Long end) {
        return new DatasetSpec(kind, first, second, start, end);
    }

    /**
     * Resolves the row range against a dataset of n rows.
     *
     * @param n the source's row count
     * @return {@code {start, end}} with {@code 0 <= start <= end <= n}
     * @throws IllegalArgumentException if the range falls outside [0, n]
     */
    public long[] resolveRange(long n) {
        long s = start == null ? 0 : start < 0 ? n + start : start;
        long e = end == null ? n : end < 0 ? n + end : end;
        if (s < 0 || e > n || s > e) {
            throw new IllegalArgumentException("row range " + rangeText() + " of " + this + " is out of bounds for " + n + " rows");
        }
        return new long[] {s, e};
    }

    /** {@return the directory named by {@link #FASHION_MNIST_ENV} if set, else {@link #FASHION_MNIST_DEFAULT_DIR}} */
    public static Path fashionMnistRoot() {
        String env = System.getenv(FASHION_MNIST_ENV);
        return Path.of(env != null && !env.isBlank() ? env : FASHION_MNIST_DEFAULT_DIR);
    }

    /**
     * Opens the dataset with the DEFAULT normalisation.
     *
     * @return the rows of the range
     */
    public Dataset open() {
        return open(Normalization.DEFAULT);
    }

    /**
     * Opens the dataset: IDX and CIFAR files are read into memory, .npy files mapped.
     *
     * @param norm how raw values become inputs (computed statistics are taken over the range's rows only)
     * @return the rows of the range
     * @throws DataFormatException for a corrupt, truncated or unsupported file
     * @throws java.io.UncheckedIOException for a missing or unreadable file
     * @throws IllegalArgumentException if the range selects no rows or is out of bounds
     */
    public Dataset open(Normalization norm) {
        Source src = switch (kind) {
            case FASHION_MNIST -> {
                Path root = fashionMnistRoot();
                String p = first.equals("train") ? "train" : "t10k";
                yield Idx.source(pick(root, p + "-images-idx3-ubyte"), pick(root, p + "-labels-idx1-ubyte"));
            }
            case IDX -> Idx.source(Path.of(first), Path.of(second));
            case CIFAR10 -> Cifar10.source(Path.of(first), second.equals("train"));
            case NPY -> npySource();
            case TEXT -> {
                int comma = second.lastIndexOf(',');
                yield new TextSource(Path.of(first), Path.of(second.substring(0, comma)), Integer.parseInt(second.substring(comma + 1)));
            }
        };
        if (src.rows() == 0) throw new IllegalArgumentException("no rows in " + this + " (its files hold 0 examples)");
        long[] r = resolveRange(src.rows());
        if (r[1] == r[0]) throw new IllegalArgumentException("no rows in " + this + " (the range selects none of its " + src.rows() + " rows)");
        // statistics for computed standardisation are taken over the selected rows only
        return new Dataset(src, r[0], r[1] - r[0], norm);
    }

    /** One float (or uint8) X keeps the normalised single-input reader; anything else is read as typed inputs. */
    private Source npySource() {
        List<Path> inputs = java.util.Arrays.stream(first.split(",")).map(Path::of).toList();
        if (inputs.size() == 1) {
            switch (Npy.readCHeader(inputs.get(0)).dtype()) {
                case FLOAT32, FLOAT64, FLOAT16, UINT8 -> { return NpyPair.source(inputs.get(0), Path.of(second)); }
                default -> { }
            }
        }
        return NpyArrays.source(inputs, Path.of(second));
    }

    private static Path pick(Path root, String base) {
        Path gz = root.resolve(base + ".gz");
        return Files.exists(gz) ? gz : root.resolve(base);
    }

    private String rangeText() {
        return "[" + (start == null ? "" : start) + ":" + (end == null ? "" : end) + "]";
    }

    @Override
    public String toString() {
        String body = switch (kind) {
            case FASHION_MNIST -> first;
            case CIFAR10 -> first + ":" + second;
            case IDX, NPY, TEXT -> first + "," + second;
        };
        return kind.prefix + ":" + body + (start == null && end == null ? "" : rangeText());
    }
}
