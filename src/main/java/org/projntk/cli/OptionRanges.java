package org.projntk.cli;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.TypeConversionException;

/**
 * The accepted range of every numeric option (and of each value of a numeric list option), checked while picocli parses (so a bad value is a usage error, exit 2,
 * with one line naming the option and the range) instead of deep in the library. The table is keyed by option name,
 * with "COMMAND OPTION" entries (the command's qualified name without "projntk ") where one command differs. The
 * converters are attached to the parsed option specs themselves, so they apply wherever the option is declared (a
 * command class or a shared @Mixin).
 */
final class OptionRanges {
    private OptionRanges() {}

    /** A closed or open interval, optionally also accepting one sentinel value (documented in the option's help). */
    record Range(double min, boolean minOpen, double max, boolean maxOpen, Double sentinel) {
        static final Range ANY = new Range(Double.NEGATIVE_INFINITY, false, Double.POSITIVE_INFINITY, false, null);

        static Range atLeast(double min) {
            return new Range(min, false, Double.POSITIVE_INFINITY, false, null);
        }

        static Range above(double min) {
            return new Range(min, true, Double.POSITIVE_INFINITY, false, null);
        }

        static Range open(double min, double max) {
            return new Range(min, true, max, true, null);
        }

        static Range halfOpen(double min, double max) {
            return new Range(min, false, max, true, null);
        }

        Range orSentinel(double v) {
            return new Range(min, minOpen, max, maxOpen, v);
        }

        boolean any() {
            return this.equals(ANY);
        }

        boolean contains(double v) {
            if (sentinel != null && v == sentinel) return true;
            return (minOpen ? v > min : v >= min) && (maxOpen ? v < max : v <= max) && !Double.isNaN(v);
        }

        /** A value just outside the range (for tests). */
        double outside() {
            if (min != Double.NEGATIVE_INFINITY) return minOpen ? min : min - 1;
            return maxOpen ? max : max + 1;
        }

        String describe(boolean integral) {
            String lo = integral ? Long.toString((long) min) : num(min);
            String hi = integral ? Long.toString((long) max) : num(max);
            String s;
            if (max == Double.POSITIVE_INFINITY) s = (minOpen ? "> " : ">= ") + lo;
            else s = "in " + (minOpen ? "(" : "[") + lo + ", " + hi + (maxOpen ? ")" : "]");
            if (!integral) s = "a finite number " + s;
            if (sentinel != null) s += ", or " + (integral ? Long.toString(sentinel.longValue()) : num(sentinel)) + " for the default";
            return s;
        }

        private static String num(double v) {
            return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
        }
    }

