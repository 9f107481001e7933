package org.projntk.store;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.projntk.data.Npy;

/**
 * CRC32C checksums of feature files (docs/store.md, "Checksums"). Readers verify a file before its first use in the
 * process ({@link FeatureStore#features}, {@link FeatureStore#outToLoss}); a verified file is remembered by path, size,
 * modification time and recorded checksum, so a process reads each file once for verification.
 *
 * <p>Stores written before checksums were recorded are read unverified; that is reported once per process and store
 * through the warning listener, which by default logs through {@link System.Logger} ("org.projntk.store", WARNING).
 */
public final class Checksums {
    private static final long CHUNK = 64L << 20;
    private static final Set<Key> VERIFIED = ConcurrentHashMap.newKeySet();
    private static final Set<Path> WARNED = ConcurrentHashMap.newKeySet();
    private static volatile Consumer<String> warnings = Checksums::log;

    private Checksums() {}

    /**
     * Where warnings about unverified stores go, process-wide.
     *
     * @param listener takes one line per warning, from any thread; null restores the System.Logger default
     */
    public static void setWarningListener(Consumer<String> listener) {
        warnings = listener == null ? Checksums::log : listener;
    }

    private static void log(String message) {
        System.getLogger("org.projntk.store").log(System.Logger.Level.WARNING, message);
    }

    /** What a check found. */
    enum Outcome { VERIFIED, UNVERIFIED, NOTHING_WRITTEN }

    private record Key(Path file, long size, long modifiedNanos, String recorded) {}

    static String hex(long crc) {
        return String.format(Locale.ROOT, "%08x", crc);
    }

