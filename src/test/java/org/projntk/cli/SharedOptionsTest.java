package org.projntk.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.projntk.kernel.KernelNormalization;

import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The option groups that commands share (KernelNormalizationOption and the groups holding it) keep each command's own
 * default: gram's raw kernel, cosine for similar, surrogate and explain. The default is parsed and shown in help in
 * the CLI's spelling, and a value given once does not leak into the next parse.
 */
class SharedOptionsTest {
    private static KernelNormalization parsedNormalization(CommandLine root, String... argv) {
        CommandLine.ParseResult parsed = root.parseArgs(argv);
        OptionSpec o = parsed.subcommand().commandSpec().findOption("--normalize");
        assertNotNull(o, List.of(argv).toString());
        return o.getValue();
    }

    @Test
    void eachKernelCommandKeepsItsNormalizationDefault() {
        CommandLine root = Main.commandLine();
        String[][] argvs = {
                {"gram", "--store", "s", "--out", "k.npy"},
                {"similar", "--store", "s", "--out", "d"},
                {"surrogate", "--store", "s"},
                {"explain", "--store", "s", "--test-index", "0"}};
        KernelNormalization[] expected = {KernelNormalization.NONE, KernelNormalization.COSINE, KernelNormalization.COSINE,
                KernelNormalization.COSINE};
        for (int i = 0; i < argvs.length; i++) {
            String command = argvs[i][0];
            assertEquals(expected[i], parsedNormalization(Main.commandLine(), argvs[i]), command);
            String name = expected[i].name().toLowerCase(java.util.Locale.ROOT);
            OptionSpec o = root.getSubcommands().get(command).getCommandSpec().findOption("--normalize");
            assertEquals(name, o.defaultValue(), command);
            CommandLineTest.Run help = CommandLineTest.ok(command, "--help");
            // the option's entry in the list: its line and the indented lines under it, up to the next option
            List<String> lines = help.out().lines().toList();
            int at = 0;
            while (at < lines.size() && !lines.get(at).strip().startsWith("--normalize=")) at++;
            StringBuilder entry = new StringBuilder(lines.get(at));
            for (int j = at + 1; j < lines.size() && !lines.get(j).strip().startsWith("-"); j++) entry.append('\n').append(lines.get(j));
            assertTrue(entry.toString().contains("Default: " + name), command + ": " + entry);
        }
        // one command model parsed twice: the second parse is back at the default
        CommandLine again = Main.commandLine();
        assertEquals(KernelNormalization.STD, parsedNormalization(again, "gram", "--store", "s", "--out", "k.npy", "--normalize", "std"));
        assertEquals(KernelNormalization.NONE, parsedNormalization(again, "gram", "--store", "s", "--out", "k.npy"));
        assertEquals(KernelNormalization.STD, parsedNormalization(again, "similar", "--store", "s", "--out", "d", "--normalize", "STD"));
        assertEquals(KernelNormalization.COSINE, parsedNormalization(again, "similar", "--store", "s", "--out", "d"));
    }
}
