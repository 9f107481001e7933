package org.projntk.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One labelled text. A text file for {@code text:} datasets holds one example per line, {@code LABEL<TAB>TEXT}
 * (LABEL an integer >= 0; tabs and newlines inside TEXT written as spaces).
 *
 * @param label the class, 0 or more
 * @param text the text, any length
 */
public record LabelledText(int label, String text) {
    /**
     * Checks the label.
     *
     * @throws IllegalArgumentException for a negative label
     */
    public LabelledText {
        if (label < 0) throw new IllegalArgumentException("negative label " + label);
    }

    /**
     * Writes rows as a text dataset file, one per line, replacing the file.
     *
     * @param rows the examples
     * @param file the UTF-8 file
     * @throws java.io.UncheckedIOException if it cannot be written
     */
    public static void write(List<LabelledText> rows, Path file) {
        StringBuilder s = new StringBuilder();
        for (LabelledText r : rows) s.append(r.label).append('\t').append(r.text.replaceAll("[\\t\\r\\n]+", " ").strip()).append('\n');
        try {
            Files.writeString(file, s, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads a text dataset file; blank lines are skipped.
     *
     * @param file the UTF-8 file
     * @return the examples, in file order
     * @throws DataFormatException naming the line that lacks a tab or has a bad label
     * @throws java.io.UncheckedIOException if the file cannot be read
     */
    public static List<LabelledText> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read text dataset " + file + ": " + e.getMessage(), e);
        }
        List<LabelledText> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            int tab = line.indexOf('\t');
            if (tab < 0) throw new DataFormatException(file + " line " + (i + 1) + ": expected LABEL<TAB>TEXT");
            try {
                out.add(new LabelledText(Integer.parseInt(line.substring(0, tab).strip()), line.substring(tab + 1)));
            } catch (IllegalArgumentException e) {
                throw new DataFormatException(file + " line " + (i + 1) + ": bad label '" + line.substring(0, tab) + "'");
            }
        }
        return out;
    }
}
