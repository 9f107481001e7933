package org.projntk.cli;

import java.io.PrintWriter;
import java.util.Locale;

/** A progress bar with rate and ETA on a terminal; plain log lines (at most every few seconds) otherwise. */
final class Progress {
    private static final long LOG_INTERVAL_NANOS = 5_000_000_000L;
    private final PrintWriter out;
    private final boolean terminal;
    private long lastLog;
    private boolean barOpen;

    Progress(PrintWriter out) {
        this.out = out;
        this.terminal = System.console() != null && System.console().isTerminal() && System.getenv("CI") == null;
    }

    void update(String label, long done, long total, long doneThisRun, double seconds) {
        long now = System.nanoTime();
        boolean finished = done >= total;
        if (!terminal && !finished && now - lastLog < LOG_INTERVAL_NANOS && doneThisRun > 0) return;
        lastLog = now;
        double rate = seconds > 0 ? doneThisRun / seconds : 0;
        String eta = rate > 0 ? duration((total - done) / rate) : "?";
        double fraction = total == 0 ? 1 : (double) done / total;
        if (terminal) {
            int width = 30;
            int filled = (int) Math.round(fraction * width);
            out.printf(Locale.ROOT, "\r%-12s [%s%s] %d/%d %5.1f%%  %.1f rows/s  ETA %s ", label,
                    "#".repeat(filled), ".".repeat(width - filled), done, total, 100 * fraction, rate, eta);
            barOpen = !finished;
            if (finished) out.println();
        } else {
            out.printf(Locale.ROOT, "%s: %d/%d rows (%.1f%%), %.1f rows/s, ETA %s%n", label, done, total, 100 * fraction, rate, eta);
        }
        out.flush();
    }

    void message(String text) {
        if (barOpen) out.println();
        barOpen = false;
        out.println(text);
        out.flush();
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
