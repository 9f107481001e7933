package org.projntk.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

import org.projntk.ProjntkException;
import org.projntk.store.Checksums;
import org.projntk.torch.Runtime;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The `projntk` command line: one picocli class per subcommand. Usage errors (unknown or missing options, values
 * that do not parse) print one line to stderr and exit 2; runtime errors print one line and exit 1 (with the stack
 * trace when PROJNTK_DEBUG is set).
 */
@Command(name = "projntk", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Projected neural tangent kernels of PyTorch models.",
        subcommands = {VersionCommand.class, TrainCommand.class, FeaturizeCommand.class, GramCommand.class, SimilarCommand.class,
                SurrogateCommand.class, ExplainCommand.class, SweepCommand.class, ScoreCommand.class, LdsCommand.class, VerifyCommand.class,
                BenchCommand.class, BenchSurrogateCommand.class, DemoCommand.class, AutoComplete.GenerateCompletion.class, CommandLine.HelpCommand.class},
        footer = {"", "Datasets: fashion-mnist:train|test, idx:IMAGES,LABELS, cifar10:DIR:train|test,",
                "  npy:X.npy,Y.npy; each takes a row range, e.g. fashion-mnist:train[0:5000].",
                "Models: a TorchScript file, or builtin:NAME with NAME one of tiny-mlp,",
                "  tiny-cnn, mlp, cnn-fmnist, cnn-cifar, resnet18-cifar.",
                "See 'projntk <command> --help' for a command's options."})
public final class Main implements Callable<Integer> {
    @Spec CommandSpec spec;

    /** Without a command: the usage on stderr, exit 2. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    public static void main(String[] argv) {
        configureProcess();
        System.exit(run(argv, System.out, System.err));
    }

    /**
     * The CLI owns its process, so it sets what the library leaves to its embedder: headless AWT for the PNG output,
     * and libtorch's thread count (the number of processors, unless PROJNTK_THREADS or -Dprojntk.threads says
     * otherwise; applied when the native library loads, so `--help` does not need it).
     */
    static void configureProcess() {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        if (System.getProperty("projntk.threads") == null && System.getenv("PROJNTK_THREADS") == null) {
            System.setProperty("projntk.threads", Integer.toString(java.lang.Runtime.getRuntime().availableProcessors()));
        }
    }

    /** Runs one command line; returns the exit code (0 success, 1 runtime error, 2 usage error). */
    public static int run(String[] argv, PrintStream out, PrintStream err) {
        PrintWriter outWriter = new PrintWriter(out, true);
        PrintWriter errWriter = new PrintWriter(err, true);
        CommandLine cl = commandLine();
        cl.setOut(outWriter);
        cl.setErr(errWriter);
        Checksums.setWarningListener(m -> {
            errWriter.println("warning: " + m);
            errWriter.flush();
        });
        try {
            return cl.execute(argv);
        } finally {
            outWriter.flush();
            errWriter.flush();
            Checksums.setWarningListener(null);
        }
    }

    /** The command model: every subcommand, the CLI's enum spellings, and the error handling. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.addSubcommand("spark", sparkCommand());
        registerConverters(cl);
        spellEnumDefaults(all(cl));
        OptionRanges.install(all(cl));
        cl.setParameterExceptionHandler(Main::usageError);
        cl.setExecutionExceptionHandler((e, command, parsed) -> runtimeError(e, command));
        Version version = new Version();
        for (CommandLine c : all(cl)) c.getCommandSpec().versionProvider(version);
        return cl;
    }

    /** Name of the Spark module's command (src/spark); the core never links against Spark. */
    static final String SPARK_COMMAND = "org.projntk.spark.cli.SparkCommand";

    /** The Spark module's `spark` command when it is on the class path, else one that says how to get it. */
    static Object sparkCommand() {
        try {
            return Class.forName(SPARK_COMMAND).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return new SparkMissing();
        }
    }

    @Command(name = "spark", mixinStandardHelpOptions = true,
            description = "projntk jobs on Apache Spark (needs the Spark module: bin/projntk-spark, docs/spark.md).")
    static final class SparkMissing implements Callable<Integer> {
        @CommandLine.Unmatched List<String> arguments;

        @Override
        public Integer call() {
            throw new IllegalStateException("the Spark module (" + SPARK_COMMAND + ") is not on the class path:"
                    + " run `bin/projntk-spark` (or `bin/projntk spark`, which starts it) after `make spark-jar`; see docs/spark.md");
        }
    }

    /** The bash completion script for the whole command tree. */
    public static String completionScript() {
        return AutoComplete.bash("projntk", commandLine());
    }

    private static int usageError(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        String name = command.getCommandSpec().qualifiedName();
        String message = oneLine(e.getMessage());
        if (e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            // picocli lists every word after an unknown option (its value too); the first one is what went wrong
            String first = u.getUnmatched().get(0);
            if (first.startsWith("-")) {
                message = "Unknown option: '" + first + "'";
            } else if (!command.getSubcommands().isEmpty()) {
                message = "unknown command '" + first + "'";
            }
        }
        command.getErr().println(name + ": " + message + " (see '" + name + " --help')");
        return 2;
    }

