package org.projntk.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** Every numeric option (and numeric list option) of every command has a range; a value outside it (or NaN, or a non-number) is a one-line usage error, exit 2. */
class OptionRangesTest {
    private static List<CommandLine> all(CommandLine c) {
        List<CommandLine> out = new ArrayList<>(List.of(c));
        for (CommandLine s : c.getSubcommands().values()) out.addAll(all(s));
        return out;
    }

    private static List<String> path(CommandSpec spec) {
        List<String> words = new ArrayList<>(List.of(spec.qualifiedName(" ").split(" ")));
        return words.subList(1, words.size());
    }

    private static void assertUsageError(List<String> argv, String option, String expected) {
        CommandLineTest.Run r = CommandLineTest.run(argv.toArray(String[]::new));
        assertEquals(2, r.code(), argv + ": " + r.err());
        assertEquals(1, r.errLines().size(), argv + ": " + r.err());
        String line = r.errLines().get(0);
        assertTrue(line.contains("option '" + option + "'") && line.contains(expected), argv + ": " + line);
        assertEquals("", r.out(), argv.toString());
    }

    @Test
    void everyNumericOptionOfEveryCommandRejectsAValueOutsideItsRangeWithExitTwo() {
        int bounded = 0, walked = 0;
        for (CommandLine c : all(Main.commandLine())) {
            CommandSpec spec = c.getCommandSpec();
            for (OptionSpec o : spec.options()) {
                Class<?> type = OptionRanges.valueType(o);
                if (!OptionRanges.isNumeric(type)) continue;
                walked++;
                OptionRanges.Range range = OptionRanges.rangeOf(spec, o);
                assertNotNull(range, spec.qualifiedName() + " " + o.longestName() + " has no range in OptionRanges.RANGES");
                if (range.any()) continue;
                bounded++;
                boolean integral = type == int.class || type == long.class || type == Integer.class || type == Long.class;
                double bad = range.outside();
                String value = integral ? Long.toString((long) bad) : Double.toString(bad);
                List<String> argv = new ArrayList<>(path(spec));
                argv.add(o.longestName());
                argv.add(value);
                assertUsageError(argv, o.longestName(), "must be " + range.describe(integral) + ", got " + value);
                if (!integral) {
                    argv.set(argv.size() - 1, "NaN");
                    assertUsageError(argv, o.longestName(), "must be a finite number");
                    argv.set(argv.size() - 1, "Infinity");
                    assertUsageError(argv, o.longestName(), "must be a finite number");
                }
                argv.set(argv.size() - 1, "abc");
                assertUsageError(argv, o.longestName(), "'abc' is not");
            }
        }
        assertTrue(walked >= 60 && bounded >= 50, walked + " numeric options walked, " + bounded + " bounded");
    }

    @Test
    void theIssuesExamplesNameTheOptionAndTheRange() {
        CommandLineTest.Run lambda = CommandLineTest.run("score", "--store", "s", "--out", "o.npy", "--lambda", "-1");
        assertEquals(List.of("projntk score: Invalid value for option '--lambda': must be a finite number >= 0, got -1 "
                + "(see 'projntk score --help')"), lambda.errLines());
        CommandLineTest.Run alpha = CommandLineTest.run("lds", "--alpha", "1.5");
        assertEquals(2, alpha.code());
        assertTrue(alpha.err().contains("'--alpha': must be a finite number in (0, 1), got 1.5"), alpha.err());
        CommandLineTest.Run maxLength = CommandLineTest.run("featurize", "--max-length", "-5");
        assertEquals(2, maxLength.code());
        assertTrue(maxLength.err().contains("'--max-length': must be >= 1, got -5"), maxLength.err());
        // values inside the range and the documented sentinel parse
        assertTrue(new OptionRanges.Range(0, true, Double.POSITIVE_INFINITY, false, -1.0).contains(-1));
        CommandLineTest.Run sentinel = CommandLineTest.run("lds", "--lr", "-1");
        assertFalse(sentinel.err().contains("--lr"), sentinel.err());
        CommandLineTest.Run underscores = CommandLineTest.run("bench", "projection", "--P", "1_000", "--help");
        assertEquals(0, underscores.code(), underscores.err());
    }
}
