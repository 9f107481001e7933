package org.projntk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParameterException;

/**
 * Every command in the README and docs/*.md runs as written: each line of a fenced {@code bash} or {@code java} block
 * that starts a {@code bin/projntk}, {@code bin/projntk-spark}, {@code make} or {@code java} command is checked.
 * <ul>
 * <li>{@code bin/projntk ...}: parsed (not executed) by picocli against the real command model, {@link Main#commandLine()}.
 * <li>{@code bin/projntk-spark ...} (and {@code bin/projntk spark ...}): the Spark module is not on this class path, so
 * the command model is rebuilt from src/spark's sources: the subcommands SparkCommand lists, their {@code @Option}
 * names, arity (boolean flags take no value, maps take KEY=VALUE), required options and {@code @Mixin} groups (a mixin
 * class that is on this class path, such as the core's option groups, is taken from its real annotations). picocli then
 * parses the line against that model, so unknown options, missing values and missing required options fail; value
 * types and enum spellings of Spark-only options are not checked.
 * <li>{@code make ...}: {@code make -n -o build/torch.mk TARGET... [VAR=value]} in the repository root must exit 0, and
 * every {@code bin/projntk} line it prints (a demo target's recipe with its ARGS) is parsed as above. {@code make -n}
 * prints recipes without running them; {@code -o build/torch.mk} stops make from remaking its included libtorch
 * settings, the one recipe {@code -n} would otherwise run (it installs packages). What remains is the Makefile's own
 * {@code $(shell ...)} calls: creating build/ and its configuration stamp, and read-only queries.
 * <li>{@code java ...}: every JVM flag is one of the well-formed kinds below, and the main class exists (on this class
 * path, or as a source file of the benchmarks, Spark or example modules); {@code -jar benchmarks/target/benchmarks.jar}
 * must name a benchmark class of benchmarks/src; a source-file launch names an existing file.
 * </ul>
 * Lines continue over a trailing backslash; quoting follows the shell; {@code #} starts a comment; {@code $PWD},
 * {@code $HOME} and {@code $JAVA_HOME} are substituted and any other variable becomes a placeholder value. A bare
 * {@code projntk} (no {@code bin/}) is refused: there is no such command on PATH.
 */
class DocCommandsTest {
    static final Path ROOT = Path.of("").toAbsolutePath();
    static final Pattern FENCE = Pattern.compile("^\\s*```\\s*([A-Za-z0-9_+-]*)\\s*$");
    static final Pattern ENV_ASSIGNMENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*=.*");
    /** A line that starts with a checked command (after VAR=value assignments and time/nice/env wrappers). */
    static final Pattern STARTS_WITH_COMMAND = Pattern.compile("^\\s*([A-Za-z_][A-Za-z0-9_]*=(\"[^\"]*\"|'[^']*'|\\S)*\\s+)*"
            + "(/usr/bin/time(\\s+-\\S+)*\\s+|time\\s+|nice(\\s+-n\\s+\\S+)?\\s+|env\\s+)*"
            + "(\\S*bin/projntk(-spark)?|projntk|make|java|\\S*/bin/java)(\\s|$)");

    /** One logical command line of a doc, with where it came from. */
    record DocLine(String file, int line, String text) {
        String where() {
            return file + ":" + line;
        }
    }

    // ------------------------------------------------------------------ the test

