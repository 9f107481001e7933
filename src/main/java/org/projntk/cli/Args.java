package org.projntk.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** `--key value` and `--flag` options after a subcommand; unknown or missing options are reported clearly. */
final class Args {
    private final Map<String, String> values = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();
    private final Set<String> used = new java.util.HashSet<>();

    Args(String[] argv, int from, Set<String> flags) {
        for (int i = from; i < argv.length; i++) {
            String a = argv[i];
            if (a.startsWith("--")) {
                String key = a.substring(2);
                int eq = key.indexOf('=');
                if (eq >= 0) {
                    values.put(key.substring(0, eq), key.substring(eq + 1));
                } else if (flags.contains(key)) {
                    values.put(key, "true");
                } else {
                    if (i + 1 >= argv.length) throw new UsageException("option --" + key + " needs a value");
                    values.put(key, argv[++i]);
                }
            } else {
                positional.add(a);
            }
        }
    }

    String get(String key, String fallback) {
        used.add(key);
        return values.getOrDefault(key, fallback);
    }

    String require(String key) {
        used.add(key);
        String v = values.get(key);
        if (v == null) throw new UsageException("missing required option --" + key);
        return v;
    }

    boolean flag(String key) {
        used.add(key);
        return Boolean.parseBoolean(values.getOrDefault(key, "false"));
    }

    int getInt(String key, int fallback) {
        String v = get(key, null);
        try {
            return v == null ? fallback : Integer.parseInt(v.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + " expects an integer, got '" + v + "'");
        }
    }

    long getLong(String key, long fallback) {
        String v = get(key, null);
        try {
            return v == null ? fallback : Long.parseLong(v.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + " expects an integer, got '" + v + "'");
        }
    }

    double getDouble(String key, double fallback) {
        String v = get(key, null);
        try {
            return v == null ? fallback : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + " expects a number, got '" + v + "'");
        }
    }

    List<String> list(String key, String fallback) {
        String v = get(key, fallback);
        List<String> out = new ArrayList<>();
        if (v == null) return out;
        for (String part : v.split(",")) if (!part.isBlank()) out.add(part.trim());
        return out;
    }

    List<Integer> intList(String key, String fallback) {
        List<Integer> out = new ArrayList<>();
        for (String s : list(key, fallback)) {
            try {
                out.add(Integer.parseInt(s.replace("_", "")));
            } catch (NumberFormatException e) {
                throw new UsageException("--" + key + " expects a comma-separated list of integers, got '" + s + "'");
            }
        }
        return out;
    }

    List<String> positional() {
        return positional;
    }

    /** Fails on options nobody asked for (typos). Call after reading every option. */
    void rejectUnknown() {
        for (String key : values.keySet()) {
            if (!used.contains(key)) throw new UsageException("unknown option --" + key);
        }
    }

    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }
}
