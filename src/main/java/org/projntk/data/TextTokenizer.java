package org.projntk.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A Hugging Face tokenizer (a {@code tokenizer.json}, read by DJL's bindings to the Rust tokenizers library, whose jar
 * bundles the native library: nothing is downloaded). Encodes texts to fixed-length int64 ids and attention masks,
 * truncated and padded to maxLength.
 */
public final class TextTokenizer implements AutoCloseable {
    /** The special tokens of {@link #writeWordLevel} vocabularies: ids 0 (padding), 1 (unknown word) and 2 (first token). */
    public static final String PAD = "[PAD]", UNK = "[UNK]", CLS = "[CLS]";

    /**
     * Encoded texts.
     *
     * @param rows the number of texts
     * @param length the tokens per text, maxLength
     * @param ids token ids [rows x length] row-major, padded
     * @param mask attention mask [rows x length] row-major: 1 for a token, 0 for padding
     */
    public record Encoded(int rows, int length, long[] ids, long[] mask) {}

    private final HuggingFaceTokenizer tokenizer;
    private final int maxLength;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, int maxLength) {
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
    }

    /**
     * Loads a tokenizer; the caller closes it to free the native tokenizer.
     *
     * @param tokenizerJson a Hugging Face tokenizer.json
     * @param maxLength tokens per text after truncation and padding, at least 2
     * @return the tokenizer
     * @throws IllegalArgumentException for maxLength below 2
     * @throws DataFormatException if the file is missing or the tokenizers library rejects it
     */
    public static TextTokenizer open(Path tokenizerJson, int maxLength) {
        if (maxLength < 2) throw new IllegalArgumentException("--max-length must be >= 2, got " + maxLength);
        if (!Files.isRegularFile(tokenizerJson)) throw new DataFormatException("tokenizer file " + tokenizerJson + " not found");
        try {
            HuggingFaceTokenizer t = HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson).optMaxLength(maxLength)
                    .optTruncation(true).optPadding(true).optPadToMaxLength().optAddSpecialTokens(true).build();
            return new TextTokenizer(t, maxLength);
        } catch (IOException | RuntimeException e) {
            throw new DataFormatException("cannot load tokenizer " + tokenizerJson + ": " + e.getMessage());
        }
    }

    /** {@return the tokens per encoded text} */
    public int maxLength() {
        return maxLength;
    }

    /**
     * Encodes texts with the tokenizer's special tokens, truncated and padded to maxLength.
     *
     * @param texts the texts
     * @return their ids and masks
     */
    public Encoded encode(List<String> texts) {
        long[] ids = new long[texts.size() * maxLength], mask = new long[texts.size() * maxLength];
        for (int i = 0; i < texts.size(); i++) {
            Encoding e = tokenizer.encode(texts.get(i));
            long[] id = e.getIds(), m = e.getAttentionMask();
            if (id.length != maxLength) throw new IllegalStateException("tokenizer gave " + id.length + " ids, expected " + maxLength);
            System.arraycopy(id, 0, ids, i * maxLength, maxLength);
            System.arraycopy(m, 0, mask, i * maxLength, maxLength);
        }
        return new Encoded(texts.size(), maxLength, ids, mask);
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    /**
     * Writes a word-level tokenizer.json whose vocabulary is the (at most maxVocab - 3) most frequent lower-cased words
     * of texts, plus [PAD] = 0, [UNK] = 1 and [CLS] = 2 (prepended to every encoding). Words are found by the
     * tokenizers library's BERT pre-tokenizer (whitespace and punctuation), run through a tokenizer with an empty
     * vocabulary. Ties are broken alphabetically, so the file depends only on the texts.
     *
     * @param texts the corpus
     * @param maxVocab the vocabulary size including the 3 special tokens
     * @param out the tokenizer.json to write, replaced if it exists
     * @return {@code out}
     * @throws java.io.UncheckedIOException if a file cannot be written
     */
    public static Path writeWordLevel(List<String> texts, int maxVocab, Path out) {
        ObjectMapper json = new ObjectMapper();
        Map<String, Integer> specials = new LinkedHashMap<>();
        specials.put(PAD, 0);
        specials.put(UNK, 1);
        specials.put(CLS, 2);
        Map<String, Long> counts = new HashMap<>();
        try {
            Path empty = Files.createTempFile("projntk-pretokenizer", ".json");
            try {
                Files.writeString(empty, json.writeValueAsString(tokenizerJson(json, specials, false)));
                try (HuggingFaceTokenizer t = HuggingFaceTokenizer.builder().optTokenizerPath(empty).optAddSpecialTokens(false)
                        .optTruncation(false).optPadding(false).build()) {
                    for (String text : texts) {
                        for (CharSpan span : t.encode(text).getCharTokenSpans()) {
                            if (span == null) continue;
                            counts.merge(text.substring(span.getStart(), span.getEnd()).toLowerCase(Locale.ROOT), 1L, Long::sum);
                        }
                    }
                }
            } finally {
                Files.deleteIfExists(empty);
            }
            List<Map.Entry<String, Long>> words = new ArrayList<>(counts.entrySet());
            words.sort(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()));
            Map<String, Integer> vocab = new LinkedHashMap<>(specials);
            for (var w : words) {
                if (vocab.size() >= maxVocab) break;
                vocab.putIfAbsent(w.getKey(), vocab.size());
            }
            Files.writeString(out, json.writerWithDefaultPrettyPrinter().writeValueAsString(tokenizerJson(json, vocab, true)));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write tokenizer " + out + ": " + e.getMessage(), e);
        }
    }

    private static ObjectNode tokenizerJson(ObjectMapper json, Map<String, Integer> vocab, boolean withCls) {
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String special : List.of(PAD, UNK, CLS)) {
            ObjectNode a = added.addObject();
            a.put("id", vocab.get(special)).put("content", special).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putObject("normalizer").put("type", "Lowercase");
        root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
        if (withCls) {
            ObjectNode post = root.putObject("post_processor");
            post.put("type", "TemplateProcessing");
            ArrayNode single = post.putArray("single");
            single.addObject().putObject("SpecialToken").put("id", CLS).put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            ArrayNode pair = post.putArray("pair");
            pair.addObject().putObject("SpecialToken").put("id", CLS).put("type_id", 0);
            pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
            ObjectNode cls = post.putObject("special_tokens").putObject(CLS);
            cls.put("id", CLS);
            cls.putArray("ids").add(vocab.get(CLS));
            cls.putArray("tokens").add(CLS);
        } else {
            root.putNull("post_processor");
        }
        root.putNull("decoder");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        model.put("unk_token", UNK);
        return root;
    }
}
