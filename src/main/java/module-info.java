/**
 * projntk: projected neural tangent kernels of PyTorch models.
 *
 * <p>The public API is the exported packages, one per stage of the data flow. A package depends only on packages
 * below it, never on one above or beside it on the same layer (ArchitectureTest checks this), from the bottom up:
 * <ol>
 *   <li>{@code org.projntk} (the exception and precision types every layer uses), {@code tensor} (model inputs);</li>
 *   <li>{@code internal} (native loading, status handling; the only caller of the generated {@code bindings});</li>
 *   <li>{@code stats} (Cholesky, Kendall τ, Spearman, power-law fits, moments, pairwise sums);</li>
 *   <li>{@code data} (datasets and .npy files);</li>
 *   <li>{@code torch} (models, per-example gradients, training);</li>
 *   <li>{@code project} (random projections);</li>
 *   <li>{@code store} (the feature store);</li>
 *   <li>{@code featurize} (datasets through a model and a projector into a store);</li>
 *   <li>{@code kernel} (Gram matrices, normalisation, top-k);</li>
 *   <li>{@code plot} (charts and image grids);</li>
 *   <li>{@code surrogate} (the kernel GLM and its reports), {@code residual} (projection error against K),
 *       {@code similar} (nearest train examples), {@code attribution} (TRAK scores, LDS), {@code baseline}
 *       (a cuRAND/cuBLAS projector that benchmarks compare against);</li>
 *   <li>{@code workflow} (the embedding API's entry points over a feature store);</li>
 *   <li>{@code demo} (the demos' pipelines);</li>
 *   <li>{@code cli} (the command line: run it with {@code -m org.projntk/org.projntk.cli.Main}).</li>
 * </ol>
 * {@code internal}, {@code bindings}, {@code plot}, {@code baseline}, {@code demo} and {@code cli} are not exported.
 * Native calls need {@code --enable-native-access=org.projntk}.
 */
module org.projntk {
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires ai.djl.tokenizers; // text: datasets (Hugging Face tokenizer.json)
    // ai.djl.tokenizers and ai.djl.api are automatic modules, which declare no dependencies: name the named modules
    // they load, so that text: datasets work on the module path with no --add-modules
    requires org.slf4j;
    requires com.google.gson;
    requires java.desktop; // PNG charts and image grids (AWT, ImageIO), always headless

    exports org.projntk;
    exports org.projntk.tensor;
    exports org.projntk.data;
    exports org.projntk.torch;
    exports org.projntk.project;
    exports org.projntk.store;
    exports org.projntk.featurize;
    exports org.projntk.kernel;
    exports org.projntk.stats;
    exports org.projntk.surrogate;
    exports org.projntk.residual;
    exports org.projntk.similar;
    exports org.projntk.attribution;
    exports org.projntk.workflow;

    // reflection: Jackson reads and writes the manifest and report records, picocli fills the command classes
    opens org.projntk.store to com.fasterxml.jackson.databind;
    opens org.projntk.surrogate to com.fasterxml.jackson.databind;
    opens org.projntk.attribution to com.fasterxml.jackson.databind;
    opens org.projntk.cli to info.picocli, com.fasterxml.jackson.databind;
}