    static final Map<String, Range> RANGES = Map.ofEntries(
            Map.entry("--seed", Range.ANY),
            Map.entry("--model-seed", Range.ANY),
            Map.entry("--model-id", Range.ANY),
            Map.entry("--batch", Range.atLeast(1)),
            Map.entry("--gpu", Range.atLeast(0)),
            Map.entry("--rows", Range.atLeast(1)),
            Map.entry("--peak-seconds", new Range(0, true, 60, false, null)),
            Map.entry("--B", Range.atLeast(1)),
            Map.entry("--P", Range.atLeast(1)),
            Map.entry("--C", Range.atLeast(2)),
            Map.entry("--K", Range.atLeast(1)),
            Map.entry("--T", Range.atLeast(1)),
            Map.entry("--rounds", Range.atLeast(1)),
            Map.entry("--iterations", Range.atLeast(1)),
            Map.entry("--max-iterations", Range.atLeast(1)),
            Map.entry("--dim", Range.atLeast(1)),
            Map.entry("score --dim", Range.atLeast(0)),
            Map.entry("--epochs", Range.atLeast(1)),
            Map.entry("train --epochs", Range.atLeast(0)),
            Map.entry("--images", Range.atLeast(0)),
            Map.entry("--sweep-test", Range.atLeast(1)),
            Map.entry("--sweep-train", Range.atLeast(1)),
            Map.entry("--test-size", Range.atLeast(1)),
            Map.entry("--train-size", Range.atLeast(1)),
            Map.entry("--train-examples", Range.atLeast(1)),
            Map.entry("--test-index", Range.atLeast(0)),
            Map.entry("--top", Range.atLeast(1)),
            Map.entry("--max-block-bytes", Range.atLeast(1)),
            Map.entry("--max-length", Range.atLeast(1)),
            Map.entry("--output-index", Range.atLeast(0)),
            Map.entry("--sjlt-s", Range.atLeast(1)),
            Map.entry("--subsets", Range.atLeast(3)),
            Map.entry("--alpha", Range.open(0, 1)),
            Map.entry("--bootstrap", Range.atLeast(1)),
            Map.entry("--checkpoints", Range.atLeast(1)),
            Map.entry("--lambda", Range.atLeast(0)),
            Map.entry("--lr", Range.above(0)),
            Map.entry("lds --lr", Range.above(0).orSentinel(-1)),
            Map.entry("--momentum", Range.halfOpen(0, 1)),
            Map.entry("--weight-decay", Range.atLeast(0)),
            Map.entry("--save-every", Range.atLeast(0)),
            Map.entry("--tile", Range.atLeast(1)),
            Map.entry("--repeats", Range.atLeast(1)),
            Map.entry("--partitions", Range.atLeast(0)),
            Map.entry("--dims", Range.atLeast(1)),
            Map.entry("--sweep-dims", Range.atLeast(1)),
            Map.entry("--N", Range.atLeast(1)));

    /** The type a converter produces: the element type of a list option, else the option's type. */
    static Class<?> valueType(OptionSpec o) {
        if (o.typeInfo().isMap()) return Map.class;
        return o.isMultiValue() && o.auxiliaryTypes().length == 1 ? o.auxiliaryTypes()[0] : o.type();
    }

    static boolean isNumeric(Class<?> t) {
        return t == int.class || t == long.class || t == float.class || t == double.class || t == Integer.class || t == Long.class
                || t == Float.class || t == Double.class;
    }

    private static boolean integral(Class<?> t) {
        return t == int.class || t == long.class || t == Integer.class || t == Long.class;
    }

    /** The range of an option of a command, or null when the table has none. */
    static Range rangeOf(CommandSpec command, OptionSpec option) {
        String qualified = command.qualifiedName(" ");
        String sub = qualified.startsWith("projntk ") ? qualified.substring("projntk ".length()) : qualified;
        String name = option.longestName();
        Range r = RANGES.get(sub + " " + name);
        if (r == null && sub.startsWith("spark ")) r = RANGES.get(sub.substring("spark ".length()) + " " + name);
        return r != null ? r : RANGES.get(name);
    }

    /** Replaces every numeric option that has a bounded range with a copy whose converter checks it. */
    static void install(List<CommandLine> commands) {
        for (CommandLine c : commands) {
            CommandSpec spec = c.getCommandSpec();
            for (OptionSpec o : List.copyOf(spec.options())) {
                Class<?> type = valueType(o);
                if (!isNumeric(type)) continue;
                Range r = rangeOf(spec, o);
                if (r == null || r.any()) continue;
                spec.remove(o);
                spec.addOption(o.toBuilder().converters(converter(type, r)).build());
            }
        }
    }

    private static CommandLine.ITypeConverter<Object> converter(Class<?> type, Range r) {
        boolean integral = integral(type);
        return s -> {
            String t = s.strip().replace("_", "");
            Object value;
            try {
                if (type == int.class || type == Integer.class) value = Integer.parseInt(t);
                else if (type == long.class || type == Long.class) value = Long.parseLong(t);
                else if (type == float.class || type == Float.class) value = Float.parseFloat(t);
                else value = Double.parseDouble(t);
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + s + "' is not " + (integral ? "an integer" : "a number"));
            }
            double v = ((Number) value).doubleValue();
            if (!r.contains(v) || !Double.isFinite(v)) {
                throw new TypeConversionException(String.format(Locale.ROOT, "must be %s, got %s", r.describe(integral), s));
            }
            return value;
        };
    }
}