    @Test
    void everyCommandInTheReadmeAndDocsParses() throws IOException {
        List<Path> docs = new ArrayList<>();
        docs.add(ROOT.resolve("README.md"));
        try (Stream<Path> s = Files.list(ROOT.resolve("docs"))) {
            s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        Checker checker = new Checker();
        for (Path doc : docs) {
            for (DocLine line : commandLines(doc)) checker.check(line);
        }
        assertTrue(checker.failures.isEmpty(), checker.failures.size() + " doc command(s) do not run as written:\n"
                + String.join("\n", checker.failures));
        // The docs hold dozens of commands; a count this low would mean the reader found none.
        assertTrue(checker.checked.getOrDefault("bin/projntk", 0) >= 10, "bin/projntk lines checked: " + checker.checked);
        assertTrue(checker.checked.getOrDefault("make", 0) >= 5, "make lines checked: " + checker.checked);
        assertTrue(checker.checked.getOrDefault("java", 0) >= 3, "java lines checked: " + checker.checked);
        assertTrue(checker.checked.getOrDefault("bin/projntk-spark", 0) >= 4, "Spark lines checked: " + checker.checked);
    }

    /** The checker refuses what it must refuse: each of these lines is broken in one way. */
    @Test
    void brokenCommandsAreRefused() {
        String[] broken = {
            "bin/projntk featurize --model builtin:cnn-fmnist --train fashion-mnist:train --out s --no-such-option 1",
            "bin/projntk gram --store s",                                         // --out is required
            "bin/projntk featurize --model builtin:cnn-fmnist --train x --out s --kernel bogus",
            "bin/projntk no-such-command",
            "projntk version",                                                    // not on PATH
            "bin/projntk-spark gram --master 'local[2]' --store s --out k.npy --bogus",
            "bin/projntk-spark gram --master 'local[2]' --out k.npy",            // --store is required
            "bin/projntk-spark gram --master",                                   // missing value
            "bin/projntk-spark no-such-job --master 'local[2]'",
            "bin/projntk spark score --master 'local[2]' --store s --out o.npy --lambda",
            "bin/projntk-spark featurize --master 'local[2]' --conf novalue --model m --train t --out o",
            "make no-such-target",
            "make demo ARGS=\"--no-such-demo-option\"",
            "java -cp target/classes org.projntk.NoSuchMain",
            "java --enable-native-acess=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar ProjectionBench",
            "java -jar benchmarks/target/benchmarks.jar NoSuchBench",
            "java -Dx=1 -Q org.projntk.cli.Main",
            "java scripts/bindgen/NoSuchFile.java",
            "bin/projntk featurize --model 'builtin:cnn-fmnist --out s",         // unbalanced quote
        };
        for (String text : broken) {
            Checker checker = new Checker();
            checker.check(new DocLine("test", 1, text));
            assertFalse(checker.failures.isEmpty(), "accepted: " + text);
        }
        String[] fine = {
            "bin/projntk featurize --model builtin:cnn-fmnist --train 'fashion-mnist:train[0:64]' --out s --kernel trntk  # comment",
            "PROJNTK_JAVA_OPTS=-Xmx256m /usr/bin/time -v bin/projntk score --store /tmp/big --out big.npy --lambda 0",
            "bin/projntk spark gram --master 'local[2]' --store s --out k.npy --conf spark.x=1",
            "make demo-text ARGS=\"--epochs 1\"",
            "java --enable-native-access=ALL-UNNAMED -Dprojntk.native=$PWD/x.so -cp 'target/lib/*' org.projntk.cli.Main version",
            "Model model = Model.open(\"builtin:cnn-fmnist\", 0, Device.CPU);   // Java source in a java block: the model's id",
        };
        for (String text : fine) {
            Checker checker = new Checker();
            checker.check(new DocLine("test", 1, text));
            assertEquals(List.of(), checker.failures, text);
        }
    }

    @Test
    void continuationsQuotesCommentsAndFencesAreRead() throws IOException {
        Path doc = Files.createTempFile("doc", ".md");
        try {
            Files.writeString(doc, String.join("\n",
                    "text", "```bash", "# a comment line", "bin/projntk gram --store s \\", "    --out 'a b.npy'   # trailing",
                    "```", "```python", "bin/projntk not checked", "```", "```java", "java -version", "```", ""));
            List<DocLine> lines = commandLines(doc);
            assertEquals(2, lines.size(), lines.toString());
            assertEquals(4, lines.get(0).line());
            assertEquals(List.of("bin/projntk", "gram", "--store", "s", "--out", "a b.npy"),
                    Shell.split(lines.get(0).text(), Map.of()).get(0));
            assertEquals("java -version", lines.get(1).text().strip());
        } finally {
            Files.delete(doc);
        }
    }

    // ------------------------------------------------------------------ reading the docs

    /** The logical lines of every fenced bash/sh/java block, continuations joined, blank and comment-only lines dropped. */
    static List<DocLine> commandLines(Path doc) throws IOException {
        List<String> lines = Files.readAllLines(doc, StandardCharsets.UTF_8);
        String name = ROOT.relativize(doc.toAbsolutePath()).toString();
        List<DocLine> out = new ArrayList<>();
        boolean inBlock = false, checked = false;
        StringBuilder pending = null;
        int pendingLine = 0;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            Matcher fence = FENCE.matcher(line);
            if (fence.matches()) {
                if (inBlock) {
                    if (pending != null) out.add(new DocLine(name, pendingLine, pending.toString()));
                    pending = null;
                    inBlock = false;
                } else {
                    inBlock = true;
                    String lang = fence.group(1);
                    checked = lang.equals("bash") || lang.equals("sh") || lang.equals("shell") || lang.equals("java");
                }
                continue;
            }
            if (!inBlock || !checked) continue;
            if (pending == null) {
                if (line.isBlank() || line.strip().startsWith("#")) continue;
                pending = new StringBuilder();
                pendingLine = i + 1;
            }
            if (continues(line)) {
                pending.append(line, 0, line.length() - 1).append(' ');
            } else {
                pending.append(line);
                out.add(new DocLine(name, pendingLine, pending.toString()));
                pending = null;
            }
        }
        return out;
    }

