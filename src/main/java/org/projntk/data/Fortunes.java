package org.projntk.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Debian's {@code fortunes} package as a labelled text corpus: each category file (/usr/share/games/fortunes/NAME)
 * holds quotations separated by lines "%"; the label is the category's index in the list asked for.
 */
public final class Fortunes {
    private Fortunes() {}

    /** The environment variable that overrides {@link #DEFAULT_DIR}. */
    public static final String DIR_ENV = "PROJNTK_FORTUNES_DIR";
    /** Where Debian installs the category files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/games/fortunes");
    /** Four categories of similar size (630-1050 quotations) and clearly different vocabularies. */
    public static final List<String> DEMO_CATEGORIES = List.of("computers", "politics", "science", "work");

    /** {@return the directory named by {@link #DIR_ENV} if set, else {@link #DEFAULT_DIR}} */
    public static Path dir() {
        String env = System.getenv(DIR_ENV);
        return env != null && !env.isBlank() ? Path.of(env) : DEFAULT_DIR;
    }

    /**
     * Reads quotations of some categories.
     *
     * @param dir the directory holding the category files
     * @param categories the file names; a quotation's label is its category's index here
     * @return the quotations, category by category, in file order
     * @throws DataFormatException if a category file is missing
     * @throws java.io.UncheckedIOException if one cannot be read
     */
    public static List<LabelledText> read(Path dir, List<String> categories) {
        List<LabelledText> out = new ArrayList<>();
        for (int label = 0; label < categories.size(); label++) {
            Path file = dir.resolve(categories.get(label));
            if (!Files.isRegularFile(file)) {
                throw new DataFormatException("fortune category file " + file + " not found: install Debian's 'fortunes' package "
                        + "(make deps) or set " + DIR_ENV);
            }
            String body;
            try {
                body = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
            }
            for (String quote : body.split("(?m)^%\\s*$")) {
                String text = quote.replaceAll("\\s+", " ").strip();
                if (!text.isEmpty()) out.add(new LabelledText(label, text));
            }
        }
        return out;
    }
}