    private static int runtimeError(Exception e, CommandLine command) {
        String name = command.getCommandSpec().qualifiedName();
        Throwable shown = rootCauseOfSparkFailure(e);
        String message = shown == e ? describe(e) : describe(shown);
        if (shown == e && e.getClass().getName().startsWith("org.apache.spark.")) message = sparkTaskCause(message);
        command.getErr().println(name + ": " + oneLine(message));
        boolean verbose = command.getParseResult() != null && command.getParseResult().hasMatchedOption("--verbose");
        if (verbose || System.getenv("PROJNTK_DEBUG") != null) e.printStackTrace(command.getErr());
        return 1;
    }

    private static String describe(Throwable e) {
        boolean expected = e instanceof ProjntkException || e instanceof IllegalArgumentException || e instanceof IllegalStateException
                || e instanceof UncheckedIOException || e instanceof IOException || e instanceof org.projntk.data.DataFormatException;
        return expected && e.getMessage() != null ? e.getMessage() : e.toString();
    }

    /** A Spark job's failure as the exception a task threw (the driver wraps it in SparkExceptions), else e itself. */
    static Throwable rootCauseOfSparkFailure(Throwable e) {
        Throwable t = e;
        while (t.getClass().getName().startsWith("org.apache.spark.") && t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t;
    }

    /** "Job aborted due to stage failure: ... most recent failure: Lost task ... (...): CLASS: MESSAGE\n\tat ..." to MESSAGE. */
    static String sparkTaskCause(String message) {
        if (message == null) return "";
        int at = message.indexOf("most recent failure: ");
        if (at < 0) return message;
        String rest = message.substring(at);
        int colon = rest.indexOf("): ");
        if (colon < 0) return message;
        String cause = rest.substring(colon + 3).lines().findFirst().orElse("");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(?:[a-z][\\w$]*\\.)+([A-Z][\\w$]*): (.*)$").matcher(cause);
        if (m.matches()) {
            String simple = m.group(1);
            boolean expected = simple.equals("IllegalArgumentException") || simple.equals("IllegalStateException") || simple.endsWith("IOException")
                    || simple.equals("ProjntkException") || simple.equals("ChecksumMismatchException") || simple.equals("StoreIOException")
                    || simple.equals("DataFormatException");
            return expected ? m.group(2) : simple + ": " + m.group(2);
        }
        return cause;
    }

    private static String oneLine(String message) {
        return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /** Enums by their CLI spelling ({@link Choices#parse}); integers may use '_' separators (1_000_000). */
    static void registerConverters(CommandLine cl) {
        Set<Class<?>> enums = new LinkedHashSet<>();
        for (CommandLine c : all(cl)) {
            for (OptionSpec option : c.getCommandSpec().options()) {
                if (option.type().isEnum()) enums.add(option.type());
                for (Class<?> t : option.auxiliaryTypes()) if (t.isEnum()) enums.add(t);
            }
        }
        for (Class<?> type : enums) registerEnum(cl, type);
        CommandLine.ITypeConverter<Integer> toInt = s -> {
            try {
                return Integer.parseInt(s.strip().replace("_", ""));
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + s + "' is not an integer");
            }
        };
        CommandLine.ITypeConverter<Long> toLong = s -> {
            try {
                return Long.parseLong(s.strip().replace("_", ""));
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + s + "' is not an integer");
            }
        };
        cl.registerConverter(Integer.class, toInt).registerConverter(int.class, toInt);
        cl.registerConverter(Long.class, toLong).registerConverter(long.class, toLong);
    }

    /**
     * An enum option whose default is its field's initial value (a mixin shared by commands with different defaults,
     * e.g. {@link KernelNormalizationOption}) gets that default as text in the CLI's spelling, as help shows it.
     */
    private static void spellEnumDefaults(List<CommandLine> commands) {
        for (CommandLine c : commands) {
            CommandSpec spec = c.getCommandSpec();
            for (OptionSpec o : List.copyOf(spec.options())) {
                if (o.defaultValue() == null && o.hasInitialValue() && o.initialValue() instanceof Enum<?> e) {
                    spec.remove(o);
                    spec.addOption(o.toBuilder().defaultValue(Choices.cliName(e)).build());
                }
            }
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void registerEnum(CommandLine cl, Class<?> type) {
        Class<Enum> e = (Class<Enum>) type;
        cl.registerConverter(e, s -> Choices.parse(e, s));
    }

    private static List<CommandLine> all(CommandLine root) {
        List<CommandLine> out = new java.util.ArrayList<>();
        out.add(root);
        for (CommandLine sub : root.getSubcommands().values()) {
            if (!out.contains(sub)) out.addAll(all(sub));
        }
        return out;
    }

    /** `--version`: the engine's version from the native library, or the jar's when the library cannot load. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            try {
                return new String[] {"projntk " + Runtime.version()};
            } catch (RuntimeException | LinkageError e) {
                String jar = Main.class.getPackage().getImplementationVersion();
                return new String[] {"projntk " + (jar != null ? jar : "(unknown version)") + " (native library not loaded: " + oneLine(e.getMessage()) + ")"};
            }
        }
    }
}