    /** A trailing backslash that is not itself escaped. */
    static boolean continues(String line) {
        int n = 0;
        for (int i = line.length() - 1; i >= 0 && line.charAt(i) == '\\'; i--) n++;
        return n % 2 == 1;
    }

    // ------------------------------------------------------------------ shell words

    /** Enough of the shell's word splitting for command lines in docs. */
    static final class Shell {
        /**
         * The simple commands of a line (split at ; && || | &), each as its words after quote removal and variable
         * substitution; a # at the start of a word ends the line.
         */
        static List<List<String>> split(String line, Map<String, String> vars) {
            List<List<String>> commands = new ArrayList<>();
            List<String> words = new ArrayList<>();
            StringBuilder word = null;
            int i = 0, n = line.length();
            while (i < n) {
                char c = line.charAt(i);
                if (c == ' ' || c == '\t') {
                    if (word != null) words.add(word.toString());
                    word = null;
                    i++;
                } else if (c == '#' && word == null) {
                    break;
                } else if (c == ';' || c == '|' || c == '&') {
                    if (word != null) words.add(word.toString());
                    word = null;
                    if (!words.isEmpty()) commands.add(words);
                    words = new ArrayList<>();
                    i++;
                    if (i < n && (line.charAt(i) == '&' || line.charAt(i) == '|')) i++;
                } else if (c == '<' && i + 1 < n && line.charAt(i + 1) == '(') {
                    throw new IllegalArgumentException("process substitution <(...) is not checkable; keep it out of checked blocks");
                } else {
                    if (word == null) word = new StringBuilder();
                    if (c == '\'') {
                        int end = line.indexOf('\'', i + 1);
                        if (end < 0) throw new IllegalArgumentException("unterminated single quote");
                        word.append(line, i + 1, end);
                        i = end + 1;
                    } else if (c == '"') {
                        i++;
                        while (true) {
                            if (i >= n) throw new IllegalArgumentException("unterminated double quote");
                            char d = line.charAt(i);
                            if (d == '"') {
                                i++;
                                break;
                            }
                            if (d == '\\' && i + 1 < n && "\"\\$`".indexOf(line.charAt(i + 1)) >= 0) {
                                word.append(line.charAt(i + 1));
                                i += 2;
                            } else if (d == '$') {
                                i = variable(line, i, vars, word);
                            } else {
                                word.append(d);
                                i++;
                            }
                        }
                    } else if (c == '\\') {
                        if (i + 1 < n) word.append(line.charAt(i + 1));
                        i += 2;
                    } else if (c == '$') {
                        i = variable(line, i, vars, word);
                    } else {
                        word.append(c);
                        i++;
                    }
                }
            }
            if (word != null) words.add(word.toString());
            if (!words.isEmpty()) commands.add(words);
            return commands;
        }