    /** Verifies a feature or out-to-loss file once per process; throws {@link ChecksumMismatchException} on a mismatch. */
    static void verifyOnce(Path dir, Manifest m, Manifest.FileEntry f, boolean outToLoss) {
        Path p = dir.resolve(f.path());
        Key key;
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            key = new Key(p, a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), recorded(m, f, outToLoss));
        } catch (IOException e) {
            throw new StoreIOException(p, "cannot read", e);
        }
        if (VERIFIED.contains(key)) return;
        Outcome o = check(dir, m, f, outToLoss);
        if (o == Outcome.VERIFIED) {
            VERIFIED.add(key);
        } else if (o == Outcome.UNVERIFIED && WARNED.add(dir)) {
            warnings.accept("store " + dir + " has no checksums for " + f.path() + " (written before checksums were recorded):"
                    + " its features are read unverified; `projntk verify --rehash --store " + dir + "` records them");
        }
    }

    private static String recorded(Manifest m, Manifest.FileEntry f, boolean outToLoss) {
        if (f.crc32c() != null) return f.crc32c();
        StringBuilder b = new StringBuilder();
        for (Manifest.BatchEntry e : m.batches(f.checkpoint(), f.split())) {
            b.append(e.start()).append('+').append(e.rows()).append(':').append(batchCrc(e, f, outToLoss)).append(' ');
        }
        return b.toString();
    }

    private static String batchCrc(Manifest.BatchEntry b, Manifest.FileEntry f, boolean outToLoss) {
        if (outToLoss) return b.outToLossCrc32c();
        int i = f.clazz() == null ? 0 : f.clazz();
        return b.crc32c() != null && i < b.crc32c().size() ? b.crc32c().get(i) : null;
    }

    /**
     * Checks a file against its whole-file checksum, else against its batches' checksums. On a whole-file mismatch the
     * batches locate the damage. Files with neither are UNVERIFIED when they may hold rows (an older store, or a
     * completed checkpoint), NOTHING_WRITTEN otherwise.
     */
    static Outcome check(Path dir, Manifest m, Manifest.FileEntry f, boolean outToLoss) {
        Path p = dir.resolve(f.path());
        List<Manifest.BatchEntry> batches = m.batches(f.checkpoint(), f.split());
        Layout l = layout(f);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            if (ch.size() != l.size) {
                throw new IllegalStateException("store file " + p + " has " + ch.size() + " bytes, its manifest entry needs " + l.size);
            }
            if (f.crc32c() != null) {
                CRC32C whole = new CRC32C();
                feed(ch, 0, ch.size(), whole);
                if (hex(whole.getValue()).equals(f.crc32c())) return Outcome.VERIFIED;
                checkBatches(ch, p, l, batches, f, outToLoss);
                throw new ChecksumMismatchException(p, "whole file", f.crc32c(), hex(whole.getValue()));
            }
            if (!batches.isEmpty()) {
                checkBatches(ch, p, l, batches, f, outToLoss);
                return Outcome.VERIFIED;
            }
        } catch (IOException e) {
            throw new StoreIOException(p, "cannot read", e);
        }
        Manifest.Checkpoint c = m.checkpoints().get(f.checkpoint());
        boolean mayHoldRows = m.batches() == null || (c != null && Manifest.Checkpoint.COMPLETE.equals(c.status()));
        return mayHoldRows ? Outcome.UNVERIFIED : Outcome.NOTHING_WRITTEN;
    }

    private static void checkBatches(FileChannel ch, Path p, Layout l, List<Manifest.BatchEntry> batches, Manifest.FileEntry f,
                                     boolean outToLoss) throws IOException {
        for (Manifest.BatchEntry b : batches) {
            String want = batchCrc(b, f, outToLoss);
            CRC32C crc = new CRC32C();
            feed(ch, l.header + b.start() * l.rowBytes, b.rows() * l.rowBytes, crc);
            String have = hex(crc.getValue());
            if (!have.equals(want)) throw new ChecksumMismatchException(p, batchName(b), want, have);
        }
    }

    static String batchName(Manifest.BatchEntry b) {
        return "batch rows [" + b.start() + ", " + (b.start() + b.rows()) + ")";
    }

    /**
     * The CRC32C of the whole file, computed in one pass that also checks every recorded batch on the way (so a batch
     * damaged after it was written is caught rather than sealed into the file checksum).
     */
    static String fileCrcCheckingBatches(Path dir, Manifest m, Manifest.FileEntry f, boolean outToLoss) {
        Path p = dir.resolve(f.path());
        Layout l = layout(f);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            if (ch.size() != l.size) {
                throw new IllegalStateException("store file " + p + " has " + ch.size() + " bytes, its manifest entry needs " + l.size);
            }
            CRC32C whole = new CRC32C();
            long at = 0;
            for (Manifest.BatchEntry b : m.batches(f.checkpoint(), f.split())) {
                long start = l.header + b.start() * l.rowBytes;
                feed(ch, at, start - at, whole);
                CRC32C crc = new CRC32C();
                feed(ch, start, b.rows() * l.rowBytes, whole, crc);
                String have = hex(crc.getValue()), want = batchCrc(b, f, outToLoss);
                if (!have.equals(want)) throw new ChecksumMismatchException(p, batchName(b), want, have);
                at = start + b.rows() * l.rowBytes;
            }
            feed(ch, at, l.size - at, whole);
            return hex(whole.getValue());
        } catch (IOException e) {
            throw new StoreIOException(p, "cannot read", e);
        }
    }

    /** The CRC32C of bytes [offset, offset + length) of a file. */
    static String crc(Path p, long offset, long length) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            CRC32C crc = new CRC32C();
            feed(ch, offset, length, crc);
            return hex(crc.getValue());
        } catch (IOException e) {
            throw new StoreIOException(p, "cannot read", e);
        }
    }

    static String crc(ByteBuffer data) {
        CRC32C crc = new CRC32C();
        crc.update(data.duplicate());
        return hex(crc.getValue());
    }

    /** Feeds bytes [offset, offset + length) of the file to every crc, through read-only mappings of at most 64 MiB. */
    private static void feed(FileChannel ch, long offset, long length, CRC32C... crcs) throws IOException {
        long done = 0;
        while (done < length) {
            long n = Math.min(CHUNK, length - done);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = ch.map(FileChannel.MapMode.READ_ONLY, offset + done, n, arena);
                ByteBuffer b = s.asByteBuffer();
                for (CRC32C c : crcs) c.update(b.duplicate());
            }
            done += n;
        }
    }

    /** Where a file's rows are: header length, bytes per row, total size. */
    record Layout(long header, long rowBytes, long size) {}

    static Layout layout(Manifest.FileEntry f) {
        Npy.Dtype dt = FeatureStore.npyDtype(f.dtype());
        long header = Npy.header(dt, f.rows(), f.dim()).length;
        long rowBytes = (long) f.dim() * dt.size;
        return new Layout(header, rowBytes, header + f.rows() * rowBytes);
    }
}