        /** Appends the value of the $NAME or ${NAME} at i; returns the index after it. */
        static int variable(String line, int i, Map<String, String> vars, StringBuilder word) {
            int n = line.length();
            if (i + 1 < n && line.charAt(i + 1) == '(') {
                throw new IllegalArgumentException("command substitution $(...) is not checkable; keep it out of checked blocks");
            }
            int start, end, next;
            if (i + 1 < n && line.charAt(i + 1) == '{') {
                start = i + 2;
                end = line.indexOf('}', start);
                if (end < 0) throw new IllegalArgumentException("unterminated ${");
                next = end + 1;
            } else {
                start = i + 1;
                end = start;
                while (end < n && (Character.isLetterOrDigit(line.charAt(end)) || line.charAt(end) == '_')) end++;
                next = end;
            }
            if (end == start) {
                word.append('$');
                return i + 1;
            }
            String name = line.substring(start, end);
            word.append(vars.getOrDefault(name, "VALUE_OF_" + name));
            return next;
        }
    }

    // ------------------------------------------------------------------ the checks

    static final class Checker {
        final List<String> failures = new ArrayList<>();
        final Map<String, Integer> checked = new LinkedHashMap<>();
        final Map<String, String> vars = Map.of("PWD", ROOT.toString(), "HOME", System.getProperty("user.home"),
                "JAVA_HOME", System.getProperty("java.home"));
        private SparkModel spark;

        void check(DocLine line) {
            List<List<String>> commands;
            try {
                commands = Shell.split(line.text(), vars);
            } catch (IllegalArgumentException e) {
                // Java source in a java block, or another tool's line, need not be shell words.
                if (STARTS_WITH_COMMAND.matcher(line.text()).find()) {
                    failures.add(line.where() + ": " + e.getMessage() + ": " + line.text().strip());
                }
                return;
            }
            for (List<String> words : commands) {
                try {
                    checkCommand(line, stripPrefixes(words));
                } catch (RuntimeException e) {
                    failures.add(line.where() + ": " + e + ": " + line.text().strip());
                }
            }
        }

        /** Drops leading VAR=value assignments and the wrappers time, /usr/bin/time [-v], nice [-n N], env. */
        static List<String> stripPrefixes(List<String> words) {
            int i = 0;
            while (i < words.size()) {
                String w = words.get(i);
                if (ENV_ASSIGNMENT.matcher(w).matches() || w.equals("env") || w.equals("time")) {
                    i++;
                } else if (w.equals("/usr/bin/time")) {
                    i++;
                    while (i < words.size() && words.get(i).startsWith("-")) i++;
                } else if (w.equals("nice")) {
                    i++;
                    if (i + 1 < words.size() && words.get(i).equals("-n")) i += 2;
                } else {
                    break;
                }
            }
            return words.subList(i, words.size());
        }

        void checkCommand(DocLine line, List<String> words) {
            if (words.isEmpty()) return;
            String cmd = words.get(0).startsWith("./") ? words.get(0).substring(2) : words.get(0);
            List<String> args = withoutRedirections(words.subList(1, words.size()));
            switch (cmd) {
                case "bin/projntk" -> {
                    count("bin/projntk");
                    if (!args.isEmpty() && args.get(0).equals("spark")) checkSpark(line, args.subList(1, args.size()));
                    else checkCli(line, args);
                }
                case "bin/projntk-spark" -> {
                    count("bin/projntk-spark");
                    checkSpark(line, args);
                }
                case "projntk" -> failures.add(line.where() + ": `projntk` is not on PATH; write bin/projntk: " + String.join(" ", words));
                case "make" -> {
                    count("make");
                    checkMake(line, args);
                }
                default -> {
                    if (cmd.equals("java") || cmd.endsWith("/bin/java")) {
                        count("java");
                        checkJava(line, args);
                    }
                }
            }
        }

        void count(String kind) {
            checked.merge(kind, 1, Integer::sum);
        }

        /** Drops shell redirections (> f, 2> f, >> f, < f, 2>&1) and their targets. */
        static List<String> withoutRedirections(List<String> args) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                if (a.matches("[0-9]?(>>?|<)")) {
                    i++;
                } else if (!a.matches("[0-9]?(>>?|<)\\S+|[0-9]?>&[0-9]")) {
                    out.add(a);
                }
            }
            return out;
        }

        void checkCli(DocLine line, List<String> args) {
            try {
                Main.commandLine().parseArgs(args.toArray(String[]::new));
            } catch (ParameterException e) {
                failures.add(line.where() + ": bin/projntk " + String.join(" ", args) + "\n    " + e.getMessage());
            }
        }

        void checkSpark(DocLine line, List<String> args) {
            try {
                if (spark == null) spark = SparkModel.read();
                spark.commandLine().parseArgs(args.toArray(String[]::new));
            } catch (ParameterException e) {
                failures.add(line.where() + ": bin/projntk-spark " + String.join(" ", args) + "\n    " + e.getMessage());
            }
        }

        void checkMake(DocLine line, List<String> args) {
            List<String> command = new ArrayList<>(List.of("make", "-n", "-o", "build/torch.mk"));
            command.addAll(args);
            String output;
            int code;
            try {
                ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true);
                // Under `make test` the parent make's flags (jobserver, -k, ...) would reach this make: it stands alone.
                pb.environment().keySet().removeAll(List.of("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"));
                Process p = pb.start();
                output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    failures.add(line.where() + ": " + String.join(" ", command) + " did not finish in 120 s");
                    return;
                }
                code = p.exitValue();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            if (code != 0) {
                failures.add(line.where() + ": " + String.join(" ", command) + " exits " + code + ":\n    "
                        + output.strip().replace("\n", "\n    "));
                return;
            }
            // The recipes make would run: the CLI lines among them (a demo target's, with ARGS) are checked too.
            for (String recipe : output.split("\n")) {
                String r = recipe.strip();
                if (r.startsWith("bin/projntk")) check(new DocLine(line.file(), line.line(), r));
            }
        }

        static final Pattern JAVA_FLAG = Pattern.compile(String.join("|",
                "--enable-native-access=[A-Za-z0-9_.,-]+", "-D[A-Za-z0-9_.-]+(=.*)?", "-XX:[+-]?[A-Za-z0-9]+(=.*)?",
                "-Xm[sxn][0-9]+[kKmMgG]?", "-Xss[0-9]+[kKmMgG]?", "--add-(opens|exports|reads)=[^=]+=\\S+", "-ea", "-da", "-esa",
                "--enable-preview", "-verbose(:[a-z]+)?", "-showversion", "-version", "--version"));
        static final Pattern CLASS_NAME = Pattern.compile("([a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*");

        void checkJava(DocLine line, List<String> args) {
            String where = line.where() + ": java " + String.join(" ", args) + "\n    ";
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                switch (a) {
                    case "-cp", "-classpath", "--class-path", "-p", "--module-path", "--add-modules", "--source", "--enable-native-access" -> {
                        if (i + 1 >= args.size() || args.get(i + 1).startsWith("-")) {
                            failures.add(where + a + " needs a value");
                            return;
                        }
                        i++;
                        continue;
                    }
                    case "-jar" -> {
                        if (i + 1 >= args.size()) {
                            failures.add(where + "-jar needs a jar");
                            return;
                        }
                        checkJar(where, args.get(i + 1), args.subList(i + 2, args.size()));
                        return;
                    }
                    case "-m", "--module" -> {
                        if (i + 1 >= args.size() || !args.get(i + 1).contains("/")) {
                            failures.add(where + a + " needs MODULE/CLASS");
                            return;
                        }
                        checkMainClass(where, args.get(i + 1).substring(args.get(i + 1).indexOf('/') + 1));
                        return;
                    }
                    default -> { }
                }
                if (a.startsWith("-")) {
                    if (!JAVA_FLAG.matcher(a).matches()) {
                        failures.add(where + "not a well-formed JVM option: " + a);
                        return;
                    }
                    if (a.equals("-version") || a.equals("--version")) return;
                    continue;
                }
                if (a.endsWith(".java")) {
                    if (!Files.isRegularFile(ROOT.resolve(a))) failures.add(where + "no source file " + a);
                } else {
                    checkMainClass(where, a);
                }
                return;
            }
            failures.add(where + "no main class, -jar or source file");
        }

        void checkMainClass(String where, String name) {
            if (!CLASS_NAME.matcher(name).matches()) {
                failures.add(where + "not a class name: " + name);
                return;
            }
            try {
                Class.forName(name, false, DocCommandsTest.class.getClassLoader());
                return;
            } catch (ClassNotFoundException e) {
                // not on this class path: a class of another module of the repository?
            }
            // Spark's own daemons run from Spark's jars, which are not on this class path on a fresh machine;
            // scripts/spark-cluster-check.sh starts exactly these classes, so it is what checks those lines.
            if (name.startsWith("org.apache.spark.deploy.")) return;
            String file = name.replace('.', '/') + ".java";
            for (String dir : List.of("benchmarks/src/main/java", "src/spark/src/main/java", "examples/embedding/src/main/java")) {
                if (Files.isRegularFile(ROOT.resolve(dir).resolve(file))) return;
            }
            failures.add(where + "no class " + name + " on the class path or in the benchmarks, Spark or example sources");
        }

        void checkJar(String where, String jar, List<String> appArgs) {
            if (jar.equals("benchmarks/target/benchmarks.jar")) {
                if (appArgs.isEmpty() || appArgs.get(0).startsWith("-")) return;   // JMH with its own options only
                String bench = appArgs.get(0);
                if (!bench.matches("[A-Z][A-Za-z0-9_]*")
                        || !Files.isRegularFile(ROOT.resolve("benchmarks/src/main/java/org/projntk/bench/" + bench + ".java"))) {
                    failures.add(where + "no benchmark class " + bench + " in benchmarks/src");
                }
                return;
            }
            // Any other jar must be a build output of a Maven module of this repository.
            Path j = Path.of(jar);
            Path target = j.getParent();
            if (target == null || !target.getFileName().toString().equals("target")
                    || !Files.isRegularFile(ROOT.resolve(target).resolveSibling("pom.xml"))) {
                failures.add(where + "unknown jar " + jar);
            }
        }
    }

    // ------------------------------------------------------------------ the Spark command model, from its sources

    /**
     * picocli's model of {@code bin/projntk-spark}, rebuilt from src/spark's sources: SparkCommand's subcommands, with
     * their options and mixins.
     */
    static final class SparkModel {
        static final Path SPARK_CLI = ROOT.resolve("src/spark/src/main/java/org/projntk/spark/cli");
        static final List<Path> SOURCE_ROOTS = List.of(ROOT.resolve("src/spark/src/main/java"), ROOT.resolve("src/main/java"));
        final List<CommandSpec> subcommands = new ArrayList<>();

        static SparkModel read() {
            SparkModel model = new SparkModel();
            String top = read(SPARK_CLI.resolve("SparkCommand.java"));
            Matcher m = Pattern.compile("subcommands\\s*=\\s*\\{([^}]*)}").matcher(top);
            if (!m.find()) throw new IllegalStateException("SparkCommand.java lists no subcommands");
            for (String ref : m.group(1).split(",")) {
                String simple = ref.strip().replace(".class", "");
                if (simple.isEmpty()) continue;
                model.subcommands.add(commandSpec(sourceOf(simple, "org.projntk.spark.cli")));
            }
            return model;
        }

        CommandLine commandLine() {
            CommandSpec top = CommandSpec.create().name("projntk-spark").mixinStandardHelpOptions(true);
            CommandLine cl = new CommandLine(top);
            for (CommandSpec sub : subcommands) cl.addSubcommand(sub.name(), new CommandLine(copy(sub)));
            Main.registerConverters(cl); // the CLI's enum spellings, which the core's option groups use
            return cl;
        }

        /** A fresh spec per parse: parsed values live in the spec. */
        static CommandSpec copy(CommandSpec spec) {
            CommandSpec c = CommandSpec.create().name(spec.name()).mixinStandardHelpOptions(true);
            for (OptionSpec o : spec.options()) {
                if (o.usageHelp() || o.versionHelp()) continue;
                c.addOption(OptionSpec.builder(o).build());
            }
            for (PositionalParamSpec p : spec.positionalParameters()) c.addPositional(PositionalParamSpec.builder(p).build());
            return c;
        }

        static CommandSpec commandSpec(Path source) {
            String text = read(source);
            Matcher name = Pattern.compile("@Command\\s*\\(\\s*name\\s*=\\s*\"([^\"]+)\"").matcher(text);
            if (!name.find()) throw new IllegalStateException(source + " has no @Command(name = ...)");
            CommandSpec spec = CommandSpec.create().name(name.group(1)).mixinStandardHelpOptions(true);
            addMembers(spec, source, text);
            return spec;
        }

        static void addMembers(CommandSpec spec, Path source, String text) {
            String pkg = packageOf(text);
            Matcher ext = Pattern.compile("class\\s+\\w+\\s+extends\\s+(\\w+)").matcher(text);
            if (ext.find()) {
                Path parent = findSource(ext.group(1), pkg, text);
                if (parent != null) addMembers(spec, parent, read(parent));
            }
            int at = 0;
            while ((at = nextAnnotation(text, at)) >= 0) {
                String kind = text.substring(at + 1, identifierEnd(text, at + 1));
                int after = at + 1 + kind.length();
                String attributes = "";
                if (after < text.length() && text.charAt(after) == '(') {
                    int close = matchingParen(text, after);
                    attributes = text.substring(after + 1, close);
                    after = close + 1;
                }
                switch (kind) {
                    case "Option" -> spec.addOption(option(attributes, memberType(text, after)));
                    case "Parameters" -> spec.addPositional(PositionalParamSpec.builder().arity("0..*").type(String.class).build());
                    case "Mixin", "ArgGroup" -> addMixin(spec, memberType(text, after), pkg, text);
                    default -> { }
                }
                at = after;
            }
        }

        static void addMixin(CommandSpec spec, String type, String pkg, String text) {
            String fqn = qualified(type, pkg, text);
            try {
                // On this class path (the core's option groups): its real annotations, types and converters.
                Class<?> c = Class.forName(fqn, false, DocCommandsTest.class.getClassLoader());
                CommandSpec mixin = CommandSpec.forAnnotatedObject(c);
                for (OptionSpec o : mixin.options()) spec.addOption(OptionSpec.builder(o).build());
                return;
            } catch (ClassNotFoundException | NoClassDefFoundError e) {
                // a Spark class: read its source
            }
            Path source = findSource(type, pkg, text);
            if (source == null) throw new IllegalStateException("mixin " + type + " not found in the sources");
            addMembers(spec, source, read(source));
        }

        static OptionSpec option(String attributes, String fieldType) {
            Matcher names = Pattern.compile("names\\s*=\\s*(\\{[^}]*}|\"[^\"]*\")").matcher(attributes);
            if (!names.find()) throw new IllegalStateException("@Option without names: " + attributes);
            List<String> list = new ArrayList<>();
            Matcher s = Pattern.compile("\"([^\"]*)\"").matcher(names.group(1));
            while (s.find()) list.add(s.group(1));
            OptionSpec.Builder b = OptionSpec.builder(list.toArray(String[]::new));
            String t = fieldType.replaceAll("<.*", "").strip();
            if (t.equals("boolean") || t.equals("Boolean")) {
                b.type(boolean.class).arity("0");
            } else if (t.endsWith("Map")) {
                b.type(Map.class).auxiliaryTypes(String.class, String.class);
            } else if (t.endsWith("List") || t.endsWith("Set") || t.endsWith("[]")) {
                b.type(List.class).auxiliaryTypes(String.class);
            } else {
                b.type(String.class).arity("1");
            }
            Matcher arity = Pattern.compile("arity\\s*=\\s*\"([^\"]*)\"").matcher(attributes);
            if (arity.find()) b.arity(arity.group(1));
            if (attributes.matches("(?s).*\\brequired\\s*=\\s*true.*")) b.required(true);
            return b.build();
        }

        /** The type of the field (or the first parameter of the method) declared after an annotation. */
        static String memberType(String text, int from) {
            int i = from;
            while (true) {   // further annotations on the same member
                while (i < text.length() && Character.isWhitespace(text.charAt(i))) i++;
                if (i < text.length() && text.charAt(i) == '@') {
                    int e = identifierEnd(text, i + 1);
                    i = e < text.length() && text.charAt(e) == '(' ? matchingParen(text, e) + 1 : e;
                } else {
                    break;
                }
            }
            int end = i;
            while (end < text.length() && ";={".indexOf(text.charAt(end)) < 0) end++;
            String decl = text.substring(i, end).strip();
            int paren = decl.indexOf('(');
            if (paren >= 0) {   // a method: its parameter's type
                String param = decl.substring(paren + 1, decl.lastIndexOf(')')).strip();
                return param.substring(0, param.lastIndexOf(' ')).strip();
            }
            decl = decl.replaceAll("\\b(private|protected|public|static|final|transient|volatile)\\b", "").strip();
            return decl.substring(0, decl.lastIndexOf(' ')).strip();
        }

        static int nextAnnotation(String text, int from) {
            for (int i = from; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '"') {
                    i = stringEnd(text, i);
                } else if (c == '/' && i + 1 < text.length() && text.charAt(i + 1) == '/') {
                    i = text.indexOf('\n', i);
                    if (i < 0) return -1;
                } else if (c == '/' && i + 1 < text.length() && text.charAt(i + 1) == '*') {
                    i = text.indexOf("*/", i + 2) + 1;
                    if (i <= 0) return -1;
                } else if (c == '@' && i + 1 < text.length() && Character.isJavaIdentifierStart(text.charAt(i + 1))) {
                    return i;
                }
            }
            return -1;
        }

        static int identifierEnd(String text, int i) {
            while (i < text.length() && (Character.isJavaIdentifierPart(text.charAt(i)) || text.charAt(i) == '.')) i++;
            return i;
        }

        static int stringEnd(String text, int open) {
            for (int i = open + 1; i < text.length(); i++) {
                if (text.charAt(i) == '\\') i++;
                else if (text.charAt(i) == '"') return i;
            }
            throw new IllegalStateException("unterminated string");
        }

        static int matchingParen(String text, int open) {
            int depth = 0;
            for (int i = open; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '"') i = stringEnd(text, i);
                else if (c == '(') depth++;
                else if (c == ')' && --depth == 0) return i;
            }
            throw new IllegalStateException("unbalanced parentheses");
        }

        static String packageOf(String text) {
            Matcher m = Pattern.compile("^package\\s+([\\w.]+);", Pattern.MULTILINE).matcher(text);
            return m.find() ? m.group(1) : "";
        }

        static String qualified(String simple, String pkg, String text) {
            String s = simple.replaceAll("<.*", "").strip();
            if (s.contains(".")) return s;
            Matcher imp = Pattern.compile("^import\\s+([\\w.]+\\." + Pattern.quote(s) + ");", Pattern.MULTILINE).matcher(text);
            return imp.find() ? imp.group(1) : pkg + "." + s;
        }

        static Path findSource(String simple, String pkg, String text) {
            String fqn = qualified(simple, pkg, text);
            for (Path root : SOURCE_ROOTS) {
                Path p = root.resolve(fqn.replace('.', '/') + ".java");
                if (Files.isRegularFile(p)) return p;
            }
            return null;
        }

        static Path sourceOf(String simple, String pkg) {
            Path p = findSource(simple, pkg, "");
            if (p == null) throw new IllegalStateException("no source for " + pkg + "." + simple);
            return p;
        }

        static String read(Path p) {
            try {
                return Files.readString(p);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
